/**
 * The local Function Compute 3.0 host: runs the same bundles that `s deploy` uploads (`dist/<name>/index.js`),
 * configured from the same `s.yaml`, against the local cloud (local-cloud.ts).
 *
 * - Invocation: `handler(event: Buffer, context)` in a worker-thread instance per concurrent invocation, with the FC
 *   3.0 context (request id, the role's STS credentials — the demo STS key —, function name/handler/memory/timeout,
 *   region, account id) and the function's own environment; past its `timeout` the invocation is rejected
 *   (`FunctionTimeout`) and the instance destroyed (see instances.ts).
 * - HTTP triggers: one server, `http://127.0.0.1:<port>/<functionName>/<path>` → the function sees `rawPath: /<path>`
 *   in the FC 3.0 HTTP event (see http.ts). `GET /` lists the routes.
 * - Timer triggers: 6-field UTC cron (`timers: 'cron'`), or only when asked (`fireTimer`, the default), with the FC
 *   timer event `{triggerTime, triggerName, payload}`.
 * - EventBridge triggers: every simulated Cloud Assistant instance completion of the local cloud becomes a
 *   TaskCompleted CloudEvent, filtered by the trigger's `eventRuleFilterPattern`, delivered one per invocation with
 *   optional duplicates and reordering, and retried with backoff when the handler throws (see events.ts).
 * - Async fan-out: every function is registered with the local FC invoke API, so `x-fc-invocation-type: Async`
 *   calls from the functions run here (with the function's `asyncInvokeConfig.maxAsyncRetryAttempts`).
 *
 * Environment of a function, lowest precedence first: the FC runtime variables (FC_FUNCTION_NAME, FC_REGION, …),
 * the role's STS key as ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET/SECURITY_TOKEN, s.yaml's `environmentVariables`
 * (`${vars.*}` rendered, with `vars.bucket` = the local OSS bucket), the local cloud's endpoints, then `options.env`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join, resolve } from 'node:path';
import { ACCOUNT_ID, DEMO_STS_KEY } from '../credentials';
import type { LocalCloud } from '../local-cloud';
import { parseSchedule } from './cron';
import { cloudAssistantEvent, type EventDeliveryOptions } from './events';
import { buildHttpEvent, fcRequestId, readRequestBody, writeHttpResult } from './http';
import { FunctionError, InstancePool, type HostContext, type InstanceStats, type LogSink } from './instances';
import { matchesPattern } from './pattern';
import { loadProject, type EventBridgeTriggerSpec, type FunctionSpec, type HttpTriggerSpec, type TimerTriggerSpec } from './s-yaml';

export { FunctionError } from './instances';
export type { FunctionSpec, TriggerSpec } from './s-yaml';
export type { CloudAssistantEvent, EventDeliveryOptions } from './events';
export { loadProject } from './s-yaml';
export { parseSchedule } from './cron';
export { matchesPattern } from './pattern';
export { ensureBundles } from './bundles';

/** Options of {@link startLocalHost}. */
export interface LocalHostOptions {
  /** The local cloud the functions talk to (RPC, OSS, FC invoke API) and whose simulated tasks emit events. */
  cloud: LocalCloud;
  /** Folder of the bundles; a function's code `./dist/<folder>` is read from `<distDir>/<folder>`. @default the code path of s.yaml */
  distDir?: string;
  /** @default `<cwd>/s.yaml` */
  sYamlPath?: string;
  /** Overrides for every function's environment (e.g. `ARCHIVE_URL: file:///…`, `LOG_LEVEL: warn`). */
  env?: Record<string, string>;
  /** Overrides of s.yaml `vars`. @default `{ bucket: cloud.bucket }` */
  vars?: Record<string, string>;
  /** Event delivery, or `false` to deliver no events. @default {} (in order, no duplicates) */
  events?: EventDeliveryOptions | false;
  /** `cron` fires timer triggers on their schedule; `manual` only through `fireTimer`. @default 'manual' */
  timers?: 'cron' | 'manual';
  /** Port of the HTTP triggers. @default 0 (ephemeral) */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Instances per function at most (more invocations wait). @default 16 */
  maxInstances?: number;
  /** Where function output goes: `inherit` (stderr, prefixed by function name), `silent`, or a sink. @default 'inherit' */
  logs?: 'inherit' | 'silent' | LogSink;
}

