/**
 * The join of OOS failed records to their failed child executions, kept on disk (lib/summary/children.ts), and the
 * per-record numbers kept on disk (lib/summary/numbers.ts): the same answers as holding everything in memory.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { createAggregator, type Aggregation } from '../../lib/summary/aggregate';
import { ChildSpool, spoolChildren } from '../../lib/summary/children';
import { durationStats, Float64Spool, spooledDurationStats, spooledTimeline, timelineOf } from '../../lib/summary/numbers';
import { escapeField, unescapeField } from '../../lib/summary/temp-file';
import { instanceId, oosChild, oosRecord } from '../helpers/archive-fixture';

const T0 = Date.parse('2024-05-01T10:00:00Z');
const iso = (seconds: number) => new Date(T0 + seconds * 1000).toISOString().replace('.000Z', 'Z');

/** A failed child of resource `n` whose StatusMessage names cause `cause`. */
function child(n: number, cause: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return oosChild({
    ExecutionId: `exec-child${String(n).padStart(10, '0')}`,
    StatusMessage: `Task 'runCommand' failed: ExitCodeNonzero: ${cause} (InstanceId: ${instanceId(n)}, ExitCode: 1)`,
    Parameters: { instanceId: instanceId(n), regionId: 'cn-shanghai' },
    StartDate: iso(n),
    EndDate: iso(2 * n + 1),
    ...over,
  });
}

const failedRow = (n: number) => oosRecord({ ResourceId: instanceId(n), Status: 'Failed', ExecutionTime: iso(n), Outputs: '{}' });

/** What an aggregation says about its causes, in a form to compare. */
const causes = (a: Aggregation) => a.groups.map((g) => ({ key: g.key, count: g.count, title: g.title, example: g.example, errors: g.instanceErrors, ids: g.resourceIds }));

