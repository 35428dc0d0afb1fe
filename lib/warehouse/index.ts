/**
 * The warehouse: every summarized archive as one Parquet object per table under `warehouse/` (layout.ts), so query
 * engines that read every file under a prefix (DuckDB, MaxCompute, SLS) count each record once. Written by the
 * summary step before summary.json (lib/summary `storeSummary`): a summary is stored only once its warehouse objects
 * are, and a recomputed summary rewrites them at the same keys.
 */
import type { ArchiveRef } from '../archive/layout';
import type { Manifest } from '../archive/manifest';
import { readRecordBatches } from '../archive/reader';
import type { ObjectStore } from '../archive/store';
import type { Logger } from '../log';
import { classifyStatus } from '../status';
import { CAUSE_COLUMNS, RESULT_COLUMNS, runDate, warehouseKey } from './layout';
import { rebatch, writeParquetObject, type Row } from './parquet';

export { CAUSE_COLUMNS, RESULT_COLUMNS, TABLES, WAREHOUSE_PREFIX, partitionDir, warehouseKey, type TableName } from './layout';

/** What the warehouse reads of summary.json (lib/summary `Summary`): the run and its causes. */
export interface WarehouseSummary {
  subject: { name: string | null; startedAt: string | null };
  groups: readonly { key: string; title: string; count: number; status: string; errorCode: string; exitCode: number | null; resourceIds: readonly string[] }[];
}

/** What {@link writeWarehouse} needs: the store, the archive, its manifest and the summary computed from it. */
export interface WarehouseInputs {
  store: ObjectStore;
  ref: ArchiveRef;
  manifest: Manifest;
  summary: WarehouseSummary;
  logger: Logger;
}

/** What {@link writeWarehouse} wrote. */
export interface WarehouseResult {
  results: { key: string; rows: number; bytes: number };
  causes: { key: string; rows: number; bytes: number };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

function intOrNull(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isInteger(n) && Math.abs(n) <= 2 ** 31 - 1 ? n : null;
}

function millisOrNull(v: unknown): number | null {
  if (typeof v !== 'string' || v === '') return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Which cause a failed record has: the summary's groups name the resources each cause hit; a resource in several
 * groups (several records of one instance: history, periodic commands) takes the first group whose status and
 * error code match its record, else the first group naming it.
 */
function causeIndex(summary: WarehouseSummary): (resourceId: string, status: string, errorCode: string) => WarehouseSummary['groups'][number] | undefined {
  const byResource = new Map<string, number | number[]>();
  summary.groups.forEach((g, i) => {
    for (const id of g.resourceIds) {
      const had = byResource.get(id);
      if (had === undefined) byResource.set(id, i);
      else if (typeof had === 'number') byResource.set(id, [had, i]);
      else had.push(i);
    }
  });
  return (resourceId, status, errorCode) => {
    const at = byResource.get(resourceId);
    if (at === undefined) return undefined;
    if (typeof at === 'number') return summary.groups[at];
    const groups = at.flatMap((i) => summary.groups[i] ?? []);
    return groups.find((g) => g.status === status && (errorCode === '' || g.errorCode === errorCode)) ?? groups[0];
  };
}

/**
 * Writes the archive's `results` and `causes` objects (one row per record, one per cause), replacing earlier ones
 * at the same keys. Reads the archive's parts once, streaming (a batch of rows at a time).
 * @throws the reader's StorageErrors for a damaged archive, the store's for a failed write.
 */
export async function writeWarehouse(inputs: WarehouseInputs): Promise<WarehouseResult> {
  const { store, ref, manifest, summary, logger } = inputs;
  const started = Date.now();
  const source = ref.source;
  const date = runDate(summary.subject.startedAt, manifest.startedAt);
  const runStartedAt = millisOrNull(summary.subject.startedAt);
  const name = summary.subject.name;
  const causeOf = causeIndex(summary);
  const metadata = { 'execution-archive.source': source, 'execution-archive.region': ref.regionId, 'execution-archive.id': ref.id, 'execution-archive.manifest.finishedAt': manifest.finishedAt };

  const toRow = (r: Record<string, unknown>): Row => {
    const ecs = source === 'ecs';
    const resourceId = str(ecs ? r.InstanceId : r.ResourceId) || '(unknown)';
    const status = str(ecs ? r.InvocationStatus : r.Status);
    const outcome = classifyStatus(source, status);
    let errorCode: string | null = ecs ? str(r.ErrorCode) || null : null;
    let exitCode = ecs && millisOrNull(r.StartTime) !== null ? intOrNull(r.ExitCode) : null;
    let cause: string | null = null;
    if (outcome === 'failed') {
      const group = causeOf(resourceId, status, errorCode ?? '');
      if (group) {
        cause = group.key;
        errorCode = group.errorCode || null;
        exitCode = group.exitCode;
      }
    }
    return {
      id: ref.id,
      name,
      run_started_at: runStartedAt,
      resource_id: resourceId,
      status,
      outcome,
      error_code: errorCode,
      exit_code: exitCode,
      cause_key: cause,
      started_at: ecs ? millisOrNull(r.StartTime) : null,
      finished_at: ecs ? (millisOrNull(r.FinishedTime) ?? millisOrNull(r.StopTime)) : millisOrNull(r.ExecutionTime),
      repeats: ecs ? intOrNull(r.Repeats) : null,
    };
  };

  async function* resultRows(): AsyncGenerator<Row[]> {
    for await (const batch of readRecordBatches(store, manifest.parts)) yield batch.map(toRow);
  }

  const resultsKey = warehouseKey('results', ref, date);
  const causesKey = warehouseKey('causes', ref, date);
  const results = await writeParquetObject(store, resultsKey, RESULT_COLUMNS, rebatch(resultRows()), metadata);
  if (results.rows !== manifest.records) {
    // The reader checks every part's record count against the manifest, so this would be a defect here.
    throw new Error(`warehouse: ${results.rows} rows written for ${manifest.records} records of ${ref.id}`);
  }
  const causeRows: Row[] = summary.groups.map((g) => ({
    id: ref.id,
    name,
    run_started_at: runStartedAt,
    cause_key: g.key,
    title: g.title,
    count: g.count,
    instances: g.resourceIds.length,
    status: g.status,
    error_code: g.errorCode || null,
    exit_code: g.exitCode,
  }));
  const causes = await writeParquetObject(store, causesKey, CAUSE_COLUMNS, [causeRows], metadata);
  logger.info('warehouse written', { source, regionId: ref.regionId, id: ref.id, date, rows: results.rows, causes: causes.rows, ms: Date.now() - started });
  return { results: { key: resultsKey, ...results }, causes: { key: causesKey, ...causes } };
}
