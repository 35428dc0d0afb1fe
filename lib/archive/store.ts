import type { Readable } from 'node:stream';

/**
 * Where archives live. Keys are relative to the archive root (the `prefix` of `ARCHIVE_URL`), use `/` as the
 * separator and never start with `/`. Implementations: `file.ts` (a local folder) and `oss.ts` (ali-oss).
 *
 * Errors are `StorageError`s; a `put` with `forbidOverwrite` on an existing key throws one with
 * code `ObjectAlreadyExists` (see `isAlreadyExists`).
 */
export interface ObjectStore {
  /** The archive root as a URL, for messages and results: `oss://bucket/prefix` or `file:///abs/dir`. */
  readonly url: string;
  /**
   * Writes one whole object. A write is atomic: readers see the old object, no object, or the whole new one, never
   * a torn or partial object. Large bodies may be sent as a multipart upload, aborted on any failure.
   */
  put(key: string, body: ObjectBody, options?: PutOptions): Promise<void>;
  /** The whole object, or `undefined` when it does not exist. */
  get(key: string): Promise<Buffer | undefined>;
  /**
   * The object as a stream (for large parts), or `undefined` when it does not exist. With `start`, the bytes from
   * that offset on (a start at or past the end gives no bytes).
   */
  getStream(key: string, options?: GetStreamOptions): Promise<Readable | undefined>;
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Deletes the object; deleting a missing object is not an error. */
  delete(key: string): Promise<void>;
  /** Every object whose key starts with `prefix`, in key order, paged internally. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /**
   * Aborts the unfinished multipart uploads under `prefix` (a killed writer's leftovers: invisible, but billed), and
   * returns how many. Stores without multipart uploads leave it out.
   */
  abortUploads?(prefix: string): Promise<number>;
  /** A URL a person can open for the object (a file:// path locally, an oss:// URL in the cloud). */
  locate(key: string): string;
}

/**
 * A body that is not held in memory: `size` bytes kept elsewhere (an archive part's spool file, lib/archive/writer.ts)
 * and read again for every attempt, so a retried or multipart upload re-sends it from where it is kept.
 */
export interface SpooledBody {
  readonly size: number;
  /** Bytes `start` (inclusive, default 0) to `end` (exclusive, default `size`) as a stream of their own. */
  read(start?: number, end?: number): Readable;
  /**
   * Up to `length` bytes from `position` into `into` (from its start); resolves to how many (0 at the end). For a
   * reader that is done with each chunk before it asks for the next ({@link spooledChunks}). Optional: a body
   * without it is read through {@link read}.
   */
  readInto?(position: number, length: number, into: Buffer): Promise<number>;
}

/**
 * Bytes `start` to `end` of a spooled body, each chunk read into `buffer` and valid only until the next one is asked
 * for: for a reader that copies or hashes each chunk at once (a file's copy, a checksum). A stream of the body
 * (`read`) allocates a buffer per chunk, which lives until a GC finds it: a 4 MB part read that way left 4 MB of
 * array buffers behind, and an upload's burst of them is not what the young generation's collections look at.
 */
export async function* spooledChunks(body: SpooledBody, start: number, end: number, buffer: Buffer): AsyncGenerator<Buffer> {
  if (!body.readInto) {
    yield* body.read(start, end) as AsyncIterable<Buffer>;
    return;
  }
  for (let position = start; position < end; ) {
    const n = await body.readInto(position, Math.min(buffer.length, end - position), buffer);
    if (n === 0) throw new Error(`the spooled body ended at ${position} of ${end} bytes`);
    position += n;
    yield buffer.subarray(0, n);
  }
}

/** What `put` stores: text (UTF-8), bytes, or a spooled body. */
export type ObjectBody = Buffer | string | SpooledBody;

/** True for a {@link SpooledBody} (a body that must be read, not a string or a Buffer). */
export function isSpooled(body: ObjectBody): body is SpooledBody {
  return typeof body !== 'string' && !Buffer.isBuffer(body);
}

export interface GetStreamOptions {
  /** The first byte to read (0-based). @default 0 */
  start?: number;
}

export interface PutOptions {
  /** Fail with `ObjectAlreadyExists` instead of replacing an existing object (OSS `x-oss-forbid-overwrite`). */
  forbidOverwrite?: boolean;
  contentType?: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified?: Date | undefined;
  etag?: string | undefined;
}
