/**
 * The Cloud Assistant event consumer against the local cloud (RPC, OSS and FC emulators over real HTTP): an event
 * storm ends in one archive and one walk; invoke ids resolved through the API; foreign and malformed events cost
 * nothing; claims expire and are retaken by exactly one racer; a failed dispatch releases its claim and throws.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ID, DEMO_KEY } from '@execution-archive/local-cloud/credentials';
import type { InstanceFinishedEvent } from '@execution-archive/local-cloud/datasets';
import { cloudAssistantEvent } from '@execution-archive/local-cloud/host/events';
import { createFunctionInvoker, type FunctionInvoker } from '../../lib/cloud/invoke';
import { describeInvocationResults } from '../../lib/cloud/ecs';
import { claimKey, manifestKey, summaryKey, type ArchiveRef } from '../../lib/archive/layout';
import { readManifest } from '../../lib/archive/reader';
import { InputError } from '../../lib/errors';
import { eventConsumerDeps, handleCloudAssistantEvents, type EventConsumerDeps } from '../../lib/events';
import { takeoverKey } from '../../lib/archive/claim';
import { createRuntime } from '../../lib/runtime';
import { pLimit } from '../../lib/limit';
import { decodeEvent } from '../../lib/triggers';
import { archivedRecords, fcContext, keysUnder, registerCollect, useTestCloud, type TestCloud } from '../helpers/local-cloud';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { present } from '../helpers/present';
import { SteppedClock, stormOnSteppedClock } from '../helpers/event-storm';

let t: TestCloud;
let invoker: FunctionInvoker;
const clock = new SteppedClock();
const COLLECT = 'execution-archive-collect';

useTestCloud({ seed: 7, now: clock.now }, (cloud) => (t = cloud));
beforeAll(async () => {
  invoker = createFunctionInvoker({ accountId: ACCOUNT_ID, regionId: 'cn-hangzhou', endpoint: t.cloud.fc.url, credentials: async () => DEMO_KEY });
});

function envFor(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  return t.env('oss', { API_RATE_LIMIT_PER_SECOND: '0', ...overrides });
}

/** The consumer's dependencies as the FC handler builds them (a fresh runtime = a fresh FC invocation). */
function deps(env: NodeJS.ProcessEnv, overrides: Partial<EventConsumerDeps> = {}): EventConsumerDeps {
  const rt = createRuntime(fcContext({ function: { name: 'on-cloud-assistant-event', timeout: 60 } }), { env });
  return { ...eventConsumerDeps(rt, invoker), ...overrides };
}

/**
 * A CloudEvents envelope as EventBridge would deliver it for an instance that finished (the local cloud's own), or
 * without the invoke id (and data.regionId), as some deliveries come.
 */
function cloudEvent(e: Pick<InstanceFinishedEvent, 'regionId' | 'commandId' | 'commandName' | 'instanceId' | 'invocationStatus' | 'finishTime'> & { exitCode: number | string; invokeId?: string }, withInvokeId = true) {
  const event = cloudAssistantEvent({ ...e, exitCode: Number(e.exitCode), invokeId: e.invokeId ?? '' }, ACCOUNT_ID);
  if (withInvokeId && e.invokeId) return event;
  const data: Partial<typeof event.data> = { ...event.data };
  delete data.invokeId;
  delete data.regionId;
  return { ...event, data };
}

/** FC delivers bytes. */
const bytes = (v: unknown) => Buffer.from(JSON.stringify(v));

/** Every result record of an invocation, as the API gives them (the events for a finished task). */
async function finishedEvents(env: NodeJS.ProcessEnv, regionId: string, invokeId: string, commandName: string) {
  const rt = createRuntime(fcContext(), { env });
  const out = [];
  for await (const page of describeInvocationResults(rt.rpc('ecs', regionId), { invokeId })) {
    for (const r of page.records) {
      out.push({
        regionId,
        invokeId,
        commandId: String(r.CommandId),
        commandName,
        instanceId: String(r.InstanceId),
        invocationStatus: String(r.InvocationStatus),
        exitCode: String(r.ExitCode),
        finishTime: String(r.FinishedTime),
      });
    }
  }
  return out;
}

