/**
 * Who is at fault decides the answer: API errors that describe the caller's input are 4xx with the API's code and
 * message, dependencies that stay down after the retry policy are 503 with a clear code, only our own faults are 500.
 * Against the local cloud with the real SDKs.
 */
import { describe, expect, it } from 'vitest';
import { handleCollectEvent } from '../../lib/collect';
import { createRuntime } from '../../lib/runtime';
import type { HttpResponse } from '../../lib/triggers';
import { fcContext, keysUnder, useTestCloud, type StoreKind, type TestCloud } from '../helpers/local-cloud';
import { httpTriggerEvent } from '../helpers/http-event';

let t: TestCloud;
useTestCloud({}, (cloud) => (t = cloud));

async function post(kind: StoreKind, body: Record<string, unknown>, env: Record<string, string> = {}) {
  const rt = createRuntime(fcContext(), { env: t.env(kind, { API_MAX_ATTEMPTS: '2', ...env }) });
  const res = (await handleCollectEvent(
    httpTriggerEvent({ body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    rt,
  )) as HttpResponse;
  return { res, body: JSON.parse(res.body) as { error?: { code: string; message: string } }, rt };
}

describe('the caller\'s input, as the API judged it', () => {
  it('an ECS region the API does not know is 404 InvalidRegionId.NotFound with the API\'s message, nothing written', async () => {
    const invokeId = t.cloud.rpc.data.demo.invokeId;
    const { res, body, rt } = await post('file', { source: 'ecs', regionId: 'zzzz-a', invokeId });
    expect(res.statusCode).toBe(404);
    expect(body.error).toEqual({ code: 'InvalidRegionId.NotFound', message: expect.stringContaining('RegionId provided does not exist') });
    expect(await keysUnder(rt.store, '')).toEqual([]);
  });

  it('an OOS region the API does not know is 400 with the API\'s code, nothing written', async () => {
    const executionId = t.cloud.rpc.data.demo.executionId;
    const { res, body, rt } = await post('oss', { source: 'oos', regionId: 'zzzz-a', executionId });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(body.error?.code).toMatch(/^Invalid/);
    expect(body.error?.message).not.toMatch(/\n\s+at /);
    expect(await keysUnder(rt.store, '')).toEqual([]);
  });
});

describe('dependencies that stay down', () => {
  it('the API failing after retries is 503 UpstreamUnavailable with Retry-After', async () => {
    const invokeId = t.cloud.rpc.data.addInvocation({ instances: 20 }).invokeId;
    t.cloud.rpc.faults.inject({ kind: 'service-unavailable', action: 'DescribeInvocations', times: 10 });
    const { res, body } = await post('file', { source: 'ecs', regionId: 'cn-hangzhou', invokeId });
    t.cloud.rpc.faults.clear();
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('30');
    expect(body.error?.code).toBe('UpstreamUnavailable');
  });

  it('OSS failing after retries is 503 StorageUnavailable, not 500', async () => {
    const invokeId = t.cloud.rpc.data.addInvocation({ instances: 20 }).invokeId;
    const fault = t.cloud.oss.faults.inject({ kind: 'service-unavailable', method: 'PUT', times: Infinity });
    const { res, body } = await post('oss', { source: 'ecs', regionId: 'cn-hangzhou', invokeId });
    fault.remove();
    expect(res.statusCode).toBe(503);
    expect(body.error?.code).toBe('StorageUnavailable');
    expect(body.error?.message).toMatch(/archive store/);
  });
});
