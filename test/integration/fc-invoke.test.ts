import { createHash, createHmac } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ID, DEMO_KEY, DEMO_STS_KEY } from '@execution-archive/local-cloud/credentials';
import { startFcEmulator, type FcEmulator } from '@execution-archive/local-cloud/fc/server';
import { acs3CanonicalRequest, acs3StringToSign } from '@execution-archive/local-cloud/acs3';
import { ApiError } from '../../lib/errors';
import { createFunctionInvoker, type FunctionInvokerOptions } from '../../lib/cloud/invoke';

let fc: FcEmulator;
const ran: { name: string; payload: string; invocationType: string; qualifier: string }[] = [];

beforeAll(async () => {
  fc = await startFcEmulator();
  fc.register('echo', async (payload, meta) => {
    meta.log(`echo got ${payload.length} bytes`);
    ran.push({ name: 'echo', payload: payload.toString(), invocationType: meta.invocationType, qualifier: meta.qualifier });
    return JSON.stringify({ echoed: JSON.parse(payload.toString()), requestId: meta.requestId });
  }, { asyncTask: true });
  // The same function without asynchronous tasks enabled: FC does not honour task ids there.
  fc.register('echo-plain', async (payload, meta) => {
    ran.push({ name: 'echo-plain', payload: payload.toString(), invocationType: meta.invocationType, qualifier: meta.qualifier });
    return '{}';
  });
  fc.register('slow-worker', async (payload, meta) => {
    await new Promise((r) => setTimeout(r, 150));
    ran.push({ name: 'slow-worker', payload: payload.toString(), invocationType: meta.invocationType, qualifier: meta.qualifier });
    return 'done';
  });
  fc.register('broken', async () => {
    throw new TypeError('cannot read properties of undefined');
  });
});

afterAll(async () => {
  await fc?.close();
});

function invoker(extra: Partial<FunctionInvokerOptions> = {}) {
  return createFunctionInvoker({
    accountId: ACCOUNT_ID,
    regionId: 'cn-hangzhou',
    endpoint: fc.url,
    credentials: async () => DEMO_KEY,
    ...extra,
  });
}

