/**
 * Which AccessKey signs the API calls. Order: the FC invocation context's STS credentials, then the
 * `ALIBABA_CLOUD_*` AccessKey of the configuration (lib/config.ts), then (lazily, only when neither gave anything) the default chain of
 * `@alicloud/credentials` (profile file, ECS RAM role, ...). Secrets live only in closures and in what `get()`
 * returns; nothing here logs them.
 */
import { ConfigError } from '../errors';
import { type Logger, silentLogger } from '../log';

/** An AccessKey pair, with the STS token when the key is temporary. */
export interface Credentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
}

/** An AccessKey from the environment (ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET / SECURITY_TOKEN: lib/config.ts reads it). */
export type EnvAccessKey = Readonly<Credentials>;

/** Where a client gets its credentials from; `get()` is called before every request, so rotation works. */
export interface CredentialsSource {
  get(): Promise<Credentials>;
  readonly origin: 'fc-context' | 'env' | 'default-chain';
}

/** The part of the FC context this module reads. FC 3.0 passes `credentials: {}` when the function has no role. */
export interface CredentialsContext {
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string } | null;
}

/** A loader of the default chain; injectable so tests never touch profile files or the metadata server. */
export type DefaultChainLoader = (profile: string | undefined) => Promise<{ getCredential(): Promise<{ accessKeyId?: string; accessKeySecret?: string; securityToken?: string }> }>;

/** Options of {@link resolveCredentials}. */
export interface ResolveCredentialsOptions {
  /** The FC invocation context. @default undefined */
  context?: CredentialsContext | undefined;
  /** The AccessKey of the environment (`AppConfig.accessKey`). @default undefined */
  accessKey?: EnvAccessKey | undefined;
  /** The default chain's profile (`AppConfig.credentialsProfile`, ALIBABA_CLOUD_PROFILE). @default the chain's choice */
  profile?: string | undefined;
  /** Gets one debug line naming the origin and a masked key id. @default silentLogger */
  logger?: Logger;
  /** @default dynamic import of `@alicloud/credentials`, `new Credential()` */
  loadDefaultChain?: DefaultChainLoader;
}

const present = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function complete(id: unknown, secret: unknown, token: unknown): Credentials | undefined {
  if (!present(id) || !present(secret)) return undefined;
  const out: Credentials = { accessKeyId: id.trim(), accessKeySecret: secret.trim() };
  if (present(token)) out.securityToken = token.trim();
  return out;
}

/**
 * An AccessKey id safe to log: the first 4 and last 2 characters (`STS.****01`).
 * @example maskAccessKeyId('LTAI5tLocalCloudDemo01') // 'LTAI****01'
 */
export function maskAccessKeyId(accessKeyId: string): string {
  return accessKeyId.length <= 8 ? '****' : `${accessKeyId.slice(0, 4)}****${accessKeyId.slice(-2)}`;
}

const defaultChainLoader: DefaultChainLoader = async (profile) => {
  // The chain takes its profile name from the process environment only (ALIBABA_CLOUD_PROFILE).
  if (profile !== undefined) process.env.ALIBABA_CLOUD_PROFILE = profile;
  // Loaded on demand: the chain (and its HTTP dependencies) is never needed inside FC, where the context has keys;
  // the build makes it a file of its own beside the bundle (dist/<name>/credentials-sdk.js).
  const mod: { default: unknown } = await import('@alicloud/credentials');
  // CJS interop: `default` is the class under a bundler, or module.exports (holding `.default`) under plain Node ESM.
  const candidate = mod.default as { default?: unknown };
  const Credential = (typeof candidate === 'function' ? candidate : candidate.default) as new () => {
    getCredential(): Promise<{ accessKeyId?: string; accessKeySecret?: string; securityToken?: string }>;
  };
  return new Credential();
};

function frozen(origin: CredentialsSource['origin'], get: () => Promise<Credentials>): CredentialsSource {
  // toJSON keeps an accidental log of the source to its origin.
  return Object.freeze({ origin, get, toJSON: () => ({ origin }) });
}

/**
 * Picks the credentials source: FC context STS keys > environment > `@alicloud/credentials` default chain.
 * A context without `accessKeyId`/`accessKeySecret` (FC's `{}`) falls through; so does a half-set environment.
 *
 * @throws (from `get()`) ConfigError when the default chain yields no AccessKey.
 * @example const creds = resolveCredentials({ context }); createRpcClient({ service: 'oos', regionId, credentials: creds })
 */
export function resolveCredentials(options: ResolveCredentialsOptions = {}): CredentialsSource {
  const logger = options.logger ?? silentLogger;
  const ctx = options.context?.credentials;
  const fromContext = ctx ? complete(ctx.accessKeyId, ctx.accessKeySecret, ctx.securityToken) : undefined;
  if (fromContext) {
    logger.debug('credentials resolved', { origin: 'fc-context', keyId: maskAccessKeyId(fromContext.accessKeyId), sts: fromContext.securityToken !== undefined });
    return frozen('fc-context', async () => ({ ...fromContext }));
  }
  const fromEnv = options.accessKey && complete(options.accessKey.accessKeyId, options.accessKey.accessKeySecret, options.accessKey.securityToken);
  if (fromEnv) {
    logger.debug('credentials resolved', { origin: 'env', keyId: maskAccessKeyId(fromEnv.accessKeyId), sts: fromEnv.securityToken !== undefined });
    return frozen('env', async () => ({ ...fromEnv }));
  }
  const load = options.loadDefaultChain ?? defaultChainLoader;
  let chain: ReturnType<DefaultChainLoader> | undefined;
  // The chain's first getCredential walks its providers; two of them at once (collect's existence check beside its
  // first page) make it skip the profile and fail. Callers meanwhile share the one in flight.
  let inflight: Promise<{ accessKeyId?: string; accessKeySecret?: string; securityToken?: string }> | undefined;
  logger.debug('credentials resolved', { origin: 'default-chain' });
  return frozen('default-chain', async () => {
    chain ??= load(options.profile);
    let got: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
    try {
      const loaded = chain;
      inflight ??= (async () => (await loaded).getCredential())().finally(() => {
        inflight = undefined;
      });
      got = await inflight;
    } catch (err) {
      chain = undefined; // let the next call try again (e.g. the metadata server was briefly unreachable)
      const reason = err instanceof Error ? err.message : String(err);
      throw new ConfigError(`no Alibaba Cloud credentials: not in the FC context, not in ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, and the default chain failed: ${reason}`, { cause: err });
    }
    const creds = complete(got.accessKeyId, got.accessKeySecret, got.securityToken);
    if (!creds) throw new ConfigError('no Alibaba Cloud credentials: the default chain returned no AccessKey');
    return creds;
  });
}