function collectInvocationsFor(invokeId: string) {
  return t.cloud.fc.invocations.filter((i) => i.functionName === COLLECT && JSON.parse(i.payload.toString()).invokeId === invokeId);
}

describe('event storm', () => {
  it('2,000 instances finishing within seconds → one dispatch, one walk, one archive, one summary', async () => {
    const env = envFor({ SUMMARIZE_AFTER_COLLECT: 'inline' });
    const collected = registerCollect(t, invoker, env);
    const data = t.cloud.rpc.data;
    const instances = 2000;
    const fcLimit = pLimit(48); // FC instance concurrency of the event function
    t.cloud.rpc.stats.reset();
    const started = Date.now();
    let invokeId = '';
    // Instances finish over 3 s of the local cloud's clock, moved in steps of 250 ms; deliveries come up to 300 ms
    // after their instance finished (shuffled), and 10% of the events are delivered again 200 ms to 2.7 s later.
    const storm = await stormOnSteppedClock({
      data,
      clock,
      seed: 2000,
      stepMs: 250,
      jitterMs: 300,
      duplicateShare: 0.1,
      lateMs: [200, 2_700],
      start: () => {
        invokeId = data.simulateRunCommand({ instances, durationMs: 3000, failureRate: 0.1, commandName: 'storm.sh' }).invokeId;
        return { total: instances, accept: (e) => e.invokeId === invokeId };
      },
      envelope: (e) => cloudEvent(e),
      deliver: (event) => fcLimit(() => handleCloudAssistantEvents(decodeEvent(bytes(event)), deps(env))),
    });
    const { results, duplicates, events: seen } = storm;
    await t.cloud.fc.idle();
    const elapsed = Date.now() - started;
    const calls = { ...t.cloud.rpc.stats.byAction };

    const outcomes: Record<string, number> = {};
    for (const r of results) for (const i of r.invocations) outcomes[i.outcome] = (outcomes[i.outcome] ?? 0) + 1;
    expect(results).toHaveLength(instances + duplicates);
    expect(results.every((r) => r.rejected.length === 0 && r.invocations.length === 1)).toBe(true);
    expect(outcomes.dispatched).toBe(1);
    expect(outcomes['not-found']).toBeUndefined();

    // Exactly one collect invocation, and it walked and committed.
    expect(collectInvocationsFor(invokeId)).toHaveLength(1);
    expect(collected.map((c) => c.status)).toEqual(['committed']);

    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: invokeId };
    const rt = createRuntime(fcContext(), { env });
    const manifest = present(await readManifest(rt.store, ref));
    expect(manifest.complete).toBe(true);
    const records = await archivedRecords(rt.store, manifest);
    const api = [];
    for await (const page of describeInvocationResults(rt.rpc('ecs', 'cn-hangzhou'), { invokeId })) api.push(...page.records);
    expect(records).toEqual(JSON.parse(JSON.stringify(api)));
    expect(records).toHaveLength(instances);
    expect(await rt.store.head(summaryKey(ref))).toBeDefined();

    // Bounded API calls: the consumer's calls are counted per delivery; the rest is the one walk.
    const consumerCalls = results.reduce((n, r) => n + r.apiCalls, 0);
    const deliveriesCount = results.length;
    expect(calls.DescribeInvocations ?? 0).toBeLessThanOrEqual(deliveriesCount + 2);
    expect((calls.DescribeInvocations ?? 0) + (calls.DescribeInvocationResults ?? 0)).toBe(consumerCalls + manifest.apiCalls);
    // The walk: exactly its pages of DescribeInvocationResults (plus its one DescribeInvocations).
    expect(manifest.apiCalls).toBe(manifest.pages + 1);
    expect(manifest.pages).toBe(instances / 50);
    // Most deliveries are answered by the probe or the claim, not by the full DescribeInvocations.
    expect(calls.DescribeInvocations ?? 0).toBeLessThan(deliveriesCount / 4);
    console.log(
      JSON.stringify({
        storm: { instances, deliveries: deliveriesCount, duplicates, elapsedMs: elapsed, outcomes, apiCalls: calls, consumerCalls, walk: { pages: manifest.pages, apiCalls: manifest.apiCalls } },
      }),
    );
    // Late redeliveries after the archive is complete cost no API call at all.
    t.cloud.rpc.stats.reset();
    const late = await handleCloudAssistantEvents(decodeEvent(bytes(cloudEvent(present(seen[0])))), deps(env));
    expect(late.invocations).toEqual([expect.objectContaining({ outcome: 'archived' })]);
    expect(late.apiCalls).toBe(0);
    expect(t.cloud.rpc.stats.requests).toBe(0);
  }, 120_000);
});

