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
