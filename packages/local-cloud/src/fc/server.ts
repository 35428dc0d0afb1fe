import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { listen } from '../listen';
import { Acs3Error, verifyAcs3, type Acs3Failure } from '../acs3';
import { ACCOUNT_ID, DEMO_KEYS, type DemoKey } from '../credentials';
import { NonceStore } from '../nonces';

/**
 * The local cloud's Function Compute 3.0 invoke API: `POST /2023-03-30/functions/{name}/invocations[?qualifier=]`,
 * as `@alicloud/fc20230330` sends it, with V3 (`ACS3-HMAC-SHA256`) signatures checked for real.
 *
 * It runs no code of its own: functions are JavaScript callbacks registered with {@link FcEmulator.register}.
 *
 * Behaviour (real FC where documented, emulator choices where the docs are silent):
 * - Sync (`x-fc-invocation-type: Sync`, the default): 200 with the function's result as the body and
 *   `x-fc-request-id`. A function that throws gives 200 with `x-fc-error-type: UnhandledInvocationError` and a JSON
 *   body `{ errorMessage, errorType, stackTrace }`.
 * - Async: 202 with an empty body and `x-fc-request-id` at once; the function runs after the response is sent.
 *   `await fc.idle()` waits until every queued async invocation (including ones queued meanwhile) has finished.
 * - `x-fc-async-task-id`: must match `^[A-Za-z_][A-Za-z0-9_-]{0,127}$` (400 `InvalidArgument`). As in Function
 *   Compute, task ids are honoured only for a function with asynchronous tasks enabled (`asyncTask`, s.yaml's
 *   `asyncInvokeConfig.asyncTask: true`): there a task id already accepted for the function gets 409
 *   `AsyncTaskAlreadyExists` and is not run again; for any other function the id is kept on the record and a repeat
 *   runs again.
 * - Payload limits: 128 KB async, 32 MB sync → 400 `EntityTooLarge`.
 * - `x-fc-log-type: Tail`: the last 4 KB of what the function logged (`meta.log`) comes back Base64 in `x-fc-log-result`.
 * - Errors are JSON `{ Code, Message, RequestId }`: 404 `FunctionNotFound`, 403 `SignatureDoesNotMatch`,
 *   403 `InvalidAccessKeyId.NotFound`, 403 `InvalidSecurityToken.Missing` / `.Mismatch`, 403 `SignatureNonceUsed`,
 *   403 `InvalidTimeStamp.Expired`, 400 `InvalidArgument` (bad `x-acs-content-sha256`, bad headers).
 */

/** Async payload limit (128 KB). */
export const FC_ASYNC_PAYLOAD_LIMIT = 128 * 1024;
/** Sync payload limit (32 MB). */
export const FC_SYNC_PAYLOAD_LIMIT = 32 * 1024 * 1024;

/** What a registered function is told about its invocation. */
export interface FcInvocationMeta {
  requestId: string;
  invocationType: 'Sync' | 'Async';
  qualifier: string;
  functionName: string;
  /** The async task id, when one was given. */
  taskId?: string | undefined;
  /** 1 for the first attempt; async retries count up. */
  attempt: number;
  /** Appends a line to the invocation's log (returned for `x-fc-log-type: Tail`). */
  log(line: string): void;
}

/** A registered function: gets the raw payload, returns the result body. */
export type FcFunction = (payload: Buffer, meta: FcInvocationMeta) => Promise<Buffer | string> | Buffer | string;

/** Options of a registered function. */
export interface FcRegisterOptions {
  /**
   * How many times a failed async invocation is retried (real FC defaults to 3 via the async invocation config;
   * the emulator defaults to 0 so tests are deterministic).
   */
  asyncRetries?: number;
  /**
   * Asynchronous tasks enabled (fc3 `asyncInvokeConfig.asyncTask: true`): only then is a task id honoured (a repeat
   * answered 409 `AsyncTaskAlreadyExists`). @default false, as in Function Compute
   */
  asyncTask?: boolean;
}

