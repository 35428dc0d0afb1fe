/**
 * What lets collect keep pace with the API and stay flat in memory, against the local cloud with the real SDKs:
 * the subject (the execution or invocation) is stored as its related object before the walk and not held; a fan-out
 * gives each collect its share of the account's API budget, and the collect keeps to it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime } from '../../lib/runtime';
import { archiveDir, manifestKey, relatedKey, type ArchiveRef } from '../../lib/archive/layout';
import { readManifest, readRelated } from '../../lib/archive/reader';
import { loadCheckpoint } from '../../lib/collect/checkpoint';
import { budgetShare } from '../../lib/collect/request';
import { PAGE_CHANNEL } from '../../lib/collect/lanes';
import { runSweep, sweepDeps } from '../../lib/sweep';
import type { AsyncInvoker } from '../../lib/fanout';
import { fcContext, useTestCloud, type TestCloud } from '../helpers/local-cloud';
import { deadlineAfter } from '../helpers/deadline';

let t: TestCloud;
useTestCloud({ seed: 11 }, (cloud) => (t = cloud));

describe('the subject is stored before the walk', () => {
  it('ECS: the described invocation (every instance) is in the archive after the first page, and the resumed archive keeps it once', async () => {
    // Prepare
    const id = t.cloud.rpc.data.addInvocation({ instances: 300 }).invokeId;
    const env = t.env('file');
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id };
    const payload = { source: 'ecs', regionId: 'cn-hangzhou', invokeId: id };
    // Act: stop after the first page
    const first = await runCollect(parseCollectRequest(payload), { ...createRuntime(fcContext(), { env }), deadline: deadlineAfter(1) });
    const store = createRuntime(fcContext(), { env }).store;
    const cp = await loadCheckpoint(store, ref);
    // Assess: checkpointed after one page, with the invocation already stored
    expect(first.status).toBe('checkpointed');
    expect(cp?.pages).toBe(1);
    expect(cp?.related).toEqual([expect.objectContaining({ name: 'invocation', key: relatedKey(ref, 'invocation', 0), records: 1 })]);
    // Act: finish
    const done = await runCollect(parseCollectRequest(payload), createRuntime(fcContext(), { env }));
    // Assess
    expect(done.status).toBe('committed');
    const manifest = await readManifest(store, ref);
    if (!manifest) throw new Error('no manifest');
    expect(manifest.related.map((r) => r.name)).toEqual(['invocation']);
    const described: Array<{ InvokeId?: unknown; InvokeInstances?: { InvokeInstance?: unknown[] } }> = [];
    for await (const r of readRelated(store, manifest, 'invocation')) described.push(r);
    expect(described).toHaveLength(1);
    expect(described[0]?.InvokeId).toBe(id);
    expect(described[0]?.InvokeInstances?.InvokeInstance).toHaveLength(300);
    expect(await store.head(manifestKey(ref))).toBeDefined();
    expect(archiveDir(ref)).toBe(`ecs/cn-hangzhou/${id}`);
  });

  it('OOS: the execution comes first, the failed children after the records, as before', async () => {
    const id = t.cloud.rpc.data.addExecution({ resources: 250, failureRate: 0.3 }).executionId;
    const env = t.env('oss');
    const result = await runCollect(parseCollectRequest({ source: 'oos', regionId: 'cn-hangzhou', executionId: id }), createRuntime(fcContext(), { env }));
    const store = createRuntime(fcContext(), { env }).store;
    const manifest = await readManifest(store, { source: 'oos', regionId: 'cn-hangzhou', id });
    expect(result.status).toBe('committed');
    expect(manifest?.related.map((r) => r.name)).toEqual(['execution', 'failed-child-executions']);
  });
});

describe('the next page is on its way before a page is worked on', () => {
  it("ECS: when a page is handed to the walk, the next page's request has been written to its socket", async () => {
    // Prepare: 6 pages of 50; Node's http.client.request.start fires once a request's last bytes are written
    const id = t.cloud.rpc.data.addInvocation({ instances: 300 }).invokeId;
    const env = t.env('file');
    const events: string[] = [];
    const onSent = () => events.push('sent');
    const onPage = (message: unknown) => {
      if ((message as { phase?: string }).phase === 'handed') events.push('handed');
    };
    subscribe('http.client.request.start', onSent);
    subscribe(PAGE_CHANNEL, onPage);
    try {
      // Act
      const result = await runCollect(parseCollectRequest({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: id }), createRuntime(fcContext(), { env }));
      expect(result.status).toBe('committed');
    } finally {
      unsubscribe('http.client.request.start', onSent);
      unsubscribe(PAGE_CHANNEL, onPage);
    }
    // Assess: when page k (from 1) is handed over, the describe call and pages 1..k+1 were sent (but at the last page)
    const sentAtHanding = events.flatMap((e, i) => (e === 'handed' ? [events.slice(0, i).filter((x) => x === 'sent').length] : []));
    expect(sentAtHanding).toHaveLength(6);
    expect(sentAtHanding.slice(0, -1)).toEqual([3, 4, 5, 6, 7]);
  });
});

describe('the account budget', () => {
  it('splits into shares that never add up to more than the budget', () => {
    expect(budgetShare(undefined, 16)).toBeUndefined();
    expect(budgetShare(100, 16)).toBe(6.25);
    expect(budgetShare(10, 3)).toBe(3.333);
    expect(3 * (budgetShare(10, 3) ?? 0)).toBeLessThanOrEqual(10);
    expect(budgetShare(1, 5000)).toBe(0.001);
  });

  it('the sweep gives each collect budget ÷ its concurrency, and that collect sends no faster than its share', async () => {
    // Prepare: three unarchived executions, a budget of 40 requests/s, a sweep of concurrency 4
    const region = 'cn-qingdao';
    const ids = [0, 1, 2].map(() => t.cloud.rpc.data.addExecution({ regionId: region, resources: 30, startedAt: new Date(Date.now() - 3_600_000).toISOString() }).executionId);
    const env = t.env('file', { API_ACCOUNT_RATE_BUDGET: '40' });
    const payloads: Array<Record<string, unknown>> = [];
    const capture: AsyncInvoker = {
      invokeAsync: async (_name, payload) => {
        payloads.push(payload as Record<string, unknown>);
        return { requestId: `r-${payloads.length}` };
      },
    };
    // Act
    await runSweep({ regions: [region], sources: ['oos'], concurrency: 4 }, sweepDeps(createRuntime(fcContext(), { env }), capture));
    // Assess: every dispatch carries the share
    expect(payloads.map((p) => p.executionId).sort()).toEqual([...ids].sort());
    expect(payloads.every((p) => p.rateLimitPerSecond === 10)).toBe(true);
    // Act: run one of those collects as dispatched
    const rt = createRuntime(fcContext(), { env });
    const limits: unknown[] = [];
    const spied = { ...rt, rpc: (...args: Parameters<typeof rt.rpc>) => (limits.push(args[2]), rt.rpc(...args)) };
    const result = await runCollect(parseCollectRequest({ ...payloads[0], async: false }), spied);
    // Assess: its API client was made with the share as its ceiling (the limiter's own tests show a ceiling holds)
    expect(result.status).toBe('committed');
    expect(limits).toEqual([{ ceilingPerSecond: 10 }]);
  });
});
