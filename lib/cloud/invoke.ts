/**
 * Invoking a sibling Function Compute 3.0 function (fan-out). FC 3.0 functions have no service, so the 2016-08-15
 * API (`@alicloud/fc2`) cannot address them; this uses `@alicloud/fc20230330` (V3 signatures).
 *
 * That SDK is heavy (~1 MB of generated models, ~100 ms to load): it is loaded on the first invocation, not when the
 * function starts, so the many event deliveries that never fan out don't pay for it on a cold start.
 */
import { Readable } from 'node:stream';
import type FcClient from '@alicloud/fc20230330';
import type * as $FC from '@alicloud/fc20230330';
import { ApiError } from '../errors';
import type { Deadline } from '../deadline';
import type { Logger } from '../log';
import type * as FcSdkModule from './fc-sdk';
import { apiError, retryPolicy, withRetry, type CallSite, type RetryDeadline, type RetryPolicy } from './retry';

type FcSdk = typeof FcSdkModule;

let sdk: Promise<FcSdk> | undefined;

/**
 * The SDK module, loaded once. The build keeps `./fc-sdk` out of the function's bundle (it becomes a file of its
 * own beside it), so only an invocation that fans out pays for loading it.
 */
function loadSdk(): Promise<FcSdk> {
  sdk ??= import('./fc-sdk');
  return sdk;
}

/** Options of one invocation. */
export interface InvokeOptions {
  /**
   * Async only: `x-fc-async-task-id` (letters, digits, `_`, `-`, starting with a letter or `_`, ≤ 128). Makes the
   * invocation idempotent: a task id FC already accepted is answered `AsyncTaskAlreadyExists`, which
   * `invokeAsync` reports as `{ duplicate: true }` instead of an error.
   */
  taskId?: string | undefined;
  /** Version or alias (default: LATEST). */
  qualifier?: string | undefined;
}

/** The answer to an async invocation. */
export interface AsyncInvocation {
  /** `x-fc-request-id` of the accepted invocation (or of the duplicate rejection). */
  requestId: string;
  /** True when FC already had this `taskId` (the earlier invocation stands; nothing new was queued). */
  duplicate?: boolean;
}

/**
 * Asynchronous invocation of a function: the one interface of the FC invoke client that the fan-out sees
 * ({@link FunctionInvoker} extends it with synchronous invocations); lib/fanout.ts hands it on.
 */
export interface AsyncInvoker {
  /** Queues an async invocation (FC answers 202); `payload` is sent as is if Buffer/string, else as JSON. */
  invokeAsync(functionName: string, payload: unknown, options?: InvokeOptions): Promise<AsyncInvocation>;
}

/** The keys FC is called with (the function's STS credentials in FC). */
export interface InvokerCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

/** Options of {@link createFunctionInvoker}. */
export interface FunctionInvokerOptions {
  /** The Alibaba Cloud account id (FC: `context.accountId`). */
  accountId: string;
  /** The region (config `regionId`: ALIBABA_CLOUD_REGION, else FC_REGION). */
  regionId: string;
  /** Called for every invocation (cheap in FC: it reads the context); rotating STS keys are picked up. */
  credentials: () => Promise<InvokerCredentials>;
  /**
   * `ALIBABA_CLOUD_FC_ENDPOINT`: `http(s)://host[:port]` or a bare host (https). Default
   * `https://<accountId>.<regionId>.fc.aliyuncs.com`.
   */
  endpoint?: string | undefined;
  /** Connect and read timeout, ms (default 10000; sync invocations wait for the function, so raise it for those). */
  timeoutMs?: number | undefined;
  /**
   * Async invocations that fail with a throttling code, a 5xx or a network error are retried with the project's
   * retry policy (safe: a task id makes a repeated async invocation a no-op). @default DEFAULT_RETRY_POLICY
   */
  retry?: Partial<RetryPolicy> | undefined;
  /** No retry sleeps past it (the invocation's deadline). */
  deadline?: RetryDeadline | undefined;
  /** Injected in tests. */
  sleep?: ((ms: number) => Promise<void>) | undefined;
  logger?: Logger | undefined;
}

/** The answer to a sync invocation. */
export interface SyncInvocation {
  requestId: string;
  /** The function's result. */
  body: Buffer;
  /** Base64 decoded `x-fc-log-result` when present. */
  logTail?: string | undefined;
}

