/**
 * Writing archive objects: gzip NDJSON, compressed as the records come and spooled to a temporary file as zlib
 * produces it, then stored from that file, with the numbers the manifest keeps for each (records, bytes, sha256).
 *
 * No object's compressed bytes are held in memory. Held, a part's bytes (its zlib chunks, then their joined copy for
 * the upload) lived long enough to be promoted out of V8's young generation and then waited, dead, for a full GC
 * that comes rarely: the process's peak RSS grew with the number of parts written, not with what it held.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { verbatimSpans } from '../cloud/json-parse';
import { RawJsonText } from '../cloud/raw-json';
import { writeAll } from './file';
import type { ObjectEntry } from './manifest';
import type { ObjectStore, SpooledBody } from './store';

/** When a part is closed and the next begins. Checked only at page boundaries, so boundaries are deterministic. */
export interface PartLimits {
  /** @default 100_000 */
  maxRecords: number;
  /** Uncompressed NDJSON bytes (deterministic, unlike the compressed size while streaming). @default 32 MiB */
  maxBytes: number;
}

const NEWLINE = Buffer.from('\n');
/** How much of a spool one read takes. */
const READ_CHUNK = 64 * 1024;
const BATCH_BYTES = 1 << 20;

export const DEFAULT_PART_LIMITS: PartLimits = { maxRecords: 100_000, maxBytes: 32 * 1024 * 1024 };

/**
 * Where an object's compressed bytes wait for the store: a file in the system's temporary folder (`os.tmpdir()`,
 * /tmp in FC), appended to as zlib produces them and read back by the store as often as it needs (a retried or
 * multipart upload reads it again). The file is removed from its folder as soon as it is open (it lives on while it
 * is open), so a killed process leaves nothing behind (an empty file if it is killed between the two); where an open
 * file cannot be removed (Windows), it is removed when the spool is closed. At most a few per listing exist at a time
 * (the part being built, the one being stored).
 */
export class Spool implements SpooledBody {
  size = 0;
  private readonly file: Promise<{ fh: fs.FileHandle; leftover: string | undefined }>;
  private opened: fs.FileHandle | undefined;
  /** The appends, one after another; rejected with the first failure. */
  private writes: Promise<void>;
  private closing: Promise<void> | undefined;

  constructor() {
    this.file = (async () => {
      const path = join(tmpdir(), `execution-archive-${process.pid}-${randomBytes(8).toString('hex')}.ndjson.gz`);
      const fh = await fs.open(path, 'wx+', 0o600);
      const leftover = await fs.unlink(path).then(
        () => undefined,
        () => path,
      );
      this.opened = fh;
      return { fh, leftover };
    })();
    this.writes = this.file.then(() => undefined);
    this.writes.catch(() => undefined);
  }

  append(chunk: Buffer): void {
    const position = this.size;
    this.size += chunk.length;
    this.writes = this.writes.then(async () => {
      await writeAll((await this.file).fh, chunk, position);
    });
    this.writes.catch(() => undefined);
  }

  /** Resolves once every appended byte is in the file. @throws the first failure to open or write it. */
  written(): Promise<void> {
    return this.writes;
  }

  /** Up to `length` bytes at `position` into `into`; how many (0 at the end of the file). */
  async readInto(position: number, length: number, into: Buffer): Promise<number> {
    const fh = this.opened;
    if (!fh || this.closing) throw new Error('the spool is not open');
    return (await fh.read(into, 0, Math.min(length, into.length), position)).bytesRead;
  }

  /**
   * Bytes `start` to `end` in chunks of 64 KiB, read at their positions (so ranges can be read side by side). Not
   * `FileHandle.createReadStream`: each of those adds a listener to the handle that stays until the handle closes.
   */
  read(start = 0, end = this.size): Readable {
    const fh = this.opened;
    if (!fh || this.closing) throw new Error('the spool is not open');
    let position = start;
    const stream = new Readable({
      read: () => {
        const length = Math.min(READ_CHUNK, end - position);
        if (length <= 0) {
          stream.push(null);
          return;
        }
        fh.read(Buffer.allocUnsafe(length), 0, length, position).then(
          ({ bytesRead, buffer }) => {
            if (bytesRead === 0) return stream.destroy(new Error(`the spool ended at ${position} of ${end} bytes`));
            position += bytesRead;
            stream.push(buffer.subarray(0, bytesRead));
          },
          (err: unknown) => stream.destroy(err instanceof Error ? err : new Error(String(err))),
        );
      },
    });
    return stream;
  }

