/**
 * The event consumer against hostile deliveries, on the local cloud (RPC, OSS and FC emulators, real SDKs): poison
 * events are rejected with a reason instead of being redelivered forever, events of other accounts or with
 * contradicting regions are not acted upon, and a delivery too large for one invocation's deadline is handed on in
 * pieces until every event is handled, none lost, none hanging.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ID, DEMO_KEY } from '@execution-archive/local-cloud/credentials';
import { createFunctionInvoker, type FunctionInvoker } from '../../lib/cloud/invoke';
import { ApiError } from '../../lib/errors';
import { eventConsumerDeps, handleCloudAssistantEvents, type EventConsumerDeps, type EventDeliveryResult } from '../../lib/events';
import { createRuntime } from '../../lib/runtime';
import { decodeEvent } from '../../lib/triggers';
import { fcContext, keysUnder, useTestCloud, type TestCloud } from '../helpers/local-cloud';
import { deadlineAfter } from '../helpers/deadline';

let t: TestCloud;
let invoker: FunctionInvoker;
const SELF = 'execution-archive-on-cloud-assistant-event';

useTestCloud({ seed: 11 }, (cloud) => (t = cloud));
beforeAll(async () => {
  invoker = createFunctionInvoker({ accountId: ACCOUNT_ID, regionId: 'cn-hangzhou', endpoint: t.cloud.fc.url, credentials: async () => DEMO_KEY });
});

function deps(env: NodeJS.ProcessEnv, overrides: Partial<EventConsumerDeps> = {}): EventConsumerDeps {
  const rt = createRuntime(fcContext({ function: { name: SELF, timeout: 60 } }), { env });
  return { ...eventConsumerDeps(rt, invoker), ...overrides };
}

let seq = 0;
function event(data: Record<string, unknown>, envelope: Record<string, unknown> = {}) {
  seq++;
  return {
    id: `evt-${seq.toString(16).padStart(8, '0')}-poison`,
    source: 'acs.ecs',
    specversion: '1.0',
    type: 'ecs:CloudAssistant:TaskCompleted',
    aliyunaccountid: ACCOUNT_ID,
    aliyunregionid: (data.regionId as string | undefined) ?? 'cn-hangzhou',
    ...envelope,
    data: { instanceId: 'i-bp1000000000000001', invocationStatus: 'Success', finishTime: '2026-11-23T00:00:00Z', ...data },
  };
}

describe('poison events', () => {
  it('an event whose region the API rejects is rejected with the API\'s reason; its batch-mates are still handled', async () => {
    const env = t.env('oss');
    const known = t.cloud.rpc.data.addInvocation({ instances: 3 }).invokeId;
    const poison = event({ invokeId: 't-hz0000000000000a', regionId: 'zzzz-a' });
    const fine = event({ invokeId: known, regionId: 'cn-hangzhou' });
    t.cloud.fc.register('execution-archive-collect', async () => '{}');
    const r = await handleCloudAssistantEvents(decodeEvent(Buffer.from(JSON.stringify([poison, fine]))), deps(env));
    expect(r.rejected).toEqual([{ id: poison.id, reason: expect.stringMatching(/^InvalidRegionId\.NotFound: .*RegionId/) }]);
    expect(r.invocations).toEqual([
      expect.objectContaining({ invokeId: 't-hz0000000000000a', outcome: 'rejected' }),
      expect.objectContaining({ invokeId: known, outcome: 'dispatched' }),
    ]);
    await t.cloud.fc.idle();
  });

  it('a poison event without an invoke id (lookup refused) is rejected, not thrown', async () => {
    const env = t.env('oss');
    const poison = event({ commandId: 'c-hz0000000000000a', regionId: 'zzzz-b' });
    const r = await handleCloudAssistantEvents(poison, deps(env));
    expect(r.rejected).toEqual([{ id: poison.id, reason: expect.stringMatching(/^InvalidRegionId\.NotFound/) }]);
    expect(await keysUnder(deps(env).store, '')).toEqual([]);
  });

  it('a transient failure still throws, so the delivery is retried', async () => {
    const env = t.env('oss', { API_MAX_ATTEMPTS: '1' });
    t.cloud.rpc.faults.inject({ kind: 'service-unavailable', times: 5 });
    const err = await handleCloudAssistantEvents(event({ invokeId: 't-hz0000000000000b' }), deps(env)).catch((e: unknown) => e);
    t.cloud.rpc.faults.clear();
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ retryable: true });
  });
});

describe('forged and contradicting events', () => {
  it('an event of another account is rejected with no API call and nothing written', async () => {
    const env = t.env('oss');
    const d = deps(env);
    t.cloud.rpc.stats.reset();
    const foreign = event({ invokeId: t.cloud.rpc.data.demo.invokeId }, { aliyunaccountid: '9999999999999999' });
    const unsigned = event({ invokeId: t.cloud.rpc.data.demo.invokeId }, { aliyunaccountid: undefined });
    const r = await handleCloudAssistantEvents([foreign, unsigned], d);
    expect(r.accepted).toBe(0);
    expect(r.rejected).toEqual([
      { id: foreign.id, reason: expect.stringMatching(/"aliyunaccountid" "9999999999999999" is not this function's account/) },
      { id: unsigned.id, reason: expect.stringMatching(/no "aliyunaccountid"/) },
    ]);
    expect(t.cloud.rpc.stats.requests).toBe(0);
    expect(await keysUnder(d.store, '')).toEqual([]);
  });

  it('data.regionId contradicting aliyunregionid is rejected, not silently preferred', async () => {
    const env = t.env('oss');
    const e = event({ invokeId: t.cloud.rpc.data.demo.invokeId, regionId: 'cn-hangzhou' }, { aliyunregionid: 'cn-beijing' });
    const r = await handleCloudAssistantEvents(e, deps(env));
    expect(r.rejected).toEqual([{ id: e.id, reason: '"data.regionId" "cn-hangzhou" contradicts "aliyunregionid" "cn-beijing"' }]);
    expect(r.invocations).toEqual([]);
  });
});

describe('the deadline bounds a delivery', () => {
  it('1,300 distinct unknown invocations: each delivery handles what fits, hands on the rest, and every event ends rejected once', async () => {
    const env = t.env('oss', { API_RATE_LIMIT_PER_SECOND: '0' });
    const results: EventDeliveryResult[] = [];
    const errors: unknown[] = [];
    // The consumer itself, registered in the FC emulator: hand-offs come back to it, each with a short deadline.
    t.cloud.fc.register(SELF, async (payload) => {
      try {
        const r = await handleCloudAssistantEvents(decodeEvent(payload), deps(env, { deadline: deadlineAfter(151), concurrency: 16 }));
        results.push(r);
        return JSON.stringify(r);
      } catch (err) {
        errors.push(err);
        throw err;
      }
    }, { asyncTask: true });
    const events = Array.from({ length: 1300 }, (_, i) => event({ invokeId: `t-hz${i.toString(16).padStart(14, '0')}` }));
    const first = await handleCloudAssistantEvents(decodeEvent(Buffer.from(JSON.stringify(events))), deps(env, { deadline: deadlineAfter(151), concurrency: 16 }));
    results.push(first);
    await t.cloud.fc.idle();
    expect(errors).toEqual([]);
    expect(first.handedOn?.events).toBeGreaterThan(0);
    expect(first.invocations.length).toBeLessThan(1300);
    expect(results.length).toBeGreaterThan(2);
    const rejectedIds = results.flatMap((r) => r.rejected.map((x) => x.id));
    expect(rejectedIds.sort()).toEqual(events.map((e) => e.id).sort());
    const handled = results.reduce((n, r) => n + r.invocations.length, 0);
    expect(handled).toBe(1300);
  }, 120_000);

  it('without a way to hand on, the leftover fails the delivery as retryable instead of being dropped', async () => {
    const env = t.env('oss');
    const events = Array.from({ length: 5 }, (_, i) => event({ invokeId: `t-hz1${i.toString(16).padStart(13, '0')}` }));
    const err = await handleCloudAssistantEvents(events, deps(env, { deadline: deadlineAfter(2), concurrency: 1, selfFunctionName: undefined })).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'DeadlineError', code: 'DeadlineExceeded' });
  });
});
