/**
 * Reading the warehouse in bounded memory, the way every reader must (layout.ts {@link SMALL_WINS}): partition by
 * partition, a run's rows from its per-archive object when there is one, else from the partition's compacted object.
 * Parquet is read with hyparquet (pure JavaScript, the reader hyparquet-writer is built on) one row group at a time;
 * a large object is read by ranges (its footer, then each row group's column chunks), never whole.
 */
import type { Readable } from 'node:stream';
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import type { ObjectInfo, ObjectStore } from '../archive/store';
import { COMPACTED_PREFIX, WAREHOUSE_PREFIX, parseWarehouseKey, partitionPath, type TableName } from './layout';

/** A cell as hyparquet gives it (a TIMESTAMP as a Date, an INT64 as a bigint). */
export type ReadCell = string | number | bigint | boolean | Date | null | undefined;
export type ReadRow = Record<string, ReadCell>;

/** Objects up to this size are read in one request; larger ones by ranges. */
const WHOLE_BELOW = 4 * 1024 * 1024;

/**
 * Reads `length` bytes from `start` of an object: the store's stream from `start` (it has no end offset), dropped once
 * they are in. What is held is the range; what crosses the wire may run a read-ahead past it (a chunk of the file
 * store; on OSS, what is in flight when the connection is dropped).
 */
async function readRange(store: ObjectStore, key: string, start: number, length: number): Promise<ArrayBuffer> {
  const out = new Uint8Array(length);
  if (length === 0) return out.buffer;
  const stream: Readable | undefined = await store.getStream(key, { start });
  if (!stream) throw new Error(`warehouse object ${key} disappeared while it was read`);
  let at = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const take = Math.min(chunk.length, length - at);
      out.set(chunk.subarray(0, take), at);
      at += take;
      if (at >= length) break;
    }
  } finally {
    stream.destroy();
  }
  if (at < length) throw new Error(`warehouse object ${key} is shorter than it was listed (${start + at} of ${start + length} bytes)`);
  return out.buffer;
}

/**
 * An object as hyparquet's file: the whole object for one under `wholeBelow` bytes (4 MB), ranged reads for a larger
 * one. Undefined when the object does not exist (any more).
 */
export async function parquetFile(store: ObjectStore, key: string, size?: number, wholeBelow = WHOLE_BELOW): Promise<AsyncBuffer | undefined> {
  const byteLength = size ?? (await store.head(key))?.size;
  if (byteLength === undefined) return undefined;
  if (byteLength < wholeBelow) {
    const body = await store.get(key);
    if (!body) return undefined;
    return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  }
  return { byteLength, slice: (start: number, end?: number) => readRange(store, key, start, (end ?? byteLength) - start) };
}

/** The rows of one Parquet object, a row group at a time, with only the named columns (nothing when it is gone). */
export async function* parquetRows(store: ObjectStore, key: string, columns: string[], size?: number, wholeBelow?: number): AsyncGenerator<ReadRow[]> {
  const file = await parquetFile(store, key, size, wholeBelow);
  if (file) yield* fileRows(file, columns);
}

/** The rows of an opened Parquet file, a row group at a time. */
export async function* fileRows(file: AsyncBuffer, columns: string[]): AsyncGenerator<ReadRow[]> {
  const metadata = await parquetMetadataAsync(file);
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    yield (await parquetReadObjects({ file, metadata, columns, rowStart: start, rowEnd: end })) as ReadRow[];
    start = end;
  }
}

/** One partition of a table: its per-archive objects (in key order) and its compacted object, if any. */
export interface Partition {
  table: TableName;
  source: string;
  region: string;
  date: string;
  /** The per-archive objects, each with its run id. */
  smalls: (ObjectInfo & { id: string })[];
  compacted?: ObjectInfo;
}

/**
 * Every partition of a table, in order, from one listing of the per-archive tree and then one of the compacted
 * tree (both list in key order, which is partition order): what is held is one partition's listing.
 * The per-archive tree is listed first, as readers must: a compacted object is written before the per-archive objects
 * it holds are deleted, so a run whose per-archive object was gone from the first listing is in the compacted object
 * the second finds.
 */
