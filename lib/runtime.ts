/**
 * Builds what a handler needs for one invocation from the configuration and the FC context: logger with the
 * request id, credentials, the archive store, the deadline and API clients. Handlers call this, then `lib/`.
 */
import { loadConfig, type AppConfig } from './config';
import { invocationDeadline, type Deadline } from './deadline';
import { createLogger, type Logger } from './log';
import type { FcContext } from './triggers';
import { resolveCredentials, type CredentialsSource } from './cloud/credentials';
import { createRpcClient, type RpcClient } from './cloud/rpc';
import type { Service } from './cloud/endpoints';
import { openStore } from './archive/open';
import { withStoreRetries } from './archive/retrying';
import type { ObjectStore } from './archive/store';

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
  env: NodeJS.ProcessEnv;
  /** A fresh client (its own call and retry counters) for a service in a region. */
  rpc(service: Service, regionId: string): RpcClient;
}

export interface RuntimeOptions {
  env?: NodeJS.ProcessEnv;
  /** Invocation start (epoch ms); the deadline counts from here. @default Date.now() */
  startedAt?: number;
  /** Extra fields on every log line (e.g. the function name). */
  logFields?: Record<string, unknown>;
}

export function createRuntime(context: FcContext, options: RuntimeOptions = {}): Runtime {
  const env = options.env ?? process.env;
  // Reading the configuration is a handful of env lookups: done per invocation, so a bad value fails loudly at once.
  const config = loadConfig(env);
  const logger = createLogger({
    level: config.logLevel,
    fields: { requestId: context.requestId, function: context.function?.name, ...options.logFields },
  });
  const credentials = resolveCredentials({ context, env, logger });
  const deadline = invocationDeadline(context.function?.timeout, { startedAt: options.startedAt });
  const store = withStoreRetries(
    openStore(config.archiveUrl, {
      credentials: () => credentials.get(),
      ossEndpoint: config.ossEndpoint,
      regionId: config.regionId,
      logger,
    }),
    { deadline, logger },
  );
  return {
    config,
    context,
    logger,
    credentials,
    store,
    deadline,
    env,
    rpc: (service, regionId) =>
      createRpcClient({
        service,
        regionId,
        credentials,
        env,
        timeoutMs: config.apiTimeoutMs,
        retry: { maxAttempts: config.apiMaxAttempts },
        rateLimitPerSecond: config.apiRateLimit,
        deadline,
        logger,
      }),
  };
}
