/**
 * Reading archives back: the manifest (validated), and the records of parts and related objects as a stream,
 * each object verified against its manifest entry (sha256, size and record count) once it has been read through.
 *
 * Memory stays flat in the number of records: an object is read chunk by chunk (getStream → sha256 → gunzip →
 * lines → JSON.parse), and what is held is bounded in bytes, not records: the gunzip decompresses at most
 * {@link DECOMPRESSED_AHEAD} ahead of its reader, and the readers of several objects (`readAllParts`,
 * `readRelated`, `readRecordBatches`) open at most `readAhead` objects beyond the one being read, so that the next
 * object's first bytes and its decompression (zlib runs on libuv's thread pool) overlap the parsing of this one.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, pipeline, type Readable, type TransformOptions } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { StorageError } from '../errors';
import { isSource } from '../ids';
import { manifestKey, type ArchiveRef } from './layout';
import type { Manifest, ObjectEntry, OutputObject, RelatedEntry, RelatedName } from './manifest';
import type { ObjectStore } from './store';

/** Options of {@link readRecords}. */
export interface ReadRecordsOptions {
  /**
   * Check the object's sha256, size and record count against its manifest entry once it has been read through
   * (a consumer that stops early skips the check). @default true
   */
  verify?: boolean;
}

/** Options of the readers of several objects ({@link readRecordBatches}, {@link readAllParts}, {@link readRelated}). */
export interface ReadObjectsOptions extends ReadRecordsOptions {
  /**
   * Objects opened ahead of the one being read (fetched and decompressed up to {@link DECOMPRESSED_AHEAD} each
   * while they wait); 0 reads one object after another. Objects are always yielded in their order, and an error of
   * an object read ahead surfaces only when its turn comes, after every record of the objects before it.
   * @default 1
   */
  readAhead?: number;
}

/** The gunzip's output chunk: one batch of records is parsed from each. */
const GUNZIP_CHUNK = 64 * 1024;
/**
 * Decompressed bytes an object holds at most before its reader asks for more (the gunzip's readable buffer): the
 * thread pool keeps decompressing while the reader parses, instead of handing over one 16 KiB chunk at a time.
 */
const DECOMPRESSED_AHEAD = 512 * 1024;
/** Node hands a zlib stream's options to its Transform, whose readable buffer they size (ZlibOptions lacks the field). */
const GUNZIP_OPTIONS: ZlibOptions & TransformOptions = { chunkSize: GUNZIP_CHUNK, readableHighWaterMark: DECOMPRESSED_AHEAD };

const RELATED_NAMES: readonly RelatedName[] = ['execution', 'failed-child-executions', 'invocation'];

/**
 * Reads and validates `manifest.json` of an archive.
 *
 * @returns the manifest, or `undefined` when the archive has none (missing, or still being collected).
 * @throws StorageError `CorruptManifest` when the object is not JSON or lacks a required field.
 * @example const manifest = await readManifest(store, { source: 'ecs', regionId: 'cn-hangzhou', id: 't-abc123' });
 */
export async function readManifest(store: ObjectStore, ref: ArchiveRef): Promise<Manifest | undefined> {
  const key = manifestKey(ref);
  const body = await store.get(key);
  if (body === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new StorageError('CorruptManifest', `${key} is not valid JSON`, { key }, { cause: err });
  }
  const problem = manifestProblem(value);
  if (problem) throw new StorageError('CorruptManifest', `${key} is malformed: ${problem}`, { key });
  return value as Manifest;
}

/** What is wrong with a parsed manifest, or `undefined` when it has the expected shape. */
export function manifestProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not a JSON object';
  for (const field of ['format', 'regionId', 'id', 'startedAt', 'finishedAt'] as const) {
    if (typeof value[field] !== 'string') return `${field} must be a string`;
  }
  if (!isSource(value.source)) return 'source must be "oos" or "ecs"';
  if (typeof value.complete !== 'boolean') return 'complete must be a boolean';
  for (const field of ['records', 'pages', 'apiCalls', 'retries', 'invocations', 'truncatedOutputs'] as const) {
    if (!isCount(value[field])) return `${field} must be a non-negative integer`;
  }
  if (!isObject(value.api) || typeof value.api.action !== 'string') return 'api must be an object with an action';
  if (!Array.isArray(value.parts)) return 'parts must be an array';
  for (const [i, part] of value.parts.entries()) {
    const p = entryProblem(part);
    if (p) return `parts[${i}]: ${p}`;
  }
  if (!Array.isArray(value.related)) return 'related must be an array';
  for (const [i, rel] of value.related.entries()) {
    const p = entryProblem(rel) ?? (RELATED_NAMES.includes((rel as { name?: RelatedName }).name as RelatedName) ? undefined : 'unknown name');
    if (p) return `related[${i}]: ${p}`;
  }
  const sum = (value.parts as ObjectEntry[]).reduce((n, p) => n + p.records, 0);
  if (sum !== value.records) return `records is ${String(value.records)} but the parts hold ${sum}`;
  return undefined;
}

function entryProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not an object';
  if (typeof value.key !== 'string' || value.key === '') return 'key must be a string';
  if (!isCount(value.records) || !isCount(value.bytes)) return 'records and bytes must be non-negative integers';
  if (typeof value.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(value.sha256)) return 'sha256 must be 64 hex digits';
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Splits UTF-8 chunks into lines in time linear in the bytes: each chunk is searched for newlines once, and a line
 * that spans chunks is kept as pieces and joined once when its newline arrives (searching the growing unfinished
 * line again for every chunk made a 24 KB-per-record part quadratic to read).
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pieces: string[] = [];

  /** The lines completed by `chunk`, without their `\n`. */
  *push(chunk: Buffer): Generator<string, void, undefined> {
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const tail = text.slice(start, nl);
      start = nl + 1;
      if (this.pieces.length === 0) {
        yield tail;
      } else {
        this.pieces.push(tail);
        const line = this.pieces.join('');
        this.pieces = [];
        yield line;
      }
    }
    if (start < text.length) this.pieces.push(text.slice(start));
  }

  /** What follows the last newline (`''` when the input ended with one). */
  end(): string {
    this.pieces.push(this.decoder.end());
    const rest = this.pieces.join('');
    this.pieces = [];
    return rest;
  }
}

/**
 * How an object's stored bytes are read: `ndjson` gzip NDJSON (parts, related objects: records counted and parsed),
 * `gzip` gzip text that must decompress (e.g. full outputs), `bytes` stored as they are (hashed only).
 */
export type ObjectFormat = 'ndjson' | 'gzip' | 'bytes';

/** An object whose read has started: its bytes flow through the hash (and the gunzip), ahead of its reader. */
export interface OpenObject {
  entry: ObjectEntry;
  format: ObjectFormat;
  /** The stream to iterate and the running figures of the bytes read; rejects as the object's read would throw. */
  flowing: Promise<Flowing>;
  /** Stops reading the object (its stream is destroyed now, or as soon as the store hands it over). */
  close(): void;
}

interface Flowing {
  /** The gunzip (or, for `bytes`, the stored bytes as they pass the hash). */
  output: Readable;
  hash: Hash;
  /** Stored bytes read so far. */
  bytes(): number;
  /** The stored stream's own error (a failing read), told apart from bytes that do not decompress. */
  sourceError(): unknown;
}

/** A pass-through that hashes (sha256) and counts the stored bytes of an object as they flow to its reader. */
function storedBytesMeter(): { meter: Transform; hash: Hash; bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  return { meter, hash, bytes: () => bytes };
}

/** Starts reading one object: getStream, then the stored bytes through the hash into a gunzip that reads ahead. */
export function openObject(store: ObjectStore, entry: ObjectEntry, format: ObjectFormat = 'ndjson'): OpenObject {
  let closed = false;
  let streams: Readable[] = [];
  const flowing = (async (): Promise<Flowing> => {
    const raw = await store.getStream(entry.key);
    if (raw === undefined) {
      throw new StorageError('MissingObject', `${entry.key} is listed in the manifest but does not exist`, { key: entry.key });
    }
    const { meter, hash, bytes } = storedBytesMeter();
    let sourceError: unknown;
    raw.once('error', (err) => {
      sourceError ??= err;
    });
    const output = format === 'bytes' ? meter : createGunzip(GUNZIP_OPTIONS);
    streams = output === meter ? [raw, meter] : [raw, output];
    if (closed) for (const s of streams) s.destroy();
    // pipeline() forwards errors from any stage to the stream we iterate, and tears all stages down.
    if (output === meter) pipeline(raw, meter, () => undefined);
    else pipeline(raw, meter, output, () => undefined);
    return { output, hash, bytes, sourceError: () => sourceError };
  })();
  // Read ahead, an object's failure is reported when its turn comes, never as an unhandled rejection.
  flowing.catch(() => undefined);
  return {
    entry,
    format,
    flowing,
    close() {
      closed = true;
      for (const s of streams) s.destroy();
    },
  };
}