describe('ChildSpool', () => {
  it('finds a child by a whole short string, by an id-like token of a long output, and not at all', async () => {
    // Prepare: child 1 names its resource in its parameters; child 2 only inside a long log line of its outputs
    const log = `${'step done; '.repeat(30)}restarted ${instanceId(2)} after the update`;
    const spool = await spoolChildren([
      child(1, 'disk full'),
      child(2, 'restart failed', { Parameters: { regionId: 'cn-shanghai' }, Outputs: JSON.stringify({ log }) }),
    ]);
    try {
      // Act + Assess
      expect(spool.statusMessage(instanceId(1))).toContain('disk full');
      expect(spool.statusMessage(instanceId(2))).toContain('restart failed');
      expect(spool.statusMessage(instanceId(3))).toBeUndefined();
      // A short string is a token too, whatever it is.
      expect(spool.statusMessage('cn-shanghai')).toContain('restart failed');
    } finally {
      spool.discard();
    }
  });

  it('gives a resource named by several children to the one that ended last, the one listed last among equal ends', async () => {
    // Prepare: three children of one resource; the second ended last; the fourth and fifth end at once
    const spool = await spoolChildren([
      child(1, 'first', { EndDate: iso(10) }),
      child(1, 'ended last', { EndDate: iso(30) }),
      child(1, 'third', { EndDate: iso(20) }),
      child(2, 'tie, listed first', { EndDate: iso(5) }),
      child(2, 'tie, listed last', { EndDate: iso(5) }),
      child(3, 'has an end', { EndDate: iso(1) }),
      child(3, 'no end', { EndDate: undefined }),
    ]);
    try {
      // Act + Assess
      expect(spool.statusMessage(instanceId(1))).toContain('ended last');
      expect(spool.statusMessage(instanceId(2))).toContain('tie, listed last');
      expect(spool.statusMessage(instanceId(3))).toContain('has an end');
    } finally {
      spool.discard();
    }
  });

  it('gives a token that many children name (kept in memory past its second sighting) to the same winner, and writes it once', () => {
    // Prepare: 4,000 children; every one names the region, every 3rd a shared host, ends repeating (ties), some
    // non-ASCII; 1,500 hot tokens (more than are kept in memory) named by two children each
    const end = (i: number) => (i % 11 === 0 ? `2024-05-01T1${i % 7}:00:00Z ✓` : iso((i * 7919) % 500));
    const kids = Array.from({ length: 4_000 }, (_, i) =>
      child(i, `cause ${i}`, { EndDate: end(i), Parameters: { instanceId: instanceId(i), regionId: 'cn-shanghai', host: i % 3 === 0 ? 'web-shared' : `pair-${Math.floor(i / 2)}x` } }),
    );
    // The winner by the rule: the later end as a text compares, the later child among equal ends.
    const winner = (names: (i: number) => boolean) => {
      let best = -1;
      kids.forEach((_, i) => {
        if (names(i) && (best < 0 || end(i) >= end(best))) best = i;
      });
      return `cause ${best}`;
    };
    const spool = new ChildSpool();
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      kids.forEach((k) => spool.add(k));
      // Act
      allocUnsafe.mockClear();
      while (!spool.completeStep());
      const largest = Math.max(...allocUnsafe.mock.calls.map((c) => Number(c[0])));
      allocUnsafe.mockRestore();
      // Assess: the same winners as the rule; the largest partition holds no line per child of a shared token
      expect(spool.statusMessage('cn-shanghai')).toMatch(new RegExp(`${winner(() => true)} `));
      expect(spool.statusMessage('web-shared')).toMatch(new RegExp(`${winner((i) => i % 3 === 0)} `));
      for (let i = 1; i < 4_000; i += 37) {
        const pair = Math.floor(i / 2);
        if (i % 3 !== 0) expect(spool.statusMessage(`pair-${pair}x`)).toMatch(new RegExp(`${winner((k) => k % 3 !== 0 && Math.floor(k / 2) === pair)} `));
      }
      expect(largest).toBeLessThan(4_000 * 20);
    } finally {
      allocUnsafe.mockRestore();
      spool.discard();
    }
  });

  it('keeps every text exactly: tabs, line feeds, backslashes and lone surrogates in ids and messages', async () => {
    // Prepare: ids and messages that a line-based file would otherwise break or change
    const odd = ['a\tb', 'line\nfeed', 'back\\slash\\n', 'lone \ud800 high', 'lone \udc00 low', 'pair \ud83d\ude00 ok', '\\u0041'];
    const spool = await spoolChildren(odd.map((id, n) => oosChild({ ExecutionId: `exec-${n}`, StatusMessage: `why: ${id}`, Parameters: { id } })));
    try {
      // Act + Assess
      for (const id of odd) expect(spool.statusMessage(id)).toBe(`why: ${id}`);
      expect(spool.statusMessage('a b')).toBeUndefined();
      expect(spool.statusMessage('lone \ufffd high')).toBeUndefined();
      for (const id of odd) expect(unescapeField(escapeField(id))).toBe(id);
      expect(new Set(odd.map(escapeField)).size).toBe(odd.length);
    } finally {
      spool.discard();
    }
  });

  it('picks the winner of each resource by its end as a text compares, whatever bytes the ends and ids are made of', async () => {
    // Prepare: children naming a few resources (ASCII ids and not), with ends whose UTF-8 byte order is not their
    // text's order (U+FFFF sorts after a surrogate pair as text, before it as UTF-8), escaped characters and ties
    const ids = ['i-plain1', 'i-plain2', 'hôte-é1', 'ホスト-01', 'tab\tid', 'pair \ud83d\ude00'];
    const ends = ['2024-05-01T10:00:00Z', '2024-05-01T10:00:00Z\uffff', '2024-05-01T10:00:00Z\ud83d\ude00', '2024-05-01T10:00:00Z\\', '2024-05-01T10:00:00Z\t', '2024-05-01T09:59:59Z', ''];
    const children: Record<string, unknown>[] = [];
    const expected = new Map<string, { end: string; message: string }>();
    for (let n = 0; n < 400; n++) {
      const id = ids[(n * 7) % ids.length] ?? '';
      const end = ends[(n * 5 + Math.floor(n / 7)) % ends.length] ?? '';
      const message = `child ${n}`;
      children.push(oosChild({ ExecutionId: `exec-${n}`, StatusMessage: message, Parameters: { id }, EndDate: end }));
      // The rule: the child that ended last wins, the one listed last among equal ends.
      const best = expected.get(id);
      if (!best || end >= best.end) expected.set(id, { end, message });
    }
    const spool = await spoolChildren(children);
    try {
      // Act + Assess
      for (const id of ids) expect(spool.statusMessage(id)).toBe(expected.get(id)?.message);
      expect('2024-05-01T10:00:00Z\uffff' > '2024-05-01T10:00:00Z\ud83d\ude00').toBe(true);
    } finally {
      spool.discard();
    }
  });

  it('answers every lookup among many children (many buckets), whatever order they are asked in', async () => {
    // Prepare: 20,000 children, messages up to ~9 KB (a window of the messages file does not hold them all)
    const n = 20_000;
    const spool = new ChildSpool();
    for (let i = 0; i < n; i++) spool.add(child(i, `cause ${i % 7} ${'x'.repeat(i % 13 === 0 ? 9000 : 10)}`));
    spool.complete();
    try {
      // Act + Assess: in order, in reverse, and scattered
      const order = [...Array.from({ length: n }, (_, i) => i), ...Array.from({ length: n }, (_, i) => n - 1 - i), ...Array.from({ length: 2000 }, (_, i) => (i * 7919) % n)];
      for (const i of order) {
        const message = spool.statusMessage(instanceId(i));
        expect(message?.startsWith(`Task 'runCommand' failed: ExitCodeNonzero: cause ${i % 7} `)).toBe(true);
        if (i % 13 !== 0) expect(message).toContain(`(InstanceId: ${instanceId(i)}, ExitCode: 1)`);
      }
      // 8,192 characters of a message are kept, as before.
      expect(spool.statusMessage(instanceId(13))).toHaveLength(8192);
    } finally {
      spool.discard();
    }
  });

  it('counts the durations of every failed child once, also of a child no record names', async () => {
    // Prepare: child 5 names no resource at all; child 2 is listed twice; child 9 has no end
    const spool = await spoolChildren([
      child(1, 'a'),
      child(2, 'b'),
      child(2, 'b'),
      oosChild({ ExecutionId: 'exec-child0000000005', Parameters: {}, Outputs: '{}', StartDate: iso(0), EndDate: iso(100) }),
      child(9, 'c', { EndDate: '' }),
    ]);
    try {
      // Assess: 1 → 2 s (child 1), 2 → 3 s (child 2, once), 100 s (child 5); child 9 has no duration
      expect(spool.durations).toEqual({ basis: 'failed-child-executions', count: 3, p50: 3, p90: 100, max: 100 });
    } finally {
      spool.discard();
    }
  });

  it('takes no child once complete, and answers no lookup before', () => {
    const spool = new ChildSpool();
    try {
      spool.add(child(1, 'a'));
      expect(() => spool.statusMessage(instanceId(1))).toThrow(/not complete/);
      spool.complete();
      expect(() => spool.add(child(2, 'b'))).toThrow(/complete/);
    } finally {
      spool.discard();
    }
  });

  it('completed a step at a time, answers as completed at once, and takes no child after the first step', () => {
    // Prepare: the same 600 children (three causes, some listed twice) in two spools
    const kids = Array.from({ length: 600 }, (_, i) => child(i % 450, `cause ${i % 3} on ${instanceId(i % 450)}`));
    const atOnce = new ChildSpool();
    const stepped = new ChildSpool();
    try {
      kids.forEach((k) => atOnce.add(k));
      kids.forEach((k) => stepped.add(k));
      // Act
      atOnce.complete();
      let calls = 1;
      const first = stepped.completeStep();
      const addAfterFirst = () => stepped.add(child(1, 'late'));
      expect(addAfterFirst).toThrow(/complete/);
      expect(() => stepped.statusMessage(instanceId(1))).toThrow(/not complete/);
      for (let done = false; !done; calls++) done = stepped.completeStep();
      // Assess: one step for the durations, one per partition of the tokens (32); the same answers
      expect([first, stepped.completed, calls]).toEqual([false, true, 33]);
      expect(stepped.completeStep()).toBe(true);
      expect(stepped.durations).toEqual(atOnce.durations);
      for (let i = 0; i < 460; i++) expect(stepped.statusMessage(instanceId(i))).toBe(atOnce.statusMessage(instanceId(i)));
    } finally {
      atOnce.discard();
      stepped.discard();
    }
  });

  it('indexes every partition in buffers made once, at the first step, for the largest one', () => {
    // Prepare: partitions of uneven sizes (some children carry many tokens), and a watch on buffer allocations
    const spool = new ChildSpool();
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    try {
      for (let i = 0; i < 3_000; i++) {
        spool.add(child(i, `cause ${i % 5}`, i % 97 === 0 ? { Outputs: Array.from({ length: 200 }, (_, k) => `job-${i}-${k}-${'x'.repeat(k % 40)}`).join(' ') } : {}));
      }
      const reference = new ChildSpool();
      for (let i = 0; i < 3_000; i++) reference.add(child(i, `cause ${i % 5}`));
      reference.complete();
      // Act: the first step (durations, the index's room), then the 32 partitions
      spool.completeStep();
      allocUnsafe.mockClear();
      while (!spool.completeStep());
      // Assess: no buffer made while the partitions were indexed but the index file's own 32 KiB write buffer, once;
      // the same answers
      expect(allocUnsafe.mock.calls.map((c) => c[0])).toEqual([32 * 1024]);
      for (let i = 0; i < 3_000; i += 7) expect(spool.statusMessage(instanceId(i))).toBe(reference.statusMessage(instanceId(i)));
      reference.discard();
    } finally {
      allocUnsafe.mockRestore();
      spool.discard();
    }
  });

  it('closes the partitions not yet indexed when discarded halfway', () => {
    // Prepare: the open files of this process before
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const spool = new ChildSpool();
    for (let i = 0; i < 64; i++) spool.add(child(i, `cause ${i}`));
    // Act: the durations and two partitions, then dropped
    spool.completeStep();
    spool.completeStep();
    spool.completeStep();
    const during = openFiles();
    spool.discard();
    // Assess
    expect(spool.completed).toBe(false);
    expect(during).toBeGreaterThan(before);
    expect(openFiles()).toBe(before);
  });
});

