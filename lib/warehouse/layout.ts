/**
 * The warehouse's layout: where its objects are and what their columns are. This is a contract with query engines
 * (DuckDB, MaxCompute external tables, SLS import; docs/warehouse.md): change a column only by adding one.
 *
 *   warehouse/results/source=<source>/region=<regionId>/date=<yyyy-mm-dd>/<id>.parquet   one row per record
 *   warehouse/causes/source=<source>/region=<regionId>/date=<yyyy-mm-dd>/<id>.parquet    one row per cause
 *
 * `date` is the run's own start date (UTC): the execution's or invocation's start, so a re-collection of the same run
 * lands on the same key and replaces it. One object per archive, at a key fixed by the archive: a rewrite replaces it.
 *
 * Closed days are compacted (compact.ts) into one object per table and partition, in a tree of its own:
 *
 *   warehouse/compacted/<table>/source=<source>/region=<regionId>/date=<yyyy-mm-dd>/compacted.parquet
 *
 * and readers take a run's rows from its per-archive object when there is one, else from the compacted object
 * ({@link SMALL_WINS}: the rule sql.ts's views and the documented DDL apply).
 */
import type { ArchiveRef } from '../archive/layout';
import type { ColumnSpec } from './parquet';

/** Folder of the warehouse, relative to the archive root. */
export const WAREHOUSE_PREFIX = 'warehouse';

/** The two tables. */
export type TableName = 'results' | 'causes';
export const TABLES: readonly TableName[] = ['results', 'causes'];

/** The columns of `results`: one row per record of an archive. */
export const RESULT_COLUMNS: readonly ColumnSpec[] = [
  { name: 'id', type: 'STRING', nullable: false, doc: 'the execution id (OOS `exec-…`) or invoke id (ECS `t-…`) of the run' },
  { name: 'name', type: 'STRING', nullable: true, doc: 'the OOS template name or ECS command name (summary.json `subject.name`)' },
  { name: 'run_started_at', type: 'TIMESTAMP', nullable: true, doc: "the run's own start (UTC): the same for every row of a run; orders runs" },
  { name: 'resource_id', type: 'STRING', nullable: false, doc: 'ECS `InstanceId` / OOS `ResourceId`' },
  { name: 'status', type: 'STRING', nullable: false, doc: 'ECS `InvocationStatus` / OOS `Status`, as the API gave it' },
  { name: 'outcome', type: 'STRING', nullable: false, doc: '`succeeded`, `failed`, `unfinished` or `skipped` (how summary.json counts the status)' },
  { name: 'error_code', type: 'STRING', nullable: true, doc: "ECS `ErrorCode`; OOS the code the failed child execution's message names; null when none" },
  { name: 'exit_code', type: 'INT32', nullable: true, doc: 'the exit code when one is known (null for a command that never ran)' },
  { name: 'cause_key', type: 'STRING', nullable: true, doc: "a failed record's cause: summary.json `groups[].key` (12 hex, the same in every archive); null otherwise" },
  { name: 'started_at', type: 'TIMESTAMP', nullable: true, doc: 'ECS `StartTime`; null when the record has none (OOS)' },
  { name: 'finished_at', type: 'TIMESTAMP', nullable: true, doc: 'ECS `FinishedTime` (else `StopTime`) / OOS `ExecutionTime`' },
  { name: 'repeats', type: 'INT32', nullable: true, doc: 'ECS `Repeats` (runs of a periodic command); null for OOS' },
];

/** The columns of `causes`: one row per cause of failure of an archive (summary.json `groups`). */
export const CAUSE_COLUMNS: readonly ColumnSpec[] = [
  { name: 'id', type: 'STRING', nullable: false, doc: 'the execution or invoke id of the run' },
  { name: 'name', type: 'STRING', nullable: true, doc: 'the template or command name' },
  { name: 'run_started_at', type: 'TIMESTAMP', nullable: true, doc: "the run's own start (UTC)" },
  { name: 'cause_key', type: 'STRING', nullable: false, doc: 'summary.json `groups[].key` (`other` for causes beyond the group limit)' },
  { name: 'title', type: 'STRING', nullable: false, doc: 'what failed, variables as `<*>`, secrets masked' },
  { name: 'count', type: 'INT64', nullable: false, doc: 'failed records with this cause in the run' },
  { name: 'instances', type: 'INT64', nullable: false, doc: 'distinct resources with this cause in the run' },
  { name: 'status', type: 'STRING', nullable: false, doc: 'the status the cause is of' },
  { name: 'error_code', type: 'STRING', nullable: true, doc: 'the error code, null when none' },
  { name: 'exit_code', type: 'INT32', nullable: true, doc: 'the exit code, null when none is known' },
];

