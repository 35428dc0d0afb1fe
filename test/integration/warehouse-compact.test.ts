/**
 * Compaction of the warehouse's closed days (lib/warehouse/compact.ts): DuckDB (the `sql` views) and the digest's
 * reader count every run exactly once before, during and after it: killed after any one of its writes or deletes and
 * resumed, with a late re-collection of a compacted run and a late new run, and the digest function's timer
 * compacting after the digest. A scripted history in a temporary file store, written with the warehouse's own writer.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../lib/archive/file';
import type { ObjectStore } from '../../lib/archive/store';
import { runDigest } from '../../lib/digest';
import { readHistory } from '../../lib/digest/history';
import { handleDigestEvent } from '../../lib/digest/invocation';
import { silentLogger } from '../../lib/log';
import { compactWarehouse, type CompactOptions } from '../../lib/warehouse/compact';
import { compactedKey, compactionStateKey } from '../../lib/warehouse/layout';
import { parquetRows } from '../../lib/warehouse/read';
import { openWarehouseSql } from '../../lib/warehouse/sql';
import { runCli } from '../helpers/cli';
import { keysUnder } from '../helpers/local-cloud';
import { writeScriptedRun, type ScriptedRun } from '../helpers/warehouse-history';

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'ea-compact-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Runs of Nov 1–2 (closed at Nov 7) and Nov 6 (open), ECS and OOS; one run without failures (no causes). */
function history(): ScriptedRun[] {
  const runs: ScriptedRun[] = [];
  for (const [d, date] of ['2026-11-01', '2026-11-02', '2026-11-06'].entries()) {
    for (let i = 0; i < 3; i++) {
      const outcomes: Record<string, string> = {};
      const size = 20 + d * 7 + i * 3;
      for (let k = 0; k < size; k++) outcomes[`i-${k}`] = i === 2 ? 'ok' : k % 5 === 0 ? `c${d}${i}`.padEnd(12, '0') : k % 7 === 0 ? 'cafe00000000' : 'ok';
      const oos = i === 1;
      runs.push({ source: oos ? 'oos' : 'ecs', id: `${oos ? 'exec-' : 't-'}${d}${i}`, name: oos ? 'restart' : 'patch.sh', startedAt: `${date}T0${i + 1}:00:00Z`, outcomes });
    }
  }
  return runs;
}

/** What each run should count: records per run, causes rows per run. */
function expected(runs: ScriptedRun[]) {
  const results: Record<string, number> = {};
  const causes: Record<string, number> = {};
  for (const r of runs) {
    results[r.id] = Object.keys(r.outcomes).length;
    const n = new Set(Object.values(r.outcomes).filter((o) => o !== 'ok')).size;
    if (n) causes[r.id] = n;
  }
  return { results, causes };
}

/** DuckDB's counts per run through the `sql` views. */
async function sqlCounts(root: string) {
  const db = await openWarehouseSql(root);
  try {
    const per = async (table: string) => Object.fromEntries((await db.all(`select id, count(*)::integer as n from ${table} group by id`)).map((r) => [r.id, r.n]));
    return { results: await per('results'), causes: await per('causes') };
  } finally {
    db.close();
  }
}

/** The digest reader's runs and records per run, and its causes' instance counts per run. */
async function historyCounts(store: ObjectStore) {
  const h = await readHistory(store, { historyFrom: Date.parse('2026-10-01T00:00:00Z'), windowFrom: Date.parse('2026-10-20T00:00:00Z'), windowTo: Date.parse('2026-11-07T00:00:00Z') });
  const results = Object.fromEntries(h.runs.map((r) => [r.id, r.records]));
  const causes: Record<string, number> = {};
  for (const c of h.causes.values()) for (const [i] of c.runs) causes[h.runs[i]?.id ?? '?'] = (causes[h.runs[i]?.id ?? '?'] ?? 0) + 1;
  return { results, causes };
}

const NOW = new Date('2026-11-07T12:00:00Z');
const compact = (store: ObjectStore, extra: Partial<CompactOptions> = {}) => compactWarehouse({ store, logger: silentLogger, now: () => NOW, graceMs: 0, ...extra });

/** A store whose `n`-th put or delete under warehouse/ fails as a killed process would (nothing after it happens). */
function killedAt(store: ObjectStore, n: number): ObjectStore {
  let ops = 0;
  const kill = (key: string) => {
    if (!key.startsWith('warehouse/')) return;
    ops += 1;
    if (ops === n) throw new Error(`killed at write ${n} (${key})`);
  };
  const put: ObjectStore['put'] = async (key, body, options) => {
    kill(key);
    return store.put(key, body, options);
  };
  const del: ObjectStore['delete'] = async (key) => {
    kill(key);
    return store.delete(key);
  };
  return Object.assign(Object.create(store) as ObjectStore, { put, delete: del });
}

