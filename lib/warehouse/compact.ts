/**
 * Compaction of closed days: each partition (table, source, region, day) whose day is closed is rewritten into one
 * compacted object (`warehouse/compacted/<table>/…/date=D/compacted.parquet`, layout.ts), and its per-archive objects
 * are deleted a grace period later. Readers never see a run twice or not at all, whatever moment they list at,
 * because they apply one rule (layout.ts {@link SMALL_WINS}): a run's rows come from its per-archive object when
 * there is one, else from the compacted object. The compactor keeps that rule true at every step:
 *
 * 1. The compacted object is written whole in one put (atomic), holding every run of the partition: the runs of the
 *    previous compacted object that have no per-archive object now, and the rows of every per-archive object now.
 *    While both exist, the per-archive object wins, and its rows are the same.
 * 2. A record (`warehouse/_compaction/<table>/…/date=D.json`) names the per-archive objects the compacted object
 *    holds, with their size and modification time (etag on OSS).
 * 3. A per-archive object is deleted only when the record holds it at the version it still has, and the record is
 *    older than the grace period (a query that listed it before the compacted object existed still finds it).
 *
 * A late arrival (a re-collection of an old run rewrites its per-archive object; a run archived late writes a new
 * one) is read from its per-archive object, which wins over the compacted rows of the same run; the next compaction
 * folds it in. A compactor killed at any point leaves one of the states above, and the next run goes on from it: a
 * partition whose per-archive objects are not all held at their versions is compacted again (the same rows), one
 * whose objects are all held has them retired. Memory: one row group of one object at a time, plus the run ids of
 * one partition.
 */
import type { ObjectInfo, ObjectStore } from '../archive/store';
import { InputError } from '../errors';
import type { Logger } from '../log';
import { CAUSE_COLUMNS, RESULT_COLUMNS, TABLES, compactedKey, compactionStateKey, type TableName } from './layout';
import { rebatch, writeParquetObject, type ColumnSpec, type Row } from './parquet';
import { fileRows, parquetFile, parquetRows, tablePartitions, type Partition, type ReadRow } from './read';

export const COMPACTION_FORMAT = 'execution-archive-compaction/1';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A per-archive object as the record holds it: the version the compacted object read. */
interface HeldObject {
  key: string;
  id: string;
  size: number;
  lastModified: string | null;
  etag: string | null;
}

/** The record of a partition's compaction (`warehouse/_compaction/…/date=D.json`). */
export interface CompactionRecord {
  format: typeof COMPACTION_FORMAT;
  table: TableName;
  source: string;
  region: string;
  date: string;
  /** When the compacted object was written (the grace period counts from here). */
  writtenAt: string;
  compacted: { key: string; rows: number; bytes: number; runs: number };
  /** The per-archive objects the compacted object holds, at the versions it read. */
  held: HeldObject[];
}

export interface CompactOptions {
  store: ObjectStore;
  logger: Logger;
  now?: () => Date;
  /** A day is closed once its end is this long ago (collections of its runs are over). @default 72 hours */
  closedAfterMs?: number;
  /** Per-archive objects are deleted this long after the compacted object that holds them was written. @default 1 hour */
  graceMs?: number;
  /** @default both */
  tables?: readonly TableName[];
  /** Asked between partitions: true stops the compaction there (the next run goes on; `stopped` says so). */
  shouldStop?: () => boolean;
}

/** What one compaction did. */
export interface CompactResult {
  /** Partitions of closed days that had per-archive objects. */
  partitions: number;
  /** Partitions whose compacted object was (re)written. */
  compacted: number;
  /** Runs and rows in the compacted objects written. */
  runs: number;
  rows: number;
  bytes: number;
  /** Per-archive objects deleted (held by a compacted object for longer than the grace period). */
  retired: number;
  /** Per-archive objects held and waiting for the grace period. */
  waiting: number;
  /** Partitions skipped (an object changed or vanished while being read): the next run retries them. */
  skipped: number;
  /** Partitions of days not closed yet, left as they are. */
  open: number;
  /** True when `shouldStop` ended it before every partition was seen. */
  stopped: boolean;
  ms: number;
}

