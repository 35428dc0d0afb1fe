/**
 * The history a digest is computed from, read from the warehouse (lib/warehouse/read.ts: per-archive objects, and the
 * compacted objects of closed days, by the readers' rule) one Parquet object and one row group at a time: the runs (one per archive), each cause's presence per run (the `causes` table), and per command
 * and instance how its runs went in the window (the `results` table). What is kept grows with runs, causes and
 * (command, instance) pairs, never with records.
 */
import type { ObjectStore } from '../archive/store';
import { tableRuns, type ReadCell as Cell, type RunBatch } from '../warehouse/read';

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

const runKey = (b: RunBatch) => `${b.source}/${b.region}/${b.id}`;
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

  type Current = { run: Run; seen: Map<string, { bits: number; causes: string[] }>; named: boolean };
  let current: Current | undefined;
  const finish = (c: Current) => {
    const { run, seen } = c;
    if (!c.named) run.command = `${run.source}:(unnamed)`;
    if (run.startedAt < range.historyFrom || run.startedAt >= range.windowTo) return;
    runIndex.set(run.key, runs.length);
    runs.push(run);
    if (run.startedAt < range.windowFrom) return;
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
  };
  const dates = { from: day(range.historyFrom), to: day(range.windowTo) };
  // A run's batches come one after another (read.ts): a new run key ends the previous run.
  for await (const b of tableRuns(store, 'results', dates, ['name', 'run_started_at', 'resource_id', 'outcome', 'cause_key'])) {
    const key = runKey(b);
    if (current?.run.key !== key) {
      if (current) finish(current);
      current = { run: { key, source: b.source, region: b.region, id: b.id, command: '', startedAt: Date.parse(`${b.date}T00:00:00Z`), date: b.date, records: 0, failed: 0 }, seen: new Map(), named: false };
    }
    const { run, seen } = current;
    // Per instance in this run: 1 succeeded, 2 failed (both bits when it has records of both), and its causes.
    for (const r of b.rows) {
      if (!current.named) {
        run.command = `${b.source}:${text(r.name) ?? '(unnamed)'}`;
        run.startedAt = millis(r.run_started_at) ?? run.startedAt;
        current.named = true;
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
  if (current) finish(current);

  for await (const b of tableRuns(store, 'causes', dates, ['cause_key', 'title', 'instances', 'status', 'error_code', 'exit_code'])) {
    const at = runIndex.get(runKey(b));
    if (at === undefined) continue;
    for (const r of b.rows) {
      const key = text(r.cause_key) ?? '';
      let c = causes.get(key);
      if (!c) {
        const exit = r.exit_code;
        causes.set(key, (c = { key, title: text(r.title) ?? '', status: text(r.status) ?? '', errorCode: text(r.error_code), exitCode: typeof exit === 'number' ? exit : null, runs: new Map() }));
      }
      c.runs.set(at, (c.runs.get(at) ?? 0) + Number(r.instances ?? 0));
    }
  }
  return { runs, causes, instances };
}