describe('warehouse compaction', () => {
  it('counts every run once whatever write or delete it is killed after, and resumes to one object per partition', async () => {
    const runs = history();
    const want = expected(runs);
    const template = join(base, 'template');
    const store = createFileStore(template);
    for (const run of runs) await writeScriptedRun(store, run);
    expect(await sqlCounts(template)).toEqual(want);
    expect(await historyCounts(store)).toEqual(want);

    // Every point a kill can come: after the 1st, 2nd, … put or delete, until a run needs fewer.
    let points = 0;
    for (let n = 1; ; n++) {
      const root = join(base, `kill-${n}`);
      cpSync(template, root, { recursive: true });
      const killed = killedAt(createFileStore(root), n);
      const outcome = await compact(killed).then(
        () => 'finished',
        (err: Error) => err.message,
      );
      if (outcome === 'finished') break;
      points += 1;
      expect(outcome).toMatch(/^killed at write/);
      // Right after the kill, and after the next run resumes: the same counts, through DuckDB and the digest's reader.
      expect(await sqlCounts(root), `killed at ${n}`).toEqual(want);
      expect(await historyCounts(createFileStore(root)), `killed at ${n}`).toEqual(want);
      const resumed = await compact(createFileStore(root));
      expect(resumed.skipped).toBe(0);
      expect(await sqlCounts(root), `resumed after ${n}`).toEqual(want);
      rmSync(root, { recursive: true, force: true });
    }
    // 2 closed days × 2 sources (ECS 2 runs a day, OOS 1) × 2 tables: a compacted object, a record, then the deletes.
    expect(points).toBe(2 * 2 * 2 * 2 + 2 * 2 * 3);

    // A whole run: closed days are one object per table and partition, the open day is left as it is.
    const result = await compact(store);
    expect(result).toMatchObject({ partitions: 8, compacted: 8, runs: 12, retired: 12, waiting: 0, skipped: 0, open: 4 });
    const keys = await keysUnder(store, 'warehouse/');
    expect(keys.filter((k) => /^warehouse\/(results|causes)\/.*date=2026-11-0[12]\//.test(k))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('warehouse/compacted/'))).toHaveLength(8);
    expect(keys.filter((k) => /^warehouse\/results\/.*date=2026-11-06\//.test(k))).toHaveLength(3);
    expect(await sqlCounts(template)).toEqual(want);
    expect(await historyCounts(store)).toEqual(want);
    // Idempotent: nothing left to do.
    expect(await compact(store)).toMatchObject({ partitions: 0, compacted: 0, retired: 0 });
  }, 120_000);

  it('a late re-collection of a compacted run and a late new run count once, before and after the next compaction', async () => {
    const root = join(base, 'late');
    const store = createFileStore(root);
    const runs = history();
    for (const run of runs) await writeScriptedRun(store, run);
    await compact(store);
    expect(existsSync(join(root, compactedKey('results', 'ecs', 'cn-hangzhou', '2026-11-02')))).toBe(true);

    // t-10 (Nov 2) re-collected: its per-archive objects are written again with other rows; t-19 archived late.
    const recollected = runs.find((r) => r.id === 't-10');
    if (!recollected) throw new Error('no t-10');
    recollected.outcomes = Object.fromEntries(Array.from({ length: 41 }, (_, k) => [`i-${k}`, k % 3 === 0 ? 'beef00000000' : 'ok']));
    const late: ScriptedRun = { source: 'ecs', id: 't-19', name: 'patch.sh', startedAt: '2026-11-02T09:00:00Z', outcomes: { 'i-1': 'ok', 'i-2': 'dead00000000', 'i-3': 'ok' } };
    await writeScriptedRun(store, recollected);
    await writeScriptedRun(store, late);
    const want = expected([...runs, late]);
    expect(want.results['t-10']).toBe(41);
    expect(await sqlCounts(root)).toEqual(want);
    expect(await historyCounts(store)).toEqual(want);

    // The next compaction folds them in: a grace period first (both still there: the per-archive objects win) …
    const folded = await compact(store, { graceMs: 3_600_000 });
    expect(folded).toMatchObject({ partitions: 2, compacted: 2, retired: 0, waiting: 4 });
    expect(await sqlCounts(root)).toEqual(want);
    // … then, an hour later, they are retired.
    const retired = await compact(store, { graceMs: 3_600_000, now: () => new Date(NOW.getTime() + 3_600_000) });
    expect(retired).toMatchObject({ compacted: 0, retired: 4, waiting: 0 });
    expect(await keysUnder(store, 'warehouse/results/source=ecs/region=cn-hangzhou/date=2026-11-02/')).toEqual([]);
    expect(await sqlCounts(root)).toEqual(want);
    expect(await historyCounts(store)).toEqual(want);
  }, 60_000);

  it('the digest reader takes a re-collected run without causes from its per-archive object, not the compacted causes', async () => {
    const root = join(base, 'no-causes');
    const store = createFileStore(root);
    const runs = history();
    for (const run of runs) await writeScriptedRun(store, run);
    await compact(store);
    const run = runs.find((r) => r.id === 't-00');
    if (!run) throw new Error('no t-00');
    run.outcomes = Object.fromEntries(Object.keys(run.outcomes).map((k) => [k, 'ok']));
    await writeScriptedRun(store, run);
    const want = expected(runs);
    expect(want.causes['t-00']).toBeUndefined();
    expect(await historyCounts(store)).toEqual(want);
    // The next compaction drops the old causes: then DuckDB agrees too (docs/warehouse.md: the one case its rule lags).
    await compact(store);
    expect(await sqlCounts(root)).toEqual(want);
  }, 60_000);

  it('a per-archive object rewritten after the compaction read it is not retired', async () => {
    const root = join(base, 'rewritten');
    const store = createFileStore(root);
    const runs = history();
    for (const run of runs) await writeScriptedRun(store, run);
    await compact(store, { graceMs: 3_600_000 });
    const run = runs.find((r) => r.id === 't-10');
    if (!run) throw new Error('no t-10');
    run.outcomes['i-999'] = 'ok';
    await new Promise((r) => setTimeout(r, 5));
    await writeScriptedRun(store, run);
    const later = await compact(store, { graceMs: 3_600_000, now: () => new Date(NOW.getTime() + 7_200_000) });
    // Its partitions are compacted again (the new version), the other per-archive objects are retired.
    expect(later.compacted).toBe(2);
    expect(await sqlCounts(root)).toEqual(expected(runs));
    const record = JSON.parse((await store.get(compactionStateKey('results', 'ecs', 'cn-hangzhou', '2026-11-02')))?.toString() ?? '{}') as { held: { id: string }[] };
    expect(record.held.map((h) => h.id)).toEqual(['t-10', 't-12']);
  }, 60_000);

  it('reads each per-archive object at the size its listing gave (no HEAD), and leaves a partition whose object vanished after the listing for the next run', async () => {
    // Prepare: the history, and a store that counts HEADs and, for one object, answers as if it was deleted
    // (retired by another compactor) between the listing and the read
    const root = join(base, 'no-head');
    const store = createFileStore(root);
    const runs = history();
    for (const run of runs) await writeScriptedRun(store, run);
    const gone = (await keysUnder(store, 'warehouse/results/source=oos/region=cn-hangzhou/date=2026-11-01/'))[0];
    if (!gone) throw new Error('no OOS results object on Nov 1');
    let heads = 0;
    const counted = Object.assign(Object.create(store) as ObjectStore, {
      head: async (key: string) => {
        heads += 1;
        return store.head(key);
      },
      get: async (key: string) => (key === gone ? undefined : store.get(key)),
    } satisfies Partial<ObjectStore>);
    // Act: a compaction inside the grace period (nothing retired), then one with the object back
    const first = await compact(counted, { graceMs: 3_600_000 });
    const headsFirst = heads;
    const second = await compact(createFileStore(root), { graceMs: 3_600_000 });
    // Assess: no HEAD for the objects the listing described; the vanished object's partition skipped, not failed,
    // and compacted by the next run with every run counted once
    expect(headsFirst).toBe(0);
    expect(first).toMatchObject({ partitions: 8, compacted: 7, skipped: 1 });
    expect(second).toMatchObject({ compacted: 1, skipped: 0 });
    expect(await sqlCounts(root)).toEqual(expected(runs));
  }, 60_000);

  it('`execution-archive compact` compacts from the command line, and refuses a bad period', async () => {
    const root = join(base, 'cli');
    const store = createFileStore(root);
    const runs = history();
    for (const run of runs) await writeScriptedRun(store, run);
    const bad = await runCli(['compact', '--to', root, '--grace-minutes', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--grace-minutes must be a number/);
    // Every day of the history ended more than 0 hours ago (the clock is the machine's).
    const run = await runCli(['compact', '--to', root, '--closed-after-hours', '0', '--grace-minutes', '0', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ partitions: 12, compacted: 12, runs: 18, retired: 18, open: 0, stopped: false });
    expect(await sqlCounts(root)).toEqual(expected(runs));
    const again = await runCli(['compact', '--to', root]);
    expect(again.stdout).toMatch(/^0 partitions of closed days with per-archive objects: 0 compacted/);
  }, 60_000);

  it('the digest timer compacts closed days after the digest, and the digest is the same over the compacted warehouse', async () => {
    const root = join(base, 'timer');
    const store = createFileStore(root);
    for (const run of history()) await writeScriptedRun(store, run);
    const before = await runDigest({ store, logger: silentLogger, now: () => NOW }, { days: 3, historyDays: 10 });
    const event = { triggerTime: NOW.toISOString(), triggerName: 'daily', payload: '{"days":3,"historyDays":10}' };
    const first = await handleDigestEvent(event, { store, logger: silentLogger });
    // Days closed 72 h after their end: Nov 1–2 at Nov 7 12:00 (not Nov 6); the per-archive objects wait for the grace period.
    expect(first.compaction).toMatchObject({ partitions: 8, compacted: 8, retired: 0, waiting: 12, open: 4 });
    const next = await handleDigestEvent({ ...event, triggerTime: new Date(NOW.getTime() + 86_400_000).toISOString() }, { store, logger: silentLogger });
    expect(next.compaction).toMatchObject({ compacted: 0, retired: 12 });
    const after = await runDigest({ store, logger: silentLogger, now: () => NOW }, { days: 3, historyDays: 10 });
    const { generatedAt: _a, changes: _c, links: _l, ...b } = before.digest;
    const { generatedAt: _a2, changes: _c2, links: _l2, ...a } = after.digest;
    expect(a).toEqual(b);
    expect(b.runs).toBeGreaterThan(0);
    // "compact": false leaves the warehouse alone.
    expect((await handleDigestEvent({ ...event, payload: '{"compact":false}' }, { store, logger: silentLogger })).compaction).toBeUndefined();
  }, 60_000);
});

describe('reading a large warehouse object', () => {
  it('by ranges (never the whole object at once) gives the rows a whole read gives, a row group at a time', async () => {
    const root = join(base, 'ranges');
    const store = createFileStore(root);
    const outcomes: Record<string, string> = {};
    for (let k = 0; k < 25_000; k++) outcomes[`i-${k.toString(36).padStart(6, '0')}`] = k % 9 === 0 ? `c${k % 4}`.padEnd(12, '0') : 'ok';
    await writeScriptedRun(store, { id: 't-big', name: 'big.sh', startedAt: '2026-11-01T01:00:00Z', outcomes });
    const key = 'warehouse/results/source=ecs/region=cn-hangzhou/date=2026-11-01/t-big.parquet';
    const size = (await store.head(key))?.size ?? 0;
    let streamed = 0;
    let wholeGets = 0;
    const counting = Object.assign(Object.create(store) as ObjectStore, {
      get: async (k: string) => {
        wholeGets += 1;
        return store.get(k);
      },
      getStream: async (k: string, options?: { start?: number }) => {
        const stream = await store.getStream(k, options);
        stream?.on('data', (chunk: Buffer) => (streamed += chunk.length));
        return stream;
      },
    });
    const collect = async (wholeBelow: number, columns: string[]) => {
      const rows: unknown[] = [];
      let groups = 0;
      for await (const batch of parquetRows(counting, key, columns, size, wholeBelow)) {
        groups += 1;
        rows.push(...batch);
      }
      return { rows, groups };
    };
    const whole = await collect(Number.POSITIVE_INFINITY, ['resource_id', 'cause_key']);
    expect([wholeGets, streamed]).toEqual([1, 0]);
    const ranged = await collect(0, ['resource_id', 'cause_key']);
    // Never the whole object in one read: the footer, then the asked columns' chunks of each row group, by ranges.
    expect(wholeGets).toBe(1);
    expect(streamed).toBeGreaterThan(0);
    expect(ranged.rows).toEqual(whole.rows);
    expect(ranged.rows).toHaveLength(25_000);
    expect(ranged.groups).toBe(3);
  }, 60_000);
});
