/**
 * The warehouse's results table built from the records as they pass (lib/warehouse/results.ts): the columns a record
 * states are encoded a row group at a time while the records come, the ones that need the summary at the end, and
 * the footer names every column chunk wherever it sits. Read back by hyparquet (as the digest reads it) and DuckDB
 * (as `execution-archive sql` does), over several row groups, it holds every record's row; and the table fed in the
 * background (collect's walk) is byte for byte the one fed at once (summarize reading the archive back).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failuresKey, type ArchiveRef } from '../../lib/archive/layout';
import type { Manifest } from '../../lib/archive/manifest';
import { createFileStore } from '../../lib/archive/file';
import type { ObjectStore } from '../../lib/archive/store';
import { NdjsonGzipBuffer, storeGzipObject } from '../../lib/archive/writer';
import { ROW_GROUP_ROWS } from '../../lib/warehouse/parquet';
import { ResultsTable, type ResultsSummary } from '../../lib/warehouse/results';
import { openWarehouseSql } from '../../lib/warehouse/sql';

let dir: string;
let store: ObjectStore;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ea-results-'));
  store = createFileStore(dir);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** 2.5 row groups of ECS records: every 7th failed (two causes, by the instance's parity), every 11th not started yet. */
const COUNT = ROW_GROUP_ROWS * 2 + ROW_GROUP_ROWS / 2;
function record(i: number): Record<string, unknown> {
  const failed = i % 7 === 0;
  const started = i % 11 !== 0;
  return {
    InstanceId: `i-${String(i).padStart(8, '0')}`,
    InvocationStatus: failed ? 'Failed' : started ? 'Success' : 'Pending',
    ErrorCode: failed ? 'CommandFailed' : started ? '' : 'ClientNotResponse',
    ExitCode: failed ? 2 : 0,
    Repeats: i % 3,
    ...(started ? { StartTime: new Date(Date.UTC(2026, 10, 2, 3, 0, 0, i)).toISOString(), FinishedTime: new Date(Date.UTC(2026, 10, 2, 3, 5, 0, i)).toISOString() } : {}),
  };
}
const causeOf = (i: number) => (i % 2 === 0 ? 'aaaaaaaaaaaa' : 'bbbbbbbbbbbb');
const summary: ResultsSummary = {
  subject: { name: 'patch.sh', startedAt: '2026-11-02T03:00:00Z' },
  groups: [
    { key: 'aaaaaaaaaaaa', errorCode: 'CommandFailed', exitCode: 2 },
    { key: 'bbbbbbbbbbbb', errorCode: '', exitCode: null },
  ],
};

/** The row the warehouse documents for record `i` (docs/warehouse.md), written out here independently of the table. */
function expectedRow(i: number, id: string) {
  const r = record(i);
  const failed = i % 7 === 0;
  const started = typeof r.StartTime === 'string';
  const group = failed ? summary.groups.find((g) => g.key === causeOf(i)) : undefined;
  return {
    id,
    name: 'patch.sh',
    run_started_at: Date.parse('2026-11-02T03:00:00Z'),
    resource_id: r.InstanceId,
    status: r.InvocationStatus,
    outcome: failed ? 'failed' : started ? 'succeeded' : 'unfinished',
    error_code: group ? group.errorCode || null : (r.ErrorCode as string) || null,
    exit_code: group ? group.exitCode : started ? 0 : null,
    cause_key: group ? group.key : null,
    started_at: started ? Date.parse(r.StartTime as string) : null,
    finished_at: started ? Date.parse(r.FinishedTime as string) : null,
    repeats: i % 3,
  };
}

/** An archive's failures.ndjson.gz (what the summary writes before the warehouse step) and a manifest for it. */
async function prepare(id: string): Promise<{ ref: ArchiveRef; manifest: Manifest }> {
  const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id };
  const failures = new NdjsonGzipBuffer();
  const lines = [];
  for (let i = 0; i < COUNT; i++) if (i % 7 === 0) lines.push({ id: `i-${String(i).padStart(8, '0')}`, cause: causeOf(i) });
  await failures.write(lines);
  await storeGzipObject(store, failuresKey(ref), failures);
  const manifest = { startedAt: '2026-11-02T04:00:00Z', finishedAt: '2026-11-02T04:10:00Z', records: COUNT } as Manifest;
  return { ref, manifest };
}

