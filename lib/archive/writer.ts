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

const NEWLINE = Buffer.from('\n');
const BATCH_BYTES = 1 << 20;

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
  /** Where a batch of lines is encoded before zlib gets a copy (grows to the largest batch). */
  private scratch = Buffer.allocUnsafe(64 * 1024);
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
   * Appends records, one JSON line each (a {@link RawJsonText} is written as the text it holds). Lines are handed to
   * zlib as one UTF-8 buffer per batch of up to 1,000 records or 1 MiB (about one per page), which is what keeps the
   * cost per record low; deflate without flushes does not depend on how its input is split.
   */
  async write(records: Iterable<unknown> | AsyncIterable<unknown>): Promise<void> {
    // Lines are encoded straight into one buffer (no string of the whole batch to flatten and encode again); zlib
    // gets a copy, since it reads its input later, off the main thread.
    let used = 0;
    let batched = 0;
    const flush = async () => {
      if (used === 0) return;
      const bytes = Buffer.from(this.scratch.subarray(0, used));
      used = 0;
      batched = 0;
      this.bytes += bytes.length;
      await this.push(bytes);
    };
    /** Adds one record's line; true when the batch is full (1,000 lines or 1 MiB: the buffer stays small). */
    const add = (record: unknown): boolean => {
      const line = JSON.stringify(record);
      // A UTF-16 code unit is at most 3 UTF-8 bytes.
      if (this.scratch.length - used < line.length * 3 + 1) {
        const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, used + line.length * 3 + 1));
        this.scratch.copy(grown, 0, 0, used);
        this.scratch = grown;
      }
      used += this.scratch.write(line, used, 'utf8');
      this.scratch[used++] = 0x0a;
      this.records += 1;
      return ++batched >= 1_000 || used >= BATCH_BYTES;
    };
    const addRaw = async (text: RawJsonText) => {
      // A scanned body's object, as its own minified text: written in slices, never built or stringified.
      await flush();
      for (const chunk of text.chunks()) {
        await this.push(chunk);
        this.bytes += chunk.length;
      }
      await this.push(NEWLINE);
      this.bytes += 1;
      this.records += 1;
    };
    if (Symbol.asyncIterator in records) {
      for await (const record of records) {
        if (record instanceof RawJsonText) await addRaw(record);
        else if (add(record)) await flush();
      }
    } else {
      for (const record of records) {
        if (record instanceof RawJsonText) await addRaw(record);
        else if (add(record)) await flush();
      }
    }
    await flush();
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
