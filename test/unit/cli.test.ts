/** The command line's small pure pieces: times, archive locations, ids, exit codes, the progress line, table cells. */
import { describe, expect, it } from 'vitest';
import { cutAtWord } from '../../lib/cli/archive-commands';
import { exitCodeOf, sourceOfId, type CollectOutcome } from '../../lib/cli/collect';
import { UsageError } from '../../lib/cli/io';
import { describeProgress } from '../../lib/cli/progress';
import { archiveUrlOf, parseWhen } from '../../lib/cli/runtime';
import type { CollectResponse } from '../../lib/collect';

const NOW = Date.parse('2026-05-10T12:00:00Z');

describe('parseWhen', () => {
  it('reads ages before now and ISO-8601 times', () => {
    expect(parseWhen('72h', '--since', NOW)).toBe(NOW - 72 * 3_600_000);
    expect(parseWhen('90m', '--since', NOW)).toBe(NOW - 90 * 60_000);
    expect(parseWhen('3d', '--since', NOW)).toBe(NOW - 3 * 86_400_000);
    expect(parseWhen('2w', '--since', NOW)).toBe(NOW - 14 * 86_400_000);
    expect(parseWhen('2026-05-01', '--since', NOW)).toBe(Date.parse('2026-05-01T00:00:00Z'));
    expect(parseWhen('2026-05-01T08:30:00+08:00', '--until', NOW)).toBe(Date.parse('2026-05-01T00:30:00Z'));
  });
  it('refuses anything else as a usage error naming the option', () => {
    for (const bad of ['yesterday', '72', '-3h', '05/01/2026', '2026-13-45']) expect(() => parseWhen(bad, '--since', NOW)).toThrow(UsageError);
    expect(() => parseWhen('soon', '--until', NOW)).toThrow(/--until "soon"/);
  });
});

describe('archiveUrlOf', () => {
  const io = { env: {}, cwd: '/home/ops/backfill' };
  it('keeps oss:// and file:// URLs, resolves folders against the working folder, defaults to ARCHIVE_URL then ./.local-cloud/archive', () => {
    expect(archiveUrlOf('oss://bucket/prefix', io)).toBe('oss://bucket/prefix');
    expect(archiveUrlOf('file:///srv/archive', io)).toBe('file:///srv/archive');
    expect(archiveUrlOf('./out', io)).toBe('file:///home/ops/backfill/out');
    expect(archiveUrlOf('/srv/a b', io)).toBe('file:///srv/a%20b');
    expect(archiveUrlOf(undefined, { ...io, env: { ARCHIVE_URL: 'oss://b/p' } })).toBe('oss://b/p');
    expect(archiveUrlOf(undefined, io)).toBe('file:///home/ops/backfill/.local-cloud/archive');
    expect(() => archiveUrlOf('s3://bucket/x', io)).toThrow(UsageError);
  });
});

describe('sourceOfId', () => {
  it('follows from the id, or from --source when given', () => {
    expect(sourceOfId('exec-6be6d6ff805349d9ac13', undefined)).toBe('oos');
    expect(sourceOfId('t-hz0jdfwd9f0abc', undefined)).toBe('ecs');
    expect(sourceOfId('t-hz0jdfwd9f0abc', 'ecs')).toBe('ecs');
    expect(() => sourceOfId('i-bp1abcdefgh', undefined)).toThrow(/neither an OOS execution id/);
    expect(() => sourceOfId('t-hz0jdfwd9f0abc', 'rds')).toThrow(/--source must be oos or ecs/);
  });
});

describe('exitCodeOf', () => {
  const result = (status: CollectResponse['status']): CollectOutcome => ({ ok: true, result: { status } as CollectResponse });
  const failed: CollectOutcome = { ok: false, source: 'oos', regionId: 'cn-hangzhou', id: 'exec-aaaaaaaa', error: { code: 'X', message: 'x' } };
  const notStarted: CollectOutcome = { ok: false, source: 'oos', regionId: 'cn-hangzhou', id: 'exec-bbbbbbbb', notStarted: true };
  it('is 0 when all is archived, 3 when anything is left to do or some failed, 1 when everything failed', () => {
    expect(exitCodeOf([result('committed'), result('already-complete'), result('committed-by-other')])).toBe(0);
    expect(exitCodeOf([result('committed'), result('checkpointed')])).toBe(3);
    expect(exitCodeOf([result('committed'), notStarted])).toBe(3);
    expect(exitCodeOf([result('committed'), failed])).toBe(3);
    expect(exitCodeOf([failed])).toBe(1);
    expect(exitCodeOf([failed, failed])).toBe(1);
  });
});

describe('describeProgress', () => {
  const p = { phase: 'records' as const, records: 1500, pages: 30, expectedRecords: 3000, recordsThisRun: 1000, apiCalls: 31, retries: 2, throttles: 1, resumed: true };
  it('shows counts, the rate of this run, retries, throttles and an ETA when the total is known', () => {
    expect(describeProgress(p, 2000)).toBe('records 1,500/3,000 · pages 30 · 500 records/s · retries 2 · throttled 1 · ETA 3s · resumed');
    expect(describeProgress({ ...p, expectedRecords: undefined, resumed: false }, 2000)).toBe('records 1,500 · pages 30 · 500 records/s · retries 2 · throttled 1');
    expect(describeProgress({ ...p, recordsThisRun: 0 }, 0)).toContain('ETA ?');
    expect(describeProgress({ ...p, phase: 'related' }, 2000)).toMatch(/^related objects · pages 30/);
  });
});

describe('cutAtWord', () => {
  it('never cuts inside a word and marks the cut', () => {
    const text = 'Task failed: yum: Cannot find a valid baseurl for repo: base/7/x86_64 while installing packages';
    const cut = cutAtWord(text, 40);
    expect(cut.length).toBeLessThanOrEqual(40);
    expect(cut.endsWith('…')).toBe(true);
    expect(text.startsWith(cut.slice(0, -1))).toBe(true);
    expect(text[cut.length - 1]).toBe(' ');
    expect(cutAtWord('short  text\n', 40)).toBe('short text');
  });
});
