import { describe, expect, it } from 'vitest';
import { describeInvocationResults, describeInvocations } from '../../lib/cloud/ecs';
import { listExecutions, listResourceExecutionStatus } from '../../lib/cloud/oos';
import { normalizeToken, paginate, readAhead } from '../../lib/cloud/paginate';
import type { RpcClient, RpcParams } from '../../lib/cloud/rpc';
import { ApiError, PaginationError } from '../../lib/errors';

interface Page {
  items: number[];
  NextToken?: string | null;
}

/** A fake NextToken API over `total` items, `size` per page; tokens are opaque offsets. */
function fakeApi(total: number, size: number) {
  const calls: Array<string | undefined> = [];
  return {
    calls,
    fetchPage: async (token: string | undefined): Promise<Page> => {
      calls.push(token);
      const offset = token === undefined ? 0 : Number(token.slice(4));
      const items = Array.from({ length: Math.max(0, Math.min(size, total - offset)) }, (_, i) => offset + i);
      const next = offset + size;
      return next < total ? { items, NextToken: `tok-${next}` } : { items, NextToken: '' };
    },
    tokenOf: (page: Page) => page.NextToken,
  };
}

async function collect<T>(gen: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

/** A fake RpcClient answering from a list of bodies, recording the params of each call. */
function fakeClient(service: 'oos' | 'ecs', bodies: unknown[]) {
  const calls: Array<{ action: string; params: RpcParams }> = [];
  const client: RpcClient = {
    service,
    regionId: 'cn-hangzhou',
    stats: { apiCalls: 0, retries: 0, throttles: 0 },
    request: async <T>(action: string, params: RpcParams) => {
      calls.push({ action, params: { ...params } });
      const body = bodies.shift();
      if (body === undefined) throw new Error('no more bodies');
      return body as T & { RequestId?: string };
    },
  };
  return { client, calls };
}

describe('paginate', () => {
  const size = 10;
  it.each([
    ['empty', 0],
    ['one', 1],
    ['page-1', size - 1],
    ['page', size],
    ['page+1', size + 1],
    ['many', size * 7 + 3],
  ])('yields every item exactly once (%s: %i items)', async (_label, total) => {
    const api = fakeApi(total, size);
    const pages = await collect(paginate(api));
    const items = pages.flatMap((p) => p.items);
    expect(items).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(pages).toHaveLength(Math.max(1, Math.ceil(total / size)));
    expect(new Set(api.calls).size).toBe(api.calls.length);
  });

  it('continues through empty pages that still carry a token', async () => {
    const script: Page[] = [
      { items: [1], NextToken: 'a' },
      { items: [], NextToken: 'b' },
      { items: [], NextToken: 'c' },
      { items: [2], NextToken: null },
    ];
    const pages = await collect(paginate({ fetchPage: async () => script.shift() ?? { items: [] }, tokenOf: (p) => p.NextToken }));
    expect(pages.flatMap((p) => p.items)).toEqual([1, 2]);
    expect(pages).toHaveLength(4);
  });

  it.each([undefined, null, ''])('stops on a %j token', async (token) => {
    let calls = 0;
    const pages = await collect(
      paginate({
        fetchPage: async () => {
          calls++;
          return { items: [1], NextToken: token };
        },
        tokenOf: (p: Page) => p.NextToken,
      }),
    );
    expect(pages).toHaveLength(1);
    expect(calls).toBe(1);
  });

  it('throws PaginationError on a repeated token (not only the previous one)', async () => {
    const tokens = ['a', 'b', 'c', 'a'];
    const seen: Array<string | undefined> = [];
    const gen = paginate({
      fetchPage: async (t) => {
        seen.push(t);
        return { items: [seen.length], NextToken: tokens[seen.length - 1] };
      },
      tokenOf: (p: Page) => p.NextToken,
    });
    const got: number[] = [];
    await expect(
      (async () => {
        for await (const p of gen) got.push(...p.items);
      })(),
    ).rejects.toBeInstanceOf(PaginationError);
    expect(got).toEqual([1, 2, 3]);
    expect(seen).toEqual([undefined, 'a', 'b', 'c']);
  });

  it('treats a service echoing the starting token as a loop', async () => {
    const gen = paginate({ fetchPage: async () => ({ items: [], NextToken: 'start' }), tokenOf: (p: Page) => p.NextToken, startingToken: 'start' });
    await expect(collect(gen)).rejects.toBeInstanceOf(PaginationError);
  });

  it('resumes from startingToken', async () => {
    const api = fakeApi(35, 10);
    const pages = await collect(paginate({ ...api, startingToken: 'tok-20' }));
    expect(pages.flatMap((p) => p.items)).toEqual(Array.from({ length: 15 }, (_, i) => 20 + i));
    expect(api.calls[0]).toBe('tok-20');
  });

  it('stops after maxPages, leaving the next token on the last page', async () => {
    const api = fakeApi(100, 10);
    const pages = await collect(paginate({ ...api, maxPages: 3 }));
    expect(pages).toHaveLength(3);
    expect(pages.at(-1)?.NextToken).toBe('tok-30');
    expect(api.calls).toHaveLength(3);
  });

  it('stops early on break without fetching further', async () => {
    const api = fakeApi(100, 10);
    for await (const page of paginate(api)) {
      if (page.items[0] === 10) break;
    }
    expect(api.calls).toEqual([undefined, 'tok-10']);
  });

  it('checks the signal before each fetch', async () => {
    const api = fakeApi(100, 10);
    const controller = new AbortController();
    const gen = paginate({ ...api, signal: controller.signal });
    await gen.next();
    controller.abort(new Error('deadline'));
    await expect(gen.next()).rejects.toThrow('deadline');
    expect(api.calls).toHaveLength(1);
  });

  it('normalises tokens', () => {
    expect(normalizeToken(undefined)).toBeUndefined();
    expect(normalizeToken(null)).toBeUndefined();
    expect(normalizeToken('')).toBeUndefined();
    expect(normalizeToken('x')).toBe('x');
    expect(normalizeToken(12)).toBe('12');
  });
});

describe('OOS walkers', () => {
  it('listResourceExecutionStatus sends the execution id and page size 100, keeps records as returned', async () => {
    const rec = { ResourceId: 'i-1', Status: 'Success', Outputs: '{"a":1}', Unknown: { x: [1] } };
    const { client, calls } = fakeClient('oos', [
      { RequestId: 'R1', NextToken: 'n1', ResourceExecutionStatus: [rec] },
      { RequestId: 'R2', ResourceExecutionStatus: [] },
    ]);
    const pages = await collect(listResourceExecutionStatus(client, { executionId: 'exec-aaaaaa' }));
    expect(pages).toEqual([
      { records: [rec], nextToken: 'n1', requestId: 'R1' },
      { records: [], nextToken: undefined, requestId: 'R2' },
    ]);
    expect(calls[0]).toEqual({ action: 'ListResourceExecutionStatus', params: { RegionId: 'cn-hangzhou', ExecutionId: 'exec-aaaaaa', MaxResults: 100, NextToken: undefined } });
    expect(calls[1]?.params.NextToken).toBe('n1');
  });

  it('clamps the page size to 10..100', async () => {
    const { client, calls } = fakeClient('oos', [{ RequestId: 'R' }, { RequestId: 'R' }]);
    await collect(listResourceExecutionStatus(client, { executionId: 'exec-aaaaaa', maxResults: 500 }));
    await collect(listResourceExecutionStatus(client, { executionId: 'exec-aaaaaa', maxResults: 1 }));
    expect(calls.map((c) => c.params.MaxResults)).toEqual([100, 10]);
  });

  it('listExecutions never mutates the filters and encodes JSON-typed params', async () => {
    const filters = { Status: 'Failed', Tags: { team: 'ops' }, Categories: ['Other'], IncludeChildExecution: true, startingToken: 'resume-1', maxResults: 50 };
    const before = structuredClone(filters);
    const { client, calls } = fakeClient('oos', [
      { RequestId: 'R1', NextToken: 'n2', Executions: [{ ExecutionId: 'exec-1' }] },
      { RequestId: 'R2', NextToken: '', Executions: [{ ExecutionId: 'exec-2' }] },
    ]);
    const pages = await collect(listExecutions(client, filters));
    expect(filters).toEqual(before);
    expect(pages.flatMap((p) => p.records.map((r) => r.ExecutionId))).toEqual(['exec-1', 'exec-2']);
    expect(calls[0]?.params).toEqual({ RegionId: 'cn-hangzhou', Status: 'Failed', Tags: '{"team":"ops"}', Categories: '["Other"]', IncludeChildExecution: true, NextToken: 'resume-1', MaxResults: 50 });
    expect(calls[1]?.params.NextToken).toBe('n2');
  });

  it('rejects a records field that is not a list', async () => {
    const { client } = fakeClient('oos', [{ RequestId: 'R1', Executions: { Execution: [] } }]);
    await expect(collect(listExecutions(client))).rejects.toMatchObject({ code: 'UnexpectedResponse', requestId: 'R1' });
    await expect(collect(listExecutions(fakeClient('oos', [{ Executions: 'x' }]).client))).rejects.toBeInstanceOf(ApiError);
  });
});

describe('ECS walkers', () => {
  it('describeInvocationResults reads the nested records and token, PlainText, page size 50', async () => {
    const { client, calls } = fakeClient('ecs', [
      { RequestId: 'E1', Invocation: { NextToken: 'x1', InvocationResults: { InvocationResult: [{ InstanceId: 'i-1', ExitCode: 0 }] } } },
      { RequestId: 'E2', Invocation: { NextToken: 'x2', InvocationResults: { InvocationResult: [] } } },
      { RequestId: 'E3', Invocation: { NextToken: '', InvocationResults: { InvocationResult: [{ InstanceId: 'i-2', ExitCode: 1 }] } } },
    ]);
    const pages = await collect(describeInvocationResults(client, { invokeId: 't-aaaaaa', includeHistory: false }));
    expect(pages.map((p) => [p.records.length, p.nextToken, p.requestId])).toEqual([
      [1, 'x1', 'E1'],
      [0, 'x2', 'E2'],
      [1, undefined, 'E3'],
    ]);
    expect(calls[0]?.params).toEqual({
      RegionId: 'cn-hangzhou',
      InvokeId: 't-aaaaaa',
      InstanceId: undefined,
      InvokeRecordStatus: undefined,
      IncludeHistory: false,
      ContentEncoding: 'PlainText',
      MaxResults: 50,
      NextToken: undefined,
    });
    expect(calls.map((c) => c.params.NextToken)).toEqual([undefined, 'x1', 'x2']);
  });

  it('describeInvocations reads Invocations.Invocation and the top-level NextToken', async () => {
    const { client, calls } = fakeClient('ecs', [
      { RequestId: 'D1', NextToken: 'y1', Invocations: { Invocation: [{ InvokeId: 't-1', InvokeInstances: { InvokeInstance: [] } }] } },
      { RequestId: 'D2', Invocations: { Invocation: [{ InvokeId: 't-2' }] } },
    ]);
    const filters = { InvokeStatus: 'Failed', maxResults: 80 };
    const pages = await collect(describeInvocations(client, filters));
    expect(pages.flatMap((p) => p.records.map((r) => r.InvokeId))).toEqual(['t-1', 't-2']);
    expect(calls[0]?.params).toMatchObject({ InvokeStatus: 'Failed', MaxResults: 50, ContentEncoding: 'PlainText' });
    expect(filters).toEqual({ InvokeStatus: 'Failed', maxResults: 80 });
  });
});

describe('readAhead', () => {
  async function* source(log: string[], pages: number, failAt?: number) {
    for (let i = 0; i < pages; i++) {
      log.push(`fetch ${i}`);
      await new Promise((r) => setTimeout(r, 1));
      if (i === failAt) throw new Error(`page ${i} failed`);
      yield i;
    }
  }

  it('requests page n+1 while the consumer works on page n, and yields every page once in order', async () => {
    const log: string[] = [];
    const seen: number[] = [];
    for await (const page of readAhead(source(log, 4))) {
      log.push(`consume ${page}`);
      seen.push(page);
    }
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(log.indexOf('fetch 1')).toBeLessThan(log.indexOf('consume 0') + 1);
    expect(log.slice(0, 3)).toEqual(['fetch 0', 'fetch 1', 'consume 0']);
  });

  it("lets the next page's request leave before the consumer works on a page", async () => {
    // Prepare: a source whose request reaches its socket the way Node's HTTP client's does: after the client's awaits
    // and a nextTick; the round trip is a timer.
    const sent: number[] = [];
    async function* wire(pages: number) {
      for (let i = 0; i < pages; i++) {
        await Promise.resolve();
        await Promise.resolve();
        await new Promise<void>((resolve) => process.nextTick(resolve));
        sent.push(i);
        await new Promise((resolve) => setTimeout(resolve, 1));
        yield i;
      }
    }
    // Act: what has been sent when each page is handed over (the consumer's synchronous work would start there)
    const sentWhenHanded: number[][] = [];
    for await (const page of readAhead(wire(4))) sentWhenHanded.push([page, ...sent]);
    // Assess: page n is handed over only once page n+1's request is out
    expect(sentWhenHanded).toEqual([
      [0, 0, 1],
      [1, 0, 1, 2],
      [2, 0, 1, 2, 3],
      [3, 0, 1, 2, 3],
    ]);
  });

  it('surfaces a failed page when the consumer reaches it, not before', async () => {
    const log: string[] = [];
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const page of readAhead(source(log, 5, 2))) seen.push(page);
      })(),
    ).rejects.toThrow('page 2 failed');
    expect(seen).toEqual([0, 1]);
  });

  it('stops cleanly when the consumer breaks early, with one page at most fetched ahead', async () => {
    const log: string[] = [];
    for await (const page of readAhead(source(log, 10))) if (page === 1) break;
    expect(log.filter((l) => l.startsWith('fetch'))).toEqual(['fetch 0', 'fetch 1', 'fetch 2']);
  });
});
