/**
 * An archive's `results` object (one row per record) built from the records as they pass: the columns a record
 * states on its own (resource, status, outcome, times, repeats) are encoded a row group at a time while the records
 * come (collect's walk hands them over page by page: lib/summary/live.ts), and only the columns that need the finished
 * summary (the failed records' cause, and the error and exit code their cause names) and the run's constant columns
 * are encoded once the summary is made. So inside collect the archive is not read a second time, and the Parquet
 * encoding's CPU runs while the next pages are on the wire. What it writes is what reading the archive back gives:
 * `writeWarehouse` feeds the same table from the archive's parts when the walk did not see the whole archive.
 *
 * What waits for the summary, per record, is 9 bytes (its error code's index among the distinct codes, its exit code,
 * two flags), kept in a temporary file a row group at a time; the records themselves are never held.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { failuresKey, type ArchiveRef } from '../archive/layout';
import type { Manifest } from '../archive/manifest';
import type { ObjectStore } from '../archive/store';
import { Spool } from '../archive/writer';
import type { Source } from '../ids';
import { str } from '../fields';
import { classifyStatus } from '../status';
import { RESULT_COLUMNS, runDate, warehouseKey } from './layout';
import { ColumnChunksWriter, ROW_GROUP_ROWS, type ColumnValues } from './parquet';

/** What the results table reads of summary.json (lib/summary `Summary`): the run and its causes. */
export interface ResultsSummary {
  subject: { name: string | null; startedAt: string | null };
  groups: readonly { key: string; errorCode: string; exitCode: number | null }[];
}

/** An integer column's value: a 32-bit integer, else `null`. */
function int32OrNull(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isInteger(n) && Math.abs(n) <= 2 ** 31 - 1 ? n : null;
}

