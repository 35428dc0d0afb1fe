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