/** Feeds the table page by page (100 records), letting the event loop turn between pages as a walk does. */
async function feed(table: ResultsTable, walk: boolean): Promise<void> {
  for (let page = 0; page < COUNT; page += 100) {
    for (let i = page; i < Math.min(COUNT, page + 100); i++) table.add(record(i));
    if (walk) await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

const toMillis = (v: unknown) => (v instanceof Date ? v.getTime() : typeof v === 'bigint' ? Number(v) : v);

describe('the results table built as the records pass', () => {
  it('holds every record’s row over several row groups, read back by hyparquet and DuckDB, and is the same bytes fed in the background or at once', async () => {
    // Prepare
    const { ref, manifest } = await prepare('t-results0000001');
    const walked = new ResultsTable('ecs', { background: true });
    const atOnce = new ResultsTable('ecs');
    // Act
    await feed(walked, true);
    const a = await walked.store({ store, ref, manifest, summary, metadata: { origin: 'test' } });
    const bytesWalked = await store.get(a.key);
    await feed(atOnce, false);
    const b = await atOnce.store({ store, ref, manifest, summary, metadata: { origin: 'test' } });
    const bytesAtOnce = await store.get(b.key);
    // Encoded in steps by its owner (collect: a column after a page), or never stepped (at most two groups wait)
    const stepped = new ResultsTable('ecs', { background: 'steps' });
    const neverStepped = new ResultsTable('ecs', { background: 'steps' });
    let waitedAfterPage = 0;
    for (let page = 0; page < COUNT; page += 100) {
      for (let i = page; i < Math.min(COUNT, page + 100); i++) {
        stepped.add(record(i));
        neverStepped.add(record(i));
      }
      let steps = 0;
      if (!stepped.encodeSome(() => steps++ < 1)) waitedAfterPage += 1;
    }
    const c = await stepped.store({ store, ref, manifest, summary, metadata: { origin: 'test' } });
    const bytesStepped = await store.get(c.key);
    const d = await neverStepped.store({ store, ref, manifest, summary, metadata: { origin: 'test' } });
    const bytesNeverStepped = await store.get(d.key);
    // Told that the records are all in (collect, once the walk has read them): the last, partial row group is closed
    // and its columns encoded before store(); no record is taken after
    const ended = new ResultsTable('ecs', { background: 'steps' });
    for (let i = 0; i < COUNT; i++) {
      ended.add(record(i));
      if (i % 100 === 99) ended.encodeSome(() => true);
    }
    ended.endRecords();
    const endedWaiting = !ended.encodeSome(() => false);
    const endedAllEncoded = ended.encodeSome(() => true);
    expect(() => ended.add(record(0))).toThrow(/after its last/);
    const e = await ended.store({ store, ref, manifest, summary, metadata: { origin: 'test' } });
    const bytesEnded = await store.get(e.key);
    // Assess: the same object either way, three row groups, every row as documented
    expect(a).toEqual(b);
    expect([c, d]).toEqual([b, b]);
    expect(bytesStepped?.equals(bytesAtOnce ?? Buffer.alloc(0))).toBe(true);
    expect(bytesNeverStepped?.equals(bytesAtOnce ?? Buffer.alloc(0))).toBe(true);
    expect([endedWaiting, endedAllEncoded]).toEqual([true, true]);
    expect(e).toEqual(b);
    expect(bytesEnded?.equals(bytesAtOnce ?? Buffer.alloc(0))).toBe(true);
    // A column per page after each full row group (six columns), the last one's left to store()
    expect(waitedAfterPage).toBe(2 * 5);
    expect(a.rows).toBe(COUNT);
    expect(bytesWalked?.equals(bytesAtOnce ?? Buffer.alloc(0))).toBe(true);
    const body = bytesWalked ?? Buffer.alloc(0);
    const file = body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    const metadata = parquetMetadata(file);
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([ROW_GROUP_ROWS, ROW_GROUP_ROWS, ROW_GROUP_ROWS / 2]);
    expect(metadata.key_value_metadata).toEqual([{ key: 'origin', value: 'test' }]);
    const rows = (await parquetReadObjects({ file, metadata })) as Record<string, unknown>[];
    expect(rows.length).toBe(COUNT);
    for (const i of [0, 1, 7, 11, 77, ROW_GROUP_ROWS - 1, ROW_GROUP_ROWS, ROW_GROUP_ROWS + 7, 2 * ROW_GROUP_ROWS + 3, COUNT - 1]) {
      const row = Object.fromEntries(Object.entries(rows[i] ?? {}).map(([k, v]) => [k, toMillis(v)]));
      expect(row, `row ${i}`).toEqual(expectedRow(i, ref.id));
    }
    const failedRows = rows.filter((r) => r.outcome === 'failed');
    expect(failedRows.length).toBe(Math.ceil(COUNT / 7));
    expect(failedRows.every((r, n) => r.cause_key === causeOf(n * 7))).toBe(true);

    const sql = await openWarehouseSql(dir);
    try {
      const counted = await sql.all(`select outcome, count(*) as n, count(cause_key) as causes from read_parquet('${join(dir, a.key)}') group by outcome order by outcome`);
      expect(counted.map((r) => ({ ...r, n: Number(r.n), causes: Number(r.causes) }))).toEqual([
        { outcome: 'failed', n: Math.ceil(COUNT / 7), causes: Math.ceil(COUNT / 7) },
        { outcome: 'succeeded', n: expect.any(Number) as number, causes: 0 },
        { outcome: 'unfinished', n: expect.any(Number) as number, causes: 0 },
      ]);
      const lastFailed = Math.floor((COUNT - 1) / 7) * 7;
      const id = `i-${String(lastFailed).padStart(8, '0')}`;
      const last = await sql.all(`select resource_id, cause_key, exit_code from read_parquet('${join(dir, a.key)}') where resource_id = '${id}'`);
      expect(last).toEqual([{ resource_id: id, cause_key: causeOf(lastFailed), exit_code: lastFailed % 2 === 0 ? 2 : null }]);
    } finally {
      sql.close();
    }
  });

  it('takes the failed records’ causes as the summary hands them over: the rows of reading failures.ndjson.gz back, without that object', async () => {
    // Prepare: one archive with its failures.ndjson.gz, one without (the handed-over causes are all the table has)
    const { ref, manifest } = await prepare('t-results0000003');
    const bare: ArchiveRef = { ...ref, id: 't-results0000004' };
    const readBack = new ResultsTable('ecs');
    const handed = new ResultsTable('ecs', { background: 'steps' });
    // Act
    await feed(readBack, false);
    const a = await readBack.store({ store, ref, manifest, summary });
    await feed(handed, false);
    for (let i = 0; i < COUNT; i++) if (i % 7 === 0) handed.addCause(causeOf(i) === 'aaaaaaaaaaaa' ? 0 : 1);
    const b = await handed.store({ store, ref: bare, manifest, summary });
    // Assess
    expect(await store.head(failuresKey(bare))).toBeUndefined();
    expect(b.rows).toBe(a.rows);
    const [bytesA, bytesB] = [await store.get(a.key), await store.get(b.key)];
    const file = (bytesB ?? Buffer.alloc(0)).buffer.slice(bytesB?.byteOffset ?? 0, (bytesB?.byteOffset ?? 0) + (bytesB?.byteLength ?? 0)) as ArrayBuffer;
    const rows = (await parquetReadObjects({ file })) as Record<string, unknown>[];
    expect(rows.filter((r) => r.outcome === 'failed').every((r, n) => r.cause_key === causeOf(n * 7))).toBe(true);
    // The id column differs (another archive); every other column is the same: compare the rows without it.
    const fileA = (bytesA ?? Buffer.alloc(0)).buffer.slice(bytesA?.byteOffset ?? 0, (bytesA?.byteOffset ?? 0) + (bytesA?.byteLength ?? 0)) as ArrayBuffer;
    const rowsA = (await parquetReadObjects({ file: fileA })) as Record<string, unknown>[];
    expect(rows.map(({ id: _, ...r }) => r)).toEqual(rowsA.map(({ id: _, ...r }) => r));
  });

  it('a table dropped before it is stored leaves nothing and refuses to store', async () => {
    // Prepare
    const { ref, manifest } = await prepare('t-results0000002');
    const table = new ResultsTable('ecs', { background: true });
    await feed(table, true);
    // Act
    table.discard();
    const stored = table.store({ store, ref, manifest, summary });
    // Assess
    await expect(stored).rejects.toThrow(/already stored or dropped/);
    expect(await store.head(`warehouse/results/source=ecs/region=cn-hangzhou/date=2026-11-02/${ref.id}.parquet`)).toBeUndefined();
  });
});