describe('FC 3.0 invoke API emulator with @alicloud/fc20230330', () => {
  it('accepts an async invocation with 202 and runs it later', async () => {
    const before = ran.length;
    const r = await invoker().invokeAsync('slow-worker', { job: 1 }, { qualifier: 'prod' });
    expect(r.requestId).toMatch(/^1-/);
    expect(r.duplicate).toBeUndefined();
    expect(ran.length).toBe(before); // answered before the function finished
    const record = fc.invocations.find((i) => i.requestId === r.requestId);
    expect(record).toMatchObject({ invocationType: 'Async', functionName: 'slow-worker', qualifier: 'prod' });
    await fc.idle();
    expect(ran.slice(before)).toEqual([{ name: 'slow-worker', payload: '{"job":1}', invocationType: 'Async', qualifier: 'prod' }]);
    expect(record?.status).toBe('succeeded');
    expect(record?.result?.toString()).toBe('done');
  });

  it('retries an async invocation FC throttles or cannot take, and runs it once', async () => {
    const before = ran.length;
    fc.injectFault({ kind: 'throttled', times: 2 });
    fc.injectFault({ kind: 'unavailable' });
    const delays: number[] = [];
    const r = await invoker({ sleep: async (ms) => void delays.push(ms) }).invokeAsync('slow-worker', { job: 2 }, { taskId: 'retry_me_1' });
    expect(r.duplicate).toBeUndefined();
    expect(delays).toHaveLength(3);
    await fc.idle();
    expect(ran.slice(before).map((x) => x.payload)).toEqual(['{"job":2}']);
  });

  it('gives up on throttling after the policy\'s attempts with a typed, retryable error', async () => {
    fc.injectFault({ kind: 'throttled', times: 5 });
    const err = await invoker({ sleep: async () => undefined, retry: { maxAttempts: 2 } })
      .invokeAsync('echo', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'ResourceThrottled', httpStatus: 429, retryable: true });
    // What the injector still holds is drained by the next calls; leave the emulator clean for the other tests.
    for (let i = 0; i < 3; i++) await invoker({ sleep: async () => undefined, retry: { maxAttempts: 1 } }).invokeAsync('echo', {}).catch(() => undefined);
  });

  it('returns the body of a sync invocation', async () => {
    const r = await invoker().invokeSync('echo', { hello: 'wörld' });
    expect(JSON.parse(r.body.toString())).toEqual({ echoed: { hello: 'wörld' }, requestId: r.requestId });
    expect(r.logTail).toBe('echo got 18 bytes');
    expect(ran.at(-1)).toMatchObject({ invocationType: 'Sync', qualifier: 'LATEST' });
  });

  it('works with STS credentials', async () => {
    const r = await invoker({ credentials: async () => DEMO_STS_KEY }).invokeSync('echo', 'null');
    expect(JSON.parse(r.body.toString()).echoed).toBeNull();
  });

  it('turns a function error into an ApiError', async () => {
    const err = await invoker().invokeSync('broken', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ service: 'fc', code: 'UnhandledInvocationError', httpStatus: 200, retryable: false });
    expect((err as ApiError).apiMessage).toContain('TypeError: cannot read properties of undefined');
  });

  it('rejects a bad signature with 403 SignatureDoesNotMatch', async () => {
    const err = await invoker({ credentials: async () => ({ ...DEMO_KEY, accessKeySecret: 'wrong-secret' }) })
      .invokeAsync('echo', {})
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ service: 'fc', code: 'SignatureDoesNotMatch', httpStatus: 403 });
    expect((err as ApiError).requestId).toMatch(/^1-/);
    expect((err as Error).message).not.toContain('wrong-secret');
    await expect(invoker({ credentials: async () => ({ accessKeyId: 'LTAIunknown', accessKeySecret: 'x' }) }).invokeAsync('echo', {})).rejects.toMatchObject({
      code: 'InvalidAccessKeyId.NotFound',
      httpStatus: 403,
    });
    await expect(
      invoker({ credentials: async () => ({ ...DEMO_STS_KEY, securityToken: 'not-the-token' }) }).invokeAsync('echo', {}),
    ).rejects.toMatchObject({ code: 'InvalidSecurityToken.Mismatch', httpStatus: 403 });
  });

  it('answers 404 FunctionNotFound for an unknown function', async () => {
    const err = await invoker().invokeAsync('no-such-function', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'FunctionNotFound', httpStatus: 404, retryable: false, action: 'InvokeFunction' });
  });

  it('rejects an async payload over 128 KB (sync allows it)', async () => {
    const big = 'x'.repeat(128 * 1024 + 1);
    const before = fc.invocations.length;
    await expect(invoker().invokeAsync('echo', big)).rejects.toMatchObject({ code: 'EntityTooLarge', httpStatus: 400 });
    expect(fc.invocations.length).toBe(before);
    await expect(invoker().invokeAsync('echo', JSON.stringify('x'.repeat(128 * 1024 - 2)))).resolves.toMatchObject({ requestId: expect.any(String) });
    const r = await invoker().invokeSync('echo', JSON.stringify(big));
    expect(JSON.parse(r.body.toString()).echoed).toHaveLength(big.length);
    await fc.idle();
  });

  it('runs an async task id once and reports the repeat as a duplicate', async () => {
    const before = ran.length;
    const first = await invoker().invokeAsync('echo', { n: 1 }, { taskId: 'task_abc-1' });
    const again = await invoker().invokeAsync('echo', { n: 2 }, { taskId: 'task_abc-1' });
    expect(first.duplicate).toBeUndefined();
    expect(again.duplicate).toBe(true);
    await fc.idle();
    expect(ran.slice(before).map((r) => r.payload)).toEqual(['{"n":1}']);
    await expect(invoker().invokeAsync('echo', {}, { taskId: '1-starts-with-digit' })).rejects.toMatchObject({ code: 'InvalidArgument', httpStatus: 400 });
  });

  it('honours a task id only for a function with asynchronous tasks enabled, as Function Compute does', async () => {
    const before = ran.length;
    const first = await invoker().invokeAsync('echo-plain', { n: 1 }, { taskId: 'task_plain-1' });
    const again = await invoker().invokeAsync('echo-plain', { n: 2 }, { taskId: 'task_plain-1' });
    expect(first.duplicate).toBeUndefined();
    expect(again.duplicate).toBeUndefined();
    await fc.idle();
    expect(ran.slice(before).map((r) => r.payload).sort()).toEqual(['{"n":1}', '{"n":2}']);
  });

  it('rejects a replayed request (same nonce) and a tampered body', async () => {
    // Hand-signed request, to replay it byte for byte.
    const url = new URL(fc.url);
    const body = Buffer.from('{"replay":true}');
    const headers: Record<string, string> = {
      host: url.host,
      'content-type': 'application/octet-stream',
      'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'x-acs-signature-nonce': `nonce-${Date.now()}`,
      'x-acs-content-sha256': createHash('sha256').update(body).digest('hex'),
      'x-fc-invocation-type': 'Async',
    };
    const signed = Object.keys(headers).filter((h) => h === 'host' || h === 'content-type' || h.startsWith('x-acs-')).sort();
    const path = '/2023-03-30/functions/echo/invocations';
    const canonical = acs3CanonicalRequest('POST', path, '', headers, signed);
    const signature = createHmac('sha256', DEMO_KEY.accessKeySecret).update(acs3StringToSign(canonical)).digest('hex');
    headers.authorization = `ACS3-HMAC-SHA256 Credential=${DEMO_KEY.accessKeyId},SignedHeaders=${signed.join(';')},Signature=${signature}`;
    const send = (b: Buffer) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port, method: 'POST', path, headers }, (res) => {
          let text = '';
          res.on('data', (c) => (text += String(c)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(b);
      });
    expect((await send(body)).status).toBe(202);
    const replay = await send(body);
    expect(replay.status).toBe(403);
    expect(JSON.parse(replay.body)).toMatchObject({ Code: 'SignatureNonceUsed' });
    const tampered = await send(Buffer.from('{"replay":false}'));
    expect(tampered.status).toBe(400);
    expect(JSON.parse(tampered.body)).toMatchObject({ Code: 'InvalidArgument', RequestId: expect.any(String) });
    await fc.idle();
  });
});
