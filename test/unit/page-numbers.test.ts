/**
 * The page-number walk: pages fetched concurrently and yielded in order (numberedPages), and the checked legacy
 * PageNumber walk of a finished invocation that falls back to NextToken when the pages do not add up
 * (describeFinishedInvocationResults). Fake clients here; the collector against the local cloud is in
 * test/integration/collect-parallel-pages.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { describeFinishedInvocationResults, type FinishedResultsPage } from '../../lib/cloud/ecs';
import { numberedPages } from '../../lib/cloud/paginate';
import type { RpcClient, RpcParams } from '../../lib/cloud/rpc';
import { ApiError } from '../../lib/errors';

async function all<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('numberedPages', () => {
  it('yields pages first..last in page order however the answers arrive, with at most `concurrency` requested ahead', async () => {
    // Prepare: later pages answer sooner
    let inFlight = 0;
    let most = 0;
    const log: string[] = [];
    const fetchPage = async (n: number) => {
      inFlight++;
      most = Math.max(most, inFlight);
      log.push(`fetch ${n}`);
      await tick(20 - n);
      inFlight--;
      return `page ${n}`;
    };
    // Act
    const pages = await all(numberedPages({ fetchPage, first: 3, last: 12, concurrency: 4 }));
    // Assess
    expect(pages.map((p) => p.pageNumber)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(pages.map((p) => p.page)).toEqual(pages.map((p) => `page ${p.pageNumber}`));
    expect(most).toBe(4);
    expect(log.slice(0, 4)).toEqual(['fetch 3', 'fetch 4', 'fetch 5', 'fetch 6']);
  });

  it('requests no more while the consumer holds pages: memory is bounded by the concurrency', async () => {
    const requested: number[] = [];
    const it = numberedPages({ fetchPage: async (n) => (requested.push(n), n), first: 1, last: 100, concurrency: 3 })[Symbol.asyncIterator]();
    await it.next();
    await tick(5);
    expect(requested).toEqual([1, 2, 3, 4]);
    await it.return(undefined);
    expect(requested).toEqual([1, 2, 3, 4]);
  });

  it('surfaces a failed page at its turn, after the pages before it, and waits for the requests still out', async () => {
    let settled = 0;
    const seen: number[] = [];
    const fetchPage = async (n: number) => {
      await tick(n === 3 ? 1 : 10);
      settled++;
      if (n === 3) throw new Error('page 3 failed');
      return n;
    };
    await expect(
      (async () => {
        for await (const p of numberedPages({ fetchPage, first: 1, last: 10, concurrency: 4 })) seen.push(p.page);
      })(),
    ).rejects.toThrow('page 3 failed');
    expect(seen).toEqual([1, 2]);
    // Pages 1-4 were requested first, then 5 and 6 as 1 and 2 were taken: all of them settled before the throw.
    expect(settled).toBe(6);
  });

  it('fetches nothing when last < first, and concurrency below 1 counts as 1', async () => {
    expect(await all(numberedPages({ fetchPage: async (n) => n, first: 2, last: 1, concurrency: 8 }))).toEqual([]);
    expect((await all(numberedPages({ fetchPage: async (n) => n, first: 1, last: 3, concurrency: 0 }))).map((p) => p.page)).toEqual([1, 2, 3]);
  });
});

/** How the fake's legacy pages disagree with themselves. */
interface Drift {
  totalCountOnPage?: [number, number];
  repeatOnPage?: number;
  dropId?: boolean;
}

/** A fake ECS answering legacy pages and NextToken pages over `ids`, with hooks to make legacy pages disagree. */
function fakeEcs(ids: string[], drift: Drift = {}) {
  const calls: RpcParams[] = [];
  const client: RpcClient = {
    service: 'ecs',
    regionId: 'cn-hangzhou',
    stats: { apiCalls: 0, retries: 0, throttles: 0 },
    request: async <T>(_action: string, params: RpcParams) => {
      calls.push({ ...params });
      await tick(1);
      const record = (id: string) => (drift.dropId && id === ids[0] ? { InvokeId: 't-1' } : { InstanceId: id, InvokeId: 't-1' });
      if (params.PageNumber !== undefined) {
        const n = Number(params.PageNumber);
        const size = Number(params.PageSize);
        const from = (n - 1) * size - (drift.repeatOnPage === n ? 1 : 0);
        const total = drift.totalCountOnPage?.[0] === n ? drift.totalCountOnPage[1] : ids.length;
        return { Invocation: { PageNumber: n, PageSize: size, TotalCount: total, InvocationResults: { InvocationResult: ids.slice(from, from + size).map(record) } } } as T;
      }
      const offset = params.NextToken === undefined ? 0 : Number(params.NextToken);
      const size = Number(params.MaxResults);
      const next = offset + size < ids.length ? String(offset + size) : '';
      return { Invocation: { TotalCount: 0, NextToken: next, InvocationResults: { InvocationResult: ids.slice(offset, offset + size).map(record) } } } as T;
    },
  };
  return { client, calls };
}

const idsOf = (n: number) => Array.from({ length: n }, (_, i) => `i-${String(i).padStart(6, '0')}`);
const recordIds = (pages: FinishedResultsPage[]) => pages.flatMap((p) => p.records.map((r) => r.InstanceId));