/** Folder of the compacted tree: `warehouse/compacted/<table>/…`, the same partitions as the per-archive tree. */
export const COMPACTED_PREFIX = `${WAREHOUSE_PREFIX}/compacted`;
/** The name of a partition's compacted object (one per table and partition; a recompaction replaces it). */
export const COMPACTED_FILE = 'compacted.parquet';
/** Folder of the compactor's records (outside both table trees, so no glob or external table reads them). */
export const COMPACTION_STATE_PREFIX = `${WAREHOUSE_PREFIX}/_compaction`;

/**
 * The rule every reader applies (docs/warehouse.md "Small files"): the rows of a run (`source`, `region`, `date`,
 * `id`) come from its per-archive object when one exists, else from its partition's compacted object.
 */
export const SMALL_WINS = 'a run is read from its per-archive object when there is one, else from the compacted object';

/**
 * A partition's folder relative to a table's tree (`source=…/region=…/date=…`), the same in the per-archive and the
 * compacted tree: both list their keys in its order.
 */
export const partitionPath = (o: { source: string; region: string; date: string }) => `source=${o.source}/region=${o.region}/date=${o.date}`;

/** The Hive-style partition folder of a run in a table: `warehouse/<table>/source=…/region=…/date=…`. */
export function partitionDir(table: TableName, source: string, regionId: string, date: string): string {
  return `${WAREHOUSE_PREFIX}/${table}/${partitionPath({ source, region: regionId, date })}`;
}

/** The object of an archive in a table. */
export function warehouseKey(table: TableName, ref: ArchiveRef, date: string): string {
  return `${partitionDir(table, ref.source, ref.regionId, date)}/${ref.id}.parquet`;
}

/** A partition's compacted object: `warehouse/compacted/<table>/source=…/region=…/date=…/compacted.parquet`. */
export function compactedKey(table: TableName, source: string, regionId: string, date: string): string {
  return `${COMPACTED_PREFIX}/${table}/${partitionPath({ source, region: regionId, date })}/${COMPACTED_FILE}`;
}

/** The compactor's record of a partition: `warehouse/_compaction/<table>/source=…/region=…/date=….json`. */
export function compactionStateKey(table: TableName, source: string, regionId: string, date: string): string {
  return `${COMPACTION_STATE_PREFIX}/${table}/${partitionPath({ source, region: regionId, date })}.json`;
}

/** A warehouse object's place, from its key (a per-archive object, or a partition's compacted object: `id` null). */
export interface WarehouseObject {
  key: string;
  table: TableName;
  source: string;
  region: string;
  date: string;
  /** The run of a per-archive object; null for a compacted object (many runs). */
  id: string | null;
}

const SMALL_KEY = /^warehouse\/(results|causes)\/source=([^/]+)\/region=([^/]+)\/date=(\d{4}-\d{2}-\d{2})\/([^/]+)\.parquet$/;
const COMPACTED_KEY = /^warehouse\/compacted\/(results|causes)\/source=([^/]+)\/region=([^/]+)\/date=(\d{4}-\d{2}-\d{2})\/compacted\.parquet$/;

/** The place of a per-archive or compacted object from its key; undefined for any other key. */
export function parseWarehouseKey(key: string): WarehouseObject | undefined {
  const small = SMALL_KEY.exec(key);
  const m = small ?? COMPACTED_KEY.exec(key);
  if (!m) return undefined;
  return { key, table: m[1] as TableName, source: m[2] ?? '', region: m[3] ?? '', date: m[4] ?? '', id: small ? (m[5] ?? '') : null };
}

/**
 * The partition date of a run: the UTC date of its own start (the execution's or invocation's), else of the
 * collection's start when the run's is unknown.
 */
export function runDate(runStartedAt: string | null, collectedAt: string): string {
  const at = runStartedAt && !Number.isNaN(Date.parse(runStartedAt)) ? runStartedAt : collectedAt;
  return new Date(Date.parse(at)).toISOString().slice(0, 10);
}
