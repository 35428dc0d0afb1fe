import { describe, expect, it, vi } from 'vitest';
import { maskAccessKeyId, resolveCredentials } from '../../lib/cloud/credentials';
import { loadConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { createLogger } from '../../lib/log';

const CTX = { accessKeyId: 'STS.NTContextKey0001', accessKeySecret: 'ctxSecret/+=abc', securityToken: 'CAIS-ctx-token/+=' };
const ENV = {
  ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI5tEnvKey000001',
  ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'envSecret0123456789',
  ALIBABA_CLOUD_SECURITY_TOKEN: 'env-token-value',
};
const CHAIN = { accessKeyId: 'LTAI5tChainKey0001', accessKeySecret: 'chainSecret0123', securityToken: 'chain-token' };

/** The AccessKey the configuration reads from an environment. */
const fromEnv = (env: NodeJS.ProcessEnv) => loadConfig(env).accessKey;

function chainLoader(result: Partial<typeof CHAIN> = CHAIN) {
  const getCredential = vi.fn(async () => result);
  const load = vi.fn(async () => ({ getCredential }));
  return { load, getCredential };
}

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
}

describe('resolveCredentials', () => {
  it('prefers the FC context STS keys over env and the chain', async () => {
    const chain = chainLoader();
    const source = resolveCredentials({ context: { credentials: CTX }, accessKey: fromEnv(ENV), loadDefaultChain: chain.load });
    expect(source.origin).toBe('fc-context');
    await expect(source.get()).resolves.toEqual(CTX);
    expect(chain.load).not.toHaveBeenCalled();
  });

  it('falls through an empty context credentials object to env', async () => {
    const chain = chainLoader();
    const source = resolveCredentials({ context: { credentials: {} }, accessKey: fromEnv(ENV), loadDefaultChain: chain.load });
    expect(source.origin).toBe('env');
    await expect(source.get()).resolves.toEqual({ accessKeyId: ENV.ALIBABA_CLOUD_ACCESS_KEY_ID, accessKeySecret: ENV.ALIBABA_CLOUD_ACCESS_KEY_SECRET, securityToken: 'env-token-value' });
    expect(chain.load).not.toHaveBeenCalled();
  });

  it('falls through a half-filled context, null credentials and a missing context', () => {
    expect(resolveCredentials({ context: { credentials: { accessKeyId: 'STS.x' } }, accessKey: fromEnv(ENV) }).origin).toBe('env');
    expect(resolveCredentials({ context: { credentials: null }, accessKey: fromEnv(ENV) }).origin).toBe('env');
    expect(resolveCredentials({ accessKey: fromEnv(ENV) }).origin).toBe('env');
  });

  it('omits a blank security token from env', async () => {
    const source = resolveCredentials({ accessKey: fromEnv({ ...ENV, ALIBABA_CLOUD_SECURITY_TOKEN: ' ' }) });
    expect(await source.get()).not.toHaveProperty('securityToken');
  });

  it('uses the default chain only when context and env give nothing, lazily and once', async () => {
    const chain = chainLoader();
    const source = resolveCredentials({ context: { credentials: {} }, accessKey: fromEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'only-id' }), loadDefaultChain: chain.load });
    expect(source.origin).toBe('default-chain');
    expect(chain.load).not.toHaveBeenCalled();
    await expect(source.get()).resolves.toEqual(CHAIN);
    await source.get();
    expect(chain.load).toHaveBeenCalledTimes(1);
    expect(chain.getCredential).toHaveBeenCalledTimes(2);
  });

  it('hands the configured profile (ALIBABA_CLOUD_PROFILE) to the default chain', async () => {
    const chain = chainLoader();
    const config = loadConfig({ ALIBABA_CLOUD_PROFILE: 'backfill' });
    await resolveCredentials({ accessKey: config.accessKey, profile: config.credentialsProfile, loadDefaultChain: chain.load }).get();
    expect(chain.load).toHaveBeenCalledWith('backfill');
  });

  it('asks the chain once for callers that come at the same time (its providers are not safe to walk twice at once)', async () => {
    // Prepare
    const chain = chainLoader();
    const source = resolveCredentials({ accessKey: fromEnv({}), loadDefaultChain: chain.load });
    // Act
    const [a, b] = await Promise.all([source.get(), source.get()]);
    const later = await source.get();
    // Assess: one walk for the two at once, a fresh one after (the chain refreshes STS keys itself)
    expect(a).toEqual(CHAIN);
    expect(b).toEqual(CHAIN);
    expect(later).toEqual(CHAIN);
    expect(chain.getCredential).toHaveBeenCalledTimes(2);
  });

  it('fails with a ConfigError when the chain yields nothing', async () => {
    const empty = chainLoader({});
    await expect(resolveCredentials({ accessKey: fromEnv({}), loadDefaultChain: empty.load }).get()).rejects.toBeInstanceOf(ConfigError);
    const failing = vi.fn(async () => {
      throw new Error('no profile');
    });
    await expect(resolveCredentials({ accessKey: fromEnv({}), loadDefaultChain: failing }).get()).rejects.toThrow(/default chain failed: no profile/);
  });

  it('never logs a secret or token, even when the source itself is logged', async () => {
    for (const options of [{ context: { credentials: CTX }, accessKey: fromEnv({}) }, { accessKey: fromEnv(ENV) }, { accessKey: fromEnv({}), loadDefaultChain: chainLoader().load }]) {
      const { lines, logger } = capture();
      const source = resolveCredentials({ ...options, logger });
      const creds = await source.get();
      logger.info('debugging', { source, creds, context: options.context });
      const text = lines.join('\n');
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const secret of [CTX.accessKeySecret, CTX.securityToken, ENV.ALIBABA_CLOUD_ACCESS_KEY_SECRET, ENV.ALIBABA_CLOUD_SECURITY_TOKEN, CHAIN.accessKeySecret, CHAIN.securityToken]) {
        expect(text).not.toContain(secret);
      }
      expect(JSON.stringify(source)).toBe(JSON.stringify({ origin: source.origin }));
    }
  });

  it('masks key ids', () => {
    expect(maskAccessKeyId('LTAI5tEnvKey000001')).toBe('LTAI****01');
    expect(maskAccessKeyId('short')).toBe('****');
  });
});
