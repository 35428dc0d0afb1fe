/**
 * The runtime settings s.yaml gives collect (NODE_OPTIONS, MALLOC_ARENA_MAX) reach its process when it is started the
 * way Function Compute starts it: node loading the built bundle with the function's environment variables in its
 * environment. The bundle logs its effective limits as it loads (lib/runtime.ts `logColdStart`); V8's heap limit
 * includes 3 × the largest semi-space, so a smaller `--max-semi-space-size` shows there.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ensureBundles } from '@execution-archive/local-cloud/host/bundles';
import { RUNTIME_VARIABLES } from '../../lib/config';
import type { RuntimeLimits } from '../../lib/runtime';

const root = resolve(__dirname, '../..');
const bundle = join(root, 'dist', 'collect', 'index.js');

/** s.yaml's runtime settings for collect, as FC puts them in the function's environment. */
function collectRuntimeSettings(): Record<string, string> {
  const doc = parse(readFileSync(join(root, 's.yaml'), 'utf8')) as { resources: { collect: { props: { environmentVariables: Record<string, unknown> } } } };
  const names = new Set(RUNTIME_VARIABLES.map((v) => v.name));
  return Object.fromEntries(Object.entries(doc.resources.collect.props.environmentVariables).filter(([k]) => names.has(k)).map(([k, v]) => [k, String(v)]));
}

/** Starts node on the bundle with `env` (nothing inherited that would change its limits) and reads its cold-start line. */
function coldStart(env: Record<string, string>): RuntimeLimits & { fn: string } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS' && k !== 'MALLOC_ARENA_MAX' && k !== 'LOG_LEVEL')) as Record<string, string>;
  const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(bundle)})`], { env: { ...base, ...env }, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  const line = run.stdout.split('\n').find((l) => l.includes('"cold start: runtime limits"'));
  expect(line, run.stdout).toBeDefined();
  return JSON.parse(line ?? '{}') as RuntimeLimits & { fn: string };
}

describe("collect's runtime settings", () => {
  beforeAll(async () => {
    await ensureBundles({ root });
  }, 180_000);

  it('reach the process started as FC starts it, which logs its effective heap limits at cold start', () => {
    // Prepare
    const settings = collectRuntimeSettings();
    expect(settings.NODE_OPTIONS).toMatch(/--max-semi-space-size=\d+/);

    // Act
    const withSettings = coldStart(settings);
    const without = coldStart({});

    // Assess: the process received them, and V8 applied them (a smaller young generation lowers its heap limit).
    expect(withSettings).toMatchObject({ fn: 'collect', nodeOptions: settings.NODE_OPTIONS, mallocArenaMax: settings.MALLOC_ARENA_MAX ?? null });
    expect(without).toMatchObject({ fn: 'collect', nodeOptions: null, mallocArenaMax: null });
    expect(withSettings.heapSizeLimitMb).toBeLessThan(without.heapSizeLimitMb);
    // What V8 sized the heap from when no flag does: the machine's memory and the cgroup's limit, as the process sees them.
    expect(without.memorySeenMb.total).toBeGreaterThan(0);
    expect(without.memorySeenMb.constrained === null || without.memorySeenMb.constrained > 0).toBe(true);
  });
});