  /** Closes (and so deletes) the file once its writes are done; closing again does nothing. Never throws. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.writes.catch(() => undefined);
      const file = await this.file.catch(() => undefined);
      if (!file) return;
      await file.fh.close().catch(() => undefined);
      if (file.leftover !== undefined) await fs.rm(file.leftover, { force: true }).catch(() => undefined);
    })();
    return this.closing;
  }
}

/**
 * Encoding buffers kept for the next object. An object's buffer grows to its largest batch (up to ~1 MiB); grown
 * anew for every part and dropped with it, they lived long enough to be promoted and then waited, dead, for a full
 * GC (a 1M-record walk left ~20 MB of them). The few that objects open side by side need are kept; more are dropped.
 */
const spareScratch: Buffer[] = [];
const SPARE_SCRATCH = 4;

/**
 * One gzip NDJSON object in the making. Memory is bounded by the batch of lines being encoded, never by the part's
 * size or the total record count: the compressed bytes go to a {@link Spool} as zlib produces them.
 * Lines are fed to gzip one record at a time, so the compressed bytes depend only on the records, not on how the
 * walk was split across invocations (a resumed archive is byte-identical to an uninterrupted one).
 * {@link storeGzipObject} stores it and closes its spool; one that is not stored must be {@link discard}ed.
 */
export class NdjsonGzipBuffer {
  private readonly gzip: Gzip;
  private readonly spool = new Spool();
  private readonly hash = createHash('sha256');
  private readonly done: Promise<void>;
  /** Where a batch of lines is encoded for zlib, reused for every batch (grows to the largest batch); a spare one. */
  private scratch = spareScratch.pop() ?? Buffer.allocUnsafe(64 * 1024);
  /** Bytes of the batch in `scratch`, and its lines. */
  private used = 0;
  private batched = 0;
  records = 0;
  /** Uncompressed bytes written so far. */
  bytes = 0;

  constructor() {
    this.gzip = createGzip({ level: 6 });
    this.gzip.on('data', (c: Buffer) => {
      this.hash.update(c);
      this.spool.append(c);
    });
    this.done = new Promise((resolve, reject) => {
      this.gzip.once('end', resolve);
      this.gzip.once('error', reject);
    });
  }

  /**
   * Appends records, one JSON line each (a {@link RawJsonText} is written as the text it holds). Lines are encoded
   * straight into one buffer (no string of the whole batch to flatten and encode again) and handed to zlib in it, one
   * batch of 1,000 records or 1 MiB at a time, across pages (the rest when the object is finished): each hand-over
   * costs a round trip to zlib's thread and a write of its output, so fewer is cheaper; deflate without flushes does
   * not depend on how its input is split. A list (a page) is encoded by a small loop of its own ({@link encode}): V8
   * optimizes that loop alone, not this async function around it.
   */
  async write(records: Iterable<unknown> | AsyncIterable<unknown>): Promise<void> {
    if (Array.isArray(records)) {
      const list: readonly unknown[] = records;
      // A page's records as the API sent them: their lines are the body's own bytes where those are canonical.
      const verbatim = verbatimSpans(list);
      for (let i = 0; i < list.length; ) {
        const record = list[i];
        if (record instanceof RawJsonText) {
          await this.addRaw(record);
          i += 1;
        } else {
          i = verbatim ? this.encodeVerbatim(list, i, verbatim.body, verbatim.spans) : this.encode(list, i);
          if (this.batchFull()) await this.flush();
        }
      }
    } else if (Symbol.asyncIterator in records) {
      for await (const record of records) {
        if (record instanceof RawJsonText) await this.addRaw(record);
        else if (this.line(record)) await this.flush();
      }
    } else {
      for (const record of records) {
        if (record instanceof RawJsonText) await this.addRaw(record);
        else if (this.line(record)) await this.flush();
      }
    }
  }

  /**
   * Appends one record's line, encoded at once (nothing of the record is kept): for a producer of one record at a
   * time, whose records would otherwise wait in an array for a batch. Returns a promise when the batch it completes
   * goes to zlib (or the record is a {@link RawJsonText}): wait for it before the next record. The bytes are those
   * {@link write} makes of the same records.
   */
  add(record: unknown): Promise<void> | undefined {
    if (record instanceof RawJsonText) return this.addRaw(record);
    return this.line(record) ? this.flush() : undefined;
  }

  /** Encodes the lines of `list` from `from` on, up to a {@link RawJsonText} or a full batch; returns where it stopped. */
  private encode(list: readonly unknown[], from: number): number {
    let i = from;
    while (i < list.length) {
      const record = list[i];
      if (record instanceof RawJsonText) break;
      i += 1;
      if (this.line(record)) break;
    }
    return i;
  }

