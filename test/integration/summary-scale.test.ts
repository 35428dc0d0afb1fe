/**
 * A summary of any size: 1,000,000 ECS records with 30 % failed (eight causes, every message with its own details),
 * summarized in a node process whose heap is capped at 256 MB (test/helpers/summarize-large.ts builds the archive in
 * a temporary file store and summarizes it there). The summary must fit, stay small, and its full lists must hold
 * every failed record: memory grows with the causes, not with the failures. The same for 1,000,000 OOS records with
 * 300,000 failed child executions, each failed record joined to its child (lib/summary/children.ts), under a 128 MB
 * cap: the index of the children held in memory needed ~230 MB of heap here.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { failuresKey } from '../../lib/archive/layout';
import type { Summary } from '../../lib/summary/summary';

const root = resolve(__dirname, '../..');
const RECORDS = 1_000_000;
const dir = mkdtempSync(join(tmpdir(), 'ea-summary-scale-'));
const oosDir = mkdtempSync(join(tmpdir(), 'ea-summary-scale-oos-'));

describe('a summary of 1,000,000 records at 30 % failed', () => {
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(oosDir, { recursive: true, force: true });
  });

  it('is computed under a 256 MB heap cap, stays small, and its full lists hold every failure', { timeout: 900_000 }, () => {
    // Act: build and summarize in a process with a capped heap.
    const run = spawnSync(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', join(root, 'test/helpers/summarize-large.ts'), dir, String(RECORDS), '0.3'], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });

    // Assess
    expect(run.stderr.slice(-2000)).toBe('');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
      keys: { summary: string; retry: string; report: string };
      ref: { source: 'ecs'; regionId: string; id: string };
      peakHeapMb: number;
      heapLimitMb: number;
      summaryBytes: number;
      reportBytes: number;
    };
    expect(out.heapLimitMb).toBeLessThanOrEqual(320);
    const read = (key: string) => readFileSync(join(dir, key));
    const summary = JSON.parse(read(out.keys.summary).toString('utf8')) as Summary;
    const failed = RECORDS * 0.3;
    expect(summary.total).toBe(RECORDS);
    expect(summary.failures).toBe(failed);
    expect(summary.groups.length).toBeGreaterThanOrEqual(8);
    expect(summary.groups.reduce((a, g) => a + g.count, 0)).toBe(failed);
    // Small at any size: ≤ 2 MB, and the report's first view ≤ 3 MB.
    expect(out.summaryBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    expect(out.reportBytes).toBeLessThanOrEqual(3 * 1024 * 1024);
    // Every cut list names the object with all of its ids, and those add up to every failed instance.
    let listed = 0;
    for (const g of summary.groups) {
      expect(g.resourceIds.length).toBeGreaterThan(0);
      if (g.resourceIdsKey === undefined) {
        listed += g.resourceIds.length;
        continue;
      }
      const ids = read(g.resourceIdsKey).toString('utf8').trimEnd().split('\n');
      expect(ids.length).toBe(g.resourceCount);
      expect(ids.slice(0, g.resourceIds.length)).toEqual(g.resourceIds);
      listed += ids.length;
    }
    expect(listed).toBe(failed);
    expect(summary.retry).toMatchObject({ count: failed, idsKey: out.keys.retry });
    expect(summary.retry.ids).toHaveLength(1000);
    expect(read(out.keys.retry).toString('utf8').trimEnd().split('\n')).toHaveLength(failed);
    const failures = gunzipSync(read(failuresKey(out.ref))).toString('utf8').trimEnd().split('\n');
    expect(failures).toHaveLength(failed);
    expect(JSON.parse(failures[0] ?? '{}')).toEqual({ id: summary.retry.ids[0], cause: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(summary.truncatedOutputs.count).toBe(RECORDS / 1000);
  });

  it('OOS: each failed record is joined to its failed child under a 128 MB heap cap', { timeout: 900_000 }, () => {
    // Prepare: the archive, built without a cap (its 300,000 children are written as one object).
    const helper = join(root, 'test/helpers/summarize-large.ts');
    const build = spawnSync(process.execPath, ['--import', 'tsx', helper, oosDir, String(RECORDS), '0.3', 'oos', 'build'], { cwd: root, encoding: 'utf8' });
    expect(build.stderr.slice(-2000)).toBe('');
    expect(build.status).toBe(0);

    // Act: summarize it in a process with a capped heap.
    const run = spawnSync(process.execPath, ['--max-old-space-size=128', '--import', 'tsx', helper, oosDir, String(RECORDS), '0.3', 'oos', 'summarize'], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    });

    // Assess
    expect(run.stderr.slice(-2000)).toBe('');
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { keys: { summary: string }; heapLimitMb: number; summaryBytes: number };
    expect(out.heapLimitMb).toBeLessThanOrEqual(200);
    const summary = JSON.parse(readFileSync(join(oosDir, out.keys.summary), 'utf8')) as Summary;
    const failed = RECORDS * 0.3;
    expect(summary.failures).toBe(failed);
    expect(summary.groups.reduce((a, g) => a + g.count, 0)).toBe(failed);
    // Every failure read its child's StatusMessage: the error code is only there, and the causes are its eight.
    expect(summary.groups).toHaveLength(8);
    for (const g of summary.groups) expect([g.errorCode, g.count]).toEqual(['ExitCodeNonzero', failed / 8]);
    // The children's durations, each child once: 1 s to 30 s, 10,000 children each.
    expect(summary.durations).toEqual({ basis: 'failed-child-executions', count: failed, p50: 15, p90: 27, max: 30 });
    expect(summary.timeline?.buckets.reduce((a, b) => a + b.finished, 0)).toBe(RECORDS);
    expect(out.summaryBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
  });
});
