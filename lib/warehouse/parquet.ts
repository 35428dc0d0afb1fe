/**
 * Parquet objects written in bounded memory: rows come in batches, each batch is encoded as row groups by
 * hyparquet-writer (pure JavaScript, no native code: docs/libraries.md) and its bytes go to a temporary file
 * ({@link Spool}) as each row group is finished, so what is held is one batch of rows and one row group's encoding,
 * never the file. The store then uploads the spool (a multipart upload for a large one).
 */
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { Spool } from '../archive/writer';
import type { ObjectStore } from '../archive/store';

/** The column types the warehouse uses (a subset of Parquet's, each with one physical and logical type). */
export type ColumnType = 'STRING' | 'INT32' | 'INT64' | 'BOOLEAN' | 'TIMESTAMP';

/** One column of a table: its name, its type and whether it may be null. */
export interface ColumnSpec {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** What it holds (docs/warehouse.md is generated from the same words). */
  doc: string;
}

/** A row: a value per column name (`null` for none; a TIMESTAMP is epoch milliseconds). */
export type Row = Record<string, string | number | boolean | null>;

/** Parquet's schema elements for the columns (flat: a root with one leaf per column). */
type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

function schemaOf(columns: readonly ColumnSpec[]): SchemaElement[] {
  const root: SchemaElement = { name: 'root', num_children: columns.length };
  return [
    root,
    ...columns.map((c): SchemaElement => {
      const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
      switch (c.type) {
        case 'STRING':
          return { name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type };
        case 'TIMESTAMP':
          return { name: c.name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type };
        default:
          return { name: c.name, type: c.type, repetition_type };
      }
    }),
  ];
}

/** Rows per row group: large enough for engines to skip by statistics, small enough to encode in a few MB. */
export const ROW_GROUP_ROWS = 10_000;

/**
 * A writer whose bytes leave memory after every row group (hyparquet-writer calls `flush` then) and at the end.
 * `offset` (the file position every column chunk records) keeps counting across flushes.
 */
class SpoolWriter extends ByteWriter {
  constructor(private readonly spool: Spool) {
    super(64 * 1024);
  }
  flush(): void {
    if (this.index === 0) return;
    // A copy: the buffer is written over by the next row group while the spool's write is under way.
    this.spool.append(Buffer.from(new Uint8Array(this.buffer, 0, this.index)));
    this.index = 0;
  }
  override finish(): void {
    this.flush();
  }
}

/** Column values of a batch of rows, in the types hyparquet-writer expects. */
function columnData(columns: readonly ColumnSpec[], rows: readonly Row[]) {
  return columns.map((c) => {
    const data = rows.map((r) => {
      const v = r[c.name] ?? null;
      if (v === null) {
        if (!c.nullable) throw new Error(`warehouse column ${c.name} is not nullable but a row has no value`);
        return null;
      }
      if (c.type === 'INT64' || c.type === 'TIMESTAMP') return BigInt(v as number);
      return v;
    });
    return { name: c.name, data };
  });
}

/**
 * Writes one Parquet object from batches of rows (each batch at most {@link ROW_GROUP_ROWS} rows is best: a batch
 * is one or more row groups) and returns how many rows it holds. An empty source writes a valid file with no rows.
 * The object appears whole or not at all (`store.put` is atomic), replacing what the key held.
 * @param metadata key/value pairs stored in the file's footer (where it came from).
 */
export async function writeParquetObject(
  store: ObjectStore,
  key: string,
  columns: readonly ColumnSpec[],
  batches: AsyncIterable<readonly Row[]> | Iterable<readonly Row[]>,
  metadata: Record<string, string> = {},
): Promise<{ rows: number; bytes: number }> {
  const spool = new Spool();
  try {
    const writer = new ParquetWriter({
      writer: new SpoolWriter(spool),
      schema: schemaOf(columns),
      kvMetadata: Object.entries(metadata).map(([k, value]) => ({ key: k, value })),
      createdBy: 'execution-archive (hyparquet-writer)',
    });
    let rows = 0;
    for await (const batch of batches) {
      if (batch.length === 0) continue;
      rows += batch.length;
      await writer.write({ columnData: columnData(columns, batch), rowGroupSize: ROW_GROUP_ROWS });
      await spool.written();
    }
    await writer.finish();
    await spool.written();
    await store.put(key, spool, { contentType: 'application/vnd.apache.parquet' });
    return { rows, bytes: spool.size };
  } finally {
    await spool.close();
  }
}

/** Values of one column in the types hyparquet-writer expects (a TIMESTAMP or INT64 as a bigint). */
export type ColumnValues = Array<string | number | bigint | boolean | null>;