  /**
   * {@link encode} for a list whose elements' text is known ({@link verbatimSpans}): each line is copied from `body`
   * (the bytes JSON.stringify would make of the element).
   */
  private encodeVerbatim(list: readonly unknown[], from: number, body: Buffer, spans: Int32Array): number {
    let i = from;
    while (i < list.length) {
      const start = spans[2 * i] as number;
      const end = spans[2 * i + 1] as number;
      i += 1;
      if (this.copyLine(body, start, end)) break;
    }
    return i;
  }

  /** Adds a line copied from `bytes` (`start`..`end`); true when the batch is full. */
  private copyLine(bytes: Buffer, start: number, end: number): boolean {
    const length = end - start;
    if (this.scratch.length - this.used < length + 1) {
      const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.used + length + 1));
      this.scratch.copy(grown, 0, 0, this.used);
      this.scratch = grown;
    }
    bytes.copy(this.scratch, this.used, start, end);
    this.used += length;
    this.scratch[this.used++] = 0x0a;
    this.bytes += length + 1;
    this.records += 1;
    this.batched += 1;
    return this.batchFull();
  }

  /** Adds one record's line to the batch; true when the batch is full (1,000 lines or 1 MiB: the buffer stays small). */
  private line(record: unknown): boolean {
    const line = JSON.stringify(record);
    // A UTF-16 code unit is at most 3 UTF-8 bytes.
    if (this.scratch.length - this.used < line.length * 3 + 1) {
      const grown = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.used + line.length * 3 + 1));
      this.scratch.copy(grown, 0, 0, this.used);
      this.scratch = grown;
    }
    const written = this.scratch.write(line, this.used, 'utf8');
    this.used += written;
    this.scratch[this.used++] = 0x0a;
    this.bytes += written + 1;
    this.records += 1;
    this.batched += 1;
    return this.batchFull();
  }

  private batchFull(): boolean {
    return this.batched >= 1_000 || this.used >= BATCH_BYTES;
  }

  /**
   * Hands the batch to zlib and waits until zlib has read it (off the main thread): then `scratch` takes the next
   * batch, so no batch is copied.
   */
  private async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.consumed(this.scratch.subarray(0, this.used));
    this.used = 0;
    this.batched = 0;
  }

  /** Writes `bytes` to zlib; resolves once zlib has read all of them. */
  private consumed(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.gzip.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** A scanned body's object, as its own minified text: written in slices, never built or stringified. */
  private async addRaw(text: RawJsonText): Promise<void> {
    await this.flush();
    for (const chunk of text.chunks()) {
      await this.push(chunk);
      this.bytes += chunk.length;
    }
    await this.push(NEWLINE);
    this.bytes += 1;
    this.records += 1;
  }

  private async push(text: string | Buffer): Promise<void> {
    if (!this.gzip.write(text)) await new Promise<void>((resolve) => this.gzip.once('drain', resolve));
  }

  /** Closes the gzip stream and returns the object's bytes (in their spool) with its checksum. Called once. */
  async finish(): Promise<{ body: SpooledBody; records: number; sha256: string }> {
    await this.flush();
    this.releaseScratch();
    this.gzip.end();
    await this.done;
    await this.spool.written();
    return { body: this.spool, records: this.records, sha256: this.hash.digest('hex') };
  }

  /** Drops the object: its spool is closed and deleted (also after {@link finish}, once the body has been stored). */
  discard(): Promise<void> {
    this.releaseScratch();
    this.gzip.destroy();
    return this.spool.close();
  }

  /** Gives the encoding buffer to the next object (once: no line is written after finish or discard). */
  private releaseScratch(): void {
    if (this.scratch.length > 0 && spareScratch.length < SPARE_SCRATCH) spareScratch.push(this.scratch);
    this.scratch = Buffer.alloc(0);
    this.used = 0;
  }
}

