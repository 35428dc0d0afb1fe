/**
 * The history a digest is computed from, read from the warehouse (lib/warehouse) one Parquet object and one row
 * group at a time: the runs (one per archive), each cause's presence per run (the `causes` table), and per command
 * and instance how its runs went in the window (the `results` table). What is kept grows with runs, causes and
 * (command, instance) pairs, never with records.
 */
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { ObjectStore } from '../archive/store';
import { WAREHOUSE_PREFIX, type TableName } from '../warehouse/layout';

/** One run: an archived execution or invocation. */
export interface Run {
  /** `<source>/<region>/<id>`. */
  key: string;
  source: string;
  region: string;
  id: string;
  /** `<source>:<template or command name>`: what "the same command" means across runs. */
  command: string;
  /** Epoch ms of the run's start (its partition date's midnight when unknown). */
  startedAt: number;
  /** The partition date (yyyy-mm-dd, UTC). */
  date: string;
  records: number;
  failed: number;
}

/** A cause as the `causes` table describes it, with the runs it appeared in. */
export interface CauseHistory {
  key: string;
  title: string;
  status: string;
  errorCode: string | null;
  exitCode: number | null;
  /** Run index → instances it hit in that run. */
  runs: Map<number, number>;
}

/** How one instance did on one command across the window's runs. */
export interface InstanceHistory {
  command: string;
  resourceId: string;
  runs: number;
  failedRuns: number;
  succeededRuns: number;
  /** Cause keys it failed with (first few). */
  causes: string[];
  /** Start of its latest run, and whether it failed there. */
  lastRunAt: number;
  lastFailed: boolean;
}

export interface History {
  runs: Run[];
  causes: Map<string, CauseHistory>;
  /** `command \0 resourceId` → history, for runs inside the window only. */
  instances: Map<string, InstanceHistory>;
}

/** Causes kept per instance. */
const CAUSES_PER_INSTANCE = 5;

/** A warehouse object's place, from its key: `warehouse/<table>/source=…/region=…/date=…/<id>.parquet`. */
export interface WarehouseObject {
  key: string;
  table: TableName;
  source: string;
  region: string;
  date: string;
  id: string;
}

const OBJECT_KEY = /^warehouse\/(results|causes)\/source=([^/]+)\/region=([^/]+)\/date=(\d{4}-\d{2}-\d{2})\/([^/]+)\.parquet$/;

export function parseWarehouseKey(key: string): WarehouseObject | undefined {
  const m = OBJECT_KEY.exec(key);
  if (!m) return undefined;
  return { key, table: m[1] as TableName, source: m[2] ?? '', region: m[3] ?? '', date: m[4] ?? '', id: m[5] ?? '' };
}

/** The objects of a table whose partition date is in [from, to] (dates as yyyy-mm-dd), streamed in key order. */
export async function* warehouseObjects(store: ObjectStore, table: TableName, from: string, to: string): AsyncGenerator<WarehouseObject> {
  for await (const info of store.list(`${WAREHOUSE_PREFIX}/${table}/`)) {
    const o = parseWarehouseKey(info.key);
    if (o && o.date >= from && o.date <= to) yield o;
  }
}

type Cell = string | number | bigint | boolean | Date | null | undefined;

/** The rows of one Parquet object, a row group at a time, with only the named columns. */
export async function* parquetRows(store: ObjectStore, key: string, columns: string[]): AsyncGenerator<Record<string, Cell>[]> {
  const body = await store.get(key);
  if (!body) return;
  const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
  const metadata = parquetMetadata(file);
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    yield (await parquetReadObjects({ file, metadata, columns, rowStart: start, rowEnd: end })) as Record<string, Cell>[];
    start = end;
  }
}

const text = (v: Cell): string | null => (v === null || v === undefined ? null : String(v));
const millis = (v: Cell): number | null => (v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : null);