/**
 * A Parquet object written a column chunk at a time, in any order: each row group's chunks may be encoded whenever
 * their values are known (the results table encodes the columns a record states while the records are walked, and
 * the columns that need the finished summary after it: lib/warehouse/results.ts), and the footer, written last,
 * names every chunk of every row group at its offset. A row group's chunks need not be adjacent in the file: readers
 * find each chunk by the offsets the footer gives (Parquet's file format: "column chunks … are guaranteed to be
 * contiguous", each one; the footer's `ColumnChunk.meta_data` locates it). Bytes go to a spool as each chunk is
 * encoded, as {@link writeParquetObject}'s do.
 */
export class ColumnChunksWriter {
  private readonly spool = new Spool();
  private readonly writer: ParquetWriter;
  private readonly groups: Array<{ rows: number; chunks: Map<string, RowGroupOf['columns'][number]> }> = [];

  constructor(private readonly columns: readonly ColumnSpec[]) {
    this.writer = new ParquetWriter({ writer: new SpoolWriter(this.spool), schema: schemaOf(columns), createdBy: 'execution-archive (hyparquet-writer)' });
  }

  /**
   * Encodes the chunk of column `name` in row group `group` (groups are numbered from 0, each holding the rows its
   * first chunk had; every chunk of a group has as many values).
   */
  chunk(group: number, name: string, values: ColumnValues): void {
    const spec = this.columns.find((c) => c.name === name);
    if (!spec) throw new Error(`warehouse: no column ${name}`);
    const g = (this.groups[group] ??= { rows: values.length, chunks: new Map() });
    if (values.length !== g.rows) throw new Error(`warehouse: column ${name} has ${values.length} values in a row group of ${g.rows} rows`);
    if (g.chunks.has(name)) throw new Error(`warehouse: column ${name} of row group ${group} is written twice`);
    if (values.length === 0) return;
    if (!spec.nullable && values.includes(null)) throw new Error(`warehouse column ${name} is not nullable but a row has no value`);
    // One write of one column: hyparquet-writer makes it a row group of its own, whose chunk is taken into `group`.
    void this.writer.write({ columnData: [{ name, data: values }], rowGroupSize: values.length });
    const written = this.writer.row_groups.pop();
    const chunk = written?.columns[0];
    if (!chunk) throw new Error(`warehouse: column ${name} was not written`);
    g.chunks.set(name, chunk);
  }

  /** Rows in the row groups so far. */
  get rows(): number {
    return this.groups.reduce((n, g) => n + g.rows, 0);
  }

  /**
   * Writes the footer and stores the object (atomically, replacing what `key` held); returns its rows and bytes.
   * @param metadata key/value pairs stored in the footer (where it came from).
   */
  async store(store: ObjectStore, key: string, metadata: Record<string, string> = {}): Promise<{ rows: number; bytes: number }> {
    const rowGroups: RowGroupOf[] = this.groups.filter((g) => g.rows > 0).map((g) => {
      const columns = this.columns.map((c) => {
        const chunk = g.chunks.get(c.name);
        if (!chunk) throw new Error(`warehouse: column ${c.name} of a row group was never written`);
        return chunk;
      });
      let uncompressed = 0n;
      let compressed = 0n;
      for (const c of columns) {
        uncompressed += c.meta_data?.total_uncompressed_size ?? 0n;
        compressed += c.meta_data?.total_compressed_size ?? 0n;
      }
      return { columns, num_rows: BigInt(g.rows), total_byte_size: uncompressed, total_compressed_size: compressed };
    });
    this.writer.row_groups = rowGroups;
    this.writer.num_rows = BigInt(this.rows);
    this.writer.kvMetadata = Object.entries(metadata).map(([k, value]) => ({ key: k, value }));
    await this.writer.finish();
    await this.spool.written();
    await store.put(key, this.spool, { contentType: 'application/vnd.apache.parquet' });
    return { rows: this.rows, bytes: this.spool.size };
  }

  /** Frees the spool (after {@link store}, or instead of it). */
  close(): Promise<void> {
    return this.spool.close();
  }
}

/** A row group of the footer, as hyparquet-writer keeps them. */
type RowGroupOf = ParquetWriter['row_groups'][number];

/**
 * Batches of at most `size` rows from a stream of row batches of any size (the archive's batches follow its
 * decompressed chunks): a row group per batch keeps files the same whatever the chunking was.
 */
export async function* rebatch<T>(source: AsyncIterable<readonly T[]>, size = ROW_GROUP_ROWS): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const items of source) {
    for (const item of items) {
      batch.push(item);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}
