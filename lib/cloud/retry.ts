/**
 * The one place that decides what is retried and how long to wait. `classifyFailure` maps anything an API call can
 * throw (pop-core API errors, json-bigint's plain-object SyntaxError, httpx timeouts, socket errors, our own
 * ApiError) to `{ code, retryable, ... }`; `withRetry` runs a function under a full-jitter exponential backoff bounded
 * by attempts and by the invocation's deadline.
 */
import { ApiError, AppError, StorageError } from '../errors';
import type { Deadline } from '../deadline';

/** How retries are spaced and bounded. */
export interface RetryPolicy {
  /** Attempts in total, including the first. @default 6 */
  maxAttempts: number;
  /** Backoff base: the delay cap before retry n is `min(maxDelayMs, baseDelayMs * 2^(n-1))`. @default 200 */
  baseDelayMs: number;
  /** Upper bound of a single backoff delay. @default 5000 */
  maxDelayMs: number;
  /** A retry is only started if at least this much of the deadline is left after the backoff sleep. @default 500 */
  minAttemptMs: number;
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 6,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  minAttemptMs: 500,
});

/**
 * Full-jitter exponential backoff ("Exponential Backoff And Jitter", AWS architecture blog): a uniformly random delay
 * in `[0, min(maxDelayMs, baseDelayMs * 2^(attempt-1)))`, so concurrent clients that were throttled together do not
 * come back together.
 *
 * @param attempt the 1-based number of the attempt that just failed.
 * @param random a uniform source in [0, 1). @default Math.random
 * @example backoffDelay(3, DEFAULT_RETRY_POLICY, () => 0.5) // 400
 */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(Math.min(0.999_999, Math.max(0, random())) * ceiling);
}

/**
 * Codes of a request that got no answer (the connection failed, broke off or timed out), so it may be sent again:
 * node's socket errors, the timeouts as pop-core/httpx (`RequestTimeout`), the Tea SDK of FC (`ReadTimeout`,
 * `ConnectTimeout`) and ali-oss (`ResponseTimeoutError`, `ConnectionTimeoutError`) name them, and ali-oss's
 * `RequestError`/`ResponseError` (no usable answer). They count only when no HTTP status came back.
 *
 * Decision: `ENOTFOUND` is not retried, by any client. getaddrinfo says ENOTFOUND when the name does not exist
 * (NXDOMAIN): a mistyped endpoint or region, which six attempts with backoff would only hide for half a minute. A
 * resolver that is briefly unreachable answers `EAI_AGAIN`, which is retried.
 */
export const RETRYABLE_TRANSPORT_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
  'RequestTimeout',
  'ReadTimeout',
  'ConnectTimeout',
  'ResponseTimeoutError',
  'ConnectionTimeoutError',
  'RequestError',
  'ResponseError',
]);

const RETRYABLE_API_CODES = new Set(['ServiceUnavailable', 'InternalError', 'UnknownError', 'Rejected.Throttling', 'NonJsonResponse']);

/** An answer that says "try again later": any 5xx, and 429 Too Many Requests. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

function isRetryableApiCode(code: string): boolean {
  return (
    code.startsWith('Throttling') ||
    RETRYABLE_API_CODES.has(code) ||
    code.startsWith('InternalError.') ||
    /^HttpStatus(5\d\d|429)$/.test(code)
  );
}

/**
 * Whether a `Code` (an API's, or one of our transport codes) is worth retrying: `Throttling*`, `Rejected.Throttling`,
 * `ServiceUnavailable`, `InternalError`/`InternalError.*`, `UnknownError`, `NonJsonResponse`, `HttpStatus5xx`,
 * `HttpStatus429` and {@link RETRYABLE_TRANSPORT_CODES}. Everything else (InvalidParameter, EntityNotExists.*,
 * SignatureDoesNotMatch, Forbidden*, ENOTFOUND, ...) is not.
 * @example isRetryableCode('Throttling.User') // true
 */
export function isRetryableCode(code: string): boolean {
  return isRetryableApiCode(code) || RETRYABLE_TRANSPORT_CODES.has(code);
}

/**
 * The one retry decision, for every client (OOS/ECS RPC, FC invoke, OSS): a 5xx or 429 answer, an API code that
 * names throttling or a server-side fault, or, when no answer came at all, a transport code.
 * @example isRetryableFailure({ code: 'RequestError' }) // true; with httpStatus: 403 it is false
 */
export function isRetryableFailure(failure: { code: string; httpStatus?: number | undefined }): boolean {
  if (failure.httpStatus !== undefined && isRetryableStatus(failure.httpStatus)) return true;
  if (isRetryableApiCode(failure.code)) return true;
  return failure.httpStatus === undefined && RETRYABLE_TRANSPORT_CODES.has(failure.code);
}

