/**
 * A scripted history in the warehouse: runs of commands, each with how every instance did (succeeded, or failed with
 * a cause), written as the warehouse's own Parquet objects (lib/warehouse, the same writer and layout the summary
 * step uses), so the digest and `sql` read exactly what they read in production.
 */
import type { ObjectStore } from '../../lib/archive/store';
import { CAUSE_COLUMNS, RESULT_COLUMNS, warehouseKey } from '../../lib/warehouse/layout';
import { writeParquetObject, type Row } from '../../lib/warehouse/parquet';

/** One scripted run: `outcomes` maps an instance to 'ok' or the key of the cause it failed with. */
export interface ScriptedRun {
  source?: 'ecs' | 'oos';
  region?: string;
  id: string;
  name: string;
  startedAt: string;
  outcomes: Record<string, string>;
  /** Titles of cause keys (default {@link titleOf}). */
  titles?: Record<string, string>;
}

/** The title a scripted cause key gets. */
export const titleOf = (key: string) => `error: ${key} failed on <*>`;

export async function writeScriptedRun(store: ObjectStore, run: ScriptedRun): Promise<void> {
  const ref = { source: run.source ?? 'ecs', regionId: run.region ?? 'cn-hangzhou', id: run.id } as const;
  const date = run.startedAt.slice(0, 10);
  const start = Date.parse(run.startedAt);
  const rows: Row[] = [];
  const causes = new Map<string, number>();
  for (const [resourceId, outcome] of Object.entries(run.outcomes)) {
    const failed = outcome !== 'ok';
    if (failed) causes.set(outcome, (causes.get(outcome) ?? 0) + 1);
    rows.push({
      id: run.id,
      name: run.name,
      run_started_at: start,
      resource_id: resourceId,
      status: failed ? 'Failed' : 'Success',
      outcome: failed ? 'failed' : 'succeeded',
      error_code: failed ? 'ExitCodeNonzero' : null,
      exit_code: failed ? 1 : 0,
      cause_key: failed ? outcome : null,
      started_at: start + 1000,
      finished_at: start + 5000,
      repeats: 1,
    });
  }
  const causeRows: Row[] = [...causes].map(([key, n]) => ({ id: run.id, name: run.name, run_started_at: start, cause_key: key, title: run.titles?.[key] ?? titleOf(key), count: n, instances: n, status: 'Failed', error_code: 'ExitCodeNonzero', exit_code: 1 }));
  await writeParquetObject(store, warehouseKey('results', ref, date), RESULT_COLUMNS, [rows]);
  await writeParquetObject(store, warehouseKey('causes', ref, date), CAUSE_COLUMNS, [causeRows]);
}

/** `yyyy-mm-dd` of `start` plus `n` days. */
export function dayAfter(start: string, n: number): string {
  return new Date(Date.parse(`${start}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}
