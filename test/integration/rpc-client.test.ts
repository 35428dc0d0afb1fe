import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveCredentials } from '../../lib/cloud/credentials';
import { describeInvocationResults } from '../../lib/cloud/ecs';
import { listResourceExecutionStatus } from '../../lib/cloud/oos';
import { createAdaptiveRateLimiter } from '../../lib/cloud/rate-limit';
import { type RpcClientOptions, createRpcClient } from '../../lib/cloud/rpc';
import { deadlineAt } from '../../lib/deadline';
import { ApiError } from '../../lib/errors';
import { createLogger, redact } from '../../lib/log';
import { fakeTime } from '../helpers/fake-time';
import { type ScriptedServer, apiError, html502, json, reset, startScriptedServer } from '../helpers/scripted-server';

const SECRET = 'itSecret/+=0123456789abcdefXYZ';
const TOKEN = 'CAIS-integration-token/+=';
const KEY_ID = 'STS.NTIntegrationKey01';
const context = { credentials: { accessKeyId: KEY_ID, accessKeySecret: SECRET, securityToken: TOKEN } };
const FAST = { baseDelayMs: 1, maxDelayMs: 5, minAttemptMs: 0 };

let server: ScriptedServer;
let lines: string[];

beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  lines = [];
});

/**
 * The adaptive limiter's pauses (a throttle stops sending for the API's one-second window) on a fake clock: they are
 * recorded in `pauses`, nothing really waits. A client given a deadline keeps the real limiter, which the deadline bounds.
 */
let pauses: number[];

function client(overrides: Partial<RpcClientOptions> = {}) {
  const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  const time = fakeTime();
  pauses = time.sleeps;
  return createRpcClient({
    service: 'oos',
    regionId: 'cn-hangzhou',
    credentials: resolveCredentials({ context, logger }),
    endpoint: server.url,
    timeoutMs: 1_000,
    retry: { ...FAST, maxAttempts: 4 },
    logger,
    ...(overrides.deadline === undefined ? { limiter: createAdaptiveRateLimiter({ now: time.now, sleep: time.sleep }) } : {}),
    ...overrides,
  });
}

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the call to fail');
}

function assertNoSecrets(extra: string[] = []) {
  const signatures = server.requests.map((r) => r.params.Signature).filter((s): s is string => !!s);
  expect(signatures.length).toBeGreaterThan(0);
  const haystack = [...lines, ...extra].join('\n');
  for (const needle of [SECRET, TOKEN, ...signatures, ...signatures.map(encodeURIComponent), 'Signature=']) {
    expect(haystack).not.toContain(needle);
  }
}

