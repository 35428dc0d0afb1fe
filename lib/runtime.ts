/**
 * Builds what a handler needs for one invocation from the configuration and the FC context: logger with the
 * request id, credentials, the archive store, the deadline and API clients. Handlers call this, then `lib/`.
 */
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { loadConfig, type AppConfig } from './config';
import { invocationDeadline, type Deadline } from './deadline';
import { createLogger, type Logger } from './log';
import type { FcContext } from './triggers';
import { resolveCredentials, type CredentialsSource } from './cloud/credentials';
import { createRpcClient, type RpcClient } from './cloud/rpc';
import { createAdaptiveRateLimiter, type AdaptiveRateLimiter } from './cloud/rate-limit';
import type { Service } from './cloud/endpoints';
import { openStore } from './archive/open';
import { createOssStore } from './archive/oss';
import { withStoreRetries } from './archive/retrying';
import type { ObjectStore } from './archive/store';
import { collectFunctionName, type AsyncInvoker } from './fanout';

/** Name and version of this build, recorded in every manifest. */
export const COLLECTOR = Object.freeze({
  name: 'execution-archive',
  version: process.env.COLLECTOR_VERSION_BUILD ?? '0.1.0',
});

export interface Runtime {
  config: AppConfig;
  context: FcContext;
  logger: Logger;
  credentials: CredentialsSource;
  store: ObjectStore;
  deadline: Deadline;
  /**
   * A fresh client (its own call and retry counters) for a service in a region. Every client of one service and
   * region in this invocation shares one adaptive rate limiter; `ceilingPerSecond` (a collect's share of the
   * account budget) lowers the hard ceiling of that limiter below API_RATE_LIMIT_PER_SECOND.
   */
  rpc(service: Service, regionId: string, limits?: { ceilingPerSecond?: number | undefined }): RpcClient;
  /**
   * A read-only view of an OSS bucket that Cloud Assistant delivered outputs to, on the endpoint of `regionId` (the
   * internal one in the function's own region; ALIBABA_CLOUD_OSS_ENDPOINT when set), with the function's credentials.
   * Callers pass only buckets and regions OUTPUT_DELIVERY_ALLOW names (lib/collect/outputs.ts).
   */
  deliveryBucket(bucket: string, regionId: string): ObjectStore;
}

/**
 * What the rooms that start collects (the event consumer, the sweep) take alike from a handler's runtime: the store,
 * API clients, the invoker, the logger, the deadline, the region of work that names none and collect's function name
 * (COLLECT_FUNCTION_NAME).
 */
export function dispatchDeps(rt: Runtime, invoker: AsyncInvoker) {
  return {
    store: rt.store,
    rpc: (service: Service, regionId: string) => rt.rpc(service, regionId),
    invoker,
    logger: rt.logger,
    deadline: rt.deadline,
    defaultRegionId: rt.config.regionId,
    collectFunctionName: collectFunctionName(rt.config),
  };
}