/**
 * What reading an object through found, filled in as it is read. A content problem is recorded here, never thrown:
 * {@link scanObject} reads on to the end (hashing) so that the stored bytes can be judged against the entry first.
 */
export interface ObjectScan {
  /** The object does not exist. */
  missing: boolean;
  /** The store failed to hand over or to stream the object (not the object's fault). */
  readError?: unknown;
  /** Stored bytes read, and their sha256 (hex) once read through. */
  bytes: number;
  sha256?: string;
  /** The stored bytes do not decompress (zlib's error). */
  undecompressable?: Error;
  /** NDJSON lines that hold a JSON object. */
  records: number;
  /** The first line that is not a JSON object (1-based), and why. */
  badLine?: { line: number; reason: 'is not valid JSON' | 'is not a JSON object'; cause?: unknown };
  /** The object was read to its end (false when the reader stopped early or a read failed). */
  finished: boolean;
}

/** A scan before the first byte. */
export function newScan(): ObjectScan {
  return { missing: false, bytes: 0, records: 0, finished: false };
}

/**
 * Reads an open object to its end: yields its records (`ndjson`), a batch per decompressed chunk, and fills `scan`
 * with what was found. Never throws for the object's content or a failing read (they are in `scan`); with
 * `stopAtBadLine` it returns at the first line that is not a JSON object instead of hashing on. Does not close the
 * object: the caller does, whatever happens.
 */
export async function* scanObject(open: OpenObject, scan: ObjectScan, stopAtBadLine = false): AsyncGenerator<Record<string, unknown>[], void, undefined> {
  let flowing: Flowing;
  try {
    flowing = await open.flowing;
  } catch (err) {
    if (err instanceof StorageError && err.code === 'MissingObject') scan.missing = true;
    else scan.readError = err;
    return;
  }
  const { output, hash, bytes, sourceError } = flowing;
  const lines = open.format === 'ndjson' ? new LineSplitter() : undefined;
  let lineNo = 0;
  const parse = (line: string, into: Record<string, unknown>[]): void => {
    lineNo += 1;
    // A record's line starts with `{` and is not blank: only other lines are trimmed to find out.
    if (scan.badLine || line.length === 0 || (line.charCodeAt(0) !== 0x7b && line.trim() === '')) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      scan.badLine = { line: lineNo, reason: 'is not valid JSON', cause: err };
      return;
    }
    if (!isObject(value)) {
      scan.badLine = { line: lineNo, reason: 'is not a JSON object' };
      return;
    }
    scan.records += 1;
    into.push(value);
  };
  try {
    for await (const chunk of output as AsyncIterable<Buffer>) {
      if (!lines || scan.badLine) continue; // draining, to finish the hash
      const batch: Record<string, unknown>[] = [];
      for (const line of lines.push(chunk)) parse(line, batch);
      if (batch.length > 0) yield batch;
      if (scan.badLine && stopAtBadLine) return;
    }
  } catch (err) {
    const source = sourceError();
    if (source !== undefined) scan.readError = source;
    else scan.undecompressable = err as Error;
    scan.bytes = bytes();
    return;
  }
  if (lines) {
    const last: Record<string, unknown>[] = [];
    parse(lines.end(), last);
    if (last.length > 0) yield last;
  }
  scan.bytes = bytes();
  scan.sha256 = hash.digest('hex');
  scan.finished = true;
}

/** True when the stored bytes read are not the ones the entry names (size or sha256). */
function storedBytesDiffer(entry: ObjectEntry, scan: ObjectScan): boolean {
  return scan.sha256 !== entry.sha256 || scan.bytes !== entry.bytes;
}

/**
 * The error a reader throws for what a scan found (`undefined` when the object is as its entry says), in the order of
 * likelihood: a missing object, a failing read, damaged bytes (with `verify`: they explain a bad line or a count),
 * a bad line, a record count.
 */