describe('describeFinishedInvocationResults', () => {
  it.each([0, 1, 49, 50, 51, 230])('reads %i instances by page number, each once, in order, with no NextToken', async (n) => {
    const ids = idsOf(n);
    const { client, calls } = fakeEcs(ids);
    const pages = await all(describeFinishedInvocationResults(client, { invokeId: 't-1', expectedRecords: n, concurrency: 4 }));
    expect(recordIds(pages)).toEqual(ids);
    expect(pages.every((p) => p.restart === undefined && p.nextToken === undefined)).toBe(true);
    expect(pages.map((p) => p.nextPage)).toEqual([...pages.slice(1).map((_, i) => i + 2), undefined]);
    expect(calls.every((c) => c.NextToken === undefined && c.MaxResults === undefined && c.PageSize === 50 && c.IncludeHistory === false)).toBe(true);
    expect(calls.map((c) => c.PageNumber)).toEqual(pages.map((_, i) => i + 1));
  });

  it.each<[string, Drift, RegExp]>([
    ['TotalCount differs from the instance count on the first page', { totalCountOnPage: [1, 231] }, /page 1 of 5 .*TotalCount 231/],
    ['TotalCount changes on the last page', { totalCountOnPage: [5, 229] }, /page 5 of 5 .*TotalCount 229/],
    ['a page repeats a record of the page before', { repeatOnPage: 3 }, /page 3 of 5 .*repeats InstanceId i-000099/],
    ['a record has no InstanceId', { dropId: true }, /without an InstanceId/],
  ])('when %s, says why, then walks NextToken from the start: every record once', async (_what, drift, reason) => {
    const ids = idsOf(230);
    const { client, calls } = fakeEcs(ids, drift);
    const pages = await all(describeFinishedInvocationResults(client, { invokeId: 't-1', expectedRecords: 230, concurrency: 2 }));
    const restart = pages.findIndex((p) => p.restart !== undefined);
    expect(restart).toBeGreaterThanOrEqual(0);
    expect(pages[restart]?.restart).toMatch(reason);
    expect(pages[restart]?.records).toEqual([]);
    const after = pages.slice(restart + 1);
    if (drift.dropId) expect(after.flatMap((p) => p.records)).toHaveLength(230);
    else expect(recordIds(after)).toEqual(ids);
    expect(after.every((p) => p.nextPage === undefined)).toBe(true);
    expect(calls.filter((c) => c.NextToken !== undefined || c.MaxResults !== undefined).length).toBe(5);
    // No page that did not add up was handed on
    expect(recordIds(pages.slice(0, restart)).length).toBeLessThan(230);
  });

  it('an instance count that is not the TotalCount (an instance more than the API lists) falls back', async () => {
    const { client } = fakeEcs(idsOf(100));
    const pages = await all(describeFinishedInvocationResults(client, { invokeId: 't-1', expectedRecords: 101, concurrency: 8 }));
    expect(pages[0]?.restart).toMatch(/TotalCount 100, the invocation has 101 instances/);
    expect(recordIds(pages.slice(1))).toHaveLength(100);
  });

  it('resumes at a page with the archived InstanceIds, and refuses a resume that does not add up', async () => {
    const ids = idsOf(230);
    const { client, calls } = fakeEcs(ids);
    const archived = (list: string[]) => async function* () {
      yield* list;
    };
    const resumed = await all(describeFinishedInvocationResults(client, { invokeId: 't-1', expectedRecords: 230, concurrency: 3, startingPage: 3, archivedInstanceIds: archived(ids.slice(0, 100)) }));
    expect(recordIds(resumed)).toEqual(ids.slice(100));
    expect(calls.map((c) => c.PageNumber)).toEqual([3, 4, 5]);
    // The archive holds a record of page 3 already: page 3 repeats it
    const twice = await all(describeFinishedInvocationResults(client, { invokeId: 't-1', expectedRecords: 230, concurrency: 3, startingPage: 3, archivedInstanceIds: archived([...ids.slice(0, 99), ids[120] ?? '']) }));
    expect(twice[0]?.restart).toMatch(/repeats InstanceId i-000120/);
    expect(recordIds(twice.slice(1))).toEqual(ids);
    // Fewer archived records than the pages before page 3 hold
    const short = await all(describeFinishedInvocationResults(client, { invokeId: 't-1', expectedRecords: 230, concurrency: 3, startingPage: 3, archivedInstanceIds: archived(ids.slice(0, 98)) }));
    expect(short[0]?.restart).toMatch(/cannot resume at page 3 of 5 with 98 records/);
    expect(recordIds(short.slice(1))).toEqual(ids);
  });

  it('a page the API refuses (a 4xx no retry changes: the paging withdrawn) falls back to NextToken', async () => {
    const ids = idsOf(120);
    const { client } = fakeEcs(ids);
    const refused = new ApiError({ service: 'ecs', action: 'DescribeInvocationResults', code: 'InvalidParam.PageNumber', apiMessage: 'The specified parameter is invalid.', httpStatus: 400, retryable: false, attempts: 1 });
    const failing: RpcClient = { ...client, request: async (a, p) => (p.PageNumber === 2 ? Promise.reject(refused) : client.request(a, p)) };
    const pages = await all(describeFinishedInvocationResults(failing, { invokeId: 't-1', expectedRecords: 120, concurrency: 2 }));
    expect(pages.map((p) => p.restart)).toContain('page 2 was refused: InvalidParam.PageNumber: The specified parameter is invalid.');
    expect(recordIds(pages.slice(pages.findIndex((p) => p.restart) + 1))).toEqual(ids);
  });

  it('an API failure is not a mismatch: it is thrown, for the caller to checkpoint and retry', async () => {
    const { client } = fakeEcs(idsOf(120));
    const failing: RpcClient = { ...client, request: async (a, p) => (p.PageNumber === 2 ? Promise.reject(new Error('boom')) : client.request(a, p)) };
    const seen: FinishedResultsPage[] = [];
    await expect(
      (async () => {
        for await (const p of describeFinishedInvocationResults(failing, { invokeId: 't-1', expectedRecords: 120, concurrency: 2 })) seen.push(p);
      })(),
    ).rejects.toThrow('boom');
    expect(seen.map((p) => p.nextPage)).toEqual([2]);
  });
});