export const COMPACT_DEFAULTS = { closedAfterMs: 72 * HOUR, graceMs: HOUR } as const;

const columnsOf = (table: TableName): readonly ColumnSpec[] => (table === 'results' ? RESULT_COLUMNS : CAUSE_COLUMNS);

/** The version of an object a listing or head gives, as the record keeps it. */
function held(o: ObjectInfo & { id: string }): HeldObject {
  return { key: o.key, id: o.id, size: o.size, lastModified: o.lastModified ? o.lastModified.toISOString() : null, etag: o.etag ?? null };
}

const sameVersion = (a: HeldObject | undefined, b: ObjectInfo): boolean =>
  !!a && a.size === b.size && a.etag === (b.etag ?? null) && a.lastModified === (b.lastModified ? b.lastModified.toISOString() : null);

/** A row as read (Date, bigint) in the types the writer takes (epoch ms, numbers). */
function toWritable(columns: readonly ColumnSpec[], r: ReadRow): Row {
  const out: Row = {};
  for (const c of columns) {
    const v = r[c.name];
    out[c.name] = v === undefined || v === null ? null : v instanceof Date ? v.getTime() : typeof v === 'bigint' ? Number(v) : v;
  }
  return out;
}

/** Thrown inside a partition when an object it listed changed under it: the partition is left for the next run. */
class PartitionChanged extends Error {}

async function readRecord(store: ObjectStore, key: string, logger: Logger): Promise<CompactionRecord | undefined> {
  const body = await store.get(key);
  if (!body) return undefined;
  try {
    const r = JSON.parse(body.toString('utf8')) as CompactionRecord;
    return r.format === COMPACTION_FORMAT && Array.isArray(r.held) ? r : undefined;
  } catch {
    logger.warn('a compaction record is not valid JSON; compacting its partition again', { key });
    return undefined;
  }
}

/**
 * Deletes the per-archive objects the record holds at their current version, once the grace period is over.
 * Returns how many were deleted and how many wait.
 */
async function retire(store: ObjectStore, p: Partition, record: CompactionRecord, now: number, graceMs: number): Promise<{ retired: number; waiting: number }> {
  if (now - Date.parse(record.writtenAt) < graceMs) return { retired: 0, waiting: p.smalls.length };
  const byKey = new Map(record.held.map((h) => [h.key, h]));
  let retired = 0;
  for (const small of p.smalls) {
    // Checked again just before: a per-archive object rewritten since the listing is newer than the compacted rows.
    const info = await store.head(small.key);
    if (!info || !sameVersion(byKey.get(small.key), info)) continue;
    await store.delete(small.key);
    retired += 1;
  }
  return { retired, waiting: 0 };
}

/** Writes a partition's compacted object from the previous one and the per-archive objects; returns what it holds. */
async function rewrite(store: ObjectStore, p: Partition, at: Date): Promise<CompactionRecord> {
  const columns = columnsOf(p.table);
  const names = columns.map((c) => c.name);
  const fresh = new Set(p.smalls.map((s) => s.id));
  const runs = new Set<string>();
  async function* rows(): AsyncGenerator<Row[]> {
    if (p.compacted) {
      for await (const batch of parquetRows(store, p.compacted.key, names, p.compacted.size)) {
        const kept = batch.filter((r) => !fresh.has(String(r.id)));
        for (const r of kept) runs.add(String(r.id));
        if (kept.length) yield kept.map((r) => toWritable(columns, r));
      }
    }
    for (const small of p.smalls) {
      // Read at the size the listing gave (no HEAD for it). Retired by another compactor since the listing (gone), or
      // rewritten (another size): its rows are in a compacted object this one did not read, or newer than the listing.
      const changed = () => new PartitionChanged(`${small.key} vanished or changed while its partition was compacted`);
      const file = await parquetFile(store, small.key, small.size);
      if (!file) throw changed();
      runs.add(small.id);
      try {
        for await (const batch of fileRows(file, names)) if (batch.length) yield batch.map((r) => toWritable(columns, r));
      } catch (err) {
        // A ranged read of an object that is gone or no longer the listed one fails; anything else is not a race.
        const now = await store.head(small.key);
        if (!now || !sameVersion(held(small), now)) throw changed();
        throw err;
      }
    }
  }
  const key = compactedKey(p.table, p.source, p.region, p.date);
  const metadata = { 'execution-archive.source': p.source, 'execution-archive.region': p.region, 'execution-archive.date': p.date, 'execution-archive.compactedAt': at.toISOString() };
  const written = await writeParquetObject(store, key, columns, rebatch(rows()), metadata);
  return {
    format: COMPACTION_FORMAT,
    table: p.table,
    source: p.source,
    region: p.region,
    date: p.date,
    writtenAt: at.toISOString(),
    compacted: { key, rows: written.rows, bytes: written.bytes, runs: runs.size },
    held: p.smalls.map(held),
  };
}

