/**
 * `execution-archive sql "<query>"`: SQL over the warehouse (lib/warehouse/sql.ts, DuckDB embedded) of a local
 * archive root, with `results` and `causes` views; the answer as an aligned table, CSV or JSON.
 */
import { fileURLToPath } from 'node:url';
import { openWarehouseSql, type Cell } from '../warehouse/sql';
import { UsageError, println, type CliIo } from './io';
import { archiveUrlOf } from './runtime';

export interface SqlOptions {
  to?: string;
  format?: string;
}

export const SQL_FORMATS = ['table', 'csv', 'json'] as const;
type SqlFormat = (typeof SQL_FORMATS)[number];

/** A cell as text: strings as they are, everything else as JSON, null as an empty cell (table) or nothing (CSV). */
function text(v: Cell): string {
  if (v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function csvCell(v: Cell): string {
  const s = text(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The rows as an aligned table (numbers right-aligned), with a line under the header and the row count. */
export function renderTable(columns: readonly string[], rows: readonly Cell[][]): string {
  const cells = rows.map((r) => r.map((v) => text(v).replace(/[\r\n\t]+/g, ' ')));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number' || (typeof r[i] === 'string' && /^-?\d+(\.\d+)?$/.test(r[i] as string))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n');
}

/** Rows shown by the table format (it aligns columns, so it holds what it shows); CSV and JSON stream every row. */
export const TABLE_MAX_ROWS = 10_000;

/**
 * Runs the command. `--to` is the archive root (default as every command: $ARCHIVE_URL, else ./.local-cloud/archive);
 * it must be on this machine (a folder or file://): DuckDB reads an OSS bucket itself (docs/warehouse.md).
 */
export async function sqlCommand(query: string, opts: SqlOptions, io: CliIo): Promise<number> {
  const format = (opts.format ?? 'table') as SqlFormat;
  if (!SQL_FORMATS.includes(format)) throw new UsageError(`--format ${opts.format}: use table, csv or json`);
  if (!query.trim()) throw new UsageError('give a query, for example: execution-archive sql "select count(*) from results"');
  const url = archiveUrlOf(opts.to, io);
  if (!url.startsWith('file:')) {
    throw new UsageError(`--to ${url}: sql reads a local archive root (a folder); for OSS, point DuckDB at the bucket (docs/warehouse.md "DuckDB reading OSS")`);
  }
  const db = await openWarehouseSql(fileURLToPath(url));
  try {
    if (format === 'table') {
      const held: Cell[][] = [];
      let more = 0;
      const columns = await db.query(query, (rows) => {
        for (const r of rows) if (held.length < TABLE_MAX_ROWS) held.push(r);
        else more += 1;
      });
      println(io.stdout, renderTable(columns, held));
      if (more) println(io.stderr, `${more} more rows not shown: add a LIMIT, or use --format csv or json`);
    } else if (format === 'csv') {
      let header = false;
      const columns = await db.query(query, (rows, cols) => {
        if (!header) println(io.stdout, cols.map((c) => csvCell(c)).join(','));
        header = true;
        for (const r of rows) println(io.stdout, r.map(csvCell).join(','));
      });
      if (!header) println(io.stdout, columns.map((c) => csvCell(c)).join(','));
    } else {
      let first = true;
      io.stdout.write('[');
      await db.query(query, (rows, cols) => {
        for (const r of rows) {
          io.stdout.write(`${first ? '\n' : ',\n'}${JSON.stringify(Object.fromEntries(cols.map((c, i) => [c, r[i] ?? null])))}`);
          first = false;
        }
      });
      println(io.stdout, first ? ']' : '\n]');
    }
    return 0;
  } finally {
    db.close();
  }
}