/**
 * Whether a code means the API's flow control refused the call (`Throttling*`, `Rejected.Throttling`, HTTP 429):
 * the adaptive rate limiter slows down on these, not on other retryable failures.
 * @example isThrottlingCode('Throttling.User') // true
 */
export function isThrottlingCode(code: string): boolean {
  return code.startsWith('Throttling') || code === 'Rejected.Throttling' || code === 'HttpStatus429';
}

/** What is known about one failed attempt. */
export interface FailureInfo {
  /** The API's `Code`, or `RequestTimeout`, `ECONNRESET`..., `NonJsonResponse`, `HttpStatus<nnn>`, `ClientError`. */
  code: string;
  /** A message safe to show and log (pop-core's `, URL: ...` suffix and any query string removed). */
  message: string;
  retryable: boolean;
  requestId?: string | undefined;
  httpStatus?: number | undefined;
}

/**
 * Removes what could carry a signature or a token from a message: pop-core's `, URL: <signed url>` suffix and the
 * query string of any URL.
 * @example sanitizeMessage('Bad, URL: https://h/?Signature=x') // 'Bad'
 */
export function sanitizeMessage(message: string): string {
  return message
    .replace(/, URL: [\s\S]*$/, '')
    .replace(/([^\s.])((?:GET|POST) https?:\/\/)/, '$1. $2') // httpx appends "<METHOD> <url> failed." without a space
    .replace(/(https?:\/\/[^\s?#]*)[?#]\S*/g, '$1?[redacted]');
}

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** True for json-bigint's parse failure: a plain object `{ name: 'SyntaxError', message, at, text }` (or a real SyntaxError). */
export function isJsonSyntaxError(err: unknown): boolean {
  return err instanceof SyntaxError || (isObject(err) && !(err instanceof Error) && err.name === 'SyntaxError');
}

/**
 * Classifies anything an API attempt can throw. Pop-core API errors keep the body's `Code`, `Message`, `RequestId`
 * and the HTTP status from `err.entry.response.statusCode`.
 * @example classifyFailure({ name: 'SyntaxError', message: "Unexpected '<'" }).code // 'NonJsonResponse'
 */
export function classifyFailure(err: unknown): FailureInfo {
  if (err instanceof ApiError) {
    return { code: err.code, message: err.apiMessage, retryable: err.retryable, requestId: err.requestId, httpStatus: err.httpStatus };
  }
  if (err instanceof StorageError) {
    return { code: err.code, message: err.message, retryable: isRetryableFailure({ code: err.code, httpStatus: err.status }), httpStatus: err.status };
  }
  if (err instanceof AppError) return { code: err.code, message: sanitizeMessage(err.message), retryable: false };
  if (isJsonSyntaxError(err)) {
    const detail = isObject(err) ? str(err.message) : undefined;
    return { code: 'NonJsonResponse', message: `the response body is not JSON${detail ? ` (${detail})` : ''}`, retryable: true };
  }
  if (!isObject(err)) return { code: 'ClientError', message: sanitizeMessage(String(err)), retryable: false };
  const data = isObject(err.data) ? err.data : undefined;
  const entry = isObject(err.entry) ? err.entry : undefined;
  const response = entry && isObject(entry.response) ? entry.response : undefined;
  const httpStatus = response && typeof response.statusCode === 'number' ? response.statusCode : undefined;
  const apiCode = str(data?.Code) ?? (data ? str(err.code) : undefined);
  if (apiCode !== undefined) {
    return {
      code: apiCode,
      message: sanitizeMessage(str(data?.Message) ?? str(err.message) ?? apiCode),
      retryable: isRetryableFailure({ code: apiCode, httpStatus }),
      requestId: str(data?.RequestId),
      httpStatus,
    };
  }
  const message = sanitizeMessage(str(err.message) ?? 'unknown failure');
  if (err.name === 'RequestTimeoutError') return { code: 'RequestTimeout', message, retryable: true };
  const sysCode = str(err.code);
  if (sysCode !== undefined && isRetryableFailure({ code: sysCode })) return { code: sysCode, message, retryable: true };
  if (/socket hang up/i.test(message)) return { code: 'ECONNRESET', message, retryable: true };
  return { code: sysCode ?? 'ClientError', message, retryable: false };
}

/** True when {@link classifyFailure} says the failure may be retried. */
export function isRetryable(err: unknown): boolean {
  return classifyFailure(err).retryable;
}

/** Where a call failed: the API, and how many HTTP attempts were sent (1 = not retried). */
export interface CallSite {
  service: string;
  action: string;
  attempts: number;
}

/** What a caller knows about a failure it detected itself (a bad status, a contract break, no credentials...). */
export interface Failure {
  code: string;
  message: string;
  requestId?: string | undefined;
  httpStatus?: number | undefined;
  /** Decided by {@link isRetryableFailure} when omitted; given only when {@link classifyFailure} already decided. */
  retryable?: boolean;
}

/**
 * The one way an ApiError is built: the call site plus the failure; whether it may be retried is the classifier's
 * decision, not the caller's.
 * @example throw apiError({ service: 'fc', action: 'InvokeFunction', attempts: 1 }, { code: 'UnexpectedStatus', message: 'HTTP 200, expected 202', httpStatus: 200 })
 */
export function apiError(where: CallSite, failure: Failure, options: { cause?: unknown } = {}): ApiError {
  return new ApiError(
    {
      ...where,
      code: failure.code,
      apiMessage: failure.message,
      requestId: failure.requestId,
      httpStatus: failure.httpStatus,
      retryable: failure.retryable ?? isRetryableFailure(failure),
    },
    options,
  );
}

/**
 * {@link DEFAULT_RETRY_POLICY} with `overrides`, checked: a NaN, fractional or out-of-range value would otherwise
 * retry without bound or never sleep.
 * @throws TypeError naming the option.
 * @example retryPolicy({ maxAttempts: 3 })
 */
export function retryPolicy(overrides: Partial<RetryPolicy> = {}): Readonly<RetryPolicy> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) {
    throw new TypeError(`Expected \`maxAttempts\` to be an integer from 1 and up, got ${policy.maxAttempts}`);
  }
  for (const name of ['baseDelayMs', 'maxDelayMs', 'minAttemptMs'] as const) {
    if (!Number.isFinite(policy[name]) || policy[name] < 0) {
      throw new TypeError(`Expected \`${name}\` to be a finite number from 0 and up, got ${policy[name]}`);
    }
  }
  return Object.freeze(policy);
}

/**
 * Resolves after `ms`, or as soon as `signal` aborts (never rejects: the caller decides what an abort means).
 * @example await sleepUnless(500, deadline.signal)
 */
export function sleepUnless(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** What `onRetry` is told before each backoff sleep (frozen). */
export interface RetryEvent {
  readonly error: unknown;
  /** The 1-based attempt that just failed. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly retriesLeft: number;
}

/** The part of the invocation's deadline retries look at (its signal, when there is one, cuts sleeps short). */
export type RetryDeadline = Pick<Deadline, 'remaining'> & Partial<Pick<Deadline, 'signal'>>;

/** Options of {@link withRetry}. */
export interface WithRetryOptions {
  /** Overrides of {@link DEFAULT_RETRY_POLICY}, checked by {@link retryPolicy}. @default {} */
  policy?: Partial<RetryPolicy> | undefined;
  /**
   * The invocation's deadline: no sleep ends past it, no retry starts without `minAttemptMs` left, and its `signal`
   * cuts a backoff sleep short (the last error is thrown). @default no deadline
   */
  deadline?: RetryDeadline | undefined;
  /** Whether a failure may be retried. @default isRetryable */
  classify?: ((error: unknown) => boolean) | undefined;
  /** Called before each backoff sleep (logging, stats). @default none */
  onRetry?: ((event: RetryEvent) => void) | undefined;
  /** Injected in tests; gets the abort signal too. @default {@link sleepUnless} */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Uniform random source in [0, 1). @default Math.random */
  random?: (() => number) | undefined;
  /** Stops retrying (the last error is thrown) once aborted. @default the deadline's signal */
  signal?: AbortSignal | undefined;
}

/**
 * Runs `fn(attempt)` until it resolves, a failure is not retryable, the attempts are used up, the deadline cannot fit
 * another attempt, or the signal aborts (also during a backoff sleep). The last error is rethrown unchanged (callers
 * wrap it: `fn` knows `attempt`).
 *
 * @throws TypeError when the policy is malformed (before the first attempt).
 * @example await withRetry((attempt) => call(attempt), { policy: { maxAttempts: 3 }, deadline })
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: WithRetryOptions = {}): Promise<T> {
  const policy = retryPolicy(options.policy);
  const classify = options.classify ?? isRetryable;
  const sleep = options.sleep ?? sleepUnless;
  const random = options.random ?? Math.random;
  const signal = options.signal ?? options.deadline?.signal;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts || signal?.aborted || !classify(error)) throw error;
      const delayMs = backoffDelay(attempt, policy, random);
      const remaining = options.deadline?.remaining() ?? Number.POSITIVE_INFINITY;
      if (remaining - delayMs < policy.minAttemptMs) throw error;
      options.onRetry?.(Object.freeze({ error, attempt, delayMs, retriesLeft: policy.maxAttempts - attempt }));
      await sleep(delayMs, signal);
      if (signal?.aborted) throw error;
    }
  }
}
