/**
 * The one factory for the OOS and ECS RPC clients, on `@alicloud/pop-core` (signature v1, form-POST). It adds what
 * pop-core lacks: per-request credentials, explicit timeouts, an adaptive rate limit, retries (see ./retry), typed errors that
 * never carry the signed URL, HTTP-status checks (pop-core treats a Code-less 5xx as success) and clean JSON results.
 */
import RPCClient from '@alicloud/pop-core/lib/rpc';
import { bigNumberValue, installResponseHooks, isPlainParsed, withRawBodies, type RawBodyOptions } from './json-parse';
import { type Deadline, noDeadline } from '../deadline';
import { ApiError } from '../errors';
import { type Logger, silentLogger } from '../log';
import type { CredentialsSource } from './credentials';
import { API_VERSIONS, type Service, defaultEndpoint, normalizeEndpoint } from './endpoints';
import { createAdaptiveRateLimiter, type AdaptiveRateLimiter } from './rate-limit';
import { type RetryPolicy, apiError, classifyFailure, isThrottlingCode, retryPolicy, sanitizeMessage, withRetry } from './retry';

/** Request parameters: top-level scalars; `undefined` values are dropped. JSON-typed parameters must be strings. */
export type RpcParams = Record<string, string | number | boolean | undefined>;

/** A client of one RPC service in one region. */
export interface RpcClient {
  readonly service: Service;
  readonly regionId: string;
  /**
   * Calls `action` (POST, form body) with retries. Resolves to the response body as plain JSON values.
   * @throws ApiError for every failure (API error, transport error, deadline).
   */
  request<T>(action: string, params: RpcParams): Promise<T & { RequestId?: string }>;
  /** `apiCalls` counts every HTTP attempt; `retries` the attempts after a first one; `throttles` those retries the API throttled. */
  readonly stats: { readonly apiCalls: number; readonly retries: number; readonly throttles: number };
}

/** Options of {@link createRpcClient}. */
export interface RpcClientOptions {
  service: Service;
  regionId: string;
  credentials: CredentialsSource;
  /** A full endpoint URL (AppConfig.rpcEndpoints). @default defaultEndpoint(service, regionId) */
  endpoint?: string;
  /** Connect and read timeout of each attempt (clamped to the deadline's remaining time). @default 10000 */
  timeoutMs?: number;
  /** Overrides of the retry policy. @default DEFAULT_RETRY_POLICY (6 attempts, 200 ms base, 5 s cap) */
  retry?: Partial<RetryPolicy>;
  /**
   * The send-rate limiter, shared by every client that should share what the API allows (one per service and
   * region in an invocation: see lib/runtime.ts). @default a new adaptive limiter without a ceiling
   */
  limiter?: AdaptiveRateLimiter;
  /** The invocation's deadline: bounds timeouts, sleeps and retries. @default noDeadline */
  deadline?: Deadline;
  /** Gets one warn line per retry. @default silentLogger */
  logger?: Logger;
  /** Injected into the retry loop (tests). @default setTimeout-based sleep */
  sleep?: (ms: number) => Promise<void>;
  /** Injected into the backoff jitter (tests). @default Math.random */
  random?: () => number;
}

interface PopEntry {
  response?: { statusCode?: number } | null;
}
interface PopConfig {
  endpoint: string;
  apiVersion: string;
  credentialsProvider: { getCredentials(): Promise<{ accessKeyId: string; accessKeySecret: string; securityToken?: string | undefined }> };
}
interface PopVerboseClient {
  request(action: string, params: Record<string, string | number | boolean>, opts: Record<string, unknown>): Promise<[unknown, PopEntry]>;
}
// pop-core's d.ts knows neither `credentialsProvider` (1.8.0+) nor the `verbose` constructor argument.
const PopRpcClient = RPCClient as unknown as new (config: PopConfig, verbose: true) => PopVerboseClient;

/**
 * Converts a pop-core result to plain JSON values: null-prototype objects become plain objects, json-bigint
 * BigNumbers become a number when a JS number represents them exactly, else their exact decimal string.
 * @example toPlainJson(JSONbig.parse('{"n":12345678901234567890}')) // { n: '12345678901234567890' }
 */