/** A time column's value: epoch milliseconds of an ISO time, else `null`. */
export function millisOrNull(v: unknown): number | null {
  if (typeof v !== 'string' || v === '') return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

const big = (ms: number | null): bigint | null => (ms === null ? null : BigInt(ms));

/** The columns a record states on its own, encoded as the records come. */
const WALKED = ['resource_id', 'status', 'outcome', 'started_at', 'finished_at', 'repeats'] as const;
type Walked = (typeof WALKED)[number];

/** Flags of a record's values. */
const HAS_EXIT = 1;
const FAILED = 2;
const HAS_REPEATS = 4;

/**
 * One row group's records in the making, in typed arrays and one byte buffer, not in JS values: a row group lives
 * for 10,000 records (a hundred pages of a walk), so its values outlived V8's young generation and, held as strings,
 * bigints and growing arrays, were promoted to the old one and died there, waiting for a full GC (~60 bytes of old
 * generation a record). A column's values are made only when it is encoded, and a group's arrays are reused by the
 * next group once its columns are encoded.
 */
interface Group {
  rows: number;
  /** The resource ids, UTF-8, one after another; `idEnd[i]` where row `i`'s ends. */
  ids: Buffer;
  idsUsed: number;
  idEnd: Int32Array;
  /** Index into the table's statuses. */
  status: Int32Array;
  /** Epoch milliseconds, NaN for none. */
  started: Float64Array;
  finished: Float64Array;
  repeats: Int32Array;
  /** Index into the table's error codes, -1 for none. */
  code: Int32Array;
  exit: Int32Array;
  flags: Uint8Array;
}

/** Bytes of resource ids a new group makes room for (it grows when a group needs more). */
const ID_BYTES = ROW_GROUP_ROWS * 24;

function newGroup(): Group {
  return {
    rows: 0,
    ids: Buffer.allocUnsafe(ID_BYTES),
    idsUsed: 0,
    idEnd: new Int32Array(ROW_GROUP_ROWS),
    status: new Int32Array(ROW_GROUP_ROWS),
    started: new Float64Array(ROW_GROUP_ROWS),
    finished: new Float64Array(ROW_GROUP_ROWS),
    repeats: new Int32Array(ROW_GROUP_ROWS),
    code: new Int32Array(ROW_GROUP_ROWS),
    exit: new Int32Array(ROW_GROUP_ROWS),
    flags: new Uint8Array(ROW_GROUP_ROWS),
  };
}

const bigOrNull = (ms: number): bigint | null => (Number.isNaN(ms) ? null : BigInt(ms));

/** The group after the last one ({@link ResultsTable.endRecords}): no rows, no room. */
const NO_GROUP: Group = {
  rows: 0,
  ids: Buffer.alloc(0),
  idsUsed: 0,
  idEnd: new Int32Array(0),
  status: new Int32Array(0),
  started: new Float64Array(0),
  finished: new Float64Array(0),
  repeats: new Int32Array(0),
  code: new Int32Array(0),
  exit: new Int32Array(0),
  flags: new Uint8Array(0),
};

/** Options of {@link ResultsTable}. */
export interface ResultsTableOptions {
  /**
   * Encode each finished row group's chunks later, a column at a time, instead of at once (reading an archive back):
   * `true`, one per turn of the event loop; `'steps'`, when the owner calls {@link ResultsTable.encodeSome} (collect's
   * live summary: after a page, once the next page's request has left, so that no encoding runs before a request is
   * sent). At most {@link MAX_QUEUED_GROUPS} groups wait; beyond, the oldest is encoded at once; {@link
   * ResultsTable.store} encodes what is left. @default false
   */
  background?: boolean | 'steps';
}

/** Finished row groups that may wait for their encoding in the background (each holds its rows' column values). */
export const MAX_QUEUED_GROUPS = 2;

/**
 * The `results` table of one archive, fed its records in archive order with {@link add}, stored with {@link store}
 * once the summary is made (or dropped with {@link discard}).
 * @example const table = new ResultsTable('ecs'); for (const r of records) table.add(r); await table.store({ store, ref, manifest, summary });
 */
export class ResultsTable {
  private readonly writer = new ColumnChunksWriter(RESULT_COLUMNS);
  /** Groups whose columns are encoded, to be filled again. */
  private readonly free: Group[] = [];
  private group = newGroup();
  private groups = 0;
  private readonly codes = new Map<string, number>();
  private readonly codeList: string[] = [];
  private readonly statuses = new Map<string, number>();
  private readonly statusList: Array<{ status: string; outcome: string }> = [];
  /** The waiting values of the finished row groups (9 bytes a record), in a temporary file. */
  private waiting: Spool | undefined;
  private readonly waitingAt: Array<{ start: number; end: number; rows: number }> = [];
  /**
   * The failed records' causes (indexes into the summary's groups), in archive order, as the summary's lists handed
   * them over ({@link addCause}), 4 bytes each, in a temporary file: then {@link store} does not read
   * `failures.ndjson.gz` back.
   */
  private causes: { spool: Spool; batch: Int32Array; used: number; count: number } | undefined;
  /** Encodings waiting for their turn: a row group's walked columns, one task per column. */
  private readonly queue: Array<() => void> = [];
  private queuedGroups = 0;
  private scheduled = false;
  private failure: unknown;
  private done = false;
  /** {@link endRecords} was called: the last row group is closed. */
  private ended = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly source: Source,
    private readonly options: ResultsTableOptions = {},
  ) {}

  /** Adds the next record of the archive. */
  add(record: Record<string, unknown>): void {
    if (this.done) return;
    if (this.ended) throw new Error('warehouse: a record added to the results table after its last one');
    const ecs = this.source === 'ecs';
    const g = this.group;
    const i = g.rows;
    const status = this.statusIndex(str(ecs ? record.InvocationStatus : record.Status));
    const failed = this.statusList[status]?.outcome === 'failed';
    const startedAt = ecs ? millisOrNull(record.StartTime) : null;
    const id = str(ecs ? record.InstanceId : record.ResourceId) || '(unknown)';
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    if (g.idsUsed + id.length * 3 > g.ids.length) {
      const ids = Buffer.allocUnsafe(Math.max(g.ids.length * 2, g.idsUsed + id.length * 3));
      g.ids.copy(ids, 0, 0, g.idsUsed);
      g.ids = ids;
    }
    g.idsUsed += g.ids.write(id, g.idsUsed, 'utf8');
    g.idEnd[i] = g.idsUsed;
    g.status[i] = status;
    g.started[i] = startedAt ?? Number.NaN;
    g.finished[i] = (ecs ? (millisOrNull(record.FinishedTime) ?? millisOrNull(record.StopTime)) : millisOrNull(record.ExecutionTime)) ?? Number.NaN;
    const repeats = ecs ? int32OrNull(record.Repeats) : null;
    g.repeats[i] = repeats ?? 0;
    const code = ecs ? str(record.ErrorCode) : '';
    g.code[i] = code === '' ? -1 : this.codeIndex(code);
    const exit = ecs && startedAt !== null ? int32OrNull(record.ExitCode) : null;
    g.exit[i] = exit ?? 0;
    g.flags[i] = (exit === null ? 0 : HAS_EXIT) | (failed ? FAILED : 0) | (repeats === null ? 0 : HAS_REPEATS);
    g.rows += 1;
    if (g.rows === ROW_GROUP_ROWS) this.closeGroup();
  }

  /**
   * The records are all in: the last row group (full or not) is closed, its walked columns queued like any other's
   * ({@link encodeSome}; {@link store} encodes what is left). Collect's live summary calls it once the walk has read
   * every record, so that they are encoded while the walk's last objects and its manifest are written.
   */
  endRecords(): void {
    if (this.done || this.ended) return;
    this.ended = true;
    if (this.group.rows > 0) this.closeGroup(false);
  }

  /** `background: 'steps'`: encodes waiting columns, one at a time while `more()` says so; true when none waits. */
  encodeSome(more: () => boolean): boolean {
    while (this.queue.length > 0 && more()) this.runQueued(1);
    return this.queue.length === 0;
  }

  /**
   * The cause of the next failed record, in archive order: its index among the summary's groups (`summary.groups`, as
   * {@link store} is given them). The summary hands each one over as it writes `failures.ndjson.gz` (lib/summary
   * lists.ts), so that {@link store} need not read that object back; handed over at all, they must be handed over for
   * every failed record.
   */
  addCause(index: number): void {
    if (this.done) return;
    const c = (this.causes ??= { spool: new Spool(), batch: new Int32Array(CAUSE_BATCH), used: 0, count: 0 });
    c.batch[c.used++] = index;
    c.count += 1;
    if (c.used === CAUSE_BATCH) this.flushCauses();
  }

  private flushCauses(): void {
    const c = this.causes;
    if (!c || c.used === 0) return;
    c.spool.append(Buffer.from(c.batch.slice(0, c.used).buffer));
    c.used = 0;
  }

  /**
   * Encodes what is left, then the columns that need the summary (each failed record's cause: as the summary handed
   * them over, {@link addCause}, else read back from `failures.ndjson.gz`, which the summary writes before this step
   * runs), and stores the object.
   * @param inputs.metadata key/value pairs for the file's footer (where it came from).
 * @returns its key, rows and bytes.
   */
  async store(inputs: { store: ObjectStore; ref: ArchiveRef; manifest: Manifest; summary: ResultsSummary; metadata?: Record<string, string> }): Promise<{ key: string; rows: number; bytes: number }> {
    const { store, ref, manifest, summary } = inputs;
    if (this.done) throw new Error('warehouse: the results table was already stored or dropped');
    const last = this.group;
    this.runQueued(this.queue.length);
    if (last.rows > 0) this.encodeWalked(this.groups, last);
    await this.drained();
    if (this.failure !== undefined) throw this.failure;
    this.done = true;
    try {
      const groupOf = new Map(summary.groups.map((g) => [g.key, g]));
      const name = summary.subject.name;
      const runStartedAt = big(millisOrNull(summary.subject.startedAt));
      // The run's constant columns: one array each for every full row group (the encoder only reads them).
      const constants = new Map<number, { id: ColumnValues; name: ColumnValues; run: ColumnValues }>();
      const constantsOf = (rows: number) => {
        let c = constants.get(rows);
        if (!c) constants.set(rows, (c = { id: new Array<string>(rows).fill(ref.id), name: new Array<string | null>(rows).fill(name), run: new Array<bigint | null>(rows).fill(runStartedAt) }));
        return c;
      };
      this.flushCauses();
      const causes: CauseReader = this.causes ? new HandedCauses(this.causes.spool, summary.groups) : new FailureCauses(store, ref, groupOf);
      try {
        const total = this.groups + (last.rows > 0 ? 1 : 0);
        for (let n = 0; n < total; n++) {
          const g = n < this.groups ? await this.readWaiting(n) : last;
          const rows = g.rows;
          let failed = 0;
          for (let i = 0; i < rows; i++) if ((g.flags[i] ?? 0) & FAILED) failed += 1;
          // The group's failed records' causes read at once (one wait per row group, not per failed record).
          await causes.need(failed);
          const errorCode: ColumnValues = new Array(rows);
          const exitCode: ColumnValues = new Array(rows);
          const causeKey: ColumnValues = new Array(rows);
          for (let i = 0; i < rows; i++) {
            const flags = g.flags[i] ?? 0;
            const code = g.code[i] ?? -1;
            errorCode[i] = code < 0 ? null : (this.codeList[code] ?? null);
            exitCode[i] = flags & HAS_EXIT ? (g.exit[i] ?? 0) : null;
            causeKey[i] = null;
            if (!(flags & FAILED)) continue;
            const group = causes.next();
            if (!group) continue;
            causeKey[i] = group.key;
            errorCode[i] = group.errorCode || null;
            exitCode[i] = group.exitCode;
          }
          const c = constantsOf(rows);
          this.writer.chunk(n, 'id', c.id);
          this.writer.chunk(n, 'name', c.name);
          this.writer.chunk(n, 'run_started_at', c.run);
          this.writer.chunk(n, 'error_code', errorCode);
          this.writer.chunk(n, 'exit_code', exitCode);
          this.writer.chunk(n, 'cause_key', causeKey);
        }
      } finally {
        causes.close();
      }
      const key = warehouseKey('results', ref, runDate(summary.subject.startedAt, manifest.startedAt));
      return { key, ...(await this.writer.store(store, key, inputs.metadata)) };
    } finally {
      await this.close();
    }
  }

  /** Drops the table (its temporary files); nothing is stored. */
  discard(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    void this.close();
  }

  private async close(): Promise<void> {
    await Promise.all([this.writer.close(), this.waiting?.close(), this.causes?.spool.close()]);
  }

  private statusIndex(status: string): number {
    let at = this.statuses.get(status);
    if (at === undefined) {
      at = this.statusList.length;
      this.statuses.set(status, at);
      this.statusList.push({ status, outcome: classifyStatus(this.source, status) });
    }
    return at;
  }

  /** Row group `g`'s values of a walked column, as the encoder takes them. */
  private walkedValues(g: Group, column: Walked): ColumnValues {
    const rows = g.rows;
    const values: ColumnValues = new Array(rows);
    switch (column) {
      case 'resource_id':
        for (let i = 0, from = 0; i < rows; i++) {
          const end = g.idEnd[i] ?? from;
          values[i] = g.ids.toString('utf8', from, end);
          from = end;
        }
        break;
      case 'status':
        for (let i = 0; i < rows; i++) values[i] = this.statusList[g.status[i] ?? 0]?.status ?? '';
        break;
      case 'outcome':
        for (let i = 0; i < rows; i++) values[i] = this.statusList[g.status[i] ?? 0]?.outcome ?? '';
        break;
      case 'started_at':
        for (let i = 0; i < rows; i++) values[i] = bigOrNull(g.started[i] ?? Number.NaN);
        break;
      case 'finished_at':
        for (let i = 0; i < rows; i++) values[i] = bigOrNull(g.finished[i] ?? Number.NaN);
        break;
      case 'repeats':
        for (let i = 0; i < rows; i++) values[i] = (g.flags[i] ?? 0) & HAS_REPEATS ? (g.repeats[i] ?? 0) : null;
        break;
    }
    return values;
  }

  /** A group whose columns are encoded goes back to be filled again. */
  private release(g: Group): void {
    g.rows = 0;
    g.idsUsed = 0;
    if (this.free.length < MAX_QUEUED_GROUPS) this.free.push(g);
  }

  private codeIndex(code: string): number {
    let at = this.codes.get(code);
    if (at === undefined) {
      at = this.codeList.length;
      this.codes.set(code, at);
      this.codeList.push(code);
    }
    return at;
  }

  /**
   * A full row group (or the last one): its waiting values go to the temporary file, its walked columns to be
   * encoded. `next`: another group follows (made, or one whose columns are encoded taken again).
   */
  private closeGroup(next = true): void {
    const g = this.group;
    const n = this.groups;
    this.group = next ? (this.free.pop() ?? newGroup()) : NO_GROUP;
    this.groups += 1;
    const bytes = Buffer.concat([Buffer.from(g.code.buffer, 0, g.rows * 4), Buffer.from(g.exit.buffer, 0, g.rows * 4), Buffer.from(g.flags.buffer, 0, g.rows)]);
    this.waiting ??= new Spool();
    const start = this.waiting.size;
    this.waiting.append(bytes);
    this.waitingAt.push({ start, end: this.waiting.size, rows: g.rows });
    if (!this.options.background) {
      this.encodeWalked(n, g);
      this.release(g);
      return;
    }
    if (this.queuedGroups >= MAX_QUEUED_GROUPS) this.runQueued(this.queue.length);
    this.queuedGroups += 1;
    WALKED.forEach((column, c) =>
      this.queue.push(() => {
        this.writer.chunk(n, column, this.walkedValues(g, column));
        if (c === WALKED.length - 1) {
          this.queuedGroups -= 1;
          this.release(g);
        }
      }),
    );
    this.schedule();
  }

  private encodeWalked(n: number, g: Group): void {
    this.runQueued(this.queue.length);
    for (const column of WALKED) this.writer.chunk(n, column, this.walkedValues(g, column));
  }

  /** Runs the first `count` queued encodings now. */
  private runQueued(count: number): void {
    for (const task of this.queue.splice(0, count)) {
      if (this.failure !== undefined || this.done) break;
      try {
        task();
      } catch (err) {
        this.failure = err;
      }
    }
  }

  /** One queued encoding per turn of the event loop, after the I/O callbacks waiting (the next page first). */
  private schedule(): void {
    if (this.scheduled || this.options.background === 'steps') return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.runQueued(1);
      if (this.queue.length > 0) this.schedule();
      else for (const resolve of this.idle.splice(0)) resolve();
    });
  }

  /** Resolves once no encoding waits. */
  private drained(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Row group `n`'s waiting values, read back. */
  private async readWaiting(n: number): Promise<Pick<Group, 'rows' | 'code' | 'exit' | 'flags'>> {
    const at = this.waitingAt[n];
    const spool = this.waiting;
    if (!at || !spool) throw new Error(`warehouse: row group ${n} has no waiting values`);
    await spool.written();
    const chunks: Buffer[] = [];
    for await (const chunk of spool.read(at.start, at.end)) chunks.push(chunk as Buffer);
    // A copy of its own: typed arrays need their alignment.
    const bytes = new Uint8Array(Buffer.concat(chunks));
    const rows = at.rows;
    return {
      rows,
      code: new Int32Array(bytes.buffer, 0, rows),
      exit: new Int32Array(bytes.buffer, rows * 4, rows),
      flags: new Uint8Array(bytes.buffer, rows * 8, rows),
    };
  }
}