/**
 * Compacts every partition of a closed day that has per-archive objects, in both tables: rewrites its compacted
 * object when some of them are not held yet, deletes those held past the grace period. Idempotent and resumable.
 * @throws InputError for a negative period; the store's StorageErrors.
 * @example await compactWarehouse({ store, logger }) // days that ended 72 h ago or more
 */
export async function compactWarehouse(options: CompactOptions): Promise<CompactResult> {
  const { store, logger } = options;
  const closedAfterMs = options.closedAfterMs ?? COMPACT_DEFAULTS.closedAfterMs;
  const graceMs = options.graceMs ?? COMPACT_DEFAULTS.graceMs;
  if (!(closedAfterMs >= 0) || !(graceMs >= 0)) throw new InputError('InvalidCompaction', 'the closed-day horizon and the grace period must be 0 or more');
  const now = options.now ?? (() => new Date());
  const started = Date.now();
  const at = now();
  // The last closed day: its end (next midnight UTC) is at least closedAfterMs before now.
  const lastClosed = new Date(Math.floor((at.getTime() - closedAfterMs) / DAY) * DAY - DAY).toISOString().slice(0, 10);
  const result: CompactResult = { partitions: 0, compacted: 0, runs: 0, rows: 0, bytes: 0, retired: 0, waiting: 0, skipped: 0, open: 0, stopped: false, ms: 0 };
  tables: for (const table of options.tables ?? TABLES) {
    for await (const p of tablePartitions(store, table)) {
      if (p.smalls.length === 0) continue;
      if (options.shouldStop?.()) {
        result.stopped = true;
        break tables;
      }
      if (p.date > lastClosed) {
        result.open += 1;
        continue;
      }
      result.partitions += 1;
      const stateKey = compactionStateKey(table, p.source, p.region, p.date);
      try {
        let record = p.compacted ? await readRecord(store, stateKey, logger) : undefined;
        const byKey = new Map((record?.held ?? []).map((h) => [h.key, h]));
        if (!record || p.smalls.some((s) => !sameVersion(byKey.get(s.key), s))) {
          record = await rewrite(store, p, now());
          await store.put(stateKey, JSON.stringify(record, null, 2), { contentType: 'application/json' });
          result.compacted += 1;
          result.runs += record.compacted.runs;
          result.rows += record.compacted.rows;
          result.bytes += record.compacted.bytes;
          logger.info('warehouse partition compacted', { table, source: p.source, region: p.region, date: p.date, objects: p.smalls.length, runs: record.compacted.runs, rows: record.compacted.rows, bytes: record.compacted.bytes });
        }
        const r = await retire(store, p, record, now().getTime(), graceMs);
        result.retired += r.retired;
        result.waiting += r.waiting;
      } catch (err) {
        if (!(err instanceof PartitionChanged)) throw err;
        result.skipped += 1;
        logger.warn('a warehouse partition changed while it was compacted; left for the next run', { table, source: p.source, region: p.region, date: p.date, reason: err.message });
      }
    }
  }
  result.ms = Date.now() - started;
  logger.info('warehouse compaction done', { ...result, lastClosed });
  return result;
}
