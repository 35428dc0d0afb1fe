/**
 * Writing archive objects: gzip NDJSON parts built in a bounded buffer and stored whole, with the numbers the
 * manifest keeps for each (records, bytes, sha256).
 */
import { createHash } from 'node:crypto';
import { createGzip, type Gzip } from 'node:zlib';
import { RawJsonText } from '../cloud/raw-json';
import type { ObjectEntry } from './manifest';
import type { ObjectStore } from './store';

/** When a part is closed and the next begins. Checked only at page boundaries, so boundaries are deterministic. */
export interface PartLimits {
  /** @default 100_000 */
  maxRecords: number;
  /** Uncompressed NDJSON bytes (deterministic, unlike the compressed size while streaming). @default 32 MiB */
  maxBytes: number;
}

export const DEFAULT_PART_LIMITS: PartLimits = { maxRecords: 100_000, maxBytes: 32 * 1024 * 1024 };

/**
 * One gzip NDJSON object in the making. Memory is bounded by the part limits, never by the total record count.
 * Lines are fed to gzip one record at a time, so the compressed bytes depend only on the records, not on how the
 * walk was split across invocations (a resumed archive is byte-identical to an uninterrupted one).
 */
export class NdjsonGzipBuffer {
  private readonly gzip: Gzip;
  private readonly chunks: Buffer[] = [];
  private readonly done: Promise<void>;
  records = 0;
  /** Uncompressed bytes written so far. */
  bytes = 0;

  constructor() {
    this.gzip = createGzip({ level: 6 });
    this.gzip.on('data', (c: Buffer) => this.chunks.push(c));
    this.done = new Promise((resolve, reject) => {
      this.gzip.once('end', resolve);
      this.gzip.once('error', reject);
    });
  }

  /**
   * Appends records, one JSON line each (a {@link RawJsonText} is written as the text it holds). Lines are handed to zlib in batches (one call per page), which is what
   * keeps the cost per record low; deflate without flushes does not depend on how its input is split.
   */
  async write(records: Iterable<unknown> | AsyncIterable<unknown>): Promise<void> {
    let batch = '';
    let batched = 0;
    const add = async (record: unknown) => {
      if (record instanceof RawJsonText) {
        // A scanned body's object, as its own minified text: written in slices, never built or stringified.
        if (batch) await this.push(batch);
        batch = '\n';
        batched = 0;
        for (const chunk of record.chunks()) {
          await this.push(chunk);
          this.bytes += chunk.length;
        }
        this.records += 1;
        this.bytes += 1;
        return;
      }
      const line = JSON.stringify(record) + '\n';
      batch += line;
      this.records += 1;
      this.bytes += Buffer.byteLength(line);
      if (++batched >= 1_000) {
        await this.push(batch);
        batch = '';
        batched = 0;
      }
    };
    if (Symbol.asyncIterator in records) {
      for await (const record of records) await add(record);
    } else {
      for (const record of records) await add(record);
    }
    if (batch) await this.push(batch);
  }

  private async push(text: string | Buffer): Promise<void> {
    if (!this.gzip.write(text)) await new Promise<void>((resolve) => this.gzip.once('drain', resolve));
  }

  /** Closes the gzip stream and returns the object's bytes with its checksum. */
  async finish(): Promise<{ body: Buffer; records: number; sha256: string }> {
    this.gzip.end();
    await this.done;
    const body = Buffer.concat(this.chunks);
    return { body, records: this.records, sha256: sha256Hex(body) };
  }
}

export function sha256Hex(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Stores a finished buffer under `key` and returns its manifest entry. */
export async function storeGzipObject(store: ObjectStore, key: string, buffer: NdjsonGzipBuffer): Promise<ObjectEntry> {
  const { body, records, sha256 } = await buffer.finish();
  await store.put(key, body, { contentType: 'application/x-ndjson' });
  return { key, records, bytes: body.length, sha256 };
}

/** Writes a small list of records as one gzip NDJSON object (related objects). */
export async function writeGzipRecords(store: ObjectStore, key: string, records: Iterable<unknown> | AsyncIterable<unknown>): Promise<ObjectEntry> {
  const buffer = new NdjsonGzipBuffer();
  await buffer.write(records);
  return storeGzipObject(store, key, buffer);
}