/** Counters of the host. */
export interface HostStats {
  functions: Record<string, InstanceStats>;
  http: { requests: number };
  timers: { fired: number };
  events: {
    /** Completions the bus saw. */
    published: number;
    /** Events that matched no trigger. */
    unmatched: number;
    /** Deliveries that succeeded (duplicates included). */
    delivered: number;
    /** Extra copies sent (duplicateRate). */
    duplicates: number;
    /** Redeliveries after a handler error. */
    retries: number;
    /** Events given up on after the last retry. */
    dropped: number;
  };
}

/** A running local host. */
export interface LocalHost {
  /** `http://127.0.0.1:<port>`; a function's HTTP trigger is at `${httpUrl}/<functionName>/…`. */
  readonly httpUrl: string;
  /** The functions from s.yaml. */
  readonly functions: readonly FunctionSpec[];
  readonly stats: HostStats;
  /** Base URL of a function's HTTP trigger (by function name or s.yaml resource key). */
  urlOf(name: string): string;
  /**
   * Invokes a function synchronously (like `InvokeFunction` with `x-fc-invocation-type: Sync`). `payload` is sent
   * as is when a Buffer or string, else as JSON. Resolves to the result, JSON-parsed when it is JSON (else a string);
   * rejects with {@link FunctionError} when the handler throws or times out.
   */
  invoke(name: string, payload: unknown): Promise<unknown>;
  /** Fires a function's timer trigger now (the first one, or `triggerName`), optionally with another payload. */
  fireTimer(name: string, options?: { triggerName?: string; payload?: string }): Promise<unknown>;
  /** Puts an event on the local bus, as a service would (delivered to every matching eventbridge trigger). */
  publish(event: Record<string, unknown>): void;
  /** Resolves once no event, timer, async invocation or HTTP request is in flight. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const BASE_ENV_KEYS = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT'];

function decode(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toBytes(payload: unknown): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return Buffer.from(payload, 'utf8');
  return Buffer.from(JSON.stringify(payload ?? {}), 'utf8');
}

/**
 * Starts the host: loads s.yaml, prepares an instance pool per function, serves the HTTP triggers, subscribes the
 * eventbridge triggers to the local cloud's Cloud Assistant completions, schedules timers (`timers: 'cron'`) and
 * registers every function with the local FC invoke API.
 *
 * @example
 *   const cloud = await startLocalCloud({ root: '.local-cloud/oss' });
 *   const host = await startLocalHost({ cloud, env: { ARCHIVE_URL: 'file:///tmp/archive' } });
 *   await host.invoke('collect', { source: 'oos', regionId: 'cn-hangzhou', executionId: cloud.rpc.data.demo.executionId });
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const { cloud } = options;
  const sYamlPath = resolve(options.sYamlPath ?? 's.yaml');
  const project = loadProject(sYamlPath, { vars: { bucket: cloud.bucket, ...(options.vars ?? {}) } });
  const log: LogSink =
    options.logs === 'silent'
      ? () => {}
      : typeof options.logs === 'function'
        ? options.logs
        : (fn, _stream, line) => process.stderr.write(`[${fn}] ${line}\n`);
  const cloudEnv = cloud.env();
  delete cloudEnv.ALIBABA_CLOUD_ACCESS_KEY_ID;
  delete cloudEnv.ALIBABA_CLOUD_ACCESS_KEY_SECRET;

  const pools = new Map<string, { spec: FunctionSpec; pool: InstancePool }>();
  for (const spec0 of project.functions) {
    const spec = options.distDir ? { ...spec0, codeDir: join(resolve(options.distDir), basename(spec0.codeDir)) } : spec0;
    const env: Record<string, string> = {};
    for (const k of BASE_ENV_KEYS) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
    Object.assign(env, {
      FC_FUNCTION_NAME: spec.name,
      FC_FUNCTION_HANDLER: spec.handler,
      FC_FUNCTION_MEMORY_SIZE: String(spec.memorySize),
      FC_REGION: spec.region,
      FC_ACCOUNT_ID: ACCOUNT_ID,
      FC_RUNTIME: spec.runtime,
      TZ: 'UTC',
    });
    if (spec.role) {
      env.ALIBABA_CLOUD_ACCESS_KEY_ID = DEMO_STS_KEY.accessKeyId;
      env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = DEMO_STS_KEY.accessKeySecret;
      env.ALIBABA_CLOUD_SECURITY_TOKEN = DEMO_STS_KEY.securityToken ?? '';
    }
    Object.assign(env, spec.environment, cloudEnv, options.env ?? {});
    const pool = new InstancePool(
      { name: spec.name, codeDir: spec.codeDir, handler: spec.handler, memorySize: spec.memorySize, timeout: spec.timeout, env },
      { maxInstances: options.maxInstances ?? 16, log },
    );
    pools.set(spec.name, { spec, pool });
  }

  const find = (name: string) => {
    const hit = pools.get(name) ?? [...pools.values()].find((p) => p.spec.resource === name);
    if (!hit) throw new Error(`no function ${JSON.stringify(name)} in ${sYamlPath} (have: ${[...pools.keys()].join(', ')})`);
    return hit;
  };

  const stats: HostStats = {
    functions: Object.fromEntries([...pools].map(([n, p]) => [n, p.pool.stats])),
    http: { requests: 0 },
    timers: { fired: 0 },
    events: { published: 0, unmatched: 0, delivered: 0, duplicates: 0, retries: 0, dropped: 0 },
  };
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.then(
      () => inflight.delete(p),
      () => inflight.delete(p),
    );
    return p;
  };
  let closed = false;

  function run(name: string, event: Buffer, meta: { requestId?: string; retryCount?: number } = {}): Promise<Buffer> {
    const { spec, pool } = find(name);
    const context: HostContext = {
      requestId: meta.requestId ?? fcRequestId(),
      credentials: spec.role ? { ...DEMO_STS_KEY, securityToken: DEMO_STS_KEY.securityToken } : ({} as HostContext['credentials']),
      function: { name: spec.name, handler: spec.handler, memory: spec.memorySize, timeout: spec.timeout },
      service: { logProject: '', logStore: '', qualifier: 'LATEST', versionId: '' },
      region: spec.region,
      accountId: ACCOUNT_ID,
      retryCount: meta.retryCount ?? 0,
    };
    return pool.invoke(event, context);
  }

  // Async (and sync) invocations through the FC invoke API run here.
  for (const { spec } of pools.values()) {
    cloud.fc.register(spec.name, (payload, meta) => run(spec.name, payload, { requestId: meta.requestId, retryCount: meta.attempt - 1 }), {
      asyncRetries: spec.asyncInvokeConfig?.maxAsyncRetryAttempts ?? 3,
      asyncTask: spec.asyncInvokeConfig?.asyncTask === true,
    });
  }

  // ---- EventBridge ----
  const delivery = options.events === false ? undefined : (options.events ?? {});
  const random = delivery?.random ?? Math.random;
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const subscriptions: { spec: FunctionSpec; trigger: EventBridgeTriggerSpec }[] = [];
  for (const { spec } of pools.values()) {
    for (const t of spec.triggers) if (t.type === 'eventbridge' && t.enable) subscriptions.push({ spec, trigger: t });
  }

  async function deliver(spec: FunctionSpec, trigger: EventBridgeTriggerSpec, event: Record<string, unknown>, delayMs: number): Promise<void> {
    if (delayMs > 0) await sleep(delayMs);
    const body = Buffer.from(JSON.stringify(trigger.eventSchema === 'RawData' ? event.data : event), 'utf8');
    for (let attempt = 0; ; attempt++) {
      if (closed) return;
      try {
        await run(spec.name, body, { retryCount: attempt });
        stats.events.delivered++;
        return;
      } catch (err) {
        if (!(err instanceof FunctionError) || attempt >= trigger.maxRetryAttempts) {
          stats.events.dropped++;
          log(spec.name, 'stderr', `event ${String(event.id)} dropped after ${attempt + 1} attempt(s): ${(err as Error).message}`);
          return;
        }
        stats.events.retries++;
        await sleep((delivery?.retryDelayMs ?? 50) * 2 ** attempt);
      }
    }
  }

  function publish(event: Record<string, unknown>): void {
    if (closed || !delivery) return;
    stats.events.published++;
    const targets = subscriptions.filter((s) => matchesPattern(event, s.trigger.pattern));
    if (targets.length === 0) stats.events.unmatched++;
    const delay = () => (delivery.shuffle ? Math.floor(random() * (delivery.maxDelayMs ?? 200)) : 0);
    for (const { spec, trigger } of targets) {
      void track(deliver(spec, trigger, event, delay()));
      if (random() < (delivery.duplicateRate ?? 0)) {
        stats.events.duplicates++;
        void track(deliver(spec, trigger, event, delay()));
      }
    }
  }

  const unsubscribe = cloud.rpc.data.onInstanceFinished((e) => publish(cloudAssistantEvent(e, ACCOUNT_ID) as unknown as Record<string, unknown>));

  // ---- Timers ----
  const timerHandles = new Set<NodeJS.Timeout>();
  function timerEvent(trigger: TimerTriggerSpec, payload: string | undefined, at: number): Buffer {
    return Buffer.from(
      JSON.stringify({ triggerTime: new Date(at).toISOString().slice(0, 19) + 'Z', triggerName: trigger.name, ...(payload !== undefined ? { payload } : {}) }),
      'utf8',
    );
  }
  if (options.timers === 'cron') {
    for (const { spec } of pools.values()) {
      for (const t of spec.triggers) {
        if (t.type !== 'timer' || !t.enable) continue;
        const schedule = parseSchedule(t.cronExpression);
        const arm = (): void => {
          const next = schedule.next(Date.now());
          if (next === undefined || closed) return;
          const h = setTimeout(() => {
            timerHandles.delete(h);
            stats.timers.fired++;
            // FC invokes timer triggers asynchronously: a failure is logged, not thrown anywhere.
            void track(run(spec.name, timerEvent(t, t.payload, next)).catch((err: Error) => log(spec.name, 'stderr', `timer ${t.name} failed: ${err.message}`)));
            arm();
          }, Math.min(next - Date.now(), 2 ** 31 - 1));
          h.unref();
          timerHandles.add(h);
        };
        arm();
      }
    }
  }

  // ---- HTTP triggers ----
  const httpRoutes = new Map<string, { spec: FunctionSpec; trigger: HttpTriggerSpec }>();
  for (const { spec } of pools.values()) {
    const t = spec.triggers.find((x): x is HttpTriggerSpec => x.type === 'http');
    if (t) httpRoutes.set(spec.name, { spec, trigger: t });
  }
  function fire(name: string, opts: { triggerName?: string; payload?: string } = {}): Promise<unknown> {
    let spec: FunctionSpec;
    try {
      spec = find(name).spec;
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const t = spec.triggers.find((x): x is TimerTriggerSpec => x.type === 'timer' && (opts.triggerName === undefined || x.name === opts.triggerName));
    if (!t) return Promise.reject(new Error(`${spec.name} has no timer trigger${opts.triggerName ? ` named ${opts.triggerName}` : ''}`));
    stats.timers.fired++;
    return track(run(spec.name, timerEvent(t, opts.payload ?? t.payload, Date.now()))).then(decode);
  }

  const server: Server = createServer((req, res) => {
    stats.http.requests++;
    const handle = async () => {
      const url = req.url ?? '/';
      const m = /^\/([^/?]+)(.*)$/.exec(url);
      const route = m?.[1] !== undefined ? httpRoutes.get(decodeURIComponent(m[1])) : undefined;
      if (m?.[1] === '__timers' && req.method === 'POST') {
        // Not an FC API: fires a function's timer trigger now, so a sweep can be started with curl.
        const name = decodeURIComponent((m[2] ?? '').replace(/^\//, '').replace(/[?#].*$/, ''));
        const text = ((await readRequestBody(req)) ?? Buffer.alloc(0)).toString('utf8');
        res.setHeader('content-type', 'application/json');
        try {
          const result = await fire(name, text.trim() === '' ? {} : { payload: text });
          res.end(JSON.stringify(result));
        } catch (err) {
          res.statusCode = err instanceof FunctionError ? 502 : 404;
          res.end(JSON.stringify({ error: { code: err instanceof FunctionError ? err.errorType : 'NotFound', message: err instanceof FunctionError ? err.errorMessage : String((err as Error).message ?? err) } }));
        }
        return;
      }
      if (!m || !route) {
        const functions = [...httpRoutes.values()].map((r) => ({ function: r.spec.name, methods: r.trigger.methods, url: `${httpUrl}/${r.spec.name}/` }));
        res.setHeader('content-type', 'application/json');
        if (url === '/') {
          res.end(JSON.stringify({ functions }));
          return;
        }
        // FC serves each function's HTTP trigger on its own domain; here they share one port, so the path starts with
        // the function's name. A bare `/collect` is the path as deployed: say where it lives locally.
        const segment = m?.[1] ?? '';
        const likely = [...httpRoutes.values()].filter((r) => {
          const last = r.spec.name.split('-').pop() ?? '';
          return last.length > 0 && segment.length >= 5 && (last.startsWith(segment.slice(0, 6)) || segment.startsWith(last.slice(0, 6)));
        });
        res.statusCode = 404;
        res.end(
          JSON.stringify({
            error: {
              code: 'NotFound',
              message:
                `no function named ${JSON.stringify(segment)} on this local host: HTTP triggers are served at ${httpUrl}/<functionName>/<path>` +
                (likely.length > 0 ? `; did you mean ${likely.map((r) => `${r.trigger.methods[0] ?? 'GET'} ${httpUrl}/${r.spec.name}${url}`).join(' or ')}?` : ''),
            },
            functions,
          }),
        );
        return;
      }
      const method = (req.method ?? 'GET').toUpperCase();
      if (!route.trigger.methods.includes(method)) {
        res.statusCode = 405;
        res.setHeader('allow', route.trigger.methods.join(', '));
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ error: { code: 'MethodNotAllowed', message: `the HTTP trigger of ${route.spec.name} accepts ${route.trigger.methods.join(', ')}` } }));
        return;
      }
      const body = await readRequestBody(req);
      if (body === undefined) {
        res.statusCode = 413;
        res.setHeader('content-type', 'application/json');
        res.setHeader('connection', 'close');
        res.end(JSON.stringify({ error: { code: 'PayloadTooLarge', message: 'the request body is larger than the 32 MB an HTTP trigger accepts' } }));
        return;
      }
      const requestId = fcRequestId();
      const event = buildHttpEvent(req, m[2] ?? '/', body, { accountId: ACCOUNT_ID, requestId, functionName: route.spec.name, triggerName: route.trigger.name });
      try {
        const result = await run(route.spec.name, Buffer.from(JSON.stringify(event), 'utf8'), { requestId });
        writeHttpResult(res, result, requestId, method);
      } catch (err) {
        const e = err instanceof FunctionError ? err : new FunctionError(route.spec.name, 'InternalError', String(err), requestId);
        const text = JSON.stringify({ errorMessage: e.errorMessage, errorType: e.errorType, stackTrace: e.stackTrace });
        res.statusCode = 502;
        res.setHeader('x-fc-request-id', requestId);
        res.setHeader('x-fc-error-type', e.timedOut ? 'FunctionTimeoutError' : 'UnhandledInvocationError');
        res.setHeader('content-type', 'application/json');
        res.end(text);
      }
    };
    void track(
      handle().catch((err: unknown) => {
        if (!res.headersSent) res.statusCode = 500;
        res.end(String(err));
      }),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => ok());
  });
  const addr = server.address() as AddressInfo;
  const httpUrl = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;

  const fcBusy = () => cloud.fc.invocations.some((r) => r.status === 'queued' || r.status === 'running');

  return {
    httpUrl,
    functions: [...pools.values()].map((p) => p.spec),
    stats,
    urlOf: (name) => `${httpUrl}/${find(name).spec.name}`,
    invoke: (name, payload) => track(run(name, toBytes(payload))).then(decode),
    fireTimer: fire,
    publish,
    async idle() {
      for (;;) {
        if (inflight.size > 0) {
          await Promise.allSettled([...inflight]);
          continue;
        }
        await cloud.fc.idle();
        await sleep(5);
        if (inflight.size === 0 && !fcBusy()) return;
      }
    },
    async close() {
      closed = true;
      unsubscribe();
      for (const h of timerHandles) clearTimeout(h);
      for (const name of pools.keys()) cloud.fc.unregister(name);
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await Promise.all([...pools.values()].map((p) => p.pool.close()));
    },
  };
}