describe('createRpcClient against a scripted server (real pop-core)', () => {
  it('POSTs a signed form with the STS token and returns plain JSON values', async () => {
    // Prepare
    server.enqueue({
      kind: 'raw',
      status: 200,
      contentType: 'application/json',
      body: '{"RequestId":"R1","Big":12345678901234567890,"Safe":1234567890123456,"Nested":{"List":[{"A":1}]}}',
    });
    const oos = client();
    // Act
    const result = await oos.request<{ Big: unknown; Safe: unknown; Nested: { List: unknown[] } }>('ListExecutions', {
      RegionId: 'cn-hangzhou',
      MaxResults: 100,
      NextToken: undefined,
      IncludeChildExecution: false,
    });
    // Assess
    const req = server.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/');
    expect(req?.headers['x-acs-action']).toBe('ListExecutions');
    expect(req?.headers['x-acs-version']).toBe('2019-06-01');
    expect(req?.params).toMatchObject({ Action: 'ListExecutions', AccessKeyId: KEY_ID, SecurityToken: TOKEN, MaxResults: '100', IncludeChildExecution: 'false', Version: '2019-06-01' });
    expect(req?.params).not.toHaveProperty('NextToken');
    expect(result).toEqual({ RequestId: 'R1', Big: '12345678901234567890', Safe: 1234567890123456, Nested: { List: [{ A: 1 }] } });
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(result.Nested)).toBe(Object.prototype);
    expect(oos.stats).toEqual({ apiCalls: 1, retries: 0, throttles: 0 });
  });

  it.each([
    ['Throttling.User', 400],
    ['Throttling.Api', 400],
    ['Throttling', 400],
    ['ServiceUnavailable', 503],
    ['InternalError', 500],
    ['UnknownError', 500],
  ])('retries %s (HTTP %i) and recovers', async (code, status) => {
    server.enqueue(apiError(status, code, 'try later'), apiError(status, code, 'try later'), json(200, { RequestId: 'OK1' }));
    const oos = client();
    const result = await oos.request('ListExecutions', {});
    expect(result.RequestId).toBe('OK1');
    expect(server.requests).toHaveLength(3);
    expect(oos.stats).toEqual({ apiCalls: 3, retries: 2, throttles: code.startsWith('Throttling') ? 2 : 0 });
    // A throttle pauses the sending for the API's window (once: the second throttle comes from the paused window).
    expect(pauses.some((ms) => ms >= 900)).toBe(code.startsWith('Throttling'));
    const retries = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'api call retry');
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatchObject({ level: 'warn', action: 'ListExecutions', code, requestId: `R-${code}`, attempt: 1, service: 'oos' });
    expect(typeof retries[0]?.delayMs).toBe('number');
    assertNoSecrets();
  });

  it('retries a non-JSON 502 page', async () => {
    server.enqueue(html502, json(200, { RequestId: 'OK2' }));
    const oos = client();
    await expect(oos.request('ListExecutions', {})).resolves.toMatchObject({ RequestId: 'OK2' });
    expect(oos.stats).toEqual({ apiCalls: 2, retries: 1, throttles: 0 });
    expect(JSON.parse(lines.find((l) => l.includes('api call retry')) ?? '{}')).toMatchObject({ code: 'NonJsonResponse' });
  });

  it('retries a 5xx whose JSON has no Code (pop-core would call it success)', async () => {
    server.enqueue(json(503, { RequestId: 'R503' }), json(200, { RequestId: 'OK3' }));
    const oos = client();
    await expect(oos.request('ListExecutions', {})).resolves.toMatchObject({ RequestId: 'OK3' });
    expect(oos.stats.retries).toBe(1);
  });

  it('gives up on a persistent Code-less 5xx with HttpStatus<nnn>', async () => {
    for (let i = 0; i < 4; i++) server.enqueue(json(500, { RequestId: `R${i}` }));
    const err = await failure(client().request('ListExecutions', {}));
    expect(err).toMatchObject({ code: 'HttpStatus500', httpStatus: 500, retryable: true, attempts: 4, requestId: 'R3' });
  });

  it('retries a socket reset', async () => {
    server.enqueue(reset, reset, json(200, { RequestId: 'OK4' }));
    const oos = client();
    await expect(oos.request('ListExecutions', {})).resolves.toMatchObject({ RequestId: 'OK4' });
    expect(oos.stats).toEqual({ apiCalls: 3, retries: 2, throttles: 0 });
    expect(JSON.parse(lines.find((l) => l.includes('api call retry')) ?? '{}')).toMatchObject({ code: 'ECONNRESET' });
  });

  it('retries a read timeout', async () => {
    server.enqueue(json(200, { RequestId: 'slow' }, 400), json(200, { RequestId: 'OK5' }));
    const oos = client({ timeoutMs: 100 });
    await expect(oos.request('ListExecutions', {})).resolves.toMatchObject({ RequestId: 'OK5' });
    expect(oos.stats).toEqual({ apiCalls: 2, retries: 1, throttles: 0 });
    expect(JSON.parse(lines.find((l) => l.includes('api call retry')) ?? '{}')).toMatchObject({ code: 'RequestTimeout' });
  });

  it('retries a refused connection and surfaces ECONNREFUSED when it persists', async () => {
    const closed = await startScriptedServer();
    const url = closed.url;
    await closed.close();
    const oos = client({ endpoint: url, retry: { ...FAST, maxAttempts: 3 } });
    const err = await failure(oos.request('ListExecutions', {}));
    expect(err).toMatchObject({ code: 'ECONNREFUSED', retryable: true, attempts: 3, service: 'oos', action: 'ListExecutions' });
    expect(oos.stats).toEqual({ apiCalls: 3, retries: 2, throttles: 0 });
  });

  it.each([
    ['InvalidParameter', 400],
    ['MissingParameter', 400],
    ['EntityNotExists.Execution', 404],
    ['SignatureDoesNotMatch', 403],
    ['Forbidden.RAM', 403],
    ['InvalidAccessKeyId.NotFound', 404],
  ])('surfaces %s (HTTP %i) at once, typed', async (code, status) => {
    server.enqueue(apiError(status, code, `the ${code} message`, 'RID-42'));
    const oos = client();
    const err = await failure(oos.request('ListResourceExecutionStatus', { ExecutionId: 'exec-1' }));
    expect(err).toMatchObject({ code, apiMessage: `the ${code} message`, requestId: 'RID-42', httpStatus: status, retryable: false, attempts: 1, service: 'oos', action: 'ListResourceExecutionStatus' });
    expect(err.message).not.toContain('URL');
    expect(err.message).not.toContain('127.0.0.1');
    expect(oos.stats).toEqual({ apiCalls: 1, retries: 0, throttles: 0 });
    // Logging the error (with its pop-core cause) must not leak the signed request either.
    assertNoSecrets([err.message, JSON.stringify(redact(err))]);
  });

  it('gives up after maxAttempts on persistent throttling, still typed', async () => {
    for (let i = 0; i < 3; i++) server.enqueue(apiError(400, 'Throttling.User', 'Request was denied due to user flow control.'));
    const err = await failure(client({ retry: { ...FAST, maxAttempts: 3 } }).request('ListExecutions', {}));
    expect(err).toMatchObject({ code: 'Throttling.User', retryable: true, attempts: 3, httpStatus: 400, requestId: 'R-Throttling.User' });
    expect(server.requests).toHaveLength(3);
  });

  it('never retries past the deadline', async () => {
    for (let i = 0; i < 50; i++) server.enqueue(apiError(503, 'ServiceUnavailable', 'busy'));
    const started = Date.now();
    const deadline = deadlineAt(started + 400);
    const oos = client({ deadline, retry: { maxAttempts: 50, baseDelayMs: 100, maxDelayMs: 200, minAttemptMs: 50 } });
    const err = await failure(oos.request('ListExecutions', {}));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(400);
    expect(err).toMatchObject({ code: 'ServiceUnavailable', retryable: true });
    expect(err.attempts).toBeGreaterThan(1);
    expect(err.attempts).toBeLessThan(50);
    expect(oos.stats.apiCalls).toBe(err.attempts);
  });

  it('clamps the request timeout to the deadline', async () => {
    server.enqueue(json(200, { RequestId: 'late' }, 2_000));
    const started = Date.now();
    const oos = client({ deadline: deadlineAt(started + 250), timeoutMs: 10_000, retry: { ...FAST, minAttemptMs: 100 } });
    const err = await failure(oos.request('ListExecutions', {}));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err).toMatchObject({ code: 'RequestTimeout', attempts: 1 });
  });

  it('does not call at all once the deadline has passed', async () => {
    const oos = client({ deadline: deadlineAt(Date.now() - 1) });
    const err = await failure(oos.request('ListExecutions', {}));
    expect(err).toMatchObject({ code: 'DeadlineExceeded', attempts: 0, retryable: false });
    expect(server.requests).toHaveLength(0);
  });

  it('walks ListResourceExecutionStatus across a throttled page', async () => {
    server.enqueue(
      json(200, { RequestId: 'P1', NextToken: 't1', ResourceExecutionStatus: [{ ResourceId: 'i-1', Status: 'Success', Extra: 'kept' }] }),
      apiError(400, 'Throttling.Api', 'slow down'),
      json(200, { RequestId: 'P2', NextToken: '', ResourceExecutionStatus: [{ ResourceId: 'i-2', Status: 'Failed' }] }),
    );
    const oos = client();
    const pages = [];
    for await (const page of listResourceExecutionStatus(oos, { executionId: 'exec-abc123' })) pages.push(page);
    expect(pages).toEqual([
      { records: [{ ResourceId: 'i-1', Status: 'Success', Extra: 'kept' }], nextToken: 't1', requestId: 'P1' },
      { records: [{ ResourceId: 'i-2', Status: 'Failed' }], nextToken: undefined, requestId: 'P2' },
    ]);
    expect(server.requests.map((r) => r.params.NextToken)).toEqual([undefined, 't1', 't1']);
    expect(server.requests[0]?.params).toMatchObject({ ExecutionId: 'exec-abc123', MaxResults: '100', RegionId: 'cn-hangzhou' });
    expect(oos.stats).toEqual({ apiCalls: 3, retries: 1, throttles: 1 });
  });

  it('walks DescribeInvocationResults with PlainText and page size 50', async () => {
    server.enqueue(
      json(200, { RequestId: 'E1', Invocation: { NextToken: 'n1', InvocationResults: { InvocationResult: [{ InstanceId: 'i-1', Output: 'hi\n' }] } } }),
      json(200, { RequestId: 'E2', Invocation: { InvocationResults: { InvocationResult: [] } } }),
    );
    const ecs = client({ service: 'ecs' });
    const pages = [];
    for await (const page of describeInvocationResults(ecs, { invokeId: 't-abc123', includeHistory: true })) pages.push(page);
    expect(pages.map((p) => p.records.length)).toEqual([1, 0]);
    expect(server.requests[0]?.params).toMatchObject({
      Action: 'DescribeInvocationResults',
      Version: '2014-05-26',
      InvokeId: 't-abc123',
      IncludeHistory: 'true',
      ContentEncoding: 'PlainText',
      MaxResults: '50',
    });
    expect(server.requests[1]?.params.NextToken).toBe('n1');
  });
});