describe('events without an invoke id', () => {
  it('are resolved through DescribeInvocations by instance and command, with one lookup per instance', async () => {
    const env = envFor();
    registerCollect(t, invoker, env);
    const info = t.cloud.rpc.data.addInvocation({ instances: 12, regionId: 'cn-shenzhen', commandName: 'no-invoke-id.sh' });
    const events = (await finishedEvents(env, 'cn-shenzhen', info.invokeId, info.commandName)).map((e) => cloudEvent(e, false));
    expect(events.every((e) => !('invokeId' in e.data))).toBe(true);
    // A batch with every event, one of them twice.
    const batch = [...events, events[0]];
    t.cloud.rpc.stats.reset();
    const r = await handleCloudAssistantEvents(decodeEvent(bytes(batch)), deps(env));
    await t.cloud.fc.idle();
    expect(r).toMatchObject({ events: 13, accepted: 13, rejected: [] });
    expect(r.invocations).toEqual([expect.objectContaining({ regionId: 'cn-shenzhen', invokeId: info.invokeId, outcome: 'dispatched', events: 13 })]);
    // 12 lookups (the duplicate is cached) + 1 status check by InvokeId; the probe: 1.
    expect(t.cloud.rpc.stats.byAction.DescribeInvocations).toBe(12 + 1 + 1); // + collect's own describe
    expect(collectInvocationsFor(info.invokeId)).toHaveLength(1);
    const rt = createRuntime(fcContext(), { env });
    expect(await rt.store.head(manifestKey({ source: 'ecs', regionId: 'cn-shenzhen', id: info.invokeId }))).toBeDefined();
  });

  it('rejects an event no invocation matches', async () => {
    const env = envFor();
    const info = t.cloud.rpc.data.addInvocation({ instances: 1, regionId: 'cn-shenzhen', createdAt: new Date(Date.now() - 3_600_000).toISOString() });
    const [e] = await finishedEvents(env, 'cn-shenzhen', info.invokeId, info.commandName);
    const before = cloudEvent({ ...present(e), finishTime: new Date(Date.now() - 86_400_000).toISOString().slice(0, 19) + 'Z' }, false);
    const r = await handleCloudAssistantEvents(before, deps(env));
    expect(r.rejected).toEqual([{ id: before.id, reason: expect.stringContaining('no invocation of command') }]);
    expect(r.invocations).toEqual([]);
  });
});

