import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';
import { createRateLimiter } from '../../lib/cloud/rate-limit';
import { isTransientStorageError } from '../../lib/archive/retrying';
import { toFcApiError } from '../../lib/cloud/invoke';
import { backoffDelay, classifyFailure, isRetryableCode, retryPolicy, sanitizeMessage, withRetry } from '../../lib/cloud/retry';
import { toApiError, toPlainJson } from '../../lib/cloud/rpc';
import { ApiError, ConfigError, StorageError } from '../../lib/errors';
import { redact } from '../../lib/log';
import { present } from '../helpers/present';
import { fakeTime } from '../helpers/fake-time';

/** A pop-core API error as thrown by lib/rpc.js for a body with a Code. */
function popError(code: string, status: number, requestId = 'RID-1', message = 'msg') {
  const url = 'https://oos.cn-hangzhou.aliyuncs.com/?AccessKeyId=STS.x&SecurityToken=tok&Signature=abc%3D';
  const err = new Error(`${message}, URL: ${url}`) as Error & Record<string, unknown>;
  err.name = `${code}Error`;
  err.code = code;
  err.data = { RequestId: requestId, HostId: 'oos.cn-hangzhou.aliyuncs.com', Code: code, Message: message };
  err.url = url;
  err.entry = { url, request: { headers: {} }, response: { statusCode: status, headers: {} } };
  return err;
}
const sysError = (code: string, message = 'boom') => Object.assign(new Error(message), { code });

describe('classifyFailure', () => {
  it.each([
    'Throttling',
    'Throttling.User',
    'Throttling.Api',
    'Throttling.Api.Concurrency',
    'Throttling.System',
    'Rejected.Throttling',
    'ServiceUnavailable',
    'InternalError',
    'InternalError.Unknown',
    'UnknownError',
  ])('retries API code %s', (code) => {
    const info = classifyFailure(popError(code, 503));
    expect(info).toMatchObject({ code, retryable: true, requestId: 'RID-1', httpStatus: 503, message: 'msg' });
  });

  it.each([
    ['InvalidParameter', 400],
    ['MissingParameter', 400],
    ['EntityNotExists.Execution', 404],
    ['EntityNotExists.Template', 404],
    ['SignatureDoesNotMatch', 403],
    ['Forbidden', 403],
    ['Forbidden.RAM', 403],
    ['InvalidAccessKeyId.NotFound', 404],
    ['IllegalTimestamp', 400],
    ['IncompleteSignature', 400],
    ['InvalidInstanceId.NotFound', 404],
  ])('does not retry API code %s', (code, status) => {
    expect(classifyFailure(popError(code, status))).toMatchObject({ code, retryable: false, httpStatus: status });
  });

  it("treats json-bigint's plain-object SyntaxError as a retryable NonJsonResponse", () => {
    const parseError = { name: 'SyntaxError', message: "Unexpected '<'", at: 1, text: '<html>502</html>' };
    expect(parseError instanceof Error).toBe(false);
    expect(classifyFailure(parseError)).toMatchObject({ code: 'NonJsonResponse', retryable: true });
  });

  it.each(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'])('retries socket error %s', (code) => {
    expect(classifyFailure(sysError(code))).toMatchObject({ code, retryable: true });
  });

  it('retries "socket hang up" and httpx RequestTimeoutError', () => {
    expect(classifyFailure(new Error('socket hang up'))).toMatchObject({ code: 'ECONNRESET', retryable: true });
    const timeout = Object.assign(new Error('ReadTimeout(100). POST http://127.0.0.1:1/ failed.'), { name: 'RequestTimeoutError' });
    expect(classifyFailure(timeout)).toMatchObject({ code: 'RequestTimeout', retryable: true });
  });

  it('does not retry programmer errors, config errors or DNS misses', () => {
    expect(classifyFailure(new TypeError('x is undefined'))).toMatchObject({ code: 'ClientError', retryable: false });
    expect(classifyFailure(new ConfigError('no keys'))).toMatchObject({ code: 'InvalidConfiguration', retryable: false });
    expect(classifyFailure(sysError('ENOTFOUND'))).toMatchObject({ code: 'ENOTFOUND', retryable: false });
  });

  it('classifies our HTTP status codes', () => {
    expect(isRetryableCode('HttpStatus500')).toBe(true);
    expect(isRetryableCode('HttpStatus503')).toBe(true);
    expect(isRetryableCode('HttpStatus429')).toBe(true);
    expect(isRetryableCode('HttpStatus404')).toBe(false);
  });

  it('strips the signed URL from messages', () => {
    expect(sanitizeMessage('Bad thing, URL: https://h/?Signature=abc')).toBe('Bad thing');
    expect(sanitizeMessage('ReadTimeout(1). GET http://h:1/?AccessKeyId=a&Signature=s failed.')).toBe('ReadTimeout(1). GET http://h:1/?[redacted] failed.');
  });
});