/** Causes handed to {@link ResultsTable.addCause} between two writes of their temporary file. */
const CAUSE_BATCH = 4096;

type ResultsGroup = ResultsSummary['groups'][number];

/** The failed records' causes in archive order: {@link need} the next `n`, then {@link next} one by one. */
interface CauseReader {
  need(n: number): Promise<void>;
  /** The next failed record's cause; `undefined` past the end or for a cause the summary does not name. */
  next(): ResultsGroup | undefined;
  close(): void;
}

/** The causes handed over with {@link ResultsTable.addCause}: 4-byte indexes into the summary's groups, read back in order. */
class HandedCauses implements CauseReader {
  private at = 0;
  private indexes = new Int32Array(0);
  private offset = 0;

  constructor(
    private readonly spool: Spool,
    private readonly groups: readonly ResultsGroup[],
  ) {}

  async need(n: number): Promise<void> {
    const left = this.indexes.length - this.at;
    const want = Math.min(n - left, (this.spool.size - this.offset) / 4);
    if (want <= 0) return;
    await this.spool.written();
    const chunks: Buffer[] = [];
    for await (const chunk of this.spool.read(this.offset, this.offset + want * 4)) chunks.push(chunk as Buffer);
    this.offset += want * 4;
    // A copy of its own: typed arrays need their alignment.
    const fresh = new Int32Array(new Uint8Array(Buffer.concat(chunks)).buffer);
    const merged = new Int32Array(left + fresh.length);
    merged.set(this.indexes.subarray(this.at));
    merged.set(fresh, left);
    this.indexes = merged;
    this.at = 0;
  }