/** One entry of {@link FcEmulator.invocations}. */
export interface FcInvocationRecord {
  requestId: string;
  functionName: string;
  qualifier: string;
  invocationType: 'Sync' | 'Async';
  taskId?: string | undefined;
  payload: Buffer;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  attempts: number;
  result?: Buffer | undefined;
  error?: { errorType: string; errorMessage: string } | undefined;
  receivedAt: Date;
  finishedAt?: Date | undefined;
}

/** Options of {@link createFcHandler} / {@link startFcEmulator}. */
export interface FcEmulatorOptions {
  /** Accepted keys (default: the demo keys). */
  keys?: readonly DemoKey[];
  /** The account id the emulator pretends to be (default `ACCOUNT_ID`). */
  accountId?: string;
  /** Clock for the timestamp check (default `Date.now`). */
  now?: () => number;
  /** Maximum accepted clock skew of `x-acs-date`, ms (default 15 minutes). */
  maxSkewMs?: number;
  /** Delay before an async invocation starts, ms (default 0: right after the 202 is sent). */
  asyncDelayMs?: number;
}

/** The invoke API as a RequestListener plus its registry and log. */
export interface FcHandler extends RequestListener {
  readonly accountId: string;
  /** Every invocation accepted, oldest first. */
  readonly invocations: readonly FcInvocationRecord[];
  /** Registers (or replaces) a function. */
  register(name: string, fn: FcFunction, options?: FcRegisterOptions): void;
  /** Removes a function. */
  unregister(name: string): void;
  /** Resolves once no async invocation is queued or running. */
  idle(): Promise<void>;
  /**
   * The next `times` authenticated invocations are refused: 429 `ResourceThrottled` (FC's answer when the function's
   * concurrency is exhausted) or 503 `ServiceUnavailable`.
   */
  injectFault(fault: FcFault): void;
}

/** A refusal the FC emulator answers instead of invoking. */
export interface FcFault {
  kind: 'throttled' | 'unavailable';
  /** @default 1 */
  times?: number;
}

/** A running FC emulator. */
export interface FcEmulator extends Pick<FcHandler, 'accountId' | 'invocations' | 'register' | 'unregister' | 'idle' | 'injectFault'> {
  /** `http://127.0.0.1:<port>`: the invoker's `endpoint`. */
  readonly url: string;
  /** Waits for queued async invocations, then stops the server. */
  close(): Promise<void>;
}

class FcError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const PATH = /^\/2023-03-30\/functions\/([^/]+)\/invocations\/?$/;
const TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const LOG_TAIL = 4 * 1024;

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Reads the body; beyond `limit` it keeps draining but reports `tooLarge`. */
async function readBody(req: IncomingMessage, limit: number): Promise<{ body: Buffer; tooLarge: boolean; sha256: string }> {
  const chunks: Buffer[] = [];
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    hash.update(chunk);
    if (size <= limit) chunks.push(chunk);
  }
  return { body: Buffer.concat(chunks), tooLarge: size > limit, sha256: hash.digest('hex') };
}

/** FC's answers to a refused V3 signature (FC 3.0 error table: 403 for authentication, 400 for malformed input). */
const FC_AUTH_ERRORS: Readonly<Record<Acs3Failure, [number, string]>> = {
  authorization: [403, 'InvalidAuthorization'],
  'access-key': [403, 'InvalidAccessKeyId.NotFound'],
  'token-missing': [403, 'InvalidSecurityToken.Missing'],
  'token-mismatch': [403, 'InvalidSecurityToken.Mismatch'],
  'date-missing': [400, 'InvalidArgument'],
  'date-malformed': [400, 'InvalidArgument'],
  'date-expired': [403, 'InvalidTimeStamp.Expired'],
  'signed-headers': [403, 'SignatureDoesNotMatch'],
  'payload-hash': [400, 'InvalidArgument'],
  signature: [403, 'SignatureDoesNotMatch'],
  'nonce-missing': [400, 'InvalidArgument'],
  'nonce-used': [403, 'SignatureNonceUsed'],
};

