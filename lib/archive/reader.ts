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
import type { Manifest, ObjectEntry, RelatedEntry, RelatedName } from './manifest';
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
function manifestProblem(value: unknown): string | undefined {
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

/** An object whose read has started: its bytes flow through the hash and the gunzip, ahead of its reader. */
interface OpenObject {
  entry: ObjectEntry;
  /** The gunzip to iterate and the running figures of the bytes read; rejects as the object's read would throw. */
  flowing: Promise<Flowing>;
  /** Stops reading the object (its stream is destroyed now, or as soon as the store hands it over). */
  close(): void;
}

interface Flowing {
  gunzip: Readable;
  hash: Hash;
  /** Stored bytes read so far. */
  bytes(): number;
  /** The stored stream's own error (a failing read), told apart from bytes that do not decompress. */
  sourceError(): unknown;
}

/** Starts reading one object: getStream, then the stored bytes through the hash into a gunzip that reads ahead. */
function openObject(store: ObjectStore, entry: ObjectEntry): OpenObject {
  let closed = false;
  let streams: Readable[] = [];
  const flowing = (async (): Promise<Flowing> => {
    const raw = await store.getStream(entry.key);
    if (raw === undefined) {
      throw new StorageError('MissingObject', `${entry.key} is listed in the manifest but does not exist`, { key: entry.key });
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    const gunzip = createGunzip(GUNZIP_OPTIONS);
    let sourceError: unknown;
    raw.once('error', (err) => {
      sourceError ??= err;
    });
    streams = [raw, gunzip];
    if (closed) {
      raw.destroy();
      gunzip.destroy();
    }
    // pipeline() forwards errors from any stage to the gunzip stream we iterate, and tears all stages down.
    pipeline(raw, meter, gunzip, () => undefined);
    return { gunzip, hash, bytes: () => bytes, sourceError: () => sourceError };
  })();
  // Read ahead, an object's failure is reported when its turn comes (readOpen), never as an unhandled rejection.
  flowing.catch(() => undefined);
  return {
    entry,
    flowing,
    close() {
      closed = true;
      for (const s of streams) s.destroy();
    },
  };
}

/**
 * The records of an open object, one batch per decompressed chunk, then the object's check against its entry.
 * Closes the object whatever happens (an early stop of the consumer included).
 */
async function* readOpen(open: OpenObject, verify: boolean): AsyncGenerator<Record<string, unknown>[], void, undefined> {
  const { entry } = open;
  try {
    const { gunzip, hash, bytes, sourceError } = await open.flowing;
    const lines = new LineSplitter();
    let records = 0;
    let lineNo = 0;
    const parse = (line: string, into: Record<string, unknown>[]): void => {
      lineNo += 1;
      // A record's line starts with `{` and is not blank: only other lines are trimmed to find out.
      if (line.length === 0 || (line.charCodeAt(0) !== 0x7b && line.trim() === '')) return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new StorageError('CorruptRecord', `${entry.key} line ${lineNo} is not valid JSON`, { key: entry.key }, { cause: err });
      }
      if (!isObject(value)) throw new StorageError('CorruptRecord', `${entry.key} line ${lineNo} is not a JSON object`, { key: entry.key });
      records += 1;
      into.push(value);
    };

    // With verify on, a line that does not parse is reported only after the whole object was hashed: damaged bytes
    // (ChecksumMismatch) are the likely reason, and a damaged object must not be reported as a bad record.
    let badRecord: StorageError | undefined;
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        if (badRecord) continue; // draining, to finish the hash
        const batch: Record<string, unknown>[] = [];
        try {
          for (const line of lines.push(chunk)) parse(line, batch);
        } catch (err) {
          if (!verify || !(err instanceof StorageError)) throw err;
          badRecord = err;
        }
        if (batch.length > 0) yield batch;
      }
    } catch (err) {
      if (err instanceof StorageError) throw err;
      const source = sourceError();
      if (source !== undefined) {
        if (source instanceof StorageError) throw source;
        throw new StorageError('ReadFailed', `reading ${entry.key} failed: ${(source as Error).message}`, { key: entry.key }, { cause: source });
      }
      // The manifest's sha256 was taken over bytes that decompressed, so bytes that do not are not those bytes.
      if (verify) {
        throw new StorageError('ChecksumMismatch', `${entry.key} does not match its manifest entry (it does not decompress)`, { key: entry.key }, { cause: err });
      }
      throw new StorageError('CorruptObject', `${entry.key} could not be read: ${(err as Error).message}`, { key: entry.key }, { cause: err });
    }
    if (!badRecord) {
      const last: Record<string, unknown>[] = [];
      parse(lines.end(), last);
      if (last.length > 0) yield last;
    }

    if (!verify) return;
    const sha256 = hash.digest('hex');
    if (sha256 !== entry.sha256 || bytes() !== entry.bytes) {
      throw new StorageError(
        'ChecksumMismatch',
        `${entry.key} does not match its manifest entry: sha256 ${sha256} (${bytes()} bytes), expected ${entry.sha256} (${entry.bytes} bytes)`,
        { key: entry.key },
        badRecord ? { cause: badRecord } : {},
      );
    }
    if (badRecord) throw badRecord;
    if (records !== entry.records) {
      throw new StorageError('RecordCountMismatch', `${entry.key} holds ${records} records; the manifest says ${entry.records}`, { key: entry.key });
    }
  } finally {
    open.close();
  }
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