export function toPlainJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
  if (Array.isArray(value)) return value.map(toPlainJson);
  const v = value as Record<string, unknown> & { _isBigNumber?: unknown; toFixed?: unknown };
  if (v._isBigNumber === true && typeof v.toFixed === 'function') return bigNumberValue(v);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(v)) {
    // Own, enumerable keys only; `__proto__` is defined as data, never as the prototype.
    Object.defineProperty(out, key, { value: toPlainJson(v[key]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const URL_WITH_QUERY = /https?:\/\/[^\s?#]*[?#]/;

/**
 * The cause an ApiError keeps: the original error, unless its message could carry a signed URL (a URL with a query
 * string, which pop-core/httpx put there for GET requests) or it is json-bigint's plain object (whose `text` is the
 * whole body). Those are replaced by an Error with a sanitised message; the original stays reachable as the
 * non-enumerable `original` property, which loggers do not walk.
 */
function safeCause(err: unknown, message: string): unknown {
  if (err instanceof Error) {
    if (!URL_WITH_QUERY.test(err.message)) return err;
  } else if (err === null || typeof err !== 'object') {
    return err;
  }
  const source = err as { name?: unknown; code?: unknown };
  const copy = Object.assign(new Error(err instanceof Error ? sanitizeMessage(err.message) : message), {
    name: typeof source.name === 'string' ? source.name : 'Error',
    ...(typeof source.code === 'string' ? { code: source.code } : {}),
  });
  Object.defineProperty(copy, 'original', { value: err, enumerable: false });
  return copy;
}

/**
 * Wraps a failure of one attempt as the ApiError callers see.
 * @example toApiError(err, { service: 'oos', action: 'ListExecutions', attempts: 2 })
 */
export function toApiError(err: unknown, where: { service: string; action: string; attempts: number }): ApiError {
  if (err instanceof ApiError && err.attempts === where.attempts) return err;
  const info = classifyFailure(err);
  return apiError(where, info, { cause: err instanceof ApiError ? err.cause : safeCause(err, info.message) });
}

/**
 * Creates an RPC client of OOS (2019-06-01) or ECS (2014-05-26).
 * @throws ConfigError when the endpoint is malformed or the region id is invalid.
 * @example
 * const oos = createRpcClient({ service: 'oos', regionId: 'cn-hangzhou', credentials: resolveCredentials({ context }), deadline });
 * const page = await oos.request<{ Executions: unknown[] }>('ListExecutions', { RegionId: 'cn-hangzhou', MaxResults: 100 });
 */
export function createRpcClient(options: RpcClientOptions): RpcClient {
  // pop-core parses with json-bigint and reads with httpx: the fast parse and the raw-body read go in before any call.
  installResponseHooks();
  const { service, regionId } = options;
  const endpoint = options.endpoint !== undefined ? normalizeEndpoint(options.endpoint, 'endpoint') : defaultEndpoint(service, regionId);
  const credentials = options.credentials;
  const pop = new PopRpcClient(
    {
      endpoint,
      apiVersion: API_VERSIONS[service],
      credentialsProvider: { getCredentials: () => credentials.get() },
    },
    true,
  );
  const policy = retryPolicy(options.retry);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = options.deadline ?? noDeadline;
  const logger = (options.logger ?? silentLogger).child({ service, regionId });
  const limiter = options.limiter ?? createAdaptiveRateLimiter({ deadline, sleep: options.sleep });
  const stats = { apiCalls: 0, retries: 0, throttles: 0 };

  async function attemptOnce(action: string, params: Record<string, string | number | boolean>, attempt: number): Promise<unknown> {
    await limiter.acquire();
    if (deadline.remaining() <= 0) {
      // Not an HTTP attempt: `attempts` counts the ones actually sent.
      throw apiError({ service, action, attempts: attempt - 1 }, { code: 'DeadlineExceeded', message: 'the invocation deadline was reached before the call' });
    }
    stats.apiCalls++;
    // httpx applies `timeout` to connect and read alike; never wait past the deadline for an answer.
    const timeout = Math.max(1, Math.min(timeoutMs, Math.floor(deadline.remaining())));
    let json: unknown;
    let entry: PopEntry;
    try {
      [json, entry] = await pop.request(action, params, { method: 'POST', timeout });
    } catch (err) {
      const apiErr = toApiError(err, { service, action, attempts: attempt });
      if (isThrottling(apiErr)) limiter.record('throttled');
      throw apiErr;
    }
    const status = entry.response?.statusCode;
    limiter.record(status === 429 ? 'throttled' : 'ok');
    if (status !== undefined && (status < 200 || status >= 300)) {
      // pop-core only looks at `Code`: a non-2xx answer without one would otherwise pass as an (empty) success.
      const body = json as { RequestId?: unknown; Message?: unknown } | null;
      throw apiError(
        { service, action, attempts: attempt },
        {
          code: `HttpStatus${status}`,
          message: typeof body?.Message === 'string' ? body.Message : `HTTP ${status} without an error Code`,
          requestId: typeof body?.RequestId === 'string' ? body.RequestId : undefined,
          httpStatus: status,
        },
      );
    }
    return isPlainParsed(json) ? json : toPlainJson(json);
  }

  return {
    service,
    regionId,
    stats: {
      get apiCalls() {
        return stats.apiCalls;
      },
      get retries() {
        return stats.retries;
      },
      get throttles() {
        return stats.throttles;
      },
    },
    async request<T>(action: string, params: RpcParams): Promise<T & { RequestId?: string }> {
      const clean: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(params)) if (v !== undefined) clean[k] = v;
      try {
        const result = await withRetry((attempt) => attemptOnce(action, clean, attempt), {
          policy,
          deadline,
          sleep: options.sleep,
          random: options.random,
          onRetry: ({ error, attempt, delayMs }) => {
            stats.retries++;
            const e = error as ApiError;
            if (isThrottling(e)) stats.throttles++;
            logger.warn('api call retry', { action, code: e.code, requestId: e.requestId, httpStatus: e.httpStatus, attempt, delayMs });
          },
        });
        return result as T & { RequestId?: string };
      } catch (err) {
        throw err instanceof ApiError ? err : toApiError(err, { service, action, attempts: 1 });
      }
    },
  };
}

/** The API refused the call for its rate (`Throttling*`, `Rejected.Throttling`, HTTP 429). */
function isThrottling(err: ApiError): boolean {
  return isThrottlingCode(err.code) || err.httpStatus === 429;
}

/**
 * The same client, but its calls' large bodies are scanned, not parsed (./json-parse.ts, {@link withRawBodies}): the
 * results' deep containers are `RawSpan`s, and `rawTextOf(object)` gives a built object's text to store.
 * @example const page = await rawBodyClient(ecs, { depth: 5 }).request('DescribeInvocations', { InvokeId })
 */
export function rawBodyClient(client: RpcClient, options: RawBodyOptions): RpcClient {
  return {
    service: client.service,
    regionId: client.regionId,
    get stats() {
      return client.stats;
    },
    request: (action, params) => withRawBodies(options, () => client.request(action, params)),
  };
}