describe('foreign and malformed deliveries', () => {
  const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/events', name));

  it('are rejected with no object written, no API call and no dispatch', async () => {
    const env = envFor();
    const d = deps(env);
    t.cloud.rpc.stats.reset();
    const fcBefore = t.cloud.fc.invocations.length;
    const foreign = await handleCloudAssistantEvents(decodeEvent(fixture('foreign-oss.json')), d);
    expect(foreign).toMatchObject({ events: 1, accepted: 0, invocations: [], apiCalls: 0 });
    expect(foreign.rejected[0]?.reason).toMatch(/foreign source/);
    const missing = await handleCloudAssistantEvents(decodeEvent(fixture('missing-fields.json')), d);
    expect(missing).toMatchObject({ events: 9, accepted: 0, invocations: [] });
    expect(missing.rejected).toHaveLength(9);
    // Undecodable: the handler's decodeEvent throws InputError before anything runs; a JSON scalar is refused too.
    expect(() => decodeEvent(fixture('malformed.json'))).toThrow(InputError);
    expect(() => decodeEvent(fixture('malformed.json'))).toThrow(/not valid JSON/);
    await expect(handleCloudAssistantEvents(decodeEvent(Buffer.from('"TaskCompleted"')), d)).rejects.toBeInstanceOf(InputError);
    expect(t.cloud.rpc.stats.requests).toBe(0);
    expect(t.cloud.fc.invocations.length).toBe(fcBefore);
    expect(await keysUnder(d.store, '')).toEqual([]);
  });

  it('an unknown invoke id is not-found and its events are rejected, with nothing written', async () => {
    const env = envFor();
    const d = deps(env);
    const e = cloudEvent({
      regionId: 'cn-hangzhou',
      invokeId: 't-hz0000000000000000',
      commandId: 'c-hz0000000000000000',
      commandName: 'x.sh',
      instanceId: 'i-bp1000000000000000',
      invocationStatus: 'Success',
      exitCode: 0,
      finishTime: '2026-11-23T00:00:00Z',
    });
    const r = await handleCloudAssistantEvents(e, d);
    expect(r.invocations).toEqual([expect.objectContaining({ invokeId: 't-hz0000000000000000', outcome: 'not-found' })]);
    expect(r.rejected).toEqual([{ id: e.id, reason: 'invocation t-hz0000000000000000 does not exist in cn-hangzhou' }]);
    expect(await keysUnder(d.store, '')).toEqual([]);
  });
});

