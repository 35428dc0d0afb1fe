/**
 * What the cold start depends on: the FC 3.0 SDK is not in any function's main bundle but in `fc-sdk.js` beside the
 * bundles that fan out, which require it only when they invoke; the default credential chain is in
 * `credentials-sdk.js`, required only without keys in the context or environment; lib/causes is in `causes.js`,
 * required on the first failure grouped or text masked, never as a bundle loads; iconv-lite is replaced by the
 * TextDecoder shim; nothing of the local cloud (packages/local-cloud, a development dependency) is deployed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBundles } from '@execution-archive/local-cloud/host/bundles';

const root = resolve(__dirname, '../..');
const FANNING_OUT = ['collect', 'on-cloud-assistant-event', 'sweep'];

beforeAll(async () => {
  await ensureBundles({ root });
}, 120_000);

describe('the bundles', () => {
  it.each(FANNING_OUT)('%s: the FC SDK sits in fc-sdk.js, loaded lazily, not in index.js', async (name) => {
    // Prepare
    const main = readFileSync(join(root, 'dist', name, 'index.js'), 'utf8');
    const sdk = join(root, 'dist', name, 'fc-sdk.js');
    // Assess: the SDK's request classes are in the chunk only; the bundle requires the chunk by its relative path
    expect(main).not.toContain('x-fc-async-task-id');
    expect(main).toMatch(/\b(?:require|import)\("\.\/fc-sdk\.js"\)/);
    expect(readFileSync(sdk, 'utf8')).toContain('x-fc-async-task-id');
    const chunk = (await import(sdk)) as Record<string, unknown>;
    expect(typeof chunk.FcClient).toBe('function');
    expect(typeof chunk.InvokeFunctionRequest).toBe('function');
  });

  it.each(['collect', 'summarize', 'sweep', 'on-cloud-assistant-event'])('%s: the credential chain sits in credentials-sdk.js, loaded lazily', async (name) => {
    // Prepare
    const main = readFileSync(join(root, 'dist', name, 'index.js'), 'utf8');
    const sdk = join(root, 'dist', name, 'credentials-sdk.js');
    // Assess: the chain's environment variables are in the chunk only; the bundle requires it by its relative path
    expect(main).not.toContain('ALIBABA_CLOUD_CREDENTIALS_FILE');
    expect(main).toMatch(/\b(?:require|import)\("\.\/credentials-sdk\.js"\)/);
    expect(readFileSync(sdk, 'utf8')).toContain('ALIBABA_CLOUD_CREDENTIALS_FILE');
    // The package's exports, read as lib/cloud/credentials.ts reads them (the class, or exports holding it as `default`).
    const candidate = ((await import(sdk)) as { default?: unknown }).default as { default?: unknown } | undefined;
    expect(typeof (typeof candidate === 'function' ? candidate : candidate?.default)).toBe('function');
  });

  it.each(['collect', 'summarize', 'digest'])('%s: lib/causes sits in causes.js, required on first use, not as the bundle loads', async (name) => {
    // Prepare
    const dir = join(root, 'dist', name);
    const mainSources = (JSON.parse(readFileSync(join(dir, 'index.js.map'), 'utf8')) as { sources: string[] }).sources;
    const roomSources = (JSON.parse(readFileSync(join(dir, 'causes.js.map'), 'utf8')) as { sources: string[] }).sources;
    // Act: load the bundle as FC does, in a process of its own, and list the files it required
    const loaded = spawnSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(join(dir, 'index.js'))}); process.stdout.write('\\nLOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n')`],
      { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'error' } },
    );
    const files = JSON.parse(loaded.stdout.split('\n').find((l) => l.startsWith('LOADED '))?.slice(7) ?? 'null') as string[] | null;
    // Assess: the room's modules are in causes.js only; the bundle requires it by its relative path, but not as it
    // loads; the room's file works on its own (its masker masks)
    expect(mainSources.filter((s) => s.startsWith('../../lib/causes/'))).toEqual([]);
    expect(roomSources).toContain('../../lib/causes/secrets.ts');
    expect(readFileSync(join(dir, 'index.js'), 'utf8')).toMatch(/\brequire\("\.\/causes\.js"\)/);
    expect(files).not.toBeNull();
    expect(files?.some((f) => f.endsWith('index.js'))).toBe(true);
    expect(files?.filter((f) => f.endsWith('causes.js'))).toEqual([]);
    const room = (await import(join(dir, 'causes.js'))) as { secrets: { maskSecrets(text: string): string } };
    expect(room.secrets.maskSecrets('mysql -uroot -phunter2')).toBe('mysql -uroot -p<redacted>');
  });

  it.each(['sweep', 'on-cloud-assistant-event'])('%s: groups no failures, so it has no causes.js', (name) => {
    expect(existsSync(join(root, 'dist', name, 'causes.js'))).toBe(false);
  });

  it('summarize does not fan out, so it has no SDK chunk', () => {
    expect(existsSync(join(root, 'dist', 'summarize', 'fc-sdk.js'))).toBe(false);
  });

  it.each(['collect', 'summarize', 'sweep', 'on-cloud-assistant-event'])('%s: no iconv-lite code tables', (name) => {
    const main = readFileSync(join(root, 'dist', name, 'index.js'), 'utf8');
    expect(main).not.toContain('Encoding not recognized'); // iconv-lite's own error message
    expect(main).toContain('TextDecoder');
  });

  it.each(['collect', 'summarize', 'sweep', 'on-cloud-assistant-event'])('%s: nothing of the local cloud is bundled', (name) => {
    // Prepare: every source file esbuild put into the function's files, from their source maps
    const dir = join(root, 'dist', name);
    const sources = readdirSync(dir)
      .filter((f) => f.endsWith('.js.map'))
      .flatMap((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { sources: string[] }).sources);
    // Assess: lib/ and its packages are there, the local cloud is not (its demo key is not either)
    expect(sources.some((s) => s.startsWith('../../lib/'))).toBe(true);
    expect(sources.filter((s) => s.includes('local-cloud'))).toEqual([]);
    expect(readFileSync(join(dir, 'index.js'), 'utf8')).not.toContain('LocalCloudDemo');
  });

  it.each(['collect', 'summarize', 'sweep', 'on-cloud-assistant-event'])('%s: no DuckDB (native, the command line\'s only); the Parquet writer only where summaries are stored', (name) => {
    // Prepare: every source file of the function's files, from their source maps
    const dir = join(root, 'dist', name);
    const sources = readdirSync(dir)
      .filter((f) => f.endsWith('.js.map'))
      .flatMap((f) => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { sources: string[] }).sources);
    // Assess
    expect(sources.filter((s) => s.includes('@duckdb') || s.includes('lib/warehouse/sql') || s.includes('lib/cli/'))).toEqual([]);
    const writer = sources.some((s) => s.includes('node_modules/hyparquet-writer/'));
    expect(writer).toBe(name === 'collect' || name === 'summarize');
  });
});