describe('toApiError', () => {
  it('keeps Code, Message, RequestId, status; never the URL', () => {
    const err = toApiError(popError('InvalidParameter', 400, 'RID-9', 'The specified value is not valid.'), { service: 'oos', action: 'ListExecutions', attempts: 1 });
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'InvalidParameter', apiMessage: 'The specified value is not valid.', requestId: 'RID-9', httpStatus: 400, retryable: false, attempts: 1 });
    expect(err.message).toBe('oos:ListExecutions failed: InvalidParameter: The specified value is not valid. (RequestId RID-9)');
    const logged = JSON.stringify(redact(err));
    expect(logged).not.toContain('Signature');
    expect(logged).not.toContain('SecurityToken');
    expect((err.cause as { original?: unknown }).original).toBeInstanceOf(Error);
  });

  it('keeps the original error as cause when its message holds no query string (POST)', () => {
    const original = Object.assign(new Error('Forbidden, URL: https://oos.cn-hangzhou.aliyuncs.com/'), { code: 'Forbidden', data: { Code: 'Forbidden', Message: 'Forbidden' } });
    expect(toApiError(original, { service: 'oos', action: 'A', attempts: 1 }).cause).toBe(original);
  });

  it('wraps a plain-object cause in an Error without the body text', () => {
    const err = toApiError({ name: 'SyntaxError', message: "Unexpected '<'", at: 1, text: '<html>secret-ish</html>' }, { service: 'ecs', action: 'X', attempts: 2 });
    expect(err.code).toBe('NonJsonResponse');
    expect(err.cause).toBeInstanceOf(Error);
    expect(JSON.stringify(redact(err))).not.toContain('secret-ish');
  });
});

describe('toPlainJson', () => {
  it('turns null-prototype objects into plain ones and BigNumbers into exact values', () => {
    // json-bigint (pop-core's parser) ships no types.
    const JSONbig = createRequire(import.meta.url)('json-bigint') as { parse(s: string): unknown };
    const parsed = JSONbig.parse('{"a":{"b":[1,12345678901234567890,1234567890123456,0.12345678901234567]},"protoX":1}');
    const plain = toPlainJson(parsed) as { a: { b: unknown[] } };
    expect(Object.getPrototypeOf(parsed)).toBe(null);
    expect(Object.getPrototypeOf(plain)).toBe(Object.prototype);
    expect(plain.a.b).toEqual([1, '12345678901234567890', 1234567890123456, '0.12345678901234567']);
    expect(JSON.stringify(plain)).toBe('{"a":{"b":[1,"12345678901234567890",1234567890123456,"0.12345678901234567"]},"protoX":1}');
  });
});

describe('backoffDelay (full jitter)', () => {
  const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };
  it('grows exponentially up to the cap', () => {
    const top = (attempt: number) => backoffDelay(attempt, policy, () => 0.999_999_9);
    expect([1, 2, 3, 4, 5, 6].map(top)).toEqual([99, 199, 399, 799, 999, 999]);
  });
  it('is uniform over [0, ceiling): random 0 gives 0, 0.5 gives half', () => {
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
  });
  it('stays within bounds for any random value', () => {
    for (let attempt = 1; attempt <= 12; attempt++) {
      for (const r of [0, 0.1, 0.5, 0.9, 0.999, 1, -1, 2]) {
        const d = backoffDelay(attempt, policy, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1)));
      }
    }
  });
});