/** Builds the FC invoke API RequestListener (compose it into another server, or use {@link startFcEmulator}). */
export function createFcHandler(options: FcEmulatorOptions = {}): FcHandler {
  const keys = options.keys ?? DEMO_KEYS;
  const accountId = options.accountId ?? ACCOUNT_ID;
  const now = options.now ?? Date.now;
  const maxSkew = options.maxSkewMs ?? 15 * 60_000;
  const functions = new Map<string, { fn: FcFunction; options: FcRegisterOptions }>();
  const invocations: FcInvocationRecord[] = [];
  const taskIds = new Set<string>();
  const faults: FcFault['kind'][] = [];
  const nonces = new NonceStore();
  const pending = new Set<Promise<void>>();

  function authenticate(req: IncomingMessage, rawPath: string, rawQuery: string, bodySha256: string): void {
    try {
      verifyAcs3({ method: req.method ?? 'POST', rawPath, rawQuery, headers: req.headers, bodySha256 }, { keys, now: now(), skewMs: maxSkew, nonces });
    } catch (e) {
      if (!(e instanceof Acs3Error)) throw e;
      const [status, code] = FC_AUTH_ERRORS[e.reason];
      throw new FcError(status, code, e.message);
    }
  }

  async function run(record: FcInvocationRecord, fn: FcFunction, logs: string[]): Promise<void> {
    record.status = 'running';
    record.attempts++;
    const meta: FcInvocationMeta = {
      requestId: record.requestId,
      invocationType: record.invocationType,
      qualifier: record.qualifier,
      functionName: record.functionName,
      taskId: record.taskId,
      attempt: record.attempts,
      log: (line) => logs.push(line),
    };
    try {
      const out = await fn(record.payload, meta);
      record.result = Buffer.isBuffer(out) ? out : Buffer.from(String(out ?? ''), 'utf8');
      record.error = undefined;
      record.status = 'succeeded';
    } catch (err) {
      record.error = {
        errorType: err instanceof Error ? err.name : 'Error',
        errorMessage: err instanceof Error ? err.message : String(err),
      };
      record.status = 'failed';
    }
    record.finishedAt = new Date(now());
  }

  function enqueue(record: FcInvocationRecord, fn: FcFunction, retries: number): void {
    const job = (async () => {
      await new Promise((r) => setTimeout(r, options.asyncDelayMs ?? 0));
      for (let attempt = 0; attempt <= retries; attempt++) {
        await run(record, fn, []);
        if (record.status === 'succeeded') break;
      }
    })();
    pending.add(job);
    void job.finally(() => pending.delete(job));
  }

  function sendJson(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.setHeader('content-length', Buffer.byteLength(text));
    res.end(text);
  }

  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
    const m = PATH.exec(rawPath);
    const type = (header(req, 'x-fc-invocation-type') ?? 'Sync').trim();
    const limit = type.toLowerCase() === 'async' ? FC_ASYNC_PAYLOAD_LIMIT : FC_SYNC_PAYLOAD_LIMIT;
    const { body, tooLarge, sha256 } = await readBody(req, limit);
    if (!m || m[1] === undefined) throw new FcError(404, 'PathNotFound', `The path ${rawPath} is not supported by the emulator.`);
    if (req.method !== 'POST') throw new FcError(405, 'MethodNotAllowed', 'Invocations must be POSTed.');
    // The signature covers the whole body; an oversized body is rejected after authentication.
    authenticate(req, rawPath, rawQuery, sha256);
    const fault = faults.shift();
    if (fault === 'throttled') throw new FcError(429, 'ResourceThrottled', 'Reserve resource exhausted, please retry later.');
    if (fault === 'unavailable') throw new FcError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.');
    let functionName: string;
    try {
      functionName = decodeURIComponent(m[1]);
    } catch {
      throw new FcError(400, 'InvalidArgument', 'The function name is not valid percent-encoding.');
    }
    const qualifier = new URLSearchParams(rawQuery).get('qualifier') || 'LATEST';
    if (type !== 'Sync' && type !== 'Async') throw new FcError(400, 'InvalidArgument', 'x-fc-invocation-type must be Sync or Async.');
    if (tooLarge) {
      throw new FcError(400, 'EntityTooLarge', `payload size exceeds maximum allowed size (${limit} bytes for ${type} invocations)`);
    }
    const registered = functions.get(functionName);
    if (!registered) throw new FcError(404, 'FunctionNotFound', `function '${functionName}' does not exist`);
    const taskId = header(req, 'x-fc-async-task-id');
    const record: FcInvocationRecord = {
      requestId,
      functionName,
      qualifier,
      invocationType: type,
      taskId,
      payload: body,
      status: 'queued',
      attempts: 0,
      receivedAt: new Date(now()),
    };
    if (type === 'Async') {
      if (taskId !== undefined && !TASK_ID.test(taskId)) throw new FcError(400, 'InvalidArgument', 'x-fc-async-task-id must match ^[A-Za-z_][A-Za-z0-9_-]{0,127}$.');
      if (taskId !== undefined && registered.options.asyncTask === true) {
        const id = `${functionName}\0${taskId}`;
        if (taskIds.has(id)) throw new FcError(409, 'AsyncTaskAlreadyExists', `async task '${taskId}' already exists for function '${functionName}'`);
        taskIds.add(id);
      }
      invocations.push(record);
      res.statusCode = 202;
      res.setHeader('content-length', 0);
      res.end();
      enqueue(record, registered.fn, Math.max(0, registered.options.asyncRetries ?? 0));
      return;
    }
    if (taskId !== undefined) throw new FcError(400, 'InvalidArgument', 'x-fc-async-task-id is only valid for Async invocations.');
    invocations.push(record);
    const logs: string[] = [];
    await run(record, registered.fn, logs);
    if ((header(req, 'x-fc-log-type') ?? 'None') === 'Tail') {
      const tail = Buffer.from(logs.join('\n'), 'utf8');
      res.setHeader('x-fc-log-result', tail.subarray(Math.max(0, tail.length - LOG_TAIL)).toString('base64'));
    }
    if (record.status === 'failed') {
      res.setHeader('x-fc-error-type', 'UnhandledInvocationError');
      sendJson(res, 200, { errorMessage: record.error?.errorMessage, errorType: record.error?.errorType, stackTrace: [] });
      return;
    }
    res.statusCode = 200;
    res.setHeader('content-type', 'application/octet-stream');
    res.setHeader('content-length', record.result?.length ?? 0);
    res.end(record.result);
  }

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    const requestId = `1-${Math.floor(now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
    res.setHeader('x-fc-request-id', requestId);
    res.setHeader('date', new Date(now()).toUTCString());
    serve(req, res, requestId).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const e = err instanceof FcError ? err : new FcError(500, 'InternalServerError', err instanceof Error ? err.message : String(err));
      sendJson(res, e.status, { Code: e.code, Message: e.message, RequestId: requestId });
    });
  }) as FcHandler;

  Object.defineProperties(handler, {
    accountId: { value: accountId },
    invocations: { get: () => invocations },
  });
  Object.assign(handler, {
    register: (name: string, fn: FcFunction, opts: FcRegisterOptions = {}) => {
      functions.set(name, { fn, options: opts });
    },
    unregister: (name: string) => {
      functions.delete(name);
    },
    idle: async () => {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    injectFault: (fault: FcFault) => {
      for (let i = 0; i < (fault.times ?? 1); i++) faults.push(fault.kind);
    },
  });
  return handler;
}

/**
 * Starts the FC invoke API on `host:port` (default 127.0.0.1 and a free port).
 *
 * @example
 *   const fc = await startFcEmulator();
 *   fc.register('collect', async (payload) => JSON.stringify({ ok: true, got: JSON.parse(payload.toString()) }));
 *   const invoker = createFunctionInvoker({ accountId: fc.accountId, regionId: 'cn-hangzhou', endpoint: fc.url,
 *     credentials: async () => DEMO_KEY });
 */
export async function startFcEmulator(options: FcEmulatorOptions & { host?: string; port?: number } = {}): Promise<FcEmulator> {
  const handler = createFcHandler(options);
  const served = await listen(handler, options);
  return {
    url: served.url,
    accountId: handler.accountId,
    get invocations() {
      return handler.invocations;
    },
    register: (name, fn, opts) => handler.register(name, fn, opts),
    unregister: (name) => handler.unregister(name),
    idle: () => handler.idle(),
    injectFault: (fault) => handler.injectFault(fault),
    close: async () => {
      await handler.idle();
      await served.close();
    },
  };
}