export function sha256Hex(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Stores a buffer under `key` (finishing it, then discarding it, stored or not) and returns its manifest entry. */
export async function storeGzipObject(store: ObjectStore, key: string, buffer: NdjsonGzipBuffer): Promise<ObjectEntry> {
  try {
    const { body, records, sha256 } = await buffer.finish();
    await store.put(key, body, { contentType: 'application/x-ndjson' });
    return { key, records, bytes: body.size, sha256 };
  } finally {
    await buffer.discard();
  }
}

/** Writes a small list of records as one gzip NDJSON object (related objects). */
export async function writeGzipRecords(store: ObjectStore, key: string, records: Iterable<unknown> | AsyncIterable<unknown>): Promise<ObjectEntry> {
  const buffer = new NdjsonGzipBuffer();
  try {
    await buffer.write(records);
  } catch (err) {
    await buffer.discard();
    throw err;
  }
  return storeGzipObject(store, key, buffer);
}

/** Bytes a {@link TextObjectWriter} gathers before handing them to its spool. */
const TEXT_CHUNK = 64 * 1024;
/** Bytes handed to a spool and not yet written that make a {@link TextObjectWriter} wait for the file. */
const TEXT_BACKLOG = 1 << 20;

/**
 * One text object in the making (a summary's JSON, Markdown, HTML page or id list), written piece by piece to a
 * {@link Spool} and stored from it like an archive part: the whole text is never held, and a large one goes to the
 * store as a multipart upload. Memory: one 64 KiB chunk and at most ~1 MiB handed to the file and not yet written.
 * `write` waits only when that backlog is full, so a producer that awaits it runs at the disk's pace.
 * {@link storeTextObject} stores it and closes its spool; one that is not stored must be {@link discard}ed.
 */
export class TextObjectWriter {
  private readonly spool = new Spool();
  private chunk = Buffer.allocUnsafe(TEXT_CHUNK);
  private used = 0;
  private backlog = 0;
  /** UTF-8 bytes written so far. */
  bytes = 0;

  /** Appends text; resolves at once unless the backlog is full (then once the spool has written it). */
  write(text: string): Promise<void> | undefined {
    if (text.length === 0) return undefined;
    if (this.chunk.length - this.used < text.length * 3) {
      this.handOver();
      if (text.length * 3 > this.chunk.length) {
        const bytes = Buffer.from(text, 'utf8');
        this.bytes += bytes.length;
        this.append(bytes);
        return this.wait();
      }
    }
    const n = this.chunk.write(text, this.used, 'utf8');
    this.used += n;
    this.bytes += n;
    return this.wait();
  }

  private handOver(): void {
    if (this.used === 0) return;
    this.append(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.allocUnsafe(TEXT_CHUNK);
    this.used = 0;
  }

  private append(bytes: Buffer): void {
    this.spool.append(bytes);
    this.backlog += bytes.length;
  }

  private wait(): Promise<void> | undefined {
    if (this.backlog < TEXT_BACKLOG) return undefined;
    this.backlog = 0;
    return this.spool.written();
  }

  /** The object's bytes, in their spool (called once, after the last write). */
  async finish(): Promise<SpooledBody> {
    this.handOver();
    await this.spool.written();
    return this.spool;
  }

  /** Drops the object: its spool is closed and deleted (also after {@link finish}, once the body has been stored). */
  discard(): Promise<void> {
    return this.spool.close();
  }
}

/** Stores a text object under `key` (finishing it, then discarding it, stored or not); returns its size in bytes. */
export async function storeTextObject(store: ObjectStore, key: string, writer: TextObjectWriter, contentType: string): Promise<number> {
  try {
    const body = await writer.finish();
    await store.put(key, body, { contentType });
    return body.size;
  } finally {
    await writer.discard();
  }
}

/**
 * Writes text given as pieces (a generator, so the whole never exists as one string) as one object; returns its size.
 * @example await writeTextObject(store, key, renderPieces(summary), 'text/markdown; charset=utf-8');
 */
export async function writeTextObject(store: ObjectStore, key: string, pieces: Iterable<string> | AsyncIterable<string>, contentType: string): Promise<number> {
  const writer = new TextObjectWriter();
  try {
    for await (const piece of pieces) await writer.write(piece);
  } catch (err) {
    await writer.discard();
    throw err;
  }
  return storeTextObject(store, key, writer, contentType);
}

/**
 * Stores a stream of bytes (text) as one gzip object under `key`, compressed as it comes and spooled to a temporary
 * file, never held whole; returns the stored size, its sha256 and how many bytes of text it holds.
 */
export async function storeGzipStream(store: ObjectStore, key: string, chunks: AsyncIterable<Buffer>): Promise<{ bytes: number; sha256: string; textBytes: number }> {
  const spool = new Spool();
  const hash = createHash('sha256');
  const gzip = createGzip({ level: 6 });
  gzip.on('data', (c: Buffer) => {
    hash.update(c);
    spool.append(c);
  });
  const done = new Promise<void>((resolve, reject) => {
    gzip.once('end', resolve);
    gzip.once('error', reject);
  });
  let textBytes = 0;
  try {
    for await (const chunk of chunks) {
      textBytes += chunk.length;
      if (!gzip.write(chunk)) await new Promise<void>((resolve) => gzip.once('drain', resolve));
    }
    gzip.end();
    await done;
    await spool.written();
    await store.put(key, spool, { contentType: 'application/gzip' });
    return { bytes: spool.size, sha256: hash.digest('hex'), textBytes };
  } finally {
    gzip.destroy();
    await spool.close();
  }
}