describe('waiting, claims and failures', () => {
  it('an event of an unfinished invocation waits and writes nothing', async () => {
    const env = envFor();
    const info = t.cloud.rpc.data.simulateRunCommand({ instances: 30, durationMs: 60_000, regionId: 'cn-qingdao' });
    const d = deps(env);
    const e = cloudEvent({ ...info, instanceId: 'i-m5e000000000000001', invocationStatus: 'Success', exitCode: 0, finishTime: new Date().toISOString().slice(0, 19) + 'Z' });
    const r = await handleCloudAssistantEvents(e, d);
    expect(r.invocations).toEqual([expect.objectContaining({ outcome: 'waiting', status: 'Running' })]);
    expect(await keysUnder(d.store, '')).toEqual([]);
    // Without the probe, DescribeInvocations decides the same.
    const r2 = await handleCloudAssistantEvents(e, { ...deps(env), probe: false });
    expect(r2.invocations).toEqual([expect.objectContaining({ outcome: 'waiting', status: 'Running' })]);
  });

  it('a fresh claim means claimed-elsewhere; an expired claim is retaken by exactly one of many racers', async () => {
    const env = envFor();
    const results = registerCollect(t, invoker, env);
    const info = t.cloud.rpc.data.addInvocation({ instances: 3, regionId: 'cn-beijing' });
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-beijing', id: info.invokeId };
    const [first] = await finishedEvents(env, 'cn-beijing', info.invokeId, info.commandName);
    const event = cloudEvent(present(first));
    const store = deps(env).store;
    const fresh = { claimedBy: 'other-request', claimedAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 600_000).toISOString() };
    await store.put(claimKey(ref), JSON.stringify(fresh));
    const held = await handleCloudAssistantEvents(event, deps(env));
    expect(held.invocations).toEqual([expect.objectContaining({ outcome: 'claimed-elsewhere' })]);
    expect(held.apiCalls).toBe(0);

    const expired = JSON.stringify({ claimedBy: 'crashed-request', claimedAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-01T00:15:00.000Z' });
    await store.put(claimKey(ref), expired);
    const racers = await Promise.all(Array.from({ length: 8 }, () => handleCloudAssistantEvents(event, deps(env))));
    await t.cloud.fc.idle();
    const outcomes = racers.map((r) => r.invocations[0]?.outcome).sort();
    expect(outcomes.filter((o) => o === 'dispatched')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'dispatched').every((o) => o === 'claimed-elsewhere' || o === 'archived')).toBe(true);
    expect(collectInvocationsFor(info.invokeId)).toHaveLength(1);
    expect(results.at(-1)?.status).toBe('committed');
    // The commit cleared the claim and the takeover marker: the archive's folder holds only the archive.
    expect(await store.head(claimKey(ref))).toBeUndefined();
    expect(await store.head(takeoverKey(ref, Buffer.from(expired)))).toBeUndefined();
  });

  it('CLAIM_TTL_SECONDS sets the claim lifetime', async () => {
    const env = envFor({ CLAIM_TTL_SECONDS: '60' });
    registerCollect(t, invoker, env);
    const info = t.cloud.rpc.data.addInvocation({ instances: 2, regionId: 'cn-beijing' });
    const [first] = await finishedEvents(env, 'cn-beijing', info.invokeId, info.commandName);
    const d = deps(env);
    const r = await handleCloudAssistantEvents(cloudEvent(present(first)), d);
    expect(r.invocations[0]).toMatchObject({ outcome: 'dispatched' });
    const claim = JSON.parse(present(await d.store.get(claimKey({ source: 'ecs', regionId: 'cn-beijing', id: info.invokeId }))).toString());
    expect(new Date(claim.expiresAt).getTime() - new Date(claim.claimedAt).getTime()).toBe(60_000);
    await t.cloud.fc.idle();
  });

  it('a failed dispatch releases the claim and throws; the redelivery dispatches', async () => {
    const env = envFor();
    registerCollect(t, invoker, env);
    const info = t.cloud.rpc.data.addInvocation({ instances: 4, regionId: 'cn-hongkong' });
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hongkong', id: info.invokeId };
    const [first] = await finishedEvents(env, 'cn-hongkong', info.invokeId, info.commandName);
    const event = cloudEvent(present(first));
    const d = deps(env, { collectFunctionName: 'no-such-function' });
    await expect(handleCloudAssistantEvents(event, d)).rejects.toMatchObject({ name: 'ApiError', code: 'FunctionNotFound' });
    expect(await d.store.head(claimKey(ref))).toBeUndefined();
    const retry = await handleCloudAssistantEvents(event, deps(env));
    expect(retry.invocations).toEqual([expect.objectContaining({ outcome: 'dispatched', collectRequestId: expect.any(String) })]);
    await t.cloud.fc.idle();
    expect(await d.store.head(manifestKey(ref))).toBeDefined();
  });

  it('a duplicate FC task id (collect already queued) counts as dispatched', async () => {
    const env = envFor();
    registerCollect(t, invoker, env);
    const info = t.cloud.rpc.data.addInvocation({ instances: 2, regionId: 'cn-hongkong' });
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hongkong', id: info.invokeId };
    const [first] = await finishedEvents(env, 'cn-hongkong', info.invokeId, info.commandName);
    const d = deps(env);
    await invoker.invokeAsync(COLLECT, { source: 'ecs', regionId: 'cn-hongkong', invokeId: info.invokeId, async: true }, { taskId: `collect-ecs-${info.invokeId}` });
    await t.cloud.fc.idle();
    await d.store.delete(manifestKey(ref)); // as if the walk had not finished yet
    const r = await handleCloudAssistantEvents(cloudEvent(present(first)), d);
    expect(r.invocations).toEqual([expect.objectContaining({ outcome: 'dispatched', duplicate: true })]);
    expect(collectInvocationsFor(info.invokeId)).toHaveLength(1);
  });
});
