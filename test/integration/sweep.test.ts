/**
 * The sweep against the local cloud: exactly the unarchived finished ids of the window are dispatched (read back from
 * the FC emulator's invocation log), running ones are skipped, dryRun dispatches nothing, near-horizon warnings,
 * the deadline stops dispatch with `incomplete`, and the concurrency bound holds. Each test sweeps its own region.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ID, DEMO_KEY } from '@execution-archive/local-cloud/credentials';
import { createFunctionInvoker, type FunctionInvoker } from '../../lib/cloud/invoke';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { claimKey } from '../../lib/archive/layout';
import type { Deadline } from '../../lib/deadline';
import { createRuntime } from '../../lib/runtime';
import { runSweep, sweepDeps, sweepStamp, type SweepDeps } from '../../lib/sweep';
import { fcContext, useTestCloud, type TestCloud } from '../helpers/local-cloud';
import { present } from '../helpers/present';

let t: TestCloud;
let invoker: FunctionInvoker;
const COLLECT = 'execution-archive-collect';
/** What the registered fake collect received, and its concurrency. */
const received: Array<Record<string, unknown> & { taskId?: string }> = [];

useTestCloud({ seed: 11 }, (cloud) => (t = cloud));
beforeAll(async () => {
  invoker = createFunctionInvoker({ accountId: ACCOUNT_ID, regionId: 'cn-hangzhou', endpoint: t.cloud.fc.url, credentials: async () => DEMO_KEY });
  t.cloud.fc.register(COLLECT, async (payload, meta) => {
    received.push({ ...JSON.parse(payload.toString('utf8')), taskId: meta.taskId });
    return '{}';
  }, { asyncTask: true });
});

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString().slice(0, 19) + 'Z';

function envFor(): NodeJS.ProcessEnv {
  return t.env('oss', { API_RATE_LIMIT_PER_SECOND: '0' });
}

function deps(env: NodeJS.ProcessEnv, overrides: Partial<SweepDeps> = {}): SweepDeps {
  const rt = createRuntime(fcContext({ function: { name: 'execution-archive-sweep', timeout: 600 } }), { env });
  return { ...sweepDeps(rt, invoker), ...overrides };
}

/** The collect invocations the FC emulator accepted since `from`, as `source:id` (sorted). */
function dispatchedSince(from: number, region: string): string[] {
  return t.cloud.fc.invocations
    .slice(from)
    .filter((i) => i.functionName === COLLECT)
    .map((i) => JSON.parse(i.payload.toString('utf8')) as Record<string, string>)
    .filter((p) => p.regionId === region)
    .map((p) => `${p.source}:${p.executionId ?? p.invokeId}`)
    .sort();
}

/** A deadline that is "nearly done" from its n-th look on. */
function deadlineAfter(looks: number): Deadline {
  let seen = 0;
  return { at: Date.now() + 3_600_000, remaining: () => 3_600_000, nearlyDone: () => ++seen >= looks, signal: new AbortController().signal };
}

