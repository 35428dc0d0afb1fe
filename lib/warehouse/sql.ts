/**
 * SQL over the warehouse with DuckDB, embedded: `results` and `causes` views over the partitioned Parquet files of a
 * local archive root (the local cloud's storage folder, a copied or mounted archive). `@duckdb/node-api` is native
 * code, so it is loaded here only, on first use, by the command line: no function imports this module (the bundle
 * tests check it).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors';
import { CAUSE_COLUMNS, COMPACTED_FILE, COMPACTED_PREFIX, RESULT_COLUMNS, TABLES, WAREHOUSE_PREFIX, type TableName } from './layout';
import type { ColumnSpec } from './parquet';

import type * as DuckDbModule from '@duckdb/node-api';

type DuckDb = typeof DuckDbModule;
type Connection = DuckDbModule.DuckDBConnection;

/** A JSON-safe value of a result cell (DuckDB's JSON form: big integers and dates as strings). */
export type Cell = string | number | boolean | null | Cell[] | { [k: string]: Cell };

const SQL_TYPES: Record<ColumnSpec['type'], string> = { STRING: 'VARCHAR', INT32: 'INTEGER', INT64: 'BIGINT', BOOLEAN: 'BOOLEAN', TIMESTAMP: 'TIMESTAMP' };
/** The Hive partition columns every table has, with their types. */
export const PARTITION_COLUMNS = [
  { name: 'source', type: 'VARCHAR' },
  { name: 'region', type: 'VARCHAR' },
  { name: 'date', type: 'DATE' },
] as const;

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The columns of a table. */
export function tableColumns(table: TableName): readonly ColumnSpec[] {
  return table === 'results' ? RESULT_COLUMNS : CAUSE_COLUMNS;
}

/** Which of a table's two trees have files (the view reads those: DuckDB rejects a pattern that matches nothing). */
export interface TableFiles {
  /** Per-archive objects: `warehouse/<table>/source=…/region=…/date=…/<id>.parquet`. */
  small: boolean;
  /** Compacted objects of closed days: `warehouse/compacted/<table>/source=…/region=…/date=…/compacted.parquet`. */
  compacted: boolean;
}

/**
 * The DDL of a table's view over the files under `root` (a local folder or a URL DuckDB reads, such as `s3://…`).
 * With both trees it applies the readers' rule (layout.ts `SMALL_WINS`): a run's rows come from its per-archive
 * object when there is one, else from its partition's compacted object; both trees are read by one `read_parquet`
 * (one listing each, the per-archive tree first) and a window over the run keeps the rows of one of them. An empty
 * view with the same columns when there is no file yet.
 */
export function viewDdl(table: TableName, root: string, files: TableFiles | boolean): string {
  const has: TableFiles = typeof files === 'boolean' ? { small: files, compacted: false } : files;
  if (!has.small && !has.compacted) {
    const cols = [...tableColumns(table).map((c) => `CAST(NULL AS ${SQL_TYPES[c.type]}) AS ${c.name}`), ...PARTITION_COLUMNS.map((p) => `CAST(NULL AS ${p.type}) AS ${p.name}`)];
    return `CREATE OR REPLACE VIEW ${table} AS SELECT ${cols.join(', ')} WHERE false`;
  }
  const base = root.replace(/\/+$/, '');
  const globs = [
    ...(has.small ? [`${base}/${WAREHOUSE_PREFIX}/${table}/*/*/*/*.parquet`] : []),
    ...(has.compacted ? [`${base}/${COMPACTED_PREFIX}/${table}/*/*/*/${COMPACTED_FILE}`] : []),
  ];
  const hiveTypes = PARTITION_COLUMNS.map((p) => `'${p.name}': ${p.type}`).join(', ');
  const options = `hive_partitioning = true, hive_types = {${hiveTypes}}, union_by_name = true`;
  if (globs.length === 1) return `CREATE OR REPLACE VIEW ${table} AS SELECT * FROM read_parquet(${quote(globs[0] ?? '')}, ${options})`;
  const small = `NOT ends_with(filename, '/${COMPACTED_FILE}')`;
  // Named, in the table's order then the partitions' (with several files DuckDB may order the partition columns otherwise).
  const columns = [...tableColumns(table).map((c) => c.name), ...PARTITION_COLUMNS.map((p) => p.name)].map((c) => `"${c}"`).join(', ');
  return (
    `CREATE OR REPLACE VIEW ${table} AS SELECT ${columns} FROM read_parquet([${globs.map(quote).join(', ')}], ${options}, filename = true) ` +
    `QUALIFY ${small} OR NOT bool_or(${small}) OVER (PARTITION BY source, region, date, id)`
  );
}

/** An open DuckDB session with the warehouse's views. */
export interface WarehouseSql {
  /** Runs one query; `onRows` gets the result in chunks (never all of it at once). Returns the column names. */
  query(sql: string, onRows: (rows: Cell[][], columns: string[]) => void | Promise<void>): Promise<string[]>;
  /** Runs one query and returns every row as an object (for small results: tests, the digest's examples). */
  all(sql: string): Promise<Record<string, Cell>[]>;
  close(): void;
}

/** Any `*.parquet` file in the table's folder tree (three partition levels). */
function hasParquet(dir: string, depth = 3): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (depth === 0 && entry.isFile() && entry.name.endsWith('.parquet')) return true;
    if (depth > 0 && entry.isDirectory() && hasParquet(join(dir, entry.name), depth - 1)) return true;
  }
  return false;
}

/**
 * Opens DuckDB in memory with `results` and `causes` views over the warehouse of the local archive root `root`.
 * @throws InputError 400 `NoWarehouse` when `root` is not a folder.
 * @example const db = await openWarehouseSql('/data/archive'); await db.all('select count(*) n from results');
 */
export async function openWarehouseSql(root: string): Promise<WarehouseSql> {
  if (!existsSync(root)) throw new InputError('NoWarehouse', `${root} does not exist: give the archive root (the folder holding oos/, ecs/ and warehouse/)`);
  const duckdb: DuckDb = await import('@duckdb/node-api');
  const instance = await duckdb.DuckDBInstance.create(':memory:');
  const connection: Connection = await instance.connect();
  for (const table of TABLES) {
    await connection.run(viewDdl(table, root, { small: hasParquet(join(root, WAREHOUSE_PREFIX, table)), compacted: hasParquet(join(root, COMPACTED_PREFIX, table)) }));
  }
  const query: WarehouseSql['query'] = async (sql, onRows) => {
    const result = await connection.stream(sql);
    const columns = result.columnNames();
    for await (const rows of result.yieldRowsJson()) await onRows(rows as Cell[][], columns);
    return columns;
  };
  return {
    query,
    async all(sql) {
      const out: Record<string, Cell>[] = [];
      await query(sql, (rows, columns) => {
        for (const row of rows) out.push(Object.fromEntries(columns.map((c, i) => [c, row[i] ?? null])));
      });
      return out;
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