/** Invokes other FC 3.0 functions: the fan-out's {@link AsyncInvoker}, and synchronous invocations. */
export interface FunctionInvoker extends AsyncInvoker {
  /**
   * Invokes synchronously and returns the function's result. A function that threw (FC answers 200 with
   * `x-fc-error-type`) becomes an `ApiError` whose code is that error type and whose message is the function's.
   */
  invokeSync(functionName: string, payload: unknown, options?: Omit<InvokeOptions, 'taskId'>): Promise<SyncInvocation>;
}

/** FC's async payload limit, 128 KB (the service enforces it; exported for callers that want to check first). */
export const FC_ASYNC_PAYLOAD_LIMIT = 128 * 1024;
/** FC's sync payload limit, 32 MB. */
export const FC_SYNC_PAYLOAD_LIMIT = 32 * 1024 * 1024;

function toPayload(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  return Buffer.from(JSON.stringify(payload ?? null), 'utf8');
}

/** Splits `http://host:port` into the SDK's `endpoint` and `protocol`. */
export function parseFcEndpoint(endpoint: string): { endpoint: string; protocol: 'http' | 'https' } {
  const m = /^(https?):\/\/([^/]+)\/?$/i.exec(endpoint.trim());
  if (m && m[1] && m[2]) return { endpoint: m[2], protocol: m[1].toLowerCase() as 'http' | 'https' };
  return { endpoint: endpoint.trim().replace(/\/+$/, ''), protocol: 'https' };
}

async function readAll(stream: Readable | undefined): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as string));
  return Buffer.concat(chunks);
}

interface SdkErrorLike {
  code?: unknown;
  statusCode?: unknown;
  requestId?: unknown;
  message?: unknown;
  name?: unknown;
  data?: unknown;
}

const INVOKE: CallSite = Object.freeze({ service: 'fc', action: 'InvokeFunction', attempts: 1 });

/** Maps an SDK (Tea/Darabonba) or network error to an `ApiError` of service `fc`. */
export function toFcApiError(err: unknown, action: string): ApiError {
  if (err instanceof ApiError) return err;
  const e: SdkErrorLike = err && typeof err === 'object' ? (err as SdkErrorLike) : {};
  const data = e.data && typeof e.data === 'object' ? (e.data as Record<string, unknown>) : {};
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const rawCode = typeof e.code === 'string' && e.code !== '' && e.code !== 'undefined' ? e.code : typeof e.name === 'string' ? e.name : 'UnknownError';
  const requestId = typeof e.requestId === 'string' && e.requestId !== 'undefined' ? e.requestId : typeof data.RequestId === 'string' ? data.RequestId : undefined;
  const apiMessage =
    typeof data.Message === 'string'
      ? data.Message
      : typeof e.message === 'string'
        ? e.message.replace(/^code: \d+, /, '').replace(/ request id: \S*$/, '')
        : String(err);
  return apiError({ service: 'fc', action, attempts: 1 }, { code: rawCode, message: apiMessage, requestId, httpStatus: status }, { cause: err });
}

/**
 * Creates an invoker of FC 3.0 functions in one account and region.
 *
 * @example
 *   const invoker = createFunctionInvoker({ accountId: context.accountId, regionId: config.regionId,
 *     endpoint: config.fcEndpoint, credentials: async () => context.credentials });
 *   await invoker.invokeAsync('collect', { executionId }, { taskId: `collect-${executionId}` });
 */