export async function* tablePartitions(store: ObjectStore, table: TableName, dates?: { from: string; to: string }): AsyncGenerator<Partition> {
  const inRange = (date: string) => !dates || (date >= dates.from && date <= dates.to);
  const smallList = store.list(`${WAREHOUSE_PREFIX}/${table}/`)[Symbol.asyncIterator]();
  let compactedList: AsyncIterator<ObjectInfo> | undefined;
  // The next compacted object in range, read lazily (the per-archive listing's first page is taken first).
  let nextCompacted: { info: ObjectInfo; path: string; o: { source: string; region: string; date: string } } | null | undefined;
  const peekCompacted = async () => {
    compactedList ??= store.list(`${COMPACTED_PREFIX}/${table}/`)[Symbol.asyncIterator]();
    while (nextCompacted === undefined) {
      const r = await compactedList.next();
      if (r.done) nextCompacted = null;
      else {
        const o = parseWarehouseKey(r.value.key);
        if (o && o.id === null && o.table === table && inRange(o.date)) nextCompacted = { info: r.value, path: partitionPath(o), o };
      }
    }
    return nextCompacted;
  };
  let current: Partition | undefined;
  let currentPath = '';
  const flushBefore = async function* (path: string | null): AsyncGenerator<Partition> {
    // Compacted-only partitions that sort before `path` (null: all that are left).
    for (let c = await peekCompacted(); c && (path === null || c.path < path); c = await peekCompacted()) {
      nextCompacted = undefined;
      yield { table, ...c.o, smalls: [], compacted: c.info };
    }
  };
  const finish = async (): Promise<Partition | undefined> => {
    if (!current) return undefined;
    const c = await peekCompacted();
    if (c && c.path === currentPath) {
      current.compacted = c.info;
      nextCompacted = undefined;
    }
    return current;
  };
  for (let r = await smallList.next(); !r.done; r = await smallList.next()) {
    const o = parseWarehouseKey(r.value.key);
    if (!o || o.id === null || o.table !== table || !inRange(o.date)) continue;
    const path = partitionPath(o);
    if (current && path !== currentPath) {
      const done = await finish();
      if (done) yield done;
      current = undefined;
    }
    if (!current) {
      yield* flushBefore(path);
      current = { table, source: o.source, region: o.region, date: o.date, smalls: [] };
      currentPath = path;
    }
    current.smalls.push({ ...r.value, id: o.id });
  }
  const done = await finish();
  if (done) yield done;
  yield* flushBefore(null);
}

/** A batch of rows of one run (a run's batches come one after another). */
export interface RunBatch {
  source: string;
  region: string;
  date: string;
  id: string;
  rows: ReadRow[];
}

/**
 * The rows of one partition by run, by the rule: each per-archive object's rows, then the compacted object's rows of
 * the runs that had no per-archive object that could be read. `columns` gets `id` added when missing.
 */
export async function* partitionRuns(store: ObjectStore, p: Partition, columns: string[]): AsyncGenerator<RunBatch> {
  const cols = columns.includes('id') ? columns : [...columns, 'id'];
  const read = new Set<string>();
  for (const small of p.smalls) {
    const file = await parquetFile(store, small.key, small.size);
    // A per-archive object retired since the listing is in the compacted object (written before it was deleted).
    if (!file) continue;
    // Read, even with no rows (a run without causes): the compacted object's rows of the run are an older version.
    read.add(small.id);
    for await (const rows of fileRows(file, cols)) {
      if (rows.length) yield { source: p.source, region: p.region, date: p.date, id: small.id, rows };
    }
  }
  if (!p.compacted) return;
  for await (const rows of parquetRows(store, p.compacted.key, cols, p.compacted.size)) {
    let start = 0;
    for (let i = 1; i <= rows.length; i++) {
      const id = String(rows[start]?.id ?? '');
      if (i < rows.length && String(rows[i]?.id ?? '') === id) continue;
      if (!read.has(id)) yield { source: p.source, region: p.region, date: p.date, id, rows: rows.slice(start, i) };
      start = i;
    }
  }
}

/** Every run's rows of a table whose partition date is in [from, to] (yyyy-mm-dd), by the rule. */
export async function* tableRuns(store: ObjectStore, table: TableName, dates: { from: string; to: string }, columns: string[]): AsyncGenerator<RunBatch> {
  for await (const p of tablePartitions(store, table, dates)) yield* partitionRuns(store, p, columns);
}