  next(): ResultsGroup | undefined {
    if (this.at >= this.indexes.length) return undefined;
    return this.groups[this.indexes[this.at++] ?? -1];
  }

  close(): void {}
}

/**
 * The cause of each failed record, in archive order: summarize's `failures.ndjson.gz` (one line per failed record,
 * `{"id","cause"}`, written before the warehouse step runs). {@link need} reads (at least) the next `n` causes,
 * then {@link next} gives them one by one (`undefined` past the object's end, or without the object).
 */
class FailureCauses implements CauseReader {
  private causes: Array<string | undefined> = [];
  private at = 0;
  private chunks: AsyncIterator<Buffer> | undefined;
  private stream: Readable | undefined;
  private rest = '';
  private readonly decoder = new StringDecoder('utf8');
  private ended = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly ref: ArchiveRef,
    private readonly groupOf: ReadonlyMap<string, ResultsGroup>,
  ) {}

  /** Reads until `n` causes wait (or the object ends). */
  async need(n: number): Promise<void> {
    if (this.at > 0) {
      this.causes = this.causes.slice(this.at);
      this.at = 0;
    }
    while (this.causes.length < n && !this.ended) {
      if (!this.chunks) {
        this.stream = await this.store.getStream(failuresKey(this.ref));
        if (!this.stream) {
          this.ended = true;
          return;
        }
        this.chunks = (this.stream.pipe(createGunzip()) as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      }
      const chunk = await this.chunks.next();
      const text = this.rest + (chunk.done ? this.decoder.end() : this.decoder.write(chunk.value as Buffer));
      const lines = text.split('\n');
      this.rest = chunk.done ? '' : (lines.pop() ?? '');
      for (const line of lines) if (line !== '') this.causes.push(causeOf(line));
      if (chunk.done) this.ended = true;
    }
  }

  next(): ResultsGroup | undefined {
    const key = this.at < this.causes.length ? this.causes[this.at++] : undefined;
    return key === undefined ? undefined : this.groupOf.get(key);
  }

  close(): void {
    this.stream?.destroy();
  }
}

function causeOf(line: string): string | undefined {
  const cause = (JSON.parse(line) as { cause?: unknown }).cause;
  return typeof cause === 'string' ? cause : undefined;
}