export function scanError(entry: ObjectEntry, scan: ObjectScan, verify: boolean): StorageError | undefined {
  const { key } = entry;
  if (scan.missing) return new StorageError('MissingObject', `${key} is listed in the manifest but does not exist`, { key });
  if (scan.readError !== undefined) {
    const source = scan.readError;
    if (source instanceof StorageError) return source;
    return new StorageError('ReadFailed', `reading ${key} failed: ${(source as Error).message}`, { key }, { cause: source });
  }
  const badRecord = scan.badLine && new StorageError('CorruptRecord', `${key} line ${scan.badLine.line} ${scan.badLine.reason}`, { key }, scan.badLine.cause === undefined ? {} : { cause: scan.badLine.cause });
  if (scan.undecompressable) {
    // The manifest's sha256 was taken over bytes that decompressed, so bytes that do not are not those bytes.
    if (verify) return new StorageError('ChecksumMismatch', `${key} does not match its manifest entry (it does not decompress)`, { key }, { cause: scan.undecompressable });
    return new StorageError('CorruptObject', `${key} could not be read: ${scan.undecompressable.message}`, { key }, { cause: scan.undecompressable });
  }
  if (!verify) return badRecord;
  if (scan.finished && storedBytesDiffer(entry, scan)) {
    return new StorageError(
      'ChecksumMismatch',
      `${key} does not match its manifest entry: sha256 ${scan.sha256 ?? '?'} (${scan.bytes} bytes), expected ${entry.sha256} (${entry.bytes} bytes)`,
      { key },
      badRecord ? { cause: badRecord } : {},
    );
  }
  if (badRecord) return badRecord;
  if (scan.finished && scan.records !== entry.records) {
    return new StorageError('RecordCountMismatch', `${key} holds ${scan.records} records; the manifest says ${entry.records}`, { key });
  }
  return undefined;
}

/**
 * The records of an open object, one batch per decompressed chunk, then the object's check against its entry.
 * Closes the object whatever happens (an early stop of the consumer included).
 */
async function* readOpen(open: OpenObject, verify: boolean): AsyncGenerator<Record<string, unknown>[], void, undefined> {
  const scan = newScan();
  try {
    // With verify on, a line that does not parse is reported only after the whole object was hashed: damaged bytes
    // (ChecksumMismatch) are the likely reason, and a damaged object must not be reported as a bad record.
    yield* scanObject(open, scan, !verify);
  } finally {
    open.close();
  }
  const err = scanError(open.entry, scan, verify);
  if (err) throw err;
}

/**
 * Streams the records of gzip NDJSON objects (parts or related objects), in order, a batch of parsed records per
 * decompressed chunk (at most 64 KiB of text, so a batch is small whatever the object), with `readAhead` objects
 * opened beyond the one being read. Each object is checked against its entry once it has been read through.
 *
 * @throws StorageError `MissingObject` when an object does not exist, `ReadFailed` (or the store's own error) when
 *   reading it fails midway, `ChecksumMismatch` when its bytes differ from the entry (or do not decompress, which
 *   means the same), `RecordCountMismatch` when the line count differs, `CorruptRecord` when a line is not a JSON
 *   object (or `CorruptObject` for undecompressable bytes when `verify` is off). An object's error is thrown after
 *   every record of the objects before it, whether or not it was read ahead. However the read ends (to the end, an
 *   error, a consumer that stops early), every object it opened is closed before it returns.
 * @example for await (const batch of readRecordBatches(store, manifest.parts)) for (const r of batch) agg.add(r);
 */
export async function* readRecordBatches(
  store: ObjectStore,
  entries: readonly ObjectEntry[],
  options: ReadObjectsOptions = {},
): AsyncGenerator<Record<string, unknown>[], void, undefined> {
  const verify = options.verify ?? true;
  const readAhead = Math.max(0, Math.floor(options.readAhead ?? 1));
  // The objects opened and not yet read, in order: opened[0] is the next one to read.
  const opened: OpenObject[] = [];
  let next = 0;
  try {
    while (next < entries.length || opened.length > 0) {
      while (next < entries.length && opened.length <= readAhead) opened.push(openObject(store, entries[next++] as ObjectEntry));
      const current = opened.shift();
      if (current) yield* readOpen(current, verify);
    }
  } finally {
    // Nothing outlives the read: the objects opened ahead are closed, and a fetch still under way is waited for
    // (its stream is destroyed as it arrives).
    for (const open of opened) open.close();
    await Promise.allSettled(opened.map((open) => open.flowing));
  }
}