describe('sweep', () => {
  it('dispatches exactly the unarchived, finished ids of the window and skips running and old ones', async () => {
    const region = 'cn-shenzhen';
    const data = t.cloud.rpc.data;
    const env = envFor();
    const execs = Array.from({ length: 6 }, (_, k) => data.addExecution({ regionId: region, resources: 5 + k, startedAt: hoursAgo(2 + k) }).executionId);
    data.addExecution({ regionId: region, resources: 4, statuses: { Running: 1 }, startedAt: hoursAgo(1) }); // running: no EndDate
    data.addExecution({ regionId: region, resources: 3, startedAt: hoursAgo(24 * 10) }); // ended long before the window
    const invs = Array.from({ length: 5 }, (_, k) => data.addInvocation({ regionId: region, instances: 3 + k, createdAt: hoursAgo(1 + k) }).invokeId);
    const running = data.simulateRunCommand({ regionId: region, instances: 5, durationMs: 3_600_000 }).invokeId;
    data.addInvocation({ regionId: region, instances: 2, createdAt: hoursAgo(24 * 5) }); // created before the window
    // Seed: two of each already archived.
    const rt = createRuntime(fcContext(), { env });
    for (const id of execs.slice(0, 2)) await runCollect(parseCollectRequest({ source: 'oos', regionId: region, executionId: id }), rt);
    for (const id of invs.slice(0, 2)) await runCollect(parseCollectRequest({ source: 'ecs', regionId: region, invokeId: id }), rt);

    const before = t.cloud.fc.invocations.length;
    const triggerTime = new Date().toISOString().slice(0, 17) + '00Z';
    const timerEvent = { triggerTime, triggerName: 'sweep-every-15m', payload: JSON.stringify({ regions: [region] }) };
    t.cloud.rpc.stats.reset();
    const result = await runSweep(timerEvent, deps(env));
    await t.cloud.fc.idle();
    const expected = [...execs.slice(2).map((id) => `oos:${id}`), ...invs.slice(2).map((id) => `ecs:${id}`)].sort();
    expect(dispatchedSince(before, region)).toEqual(expected);
    expect(result).toMatchObject({
      regions: [region],
      sources: ['oos', 'ecs'],
      listed: 6 + 5 + 1,
      running: 1,
      alreadyArchived: 4,
      claimed: 0,
      dispatched: expected.length,
      duplicates: 0,
      failed: [],
      nearHorizon: [],
      incomplete: false,
      remaining: 0,
      dryRun: false,
    });
    expect(expected).not.toContain(`ecs:${running}`);
    // Listing: one ListExecutions page and one DescribeInvocations page.
    expect(t.cloud.rpc.stats.byAction).toEqual({ ListExecutions: 1, DescribeInvocations: 1 });
    // The payloads and task ids as collect receives them.
    const stamp = sweepStamp(Date.parse(triggerTime));
    const got = received.filter((r) => r.regionId === region);
    expect(got).toHaveLength(expected.length);
    for (const r of got) {
      const id = (r.executionId ?? r.invokeId) as string;
      expect(r).toEqual({ source: r.source, regionId: region, ...(r.source === 'oos' ? { executionId: id } : { invokeId: id }), async: true, taskId: `collect-${r.source}-${id}-sweep-${stamp}` });
    }

    // The same trigger again: FC drops the same task ids.
    const again = await runSweep(timerEvent, deps(env));
    expect(again).toMatchObject({ dispatched: 0, duplicates: expected.length });
    // ECS with a fresh dispatch claim (an event is handling it) is left alone.
    const store = deps(env).store;
    const claim = { claimedBy: 'event', claimedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 600_000).toISOString() };
    await store.put(claimKey({ source: 'ecs', regionId: region, id: present(invs[2]) }), JSON.stringify(claim));
    const later = new Date(Date.parse(triggerTime) + 120_000).toISOString();
    const claimed = await runSweep({ triggerTime: later, triggerName: 't', payload: JSON.stringify({ regions: [region], sources: ['ecs'] }) }, deps(env));
    expect(claimed).toMatchObject({ claimed: 1, dispatched: 2 });
  });

  it('dryRun lists what it would dispatch and dispatches nothing', async () => {
    const region = 'cn-zhangjiakou';
    const env = envFor();
    const ids = Array.from({ length: 3 }, (_, k) => t.cloud.rpc.data.addExecution({ regionId: region, resources: 2, startedAt: hoursAgo(3 + k) }).executionId);
    const before = t.cloud.fc.invocations.length;
    const result = await runSweep({ regions: [region], dryRun: true }, deps(env));
    expect(t.cloud.fc.invocations.length).toBe(before);
    expect(result).toMatchObject({ dryRun: true, dispatched: 0, listed: 3 });
    expect(result.wouldDispatch?.map((w) => w.id).sort()).toEqual([...ids].sort());
  });

  it('warns about unarchived items close to the retention horizon and counts healed invocations', async () => {
    const region = 'cn-qingdao';
    const data = t.cloud.rpc.data;
    const env = envFor();
    const oldExec = data.addExecution({ regionId: region, resources: 3, startedAt: hoursAgo(36) }).executionId;
    const oldInv = data.addInvocation({ regionId: region, instances: 3, createdAt: hoursAgo(40) }).invokeId;
    data.addExecution({ regionId: region, resources: 3, startedAt: hoursAgo(2) });
    data.addInvocation({ regionId: region, instances: 3, createdAt: hoursAgo(3) });
    const archivedOld = data.addInvocation({ regionId: region, instances: 2, createdAt: hoursAgo(44) }).invokeId;
    await runCollect(parseCollectRequest({ source: 'ecs', regionId: region, invokeId: archivedOld }), createRuntime(fcContext(), { env }));
    const result = await runSweep({ regions: [region], retentionDays: 2, warnDays: 1 }, deps(env));
    expect(result.nearHorizon).toEqual([
      { source: 'ecs', regionId: region, id: oldInv, ageDays: expect.closeTo(40 / 24, 1) },
      { source: 'oos', regionId: region, id: oldExec, ageDays: expect.closeTo(36 / 24, 1) },
    ]);
    expect(result).toMatchObject({ dispatched: 4, alreadyArchived: 1, healed: 2 });
  });

  it('stops dispatching at the deadline and reports incomplete with what is left', async () => {
    const region = 'us-east-1';
    const env = envFor();
    for (let k = 0; k < 40; k++) t.cloud.rpc.data.addExecution({ regionId: region, resources: 1, startedAt: hoursAgo(1 + k / 10) });
    const before = t.cloud.fc.invocations.length;
    const result = await runSweep({ regions: [region], sources: ['oos'] }, deps(env, { deadline: deadlineAfter(11) }));
    await t.cloud.fc.idle();
    expect(result).toMatchObject({ listed: 40, dispatched: 10, remaining: 30, incomplete: true });
    expect(dispatchedSince(before, region)).toHaveLength(10);
    // The next sweep (a later minute) picks up the rest.
    const next = await runSweep({ triggerTime: new Date(Date.now() + 60_000).toISOString(), triggerName: 't', payload: JSON.stringify({ regions: [region], sources: ['oos'] }) }, deps(env));
    expect(next).toMatchObject({ dispatched: 40, incomplete: false });
  });

  it('keeps at most `concurrency` checks and dispatches in flight', async () => {
    const region = 'eu-central-1';
    const env = envFor();
    for (let k = 0; k < 60; k++) t.cloud.rpc.data.addInvocation({ regionId: region, instances: 1, createdAt: hoursAgo(1 + k / 100) });
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = {
      async invokeAsync(name: string, payload: unknown, options?: { taskId?: string }) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          await new Promise((r) => setTimeout(r, 15));
          return await invoker.invokeAsync(name, payload, options);
        } finally {
          inFlight--;
        }
      },
    };
    const started = Date.now();
    const result = await runSweep({ regions: [region], sources: ['ecs'], concurrency: 5 }, deps(env, { invoker: slow }));
    expect(result).toMatchObject({ listed: 60, dispatched: 60, failed: [] });
    expect(maxInFlight).toBe(5);
    // 60 × 15 ms at 5 at a time: ≥ 180 ms; unbounded it would be ~15 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(170);
  });

  it('rejects a bad payload before listing anything', async () => {
    t.cloud.rpc.stats.reset();
    await expect(runSweep({ regions: ['nowhere'] }, deps(envFor()))).rejects.toMatchObject({ name: 'InputError', code: 'InvalidPayload' });
    await expect(runSweep({ triggerTime: '2026-11-23T00:00:00Z', triggerName: 't', payload: '{"concurrency": 0}' }, deps(envFor()))).rejects.toThrow(/"concurrency"/);
    expect(t.cloud.rpc.stats.requests).toBe(0);
  });
});