/** The lower of two optional ceilings (`undefined` = none). */
export function lowerCeiling(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

export interface RuntimeOptions {
  /** The environment the configuration is read from (once per environment object). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Invocation start (epoch ms); the deadline counts from here. @default Date.now() */
  startedAt?: number;
  /** Extra fields on every log line (e.g. the function name). */
  logFields?: Record<string, unknown>;
  /** Where log lines go. @default stdout (FC ships it to SLS) */
  logWrite?: (line: string) => void;
  /** Replaces the invocation deadline (a command-line run has none; Ctrl-C ends it). */
  deadline?: Deadline;
}

// The configuration of each environment object, read once: for process.env that is once per cold start (FC fixes a
// function's environment for the life of an instance), so a bad value fails the first invocation and every later one.
const configs = new WeakMap<NodeJS.ProcessEnv, AppConfig>();

function configOf(env: NodeJS.ProcessEnv): AppConfig {
  let config = configs.get(env);
  if (config === undefined) {
    config = loadConfig(env);
    configs.set(env, config);
  }
  return config;
}

export function createRuntime(context: FcContext, options: RuntimeOptions = {}): Runtime {
  const config = configOf(options.env ?? process.env);
  const logger = createLogger({
    level: config.logLevel,
    fields: { requestId: context.requestId, function: context.function?.name, ...options.logFields },
    ...(options.logWrite ? { write: options.logWrite } : {}),
  });
  const credentials = resolveCredentials({ context, accessKey: config.accessKey, profile: config.credentialsProfile, logger });
  const deadline = options.deadline ?? invocationDeadline(context.function?.timeout, { startedAt: options.startedAt });
  const store = withStoreRetries(
    openStore(config.archiveUrl, {
      credentials: () => credentials.get(),
      ossEndpoint: config.ossEndpoint,
      regionId: config.regionId,
      logger,
    }),
    { deadline, logger },
  );
  const limiters = new Map<string, AdaptiveRateLimiter>();
  const limiterFor = (service: Service, regionId: string, ceilingPerSecond: number | undefined): AdaptiveRateLimiter => {
    const ceiling = lowerCeiling(config.apiRateLimit, ceilingPerSecond);
    const key = `${service}\0${regionId}\0${ceiling ?? ''}`;
    let limiter = limiters.get(key);
    if (!limiter) {
      limiter = createAdaptiveRateLimiter({ ceilingPerSecond: ceiling, deadline });
      limiters.set(key, limiter);
    }
    return limiter;
  };
  const buckets = new Map<string, ObjectStore>();
  const deliveryBucket = (bucket: string, regionId: string): ObjectStore => {
    const key = `${bucket}\0${regionId}`;
    let opened = buckets.get(key);
    if (!opened) {
      opened = withStoreRetries(
        createOssStore({
          bucket,
          prefix: '',
          region: regionId,
          endpoint: config.ossEndpoint,
          internal: regionId === config.regionId,
          credentials: () => credentials.get(),
          logger,
        }),
        { deadline, logger },
      );
      buckets.set(key, opened);
    }
    return opened;
  };
  return {
    config,
    context,
    logger,
    credentials,
    store,
    deadline,
    deliveryBucket,
    rpc: (service, regionId, limits) =>
      createRpcClient({
        service,
        regionId,
        credentials,
        endpoint: config.rpcEndpoints[service],
        timeoutMs: config.apiTimeoutMs,
        retry: { maxAttempts: config.apiMaxAttempts },
        limiter: limiterFor(service, regionId, limits?.ceilingPerSecond),
        deadline,
        logger,
      }),
  };
}

/** What {@link runtimeLimits} reports. */
export interface RuntimeLimits {
  /**
   * V8's heap limit in MiB: the old generation's limit plus 3 × the largest semi-space, so `--max-semi-space-size=4`
   * shows here (36 MiB less than with V8's default 16 MiB semi-spaces) as `--max-old-space-size` does.
   */
  heapSizeLimitMb: number;
  /** The runtime settings as the process received them (lib/config.ts RUNTIME_VARIABLES); `null` when unset. */
  nodeOptions: string | null;
  mallocArenaMax: string | null;
  /** Flags given to node on its command line. */
  execArgv: string[];
  /**
   * The memory the process sees, in MiB, from which V8 sizes its heap when no flag does: the machine's (`os.totalmem`)
   * and its cgroup's limit (`process.constrainedMemory`; `null` for none). A process that sees 1 GiB (FC's
   * `memorySize: 1024`) gets a 524 MiB heap limit, semi-spaces of at most 4 MiB and a slow-growing old generation;
   * one that sees 24 GB gets 4,144 MiB, 16 MiB semi-spaces and an old generation grown ×4 between full GCs.
   */
  memorySeenMb: { total: number; constrained: number | null };
}

/** The process's effective runtime limits: what its runtime settings (NODE_OPTIONS, MALLOC_ARENA_MAX) made of it. */
export function runtimeLimits(env: NodeJS.ProcessEnv = process.env): RuntimeLimits {
  return {
    heapSizeLimitMb: Math.round((getHeapStatistics().heap_size_limit / 2 ** 20) * 10) / 10,
    nodeOptions: env.NODE_OPTIONS ?? null,
    mallocArenaMax: env.MALLOC_ARENA_MAX ?? null,
    execArgv: [...process.execArgv],
    memorySeenMb: { total: Math.round(totalmem() / 2 ** 20), constrained: constrainedMb() },
  };
}

/** The cgroup's memory limit in MiB; `null` when there is none (libuv answers a huge number or 0 then). */
function constrainedMb(): number | null {
  const bytes = process.constrainedMemory?.() ?? 0;
  return bytes > 0 && bytes < 2 ** 62 ? Math.round(bytes / 2 ** 20) : null;
}

/**
 * Logs {@link runtimeLimits} once, as a function's module loads (its cold start): the proof, in the function's logs,
 * that the runtime settings s.yaml gives it reached the process Function Compute started (at info; `LOG_LEVEL` above
 * info silences it). test/integration/runtime-limits.test.ts starts the bundle the way FC does and reads this line.
 */
export function logColdStart(fn: string, env: NodeJS.ProcessEnv = process.env): void {
  const level = env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'warn' || env.LOG_LEVEL === 'error' ? env.LOG_LEVEL : 'info';
  createLogger({ level, fields: { fn } }).info('cold start: runtime limits', { ...runtimeLimits(env) });
}