/**
 * Reads the history: every run whose partition date is in [historyFrom, windowTo], the causes of those runs, and
 * the instances of the runs that started in [windowFrom, windowTo).
 */
export async function readHistory(store: ObjectStore, range: { historyFrom: number; windowFrom: number; windowTo: number }): Promise<History> {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const runs: Run[] = [];
  const runIndex = new Map<string, number>();
  const causes = new Map<string, CauseHistory>();
  const instances = new Map<string, InstanceHistory>();

  for await (const o of warehouseObjects(store, 'results', day(range.historyFrom), day(range.windowTo))) {
    const run: Run = { key: `${o.source}/${o.region}/${o.id}`, source: o.source, region: o.region, id: o.id, command: '', startedAt: Date.parse(`${o.date}T00:00:00Z`), date: o.date, records: 0, failed: 0 };
    // Per instance in this run: 1 succeeded, 2 failed (both bits when it has records of both), and its causes.
    const seen = new Map<string, { bits: number; causes: string[] }>();
    let named = false;
    for await (const rows of parquetRows(store, o.key, ['name', 'run_started_at', 'resource_id', 'outcome', 'cause_key'])) {
      for (const r of rows) {
        if (!named) {
          run.command = `${o.source}:${text(r.name) ?? '(unnamed)'}`;
          run.startedAt = millis(r.run_started_at) ?? run.startedAt;
          named = true;
        }
        run.records += 1;
        const outcome = text(r.outcome);
        if (outcome === 'failed') run.failed += 1;
        if (outcome !== 'failed' && outcome !== 'succeeded') continue;
        const id = text(r.resource_id) ?? '';
        let s = seen.get(id);
        if (!s) seen.set(id, (s = { bits: 0, causes: [] }));
        s.bits |= outcome === 'failed' ? 2 : 1;
        const cause = text(r.cause_key);
        if (cause && s.causes.length < CAUSES_PER_INSTANCE && !s.causes.includes(cause)) s.causes.push(cause);
      }
    }
    if (!named) run.command = `${o.source}:(unnamed)`;
    if (run.startedAt < range.historyFrom || run.startedAt >= range.windowTo) continue;
    runIndex.set(run.key, runs.length);
    runs.push(run);
    if (run.startedAt < range.windowFrom) continue;
    for (const [resourceId, s] of seen) {
      const k = `${run.command}\u0000${resourceId}`;
      let h = instances.get(k);
      if (!h) instances.set(k, (h = { command: run.command, resourceId, runs: 0, failedRuns: 0, succeededRuns: 0, causes: [], lastRunAt: -Infinity, lastFailed: false }));
      h.runs += 1;
      if (s.bits & 2) h.failedRuns += 1;
      if (s.bits & 1) h.succeededRuns += 1;
      for (const c of s.causes) if (h.causes.length < CAUSES_PER_INSTANCE && !h.causes.includes(c)) h.causes.push(c);
      if (run.startedAt >= h.lastRunAt) {
        h.lastRunAt = run.startedAt;
        h.lastFailed = (s.bits & 2) !== 0;
      }
    }
  }

  for await (const o of warehouseObjects(store, 'causes', day(range.historyFrom), day(range.windowTo))) {
    const at = runIndex.get(`${o.source}/${o.region}/${o.id}`);
    if (at === undefined) continue;
    for await (const rows of parquetRows(store, o.key, ['cause_key', 'title', 'instances', 'status', 'error_code', 'exit_code'])) {
      for (const r of rows) {
        const key = text(r.cause_key) ?? '';
        let c = causes.get(key);
        if (!c) {
          const exit = r.exit_code;
          causes.set(key, (c = { key, title: text(r.title) ?? '', status: text(r.status) ?? '', errorCode: text(r.error_code), exitCode: typeof exit === 'number' ? exit : null, runs: new Map() }));
        }
        c.runs.set(at, (c.runs.get(at) ?? 0) + Number(r.instances ?? 0));
      }
    }
  }
  return { runs, causes, instances };
}
