/**
 * The one place that decides what is retried and how long to wait. `classifyFailure` maps anything an API call can
 * throw (pop-core API errors, json-bigint's plain-object SyntaxError, httpx timeouts, socket errors, our own
 * ApiError) to `{ code, retryable, ... }`; `withRetry` runs a function under a full-jitter exponential backoff bounded
 * by attempts and by the invocation's deadline.
 */
import { ApiError, AppError } from '../errors';
import type { Deadline } from '../deadline';
import { realSleep } from './rate-limit';

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

/** The socket-level error codes that mean "the connection failed, the request may be sent again". */
export const RETRYABLE_SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EAI_AGAIN',
]);

const RETRYABLE_API_CODES = new Set(['ServiceUnavailable', 'InternalError', 'UnknownError', 'Rejected.Throttling']);

/**
 * Whether an API `Code` (or one of our transport codes) is worth retrying: `Throttling*`, `Rejected.Throttling`,
 * `ServiceUnavailable`, `InternalError`/`InternalError.*`, `UnknownError`, `RequestTimeout`, the socket codes,
 * `NonJsonResponse`, `HttpStatus5xx` and `HttpStatus429`. Everything else (InvalidParameter, EntityNotExists.*,
 * SignatureDoesNotMatch, Forbidden*, ...) is not.
 * @example isRetryableCode('Throttling.User') // true
 */
export function isRetryableCode(code: string): boolean {
  return (
    code.startsWith('Throttling') ||
    RETRYABLE_API_CODES.has(code) ||
    code.startsWith('InternalError.') ||
    code === 'RequestTimeout' ||
    code === 'NonJsonResponse' ||
    RETRYABLE_SOCKET_CODES.has(code) ||
    /^HttpStatus(5\d\d|429)$/.test(code)
  );
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
      retryable: isRetryableCode(apiCode),
      requestId: str(data?.RequestId),
      httpStatus,
    };
  }
  const message = sanitizeMessage(str(err.message) ?? 'unknown failure');
  if (err.name === 'RequestTimeoutError') return { code: 'RequestTimeout', message, retryable: true };
  const sysCode = str(err.code);
  if (sysCode !== undefined && RETRYABLE_SOCKET_CODES.has(sysCode)) return { code: sysCode, message, retryable: true };
  if (/socket hang up/i.test(message)) return { code: 'ECONNRESET', message, retryable: true };
  return { code: sysCode ?? 'ClientError', message, retryable: false };
}

/** True when {@link classifyFailure} says the failure may be retried. */
export function isRetryable(err: unknown): boolean {
  return classifyFailure(err).retryable;
}

/** What `onRetry` is told before each backoff sleep (frozen). */
export interface RetryEvent {
  readonly error: unknown;
  /** The 1-based attempt that just failed. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly retriesLeft: number;
}

/** Options of {@link withRetry}. */
export interface WithRetryOptions {
  /** Overrides of {@link DEFAULT_RETRY_POLICY}. @default {} */
  policy?: Partial<RetryPolicy>;
  /** The invocation's deadline: no sleep ends past it, no retry starts without `minAttemptMs` left. @default no deadline */
  deadline?: Pick<Deadline, 'remaining'>;
  /** Whether a failure may be retried. @default isRetryable */
  classify?: (error: unknown) => boolean;
  /** Called before each backoff sleep (logging, stats). @default none */
  onRetry?: (event: RetryEvent) => void;
  /** @default setTimeout-based sleep */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform random source in [0, 1). @default Math.random */
  random?: () => number;
  /** Stops retrying (the last error is thrown) once aborted. @default none */
  signal?: AbortSignal;
}

/**
 * Runs `fn(attempt)` until it resolves, a failure is not retryable, the attempts are used up, the deadline cannot fit
 * another attempt, or `signal` aborts. The last error is rethrown unchanged (callers wrap it: `fn` knows `attempt`).
 *
 * @example await withRetry((attempt) => call(attempt), { policy: { maxAttempts: 3 }, deadline })
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: WithRetryOptions = {}): Promise<T> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const maxAttempts = Math.max(1, Math.floor(policy.maxAttempts));
  const classify = options.classify ?? isRetryable;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || options.signal?.aborted || !classify(error)) throw error;
      const delayMs = backoffDelay(attempt, policy, random);
      const remaining = options.deadline?.remaining() ?? Number.POSITIVE_INFINITY;
      if (remaining - delayMs < policy.minAttemptMs) throw error;
      options.onRetry?.(Object.freeze({ error, attempt, delayMs, retriesLeft: maxAttempts - attempt }));
      await sleep(delayMs);
      if (options.signal?.aborted) throw error;
    }
  }
}
