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

  it('hands each id back with the form it was shown in, hostile forms included, and keeps the cut lists in that form', async () => {
    // Prepare: each hostile id failed twice (causes 0, 1) and was truncated once, given a shown form of its own (also
    // hostile: the same escapes), except every third one, whose shown form is the id itself (none given)
    const spool = new IdSpool();
    const shownOf = (id: string, i: number) => (i % 3 === 0 ? id : `<${id}\t${i}>`);
    let index = 0;
    for (const list of [0, 1, TRUNCATED_LIST]) {
      HOSTILE.forEach((id, i) => (i % 3 === 0 ? spool.add(index++, list, id) : spool.add(index++, list, id, shownOf(id, i))));
    }
    const expected = HOSTILE.map(shownOf);
    const failures: [string, string][] = [];
    const retry: string[] = [];
    const perCause: string[][] = [[], []];
    const truncated: string[] = [];
    const cut: Record<number, string[]> = {};
    // Act
    await mergeLists(
      spool,
      2,
      (provisional) => provisional,
      {
        failure: (id, _cause, shown) => void failures.push([id, shown]),
        retry: (_id, shown) => void retry.push(shown),
        causeId: (cause, _id, _nth, shown) => void perCause[cause]?.push(shown),
        truncated: (_id, _nth, shown) => void truncated.push(shown),
      },
      () => true,
      async (cause, ids) => {
        cut[cause] = [...ids];
      },
    );
    // Assess: every list in the shown forms, each paired with its own id
    expect(failures).toEqual([...HOSTILE.map((id, i) => [id, expected[i]]), ...HOSTILE.map((id, i) => [id, expected[i]])]);
    expect(retry).toEqual(expected);
    expect(perCause).toEqual([expected, expected]);
    expect(truncated).toEqual(expected);
    expect(cut).toEqual({ 0: expected, 1: expected });
  });
});
