import { describe, expect, it } from 'vitest';
import { IdSpool, mergeLists, TRUNCATED_LIST } from '../../lib/summary/failure-lists';

/** Ids no API should send, each as it must come back: line breaks, tabs, escapes, bidi controls, NUL, lone surrogates. */
const HOSTILE = [
  'i-a\tb',
  'i-a b', // not the same resource as the one above
  'i-line\nbreak',
  'i-cr\r\nlf',
  'i-a\\tb', // a backslash and a t, not a tab
  'i-\\',
  '\u202egnp.exe',
  'i-nul\u0000z',
  'i-lone\ud800surrogate',
  'i-\udc00low',
  'i-ok-😀',
  '',
];

describe('the failure lists keep every id exactly', () => {
  it('hands back hostile ids unchanged, in archive order, each resource once per list', async () => {
    // Prepare: every hostile id failed twice (in causes 0 and 1) and was truncated once, in one archive order
    const spool = new IdSpool();
    let index = 0;
    for (const id of HOSTILE) spool.add(index++, 0, id);
    for (const id of HOSTILE) spool.add(index++, 1, id);
    for (const id of HOSTILE) spool.add(index++, TRUNCATED_LIST, id);
    const failures: [string, number][] = [];
    const retry: string[] = [];
    const perCause: string[][] = [[], []];
    const truncated: string[] = [];
    const cut: Record<number, string[]> = {};
    // Act
    const counts = await mergeLists(
      spool,
      2,
      (provisional) => provisional,
      {
        failure: (id, cause) => void failures.push([id, cause]),
        retry: (id) => void retry.push(id),
        causeId: (cause, id) => void perCause[cause]?.push(id),
        truncated: (id) => void truncated.push(id),
      },
      () => true,
      async (cause, ids) => {
        cut[cause] = [...ids];
      },
    );
    // Assess: nothing lost or merged (`i-a\tb` and `i-a b` are two resources), nothing altered
    expect(failures).toEqual([...HOSTILE.map((id) => [id, 0]), ...HOSTILE.map((id) => [id, 1])]);
    expect(retry).toEqual(HOSTILE);
    expect(perCause).toEqual([HOSTILE, HOSTILE]);
    expect(truncated).toEqual(HOSTILE);
    expect(cut).toEqual({ 0: HOSTILE, 1: HOSTILE });
    expect(counts).toEqual({ retry: HOSTILE.length, perCause: [HOSTILE.length, HOSTILE.length], truncated: HOSTILE.length });
  });
});
