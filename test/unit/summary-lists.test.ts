/**
 * The summary's id lists (lib/summary/lists.ts): the cut causes' lists are stored while the next are written, a few at
 * a time (each holds a spool, an open file, until it is stored).
 */
import { describe, expect, it } from 'vitest';
import { causeListKey, type ArchiveRef } from '../../lib/archive/layout';
import type { ObjectStore } from '../../lib/archive/store';
import type { FailureGroup } from '../../lib/summary/aggregate';
import { createListOutput } from '../../lib/summary/lists';
import { createMemoryStore } from '../helpers/memory-store';

const REF: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0lists000001' };
const LISTS = 20;

describe('the cut causes’ lists', () => {
  it('are stored a few at a time, however many causes are cut, and all of them in the end', async () => {
    // Prepare: 20 cut causes, and a store whose cause lists wait until they are let through
    const inner = createMemoryStore();
    let started = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const store: ObjectStore = Object.create(inner) as ObjectStore;
    store.put = async (key, body, options) => {
      if (key.includes('/causes/')) {
        started += 1;
        await gate;
      }
      return inner.put(key, body, options);
    };
    const groups = Array.from({ length: LISTS }, (_, c) => ({ key: `c${c}` }) as FailureGroup);
    const output = createListOutput(store, REF);
    output.start(groups);
    // Act: the lists written one after another, as the aggregation writes them
    const written = (async () => {
      for (let c = 0; c < LISTS; c++) await output.causeList(c, [`i-${c}a`, `i-${c}b`]);
    })();
    const deadline = Date.now() + 5_000;
    while (started < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 150));
    const atOnce = started;
    release();
    await written;
    await output.end(false);
    await output.stored();
    // Assess: at most four stores under way at once; every list stored
    expect(atOnce).toBeGreaterThanOrEqual(1);
    expect(atOnce).toBeLessThanOrEqual(4);
    expect(started).toBe(LISTS);
    for (let c = 0; c < LISTS; c++) expect((await inner.get(causeListKey(REF, `c${c}`)))?.toString('utf8')).toBe(`i-${c}a\ni-${c}b\n`);
  });
});
