/**
 * The warehouse: every summarized archive as one Parquet object per table under `warehouse/` (layout.ts), so query
 * engines that read every file under a prefix (DuckDB, MaxCompute, SLS) count each record once. Written by the
 * summary step before summary.json (lib/summary `storeSummary`): a summary is stored only once its warehouse objects
 * are, and a recomputed summary rewrites them at the same keys.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { failuresKey, type ArchiveRef } from '../archive/layout';
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
  groups: readonly { key: string; title: string; count: number; status: string; errorCode: string; exitCode: number | null; resourceIds: readonly string[]; resourceCount?: number }[];
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
 * The cause of each failed record, in archive order: summarize's `failures.ndjson.gz` (one line per failed record,
 * `{"id","cause"}`, written before this step runs), read as the records are; `next()` gives the next failed record's
 * cause key (`undefined` past its end or without the object).
 */
function failureCauses(store: ObjectStore, ref: ArchiveRef): { next(): Promise<string | undefined>; close(): void } {
  let lines: AsyncIterator<string> | undefined;
  let stream: Readable | undefined;
  return {
    async next() {
      if (!lines) {
        stream = await store.getStream(failuresKey(ref));
        if (!stream) return undefined;
        lines = createInterface({ input: stream.pipe(createGunzip()), crlfDelay: Infinity })[Symbol.asyncIterator]();
      }
      const line = await lines.next();
      if (line.done) return undefined;
      const cause = (JSON.parse(line.value) as { cause?: unknown }).cause;
      return typeof cause === 'string' ? cause : undefined;
    },
    close() {
      stream?.destroy();
    },
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
  const groupOf = new Map(summary.groups.map((g) => [g.key, g]));
  const failedCauses = failureCauses(store, ref);
  const metadata = { 'execution-archive.source': source, 'execution-archive.region': ref.regionId, 'execution-archive.id': ref.id, 'execution-archive.manifest.finishedAt': manifest.finishedAt };

  const toRow = async (r: Record<string, unknown>): Promise<Row> => {
    const ecs = source === 'ecs';
    const resourceId = str(ecs ? r.InstanceId : r.ResourceId) || '(unknown)';
    const status = str(ecs ? r.InvocationStatus : r.Status);
    const outcome = classifyStatus(source, status);
    let errorCode: string | null = ecs ? str(r.ErrorCode) || null : null;
    let exitCode = ecs && millisOrNull(r.StartTime) !== null ? intOrNull(r.ExitCode) : null;
    let cause: string | null = null;
    if (outcome === 'failed') {
      const key = await failedCauses.next();
      const group = key === undefined ? undefined : groupOf.get(key);
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
    try {
      for await (const batch of readRecordBatches(store, manifest.parts)) {
        const rows: Row[] = [];
        for (const r of batch) rows.push(await toRow(r));
        yield rows;
      }
    } finally {
      failedCauses.close();
    }
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
    instances: g.resourceCount ?? g.resourceIds.length,
    status: g.status,
    error_code: g.errorCode || null,
    exit_code: g.exitCode,
  }));
  const causes = await writeParquetObject(store, causesKey, CAUSE_COLUMNS, [causeRows], metadata);
  logger.info('warehouse written', { source, regionId: ref.regionId, id: ref.id, date, rows: results.rows, causes: causes.rows, ms: Date.now() - started });
  return { results: { key: resultsKey, ...results }, causes: { key: causesKey, ...causes } };
}