describe('the aggregation of OOS failures with their children', () => {
  /** 3,000 rows, a third failed, their children listed newest first; two of the failed have no child. */
  const n = 3000;
  const rows = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? failedRow(i) : oosRecord({ ResourceId: instanceId(i), ExecutionTime: iso(i) })));
  const kids = Array.from({ length: n }, (_, i) => n - 1 - i)
    .filter((i) => i % 3 === 0 && i !== 0 && i !== 1500)
    .map((i) => child(i, ['E: Unable to locate package nginx-full', `connect to host 10.0.${i % 250}.4 port 22: Connection refused`, 'disk full on /dev/vda1'][(i / 3) % 3] ?? ''));

  it('is the same whether the children come before the records, after them, or halfway', async () => {
    // Act: children first (summarize); children after every record (collect, children listed last); halfway
    const before = createAggregator({ source: 'oos', children: await spoolChildren(kids) });
    for (const r of rows) before.add(r);
    const a = await before.finish();

    const after = createAggregator({ source: 'oos', children: 'later' });
    const late = new ChildSpool();
    for (const r of rows) after.add(r);
    for (const k of kids) late.add(k);
    after.setChildren(late);
    const b = await after.finish();

    const halfway = createAggregator({ source: 'oos', children: 'later' });
    const mid = new ChildSpool();
    rows.slice(0, n / 2).forEach((r) => halfway.add(r));
    kids.forEach((k) => mid.add(k));
    halfway.setChildren(mid);
    rows.slice(n / 2).forEach((r) => halfway.add(r));
    const c = await halfway.finish();

    // Halfway, the waiting failures aggregated a slice at a time (collect's catch-up between pages)
    const sliced = createAggregator({ source: 'oos', children: 'later' });
    const spool = new ChildSpool();
    rows.slice(0, n / 2).forEach((r) => sliced.add(r));
    kids.forEach((k) => spool.add(k));
    sliced.setChildren(spool);
    const oneAtFirst = sliced.catchUp(() => false);
    for (let i = n / 2; i < n; i += 100) {
      rows.slice(i, i + 100).forEach((r) => sliced.add(r));
      let k = 0;
      sliced.catchUp(() => ++k < 7);
    }
    const caughtUp = sliced.catchUp(() => false);
    const d = await sliced.finish();

    // Halfway, the waiting failures left to finish (no catch-up call, no later failure)
    const lazy = createAggregator({ source: 'oos', children: 'later' });
    const lazySpool = new ChildSpool();
    rows.forEach((r) => lazy.add(r));
    kids.forEach((k) => lazySpool.add(k));
    lazy.setChildren(lazySpool);
    const e = await lazy.finish();

    // Assess: the failures found their children's messages (and those without one their own outputs)
    expect(a.failures).toBe(1000);
    expect(a.groups.map((g) => [g.errorCode, g.count])).toEqual([
      ['ExitCodeNonzero', 333],
      ['ExitCodeNonzero', 333],
      ['ExitCodeNonzero', 332],
      ['', 2],
    ]);
    expect(a.groups.find((g) => g.title.includes('Connection refused'))?.example.text).toContain('Connection refused');
    expect(causes(b)).toEqual(causes(a));
    expect(causes(c)).toEqual(causes(a));
    expect([oneAtFirst, caughtUp]).toEqual([false, true]);
    expect(causes(d)).toEqual(causes(a));
    expect(causes(e)).toEqual(causes(a));
    expect([d.durations, e.durations]).toEqual([a.durations, a.durations]);
    expect([b.durations, c.durations]).toEqual([a.durations, a.durations]);
    expect(a.durations).toMatchObject({ basis: 'failed-child-executions', count: kids.length });
  });

  it('cannot finish while it waits for the children, and closes its files when dropped', async () => {
    const agg = createAggregator({ source: 'oos', children: 'later' });
    agg.add(failedRow(1));
    expect(agg.waitingChars).toBeGreaterThan(0);
    await expect(agg.finish()).rejects.toThrow(/waits for the failed children/);
    agg.discard();
  });

  it('closes the file of the failures that waited when dropped after the children came, before any catch-up', () => {
    // Prepare: failures held for the children, then the children handed over (no catch-up slice ran yet)
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const before = openFiles();
    const agg = createAggregator({ source: 'oos', children: 'later' });
    for (let i = 0; i < 20; i++) agg.add(failedRow(i));
    const spool = new ChildSpool();
    agg.setChildren(spool);
    const during = openFiles();
    // Act: dropped (collect's walk failed between two pages)
    agg.discard();
    // Assess: nothing of it left open
    expect(during).toBeGreaterThan(before);
    expect(openFiles()).toBe(before);
  });
});

