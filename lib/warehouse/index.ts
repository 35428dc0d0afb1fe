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
import { CAUSE_COLUMNS, runDate, warehouseKey } from './layout';
import { writeParquetObject, type Row } from './parquet';
import { millisOrNull, ResultsTable } from './results';

export { ResultsTable } from './results';
export { CAUSE_COLUMNS, RESULT_COLUMNS, TABLES, WAREHOUSE_PREFIX, partitionDir, warehouseKey, type TableName } from './layout';

/** What the warehouse reads of summary.json (lib/summary `Summary`): the run and its causes. */
export interface WarehouseSummary {
  subject: { name: string | null; startedAt: string | null };
  groups: readonly { key: string; title: string; count: number; status: string; errorCode: string; exitCode: number | null; resourceIds: readonly string[]; resourceCount?: number }[];
}

/** What {@link writeWarehouse} needs: the store, the archive, its manifest and the summary computed from it. */
export interface WarehouseInputs {
  store: ObjectStore;
  ref: ArchiveRef;
  manifest: Manifest;
  summary: WarehouseSummary;
  logger: Logger;
  /** The results table the walk built from the records as they passed (lib/summary/live.ts); else read from the parts. */
  results?: ResultsTable | undefined;
}

/** What {@link writeWarehouse} wrote. */
export interface WarehouseResult {
  results: { key: string; rows: number; bytes: number };
  causes: { key: string; rows: number; bytes: number };
}

/**
 * Writes the archive's `results` and `causes` objects (one row per record, one per cause), replacing earlier ones
 * at the same keys. `inputs.results`: the results table the walk built from the records as they passed
 * (lib/summary/live.ts); without it the archive's parts are read once, streaming, into one.
 * @throws the reader's StorageErrors for a damaged archive, the store's for a failed write.
 */
export async function writeWarehouse(inputs: WarehouseInputs): Promise<WarehouseResult> {
  const { store, ref, manifest, summary, logger } = inputs;
  const started = Date.now();
  const source = ref.source;
  const date = runDate(summary.subject.startedAt, manifest.startedAt);
  const runStartedAt = millisOrNull(summary.subject.startedAt);
  const name = summary.subject.name;
  const metadata = { 'execution-archive.source': source, 'execution-archive.region': ref.regionId, 'execution-archive.id': ref.id, 'execution-archive.manifest.finishedAt': manifest.finishedAt };

  const causeRows: Row[] = summary.groups.map((g) => ({
    id: ref.id,
    name,
    run_started_at: runStartedAt,
    cause_key: g.key,
    title: g.title,
    count: g.count,
    instances: g.resourceCount ?? g.resourceIds.length,
    status: g.status,
    error_code: g.errorCode || null,
    exit_code: g.exitCode,
  }));
  const causesKey = warehouseKey('causes', ref, date);
  // The two objects side by side.
  const [results, causes] = await Promise.all([storeResults(inputs, metadata), writeParquetObject(store, causesKey, CAUSE_COLUMNS, [causeRows], metadata)]);
  logger.info('warehouse written', { source, regionId: ref.regionId, id: ref.id, date, rows: results.rows, causes: causes.rows, walked: inputs.results !== undefined, ms: Date.now() - started });
  return { results, causes: { key: causesKey, ...causes } };
}

/** The `results` object: from the table the walk built, else from the archive's parts read once. */
async function storeResults(inputs: WarehouseInputs, metadata: Record<string, string>): Promise<WarehouseResult['results']> {
  const { store, ref, manifest, summary } = inputs;
  const table = inputs.results ?? new ResultsTable(ref.source);
  let results;
  try {
    if (!inputs.results) {
      for await (const batch of readRecordBatches(store, manifest.parts)) for (const r of batch) table.add(r);
    }
    results = await table.store({ store, ref, manifest, summary, metadata });
  } finally {
    table.discard();
  }
  if (results.rows !== manifest.records) {
    // The reader checks every part's record count against the manifest (and the walk hands over every record it
    // stores), so this would be a defect here.
    throw new Error(`warehouse: ${results.rows} rows written for ${manifest.records} records of ${ref.id}`);
  }
  return results;
}