describe('withRetry', () => {
  const throttled = () => popError('Throttling.User', 400);

  it('returns the first success and retries only retryable failures', async () => {
    const t = fakeTime();
    const fn = vi.fn(async (attempt: number) => {
      if (attempt < 3) throw throttled();
      return 'ok';
    });
    const events: unknown[] = [];
    const result = await withRetry(fn, { sleep: t.sleep, random: () => 0.5, onRetry: (e) => events.push(e) });
    expect(result).toBe('ok');
    expect(fn).toHaveBeenCalledTimes(3);
    expect(t.sleeps).toEqual([100, 200]);
    expect(events).toEqual([
      expect.objectContaining({ attempt: 1, delayMs: 100, retriesLeft: 5 }),
      expect.objectContaining({ attempt: 2, delayMs: 200, retriesLeft: 4 }),
    ]);
    expect(Object.isFrozen(events[0])).toBe(true);
  });

  it('throws a non-retryable failure at once', async () => {
    const t = fakeTime();
    const err = popError('InvalidParameter', 400);
    const fn = vi.fn(async () => {
      throw err;
    });
    await expect(withRetry(fn, { sleep: t.sleep })).rejects.toBe(err);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(t.sleeps).toEqual([]);
  });

  it('is bounded by maxAttempts and rethrows the last error', async () => {
    const t = fakeTime();
    let last: unknown;
    const fn = vi.fn(async () => {
      last = throttled();
      throw last;
    });
    const caught = await withRetry(fn, { policy: { maxAttempts: 4 }, sleep: t.sleep, random: () => 0.9 }).catch((e: unknown) => e);
    expect(caught).toBe(last);
    expect(fn).toHaveBeenCalledTimes(4);
    expect(t.sleeps).toHaveLength(3);
  });

  it('uses the injected classifier', async () => {
    const t = fakeTime();
    const fn = vi.fn(async (attempt: number) => {
      if (attempt === 1) throw new Error('custom');
      return attempt;
    });
    await expect(withRetry(fn, { sleep: t.sleep, classify: (e) => e instanceof Error && e.message === 'custom' })).resolves.toBe(2);
  });

  it('never sleeps past the deadline and stops when no attempt fits', async () => {
    const t = fakeTime();
    const deadlineAt = t.now() + 3_000;
    const deadline = { remaining: () => Math.max(0, deadlineAt - t.now()) };
    const fn = vi.fn(async () => {
      t.advance(250); // each attempt takes 250 ms
      throw popError('ServiceUnavailable', 503);
    });
    const policy = { maxAttempts: 100, baseDelayMs: 200, maxDelayMs: 2_000, minAttemptMs: 300 };
    await expect(withRetry(fn, { policy, deadline, sleep: t.sleep, random: () => 0.99 })).rejects.toMatchObject({ code: 'ServiceUnavailable' });
    expect(t.now()).toBeLessThanOrEqual(deadlineAt);
    // Every sleep left room for a further attempt of at least minAttemptMs.
    let now = 1_000_000;
    for (const s of t.sleeps) {
      now += 250 + s;
      expect(deadlineAt - now).toBeGreaterThanOrEqual(policy.minAttemptMs);
    }
    expect(fn.mock.calls.length).toBeLessThan(100);
  });

  it('makes no retry when the deadline has already passed', async () => {
    const t = fakeTime();
    const fn = vi.fn(async () => {
      throw throttled();
    });
    await expect(withRetry(fn, { deadline: { remaining: () => 0 }, sleep: t.sleep })).rejects.toMatchObject({ code: 'Throttling.User' });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(t.sleeps).toEqual([]);
  });

  it('stops once the signal aborts', async () => {
    const t = fakeTime();
    const controller = new AbortController();
    const fn = vi.fn(async (attempt: number) => {
      if (attempt === 2) controller.abort();
      throw throttled();
    });
    await expect(withRetry(fn, { signal: controller.signal, sleep: t.sleep })).rejects.toMatchObject({ code: 'Throttling.User' });
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it("cuts a backoff sleep short when the deadline's signal aborts", async () => {
    // Prepare: a real sleep of about an hour between attempts, and a deadline whose signal aborts as the sleep starts.
    const controller = new AbortController();
    const deadline = { remaining: () => 7_200_000, signal: controller.signal };
    const err = throttled();
    const fn = vi.fn(async () => {
      throw err;
    });
    const policy = { baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 };
    // Act: the retry is aborted from onRetry, right before the sleep.
    const caught = withRetry(fn, { policy, deadline, random: () => 0.99, onRetry: () => controller.abort() });
    // Assess: the last error comes back without the hour passing (the test would time out otherwise).
    await expect(caught).rejects.toBe(err);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it.each([
    [{ maxAttempts: Number.NaN }, 'maxAttempts'],
    [{ maxAttempts: 0 }, 'maxAttempts'],
    [{ maxAttempts: 2.5 }, 'maxAttempts'],
    [{ baseDelayMs: -1 }, 'baseDelayMs'],
    [{ maxDelayMs: Number.POSITIVE_INFINITY }, 'maxDelayMs'],
    [{ minAttemptMs: Number.NaN }, 'minAttemptMs'],
  ])('rejects the malformed policy %o before the first attempt', async (policy, name) => {
    const fn = vi.fn(async () => 'never');
    await expect(withRetry(fn, { policy })).rejects.toThrow(new RegExp(`\`${name}\``));
    expect(fn).not.toHaveBeenCalled();
    expect(() => retryPolicy(policy)).toThrow(TypeError);
  });
});

describe('one retry decision for every client', () => {
  // The same failure seen by the RPC client (pop-core), the FC invoker (Tea SDK) and the OSS store (ali-oss).
  const asPopError = (code: string) => sysError(code);
  const asTeaError = (code: string) => Object.assign(new Error(code), { code, name: 'RequestError' });
  const asStoreError = (code: string) => new StorageError(code, `oss put k failed: ${code}`, { key: 'k' });
  it.each([
    ['ECONNRESET', true],
    ['ECONNREFUSED', true],
    ['EPIPE', true],
    ['ETIMEDOUT', true],
    ['EAI_AGAIN', true],
    ['ENOTFOUND', false],
    ['EACCES', false],
  ])('%s without an answer: retryable %s everywhere', (code, retryable) => {
    expect(classifyFailure(asPopError(code)).retryable).toBe(retryable);
    expect(toFcApiError(asTeaError(code), 'InvokeFunction').retryable).toBe(retryable);
    expect(isTransientStorageError(asStoreError(code))).toBe(retryable);
  });

  it.each([
    [500, true],
    [503, true],
    [429, true],
    [403, false],
    [404, false],
  ])('an answer with HTTP %s: retryable %s everywhere', (status, retryable) => {
    const code = 'SomeCode';
    expect(classifyFailure(popError(code, status)).retryable).toBe(retryable);
    expect(toFcApiError(Object.assign(new Error(code), { code, statusCode: status }), 'InvokeFunction').retryable).toBe(retryable);
    expect(isTransientStorageError(new StorageError(code, 'x', { status }))).toBe(retryable);
  });
});

describe('createRateLimiter (token bucket)', () => {
  it('lets a burst through, then spaces requests at the rate', async () => {
    const t = fakeTime();
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 2, now: t.now, sleep: t.sleep });
    const start = t.now();
    for (let i = 0; i < 6; i++) await limiter.acquire();
    // 2 free, then 4 more at 100 ms each.
    expect(t.now() - start).toBe(400);
    expect(t.sleeps.every((s) => s === 100)).toBe(true);
  });

  it('never exceeds rate*window + burst in any window', async () => {
    const t = fakeTime();
    const limiter = createRateLimiter({ ratePerSecond: 20, now: t.now, sleep: t.sleep });
    const times: number[] = [];
    for (let i = 0; i < 100; i++) {
      await limiter.acquire();
      times.push(t.now());
    }
    for (const start of times) {
      const inWindow = times.filter((x) => x >= start && x < start + 1_000).length;
      expect(inWindow).toBeLessThanOrEqual(20 + 20);
    }
    expect(present(times.at(-1)) - present(times[0])).toBeGreaterThanOrEqual(((100 - 20) / 20) * 1_000 - 1);
  });

  it('refills after a quiet period and reports the wait', async () => {
    const t = fakeTime();
    const limiter = createRateLimiter({ ratePerSecond: 5, burst: 1, now: t.now, sleep: t.sleep });
    await limiter.acquire();
    expect(limiter.peekWaitMs()).toBe(200);
    t.advance(200);
    expect(limiter.peekWaitMs()).toBe(0);
    await limiter.acquire();
    expect(t.sleeps).toEqual([]);
  });

  it('reserves in call order for concurrent callers', async () => {
    const t = fakeTime();
    const waits: number[] = [];
    const limiter = createRateLimiter({ ratePerSecond: 10, burst: 1, now: t.now, sleep: async (ms) => void waits.push(ms) });
    await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    expect(waits).toEqual([100, 200]);
  });

  it('is disabled by 0', async () => {
    const sleep = vi.fn(async () => undefined);
    const limiter = createRateLimiter({ ratePerSecond: 0, sleep });
    for (let i = 0; i < 1_000; i++) await limiter.acquire();
    expect(sleep).not.toHaveBeenCalled();
  });
});
