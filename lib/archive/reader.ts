/**
 * Reading archives back: the manifest (validated), and the records of a part or related object as a stream,
 * verified against the manifest entry (sha256, size and record count) once the object has been read through.
 *
 * Memory stays flat in the number of records: an object is read chunk by chunk (getStream → gunzip → lines) and
 * only one line is held at a time.
 */
import { createHash } from 'node:crypto';
import { Transform, pipeline } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
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

/**
 * Streams the records of one gzip NDJSON object (a part or a related object), one parsed JSON value per line.
 *
 * @throws StorageError `MissingObject` when the object does not exist, `ReadFailed` (or the store's own error)
 *   when reading it fails midway, `ChecksumMismatch` when its bytes differ from the entry (or do not decompress,
 *   which means the same), `RecordCountMismatch` when the line count differs, `CorruptRecord` when a line is not a
 *   JSON object (or `CorruptObject` for undecompressable bytes when `verify` is off).
 * @example for await (const record of readRecords(store, manifest.parts[0])) console.log(record.InstanceId);
 */
export async function* readRecords(
  store: ObjectStore,
  entry: ObjectEntry,
  options: ReadRecordsOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  const verify = options.verify ?? true;
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
  const gunzip = createGunzip();
  // A failing read (network, disk) is told apart from bytes that do not decompress.
  let sourceError: unknown;
  raw.once('error', (err) => {
    sourceError ??= err;
  });
  // pipeline() forwards errors from any stage to the gunzip stream we iterate, and tears all stages down.
  pipeline(raw, meter, gunzip, () => undefined);

  const lines = new LineSplitter();
  let records = 0;
  let lineNo = 0;
  const parse = (line: string): Record<string, unknown> | undefined => {
    lineNo += 1;
    if (line.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new StorageError('CorruptRecord', `${entry.key} line ${lineNo} is not valid JSON`, { key: entry.key }, { cause: err });
    }
    if (!isObject(value)) throw new StorageError('CorruptRecord', `${entry.key} line ${lineNo} is not a JSON object`, { key: entry.key });
    records += 1;
    return value;
  };

  // With verify on, a line that does not parse is reported only after the whole object was hashed: damaged bytes
  // (ChecksumMismatch) are the likely reason, and a damaged object must not be reported as a bad record.
  let badRecord: StorageError | undefined;
  try {
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        if (badRecord) continue; // draining, to finish the hash
        try {
          for (const line of lines.push(chunk)) {
            const record = parse(line);
            if (record) yield record;
          }
        } catch (err) {
          if (!verify || !(err instanceof StorageError)) throw err;
          badRecord = err;
        }
      }
    } catch (err) {
      if (err instanceof StorageError) throw err;
      if (sourceError !== undefined) {
        if (sourceError instanceof StorageError) throw sourceError;
        throw new StorageError('ReadFailed', `reading ${entry.key} failed: ${(sourceError as Error).message}`, { key: entry.key }, { cause: sourceError });
      }
      // The manifest's sha256 was taken over bytes that decompressed, so bytes that do not are not those bytes.
      if (verify) {
        throw new StorageError('ChecksumMismatch', `${entry.key} does not match its manifest entry (it does not decompress)`, { key: entry.key }, { cause: err });
      }
      throw new StorageError('CorruptObject', `${entry.key} could not be read: ${(err as Error).message}`, { key: entry.key }, { cause: err });
    }
    if (!badRecord) {
      const last = parse(lines.end());
      if (last) yield last;
    }
  } finally {
    raw.destroy();
    gunzip.destroy();
  }

  if (!verify) return;
  const sha256 = hash.digest('hex');
  if (sha256 !== entry.sha256 || bytes !== entry.bytes) {
    throw new StorageError(
      'ChecksumMismatch',
      `${entry.key} does not match its manifest entry: sha256 ${sha256} (${bytes} bytes), expected ${entry.sha256} (${entry.bytes} bytes)`,
      { key: entry.key },
      badRecord ? { cause: badRecord } : {},
    );
  }
  if (badRecord) throw badRecord;
  if (records !== entry.records) {
    throw new StorageError('RecordCountMismatch', `${entry.key} holds ${records} records; the manifest says ${entry.records}`, { key: entry.key });
  }
}

/**
 * Streams the primary records of every part, in order.
 * @example let n = 0; for await (const _ of readAllParts(store, manifest)) n++;
 */
export async function* readAllParts(
  store: ObjectStore,
  manifest: Manifest,
  options: ReadRecordsOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  for (const part of manifest.parts) yield* readRecords(store, part, options);
}

/**
 * Streams the records of a related object, or nothing when the manifest has no such object.
 * @example for await (const child of readRelated(store, manifest, 'failed-child-executions')) index(child);
 */
export async function* readRelated(
  store: ObjectStore,
  manifest: Manifest,
  name: RelatedName,
  options: ReadRecordsOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  const entries: RelatedEntry[] = manifest.related.filter((r) => r.name === name);
  for (const entry of entries) yield* readRecords(store, entry, options);
}