describe('numbers kept on disk', () => {
  it('gives the same p50/p90/max as sorting them, past a chunk, negative, -0 and repeated values included', () => {
    // Prepare: 50,000 values (several chunks in the file), many equal, some negative
    const values = Float64Array.from({ length: 50_000 }, (_, i) => (i % 11 === 0 ? -((i * 7) % 300) / 8 : i % 5 === 0 ? 42 : ((i * 7919) % 100_003) / 1000));
    values[17] = -0;
    values[18] = 0;
    const spool = new Float64Spool(1);
    for (const v of values) spool.push(v);
    try {
      // Act + Assess: the selection over the file (forced: sortUpTo 0) and the sorted copy (few numbers) agree with a sort
      expect(spooledDurationStats(spool, 'records', 0)).toEqual(durationStats(values, 'records'));
      expect(spooledDurationStats(spool, 'records')).toEqual(durationStats(values, 'records'));
      for (const size of [1, 2, 3, 10, 8191, 8192, 8193]) {
        const small = new Float64Spool(1);
        const part = values.subarray(0, size);
        for (const v of part) small.push(v);
        expect(spooledDurationStats(small, 'records', 0), `size ${size}`).toEqual(durationStats(part, 'records'));
        expect(spooledDurationStats(small, 'records'), `size ${size}, sorted`).toEqual(durationStats(part, 'records'));
        small.discard();
      }
      expect(spooledDurationStats(new Float64Spool(1), 'records')).toBeNull();
    } finally {
      spool.discard();
    }
  });

  it('gives the same timeline as the arrays of finish times', () => {
    // Prepare: 30,000 finishes over a day, every seventh failed
    const at = Float64Array.from({ length: 30_000 }, (_, i) => T0 / 1000 + ((i * 104_729) % 86_400));
    const failed = Uint8Array.from({ length: at.length }, (_, i) => (i % 7 === 0 ? 1 : 0));
    const spool = new Float64Spool(2);
    at.forEach((t, i) => spool.push(t, failed[i]));
    try {
      // Act + Assess
      expect(spooledTimeline(spool, Math.min(...at), Math.max(...at))).toEqual(timelineOf(at, failed));
      expect(spooledTimeline(new Float64Spool(2), 0, 0)).toBeNull();
    } finally {
      spool.discard();
    }
  });
});