export function createFunctionInvoker(options: FunctionInvokerOptions): FunctionInvoker {
  const target = parseFcEndpoint(options.endpoint?.trim() || `https://${options.accountId}.${options.regionId}.fc.aliyuncs.com`);
  const timeout = options.timeoutMs ?? 10_000;
  const policy = retryPolicy(options.retry);
  let cached: { id: string; client: FcClient } | undefined;

  async function client(): Promise<FcClient> {
    let creds: InvokerCredentials;
    try {
      creds = await options.credentials();
    } catch (err) {
      throw apiError(INVOKE, { code: 'CredentialsUnavailable', message: 'the credentials provider failed' }, { cause: err });
    }
    const id = `${creds.accessKeyId}\0${creds.accessKeySecret}\0${creds.securityToken ?? ''}`;
    if (cached?.id !== id) {
      const { Config, FcClient } = await loadSdk();
      const config = new Config({
        accessKeyId: creds.accessKeyId,
        accessKeySecret: creds.accessKeySecret,
        ...(creds.securityToken ? { securityToken: creds.securityToken } : {}),
        endpoint: target.endpoint,
        protocol: target.protocol,
        regionId: options.regionId,
        readTimeout: timeout,
        connectTimeout: timeout,
      });
      cached = { id, client: new FcClient(config) };
    }
    return cached.client;
  }

  async function invoke(functionName: string, payload: unknown, type: 'Sync' | 'Async', opts: InvokeOptions) {
    const fc = await client();
    const { InvokeFunctionRequest, InvokeFunctionHeaders } = await loadSdk();
    const request = new InvokeFunctionRequest({
      // The SDK needs a Readable (a Buffer throws "readable.on is not a function").
      body: Readable.from([toPayload(payload)]),
      ...(opts.qualifier ? { qualifier: opts.qualifier } : {}),
    });
    const headers = new InvokeFunctionHeaders({
      xFcInvocationType: type,
      xFcLogType: type === 'Sync' ? 'Tail' : 'None',
      ...(opts.taskId ? { xFcAsyncTaskId: opts.taskId } : {}),
    });
    const runtime = { readTimeout: timeout, connectTimeout: timeout, autoretry: false } as unknown as Parameters<FcClient['invokeFunctionWithOptions']>[3];
    return fc.invokeFunctionWithOptions(functionName, request, headers, runtime);
  }

  async function invokeAsyncOnce(functionName: string, payload: unknown, opts: InvokeOptions): Promise<AsyncInvocation> {
    try {
      const res = await invoke(functionName, payload, 'Async', opts);
      await readAll(res.body);
      const requestId = res.headers?.['x-fc-request-id'] ?? '';
      if (res.statusCode !== 202) {
        throw apiError(INVOKE, {
          code: 'UnexpectedStatus',
          message: `async invocation of ${functionName} answered HTTP ${res.statusCode}, expected 202`,
          requestId,
          httpStatus: res.statusCode,
        });
      }
      return { requestId };
    } catch (err) {
      const apiErr = toFcApiError(err, 'InvokeFunction');
      if (opts.taskId && apiErr.code === 'AsyncTaskAlreadyExists') return { requestId: apiErr.requestId ?? '', duplicate: true };
      throw apiErr;
    }
  }

  return {
    async invokeAsync(functionName, payload, opts = {}) {
      return withRetry(() => invokeAsyncOnce(functionName, payload, opts), {
        policy,
        deadline: options.deadline,
        sleep: options.sleep,
        onRetry: ({ error, attempt, delayMs }) =>
          options.logger?.warn('function invocation retry', { functionName, code: (error as ApiError).code, attempt, delayMs }),
      });
    },

    async invokeSync(functionName, payload, opts = {}) {
      let res: $FC.InvokeFunctionResponse;
      let body: Buffer;
      try {
        res = await invoke(functionName, payload, 'Sync', opts);
        body = await readAll(res.body);
      } catch (err) {
        throw toFcApiError(err, 'InvokeFunction');
      }
      const requestId = res.headers?.['x-fc-request-id'] ?? '';
      const logResult = res.headers?.['x-fc-log-result'];
      const logTail = logResult ? Buffer.from(logResult, 'base64').toString('utf8') : undefined;
      const errorType = res.headers?.['x-fc-error-type'];
      if (errorType) {
        let message = body.toString('utf8');
        try {
          const parsed = JSON.parse(message) as { errorMessage?: unknown; errorType?: unknown };
          if (typeof parsed.errorMessage === 'string') message = `${typeof parsed.errorType === 'string' ? `${parsed.errorType}: ` : ''}${parsed.errorMessage}`;
        } catch {
          // not JSON: keep the raw text
        }
        throw apiError(INVOKE, { code: errorType, message: `function ${functionName} failed: ${message}`, requestId, httpStatus: res.statusCode });
      }
      return { requestId, body, ...(logTail !== undefined ? { logTail } : {}) };
    },
  };
}

/**
 * The invoker a handler uses for its fan-out: the FC context's account (or `FC_ACCOUNT_ID` locally), the configured
 * region and FC endpoint override, and the invocation's credentials.
 */
export function invokerFor(rt: {
  context: { accountId?: string | undefined };
  /** What it reads of the configuration (lib/config.ts `AppConfig`). */
  config: { regionId: string; fcEndpoint: string | undefined; apiMaxAttempts: number; fcAccountId: string | undefined };
  credentials: { get(): Promise<InvokerCredentials> };
  deadline: Pick<Deadline, 'remaining'>;
  logger: Logger;
}): FunctionInvoker {
  return createFunctionInvoker({
    accountId: rt.context.accountId ?? rt.config.fcAccountId ?? '',
    regionId: rt.config.regionId,
    credentials: () => rt.credentials.get(),
    endpoint: rt.config.fcEndpoint,
    retry: { maxAttempts: rt.config.apiMaxAttempts },
    deadline: rt.deadline,
    logger: rt.logger,
  });
}
