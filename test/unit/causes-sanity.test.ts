/**
 * Generalisation check: failures of programs that are not in the real-output benchmark set (perl, gcc, make, openssl,
 * awk, find, xz, ssh), captured by scripts/causes-sanity.sh, grouped through the aggregation summarize uses: one
 * cause per program error, in one script shape and across shapes, titled by its error line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAggregator } from '../../lib/summary/aggregate';

interface Result {
  cause: string;
  shape: string;
  exitCode: number;
  output: string;
}

const RESULTS = readFileSync(join(__dirname, '..', 'fixtures', 'causes-sanity.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l) as Result);

/** Each result's cause key and title, the results fed as one ECS invocation. */
async function group(results: readonly Result[]): Promise<{ key: string; title: string }[]> {
  const agg = createAggregator({ source: 'ecs' });
  results.forEach((r, i) =>
    agg.add({ InstanceId: `i-sanity${i}`, InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ErrorInfo: 'The command execution exit code is not zero.', ExitCode: r.exitCode, Output: r.output, StartTime: '2026-12-01T00:00:00Z', FinishedTime: '2026-12-01T00:00:01Z' }),
  );
  const byId = new Map<string, { key: string; title: string }>();
  for (const g of (await agg.finish()).groups) for (const id of g.resourceIds) byId.set(id, { key: g.key, title: g.title });
  return results.map((_, i) => byId.get(`i-sanity${i}`) ?? { key: '', title: '' });
}

/** The keys of each true cause, and the true causes of each key. */
function partition(results: readonly Result[], keys: readonly string[]): { keysOf: Map<string, Set<string>>; causesOf: Map<string, Set<string>> } {
  const keysOf = new Map<string, Set<string>>();
  const causesOf = new Map<string, Set<string>>();
  results.forEach((r, i) => {
    const k = keys[i] ?? '';
    keysOf.set(r.cause, (keysOf.get(r.cause) ?? new Set()).add(k));
    causesOf.set(k, (causesOf.get(k) ?? new Set()).add(r.cause));
  });
  return { keysOf, causesOf };
}

describe('programs outside the benchmark set', () => {
  it.each(['bare', 'trap', 'all'])('groups one cause per program error (%s)', async (shape) => {
    // Prepare: the captured results of one shape, or all of them in one invocation
    const results = RESULTS.filter((r) => shape === 'all' || r.shape === shape);
    expect(new Set(results.map((r) => r.cause)).size).toBe(9);
    // Act
    const grouped = await group(results);
    // Assess: every true cause one key, every key one true cause, never the trap trailer as a title
    const { keysOf, causesOf } = partition(results, grouped.map((g) => g.key));
    for (const [cause, keys] of keysOf) expect(keys.size, cause).toBe(1);
    for (const [key, causes] of causesOf) expect(causes.size, key).toBe(1);
    expect(grouped.some((g) => g.title.includes('cleaning up') || g.title.startsWith('step '))).toBe(false);
  });
});
