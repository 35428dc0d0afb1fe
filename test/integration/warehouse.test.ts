/**
 * The warehouse counts every record once: DuckDB over `warehouse/` after first collects, forced re-collects (one
 * finished, one cut by the deadline and left), a collect cut and never resumed, a collect cut and resumed, and a
 * summary recomputed, returns exactly the committed manifests' record counts (a glob over the archives' own parts
 * counts the re-collected and unfinished ones twice or more); and again once those days are compacted and a compacted
 * run is re-collected. Against the local cloud, file store, inline summaries.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveRef } from '../../lib/archive/layout';
import { readManifest } from '../../lib/archive/reader';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime, type Runtime } from '../../lib/runtime';
import { loadSummary } from '../../lib/summary';
import { summarizeDeps } from '../../lib/summary/invocation';
import { silentLogger } from '../../lib/log';
import { compactWarehouse } from '../../lib/warehouse/compact';
import { openWarehouseSql, type WarehouseSql } from '../../lib/warehouse/sql';
import { deadlineAfter } from '../helpers/deadline';
import { fcContext, keysUnder, useTestCloud, type TestCloud } from '../helpers/local-cloud';

let t: TestCloud;
let rt: Runtime;
let env: NodeJS.ProcessEnv;
let db: WarehouseSql | undefined;
useTestCloud({ seed: 24 }, (cloud) => (t = cloud));
beforeAll(async () => {
  env = t.env('file', { ARCHIVE_PART_MAX_RECORDS: '120', SUMMARIZE_AFTER_COLLECT: 'inline' });
  rt = createRuntime(fcContext(), { env });
});
afterAll(async () => {
  db?.close();
});

const ecs = (invokeId: string, force = false) => parseCollectRequest({ source: 'ecs', regionId: 'cn-hangzhou', invokeId, ...(force ? { force: true } : {}) });
const cut = (looks: number) => ({ ...createRuntime(fcContext(), { env }), deadline: deadlineAfter(looks) });

describe('warehouse', () => {
  it('DuckDB over warehouse/ counts exactly the committed manifests’ records, after re-collects, unfinished and resumed collects', async () => {
    const data = t.cloud.rpc.data;
    const recollected = data.addInvocation({ instances: 300, failureRate: 0.3, commandName: 'patch.sh', createdAt: '2026-11-02T03:00:00Z' }).invokeId;
    const cutRecollect = data.addInvocation({ instances: 400, failureRate: 0.1, commandName: 'patch.sh', createdAt: '2026-11-03T03:00:00Z' }).invokeId;
    const neverResumed = data.addInvocation({ instances: 500, commandName: 'patch.sh', createdAt: '2026-11-03T04:00:00Z' }).invokeId;
    const resumed = data.addInvocation({ instances: 450, failureRate: 0.2, commandName: 'backup.sh', createdAt: '2026-11-04T05:00:00Z' }).invokeId;
    const execution = data.addExecution({ resources: 260, failureRate: 0.15, startedAt: '2026-11-04T06:00:00Z' }).executionId;

    // A first collect, then a forced re-collect that commits: the same key, rewritten.
    expect((await runCollect(ecs(recollected), rt)).status).toBe('committed');
    expect((await runCollect(ecs(recollected, true), rt)).status).toBe('committed');
    // A first collect, then a forced re-collect cut by the deadline and left unfinished (its generation stays).
    expect((await runCollect(ecs(cutRecollect), rt)).status).toBe('committed');
    expect((await runCollect(ecs(cutRecollect, true), cut(6))).complete).toBe(false);
    // A collect cut and never resumed: nothing of it may be visible.
    expect((await runCollect(ecs(neverResumed), cut(6))).complete).toBe(false);
    // A collect cut twice and resumed to the end (its summary reads the archive back).
    let steps = 0;
    for (let r = await runCollect(ecs(resumed), cut(2)); !r.complete && steps < 30; steps++) r = await runCollect(ecs(resumed), cut(3));
    expect(steps).toBeGreaterThan(0);
    expect((await runCollect(parseCollectRequest({ source: 'oos', regionId: 'cn-hangzhou', executionId: execution }), rt)).status).toBe('committed');
    // A summary recomputed rewrites the same objects.
    await loadSummary({ ...summarizeDeps(rt), ref: { source: 'ecs', regionId: 'cn-hangzhou', id: recollected } }, 'json', true);

    const committed: ArchiveRef[] = [
      { source: 'ecs', regionId: 'cn-hangzhou', id: recollected },
      { source: 'ecs', regionId: 'cn-hangzhou', id: cutRecollect },
      { source: 'ecs', regionId: 'cn-hangzhou', id: resumed },
      { source: 'oos', regionId: 'cn-hangzhou', id: execution },
    ];
    const expected: Record<string, number> = {};
    const failures: Record<string, number> = {};
    for (const ref of committed) {
      const manifest = await readManifest(rt.store, ref);
      if (!manifest?.complete) throw new Error(`${ref.id} is not committed`);
      expected[ref.id] = manifest.records;
      failures[ref.id] = (await loadSummary({ ...summarizeDeps(rt), ref })).summary.failures;
    }
    // The unfinished objects are there (a glob over the archives' parts would count them): only the warehouse hides them.
    expect(await readManifest(rt.store, { source: 'ecs', regionId: 'cn-hangzhou', id: neverResumed })).toBeUndefined();
    expect((await keysUnder(rt.store, `ecs/cn-hangzhou/${neverResumed}/`)).some((k) => /part-\d+/.test(k))).toBe(true);
    expect((await keysUnder(rt.store, `ecs/cn-hangzhou/${cutRecollect}/g-`)).some((k) => /part-\d+/.test(k))).toBe(true);

    db = await openWarehouseSql(fileURLToPath(rt.store.url));
    const counts = await db.all('select id, count(*)::integer as n from results group by id order by id');
    expect(Object.fromEntries(counts.map((r) => [r.id, r.n]))).toEqual(expected);
    const total = await db.all('select count(*)::integer as n, count(distinct source || region || id)::integer as runs from results');
    expect(total).toEqual([{ n: Object.values(expected).reduce((a, b) => a + b, 0), runs: 4 }]);
    // Every failed row has a cause, and the causes table counts the same failures per run.
    const failed = await db.all("select id, count(*)::integer as n, count(cause_key)::integer as keyed from results where outcome = 'failed' group by id order by id");
    expect(failed).toHaveLength(4);
    for (const r of failed) {
      expect(r.n).toBe(failures[r.id as string]);
      expect(r.keyed).toBe(r.n);
    }
    const causes = await db.all('select id, sum(count)::integer as n from causes group by id');
    expect(causes).toHaveLength(4);
    for (const r of causes) expect(r.n).toBe(failures[r.id as string]);
    // Partitioned by the run's own start date, not the collection's.
    const dates = await db.all("select distinct id, strftime(date, '%Y-%m-%d') as d from results order by id");
    expect(Object.fromEntries(dates.map((r) => [r.id, r.d]))).toEqual({ [recollected]: '2026-11-02', [cutRecollect]: '2026-11-03', [resumed]: '2026-11-04', [execution]: '2026-11-04' });
    db.close();
    db = undefined;

    // Those days compacted (lib/warehouse/compact.ts: one object per table and partition, the per-archive objects
    // retired), then a forced re-collect of a compacted run writes its per-archive objects again: still exact.
    const root = fileURLToPath(rt.store.url);
    const perRun = async () => {
      const sql = await openWarehouseSql(root);
      try {
        return Object.fromEntries((await sql.all('select id, count(*)::integer as n from results group by id')).map((r) => [r.id, r.n]));
      } finally {
        sql.close();
      }
    };
    const compaction = await compactWarehouse({ store: rt.store, logger: silentLogger, closedAfterMs: 0, graceMs: 0 });
    expect(compaction).toMatchObject({ partitions: 8, compacted: 8, runs: 8, retired: 8, skipped: 0 });
    expect(await keysUnder(rt.store, 'warehouse/results/')).toEqual([]);
    expect(await perRun()).toEqual(expected);
    expect((await runCollect(ecs(recollected, true), rt)).status).toBe('committed');
    expect(await keysUnder(rt.store, 'warehouse/results/')).toEqual([`warehouse/results/source=ecs/region=cn-hangzhou/date=2026-11-02/${recollected}.parquet`]);
    expect(await perRun()).toEqual(expected);
    expect(await compactWarehouse({ store: rt.store, logger: silentLogger, closedAfterMs: 0, graceMs: 0 })).toMatchObject({ compacted: 2, retired: 2 });
    expect(await perRun()).toEqual(expected);
  }, 120_000);
});