/**
 * Streams the records of one gzip NDJSON object (a part or a related object), one parsed JSON value per line.
 *
 * @throws StorageError as {@link readRecordBatches}.
 * @example for await (const record of readRecords(store, manifest.parts[0])) console.log(record.InstanceId);
 */
export async function* readRecords(
  store: ObjectStore,
  entry: ObjectEntry,
  options: ReadRecordsOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  for await (const batch of readRecordBatches(store, [entry], { ...options, readAhead: 0 })) yield* batch;
}

/**
 * Streams the primary records of every part, in order (the next part read ahead, see {@link ReadObjectsOptions}).
 * A consumer with work per record may prefer the batches ({@link readRecordBatches} over `manifest.parts`).
 * @example let n = 0; for await (const _ of readAllParts(store, manifest)) n++;
 */
export async function* readAllParts(
  store: ObjectStore,
  manifest: Manifest,
  options: ReadObjectsOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  for await (const batch of readRecordBatches(store, manifest.parts, options)) yield* batch;
}

/**
 * Streams the records of a related object (a long listing continues in several objects, read in order), or nothing
 * when the manifest has no such object.
 * @example for await (const child of readRelated(store, manifest, 'failed-child-executions')) index(child);
 */
export async function* readRelated(
  store: ObjectStore,
  manifest: Manifest,
  name: RelatedName,
  options: ReadObjectsOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  const entries: RelatedEntry[] = manifest.related.filter((r) => r.name === name);
  for await (const batch of readRecordBatches(store, entries, options)) yield* batch;
}

/**
 * The text of a full output object (`outputs/…txt.gz`, see lib/collect/outputs.ts), or its last `maxBytes` bytes
 * from the first whole line on when it is longer: streamed (only that much is held), and checked against its
 * manifest entry (size and sha256 of the stored bytes) once read through.
 * @throws StorageError `MissingObject`, `ChecksumMismatch`, or the store's own error.
 * @example const { text } = await readOutputText(store, item.object, 256 * 1024);
 */
export async function readOutputText(store: ObjectStore, object: OutputObject, maxBytes: number): Promise<{ text: string; cut: boolean }> {
  const raw = await store.getStream(object.key);
  if (raw === undefined) throw new StorageError('MissingObject', `${object.key} is listed in the manifest but does not exist`, { key: object.key });
  const { meter, hash, bytes: storedBytes } = storedBytesMeter();
  // The last chunks whose sizes add up to at least maxBytes.
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let dropped = false;
  const gunzip = createGunzip(GUNZIP_OPTIONS);
  const done = new Promise<void>((resolve, reject) => pipeline(raw, meter, gunzip, (err) => (err ? reject(err) : resolve())));
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      kept.push(chunk);
      keptBytes += chunk.length;
      while (kept.length > 1 && keptBytes - (kept[0]?.length ?? 0) >= maxBytes) {
        keptBytes -= kept.shift()?.length ?? 0;
        dropped = true;
      }
    }
    await done;
  } catch (err) {
    if (err instanceof StorageError) throw err;
    throw new StorageError('ChecksumMismatch', `${object.key} could not be read whole: ${err instanceof Error ? err.message : String(err)}`, { key: object.key }, { cause: err });
  }
  const sha256 = hash.digest('hex');
  const bytes = storedBytes();
  if (bytes !== object.bytes || sha256 !== object.sha256) {
    throw new StorageError('ChecksumMismatch', `${object.key} is ${bytes} bytes with sha256 ${sha256}; the manifest says ${object.bytes} bytes, ${object.sha256}`, { key: object.key });
  }
  let body = Buffer.concat(kept);
  if (body.length > maxBytes) {
    body = body.subarray(body.length - maxBytes);
    dropped = true;
  }
  if (dropped) {
    const nl = body.indexOf(0x0a);
    if (nl >= 0) body = body.subarray(nl + 1);
  }
  return { text: body.toString('utf8'), cut: dropped };
}
