/**
 * Parallel legacy pages for finished Cloud Assistant invocations (ECS_PAGE_CONCURRENCY), against the local cloud
 * with the real SDKs: the archive is byte for byte the one the sequential NextToken walk writes; the page-number path
 * is taken only for a finished invocation without IncludeHistory and a concurrency above 1; pages that do not add
 * up (the local cloud's `legacyDrift`) are discarded for the NextToken walk from the start; a deadline checkpoints
 * the page number and the resume goes on by page number; throttling goes through the shared adaptive limiter.
 */
import { describe, expect, it } from 'vitest';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime, type Runtime } from '../../lib/runtime';
import { archiveDir, type ArchiveRef } from '../../lib/archive/layout';
import { readManifest } from '../../lib/archive/reader';
import { loadCheckpoint } from '../../lib/collect/checkpoint';
import type { RpcParams } from '../../lib/cloud/rpc';
import type { Deadline } from '../../lib/deadline';
import type { InvocationOptions } from '@execution-archive/local-cloud/datasets';
import { apiRecords } from '../helpers/api-records';
import { archivedRecords, fcContext, keysUnder, useTestCloud, type TestCloud } from '../helpers/local-cloud';

let t: TestCloud;
useTestCloud({ seed: 23 }, (cloud) => (t = cloud));

/** Small parts, so that a walk stores several parts (and checkpoints between them) before it ends. */
const PARTS = { ARCHIVE_PART_MAX_RECORDS: '300' };

interface Run {
  rt: Runtime;
  ref: ArchiveRef;
  /** The DescribeInvocationResults calls, as the client sent them. */
  calls: RpcParams[];
}

/** A runtime whose ECS clients record every DescribeInvocationResults call's parameters. */
function runtime(env: NodeJS.ProcessEnv, calls: RpcParams[], deadline?: Deadline): Runtime {
  const rt = createRuntime(fcContext(), { env, ...(deadline ? { deadline } : {}) });
  return {
    ...rt,
    rpc: (...args) => {
      const client = rt.rpc(...args);
      return {
        ...client,
        stats: client.stats,
        request: (action, params) => {
          if (action === 'DescribeInvocationResults') calls.push({ ...params });
          return client.request(action, params);
        },
      };
    },
  };
}

async function collectOnce(id: string, env: NodeJS.ProcessEnv, extra: Record<string, unknown> = {}, deadline?: Deadline): Promise<Run & { status: string }> {
  const calls: RpcParams[] = [];
  const rt = runtime(env, calls, deadline);
  const result = await runCollect(parseCollectRequest({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: id, ...extra }), rt);
  return { rt, ref: { source: 'ecs', regionId: 'cn-hangzhou', id }, calls, status: result.status };
}

/** Every stored object of an archive but the manifest (its times and counters differ by run), by relative key. */
async function objectBytes(run: Pick<Run, 'rt' | 'ref'>): Promise<Map<string, Buffer>> {
  const dir = `${archiveDir(run.ref)}/`;
  const out = new Map<string, Buffer>();
  for (const key of (await keysUnder(run.rt.store, dir)).sort()) {
    if (key.endsWith('/manifest.json')) continue;
    const body = await run.rt.store.get(key);
    if (!body) throw new Error(`listed but missing: ${key}`);
    out.set(key.slice(dir.length), body);
  }
  return out;
}

/** The sequential archive of an invocation (NextToken, concurrency 1), for comparison. */
async function sequential(id: string, extra: Record<string, string> = {}): Promise<Run> {
  const run = await collectOnce(id, t.env('file', { ...PARTS, ...extra }));
  expect(run.status).toBe('committed');
  return run;
}

const byPage = (calls: RpcParams[]) => calls.filter((c) => c.PageNumber !== undefined);
const byToken = (calls: RpcParams[]) => calls.filter((c) => c.PageNumber === undefined);

async function expectSameArchive(a: Run, b: Run): Promise<void> {
  const [x, y] = [await objectBytes(a), await objectBytes(b)];
  expect([...x.keys()]).toEqual([...y.keys()]);
  for (const [key, body] of x) expect(body.equals(y.get(key) ?? Buffer.alloc(0)), key).toBe(true);
  const [ma, mb] = [await readManifest(a.rt.store, a.ref), await readManifest(b.rt.store, b.ref)];
  expect(ma?.complete).toBe(true);
  expect(ma?.parts).toEqual(mb?.parts);
  expect(ma?.related).toEqual(mb?.related);
  expect({ records: ma?.records, pages: ma?.pages, truncatedOutputs: ma?.truncatedOutputs, api: ma?.api }).toEqual({
    records: mb?.records,
    pages: mb?.pages,
    truncatedOutputs: mb?.truncatedOutputs,
    api: mb?.api,
  });
}

/** A deadline that says "nearly done" from its n-th look on (the collector looks once per page). */
function deadlineAfter(looks: number): Deadline {
  let seen = 0;
  return { at: Date.now() + 3_600_000, remaining: () => 3_600_000, nearlyDone: () => ++seen >= looks, signal: new AbortController().signal };
}

function invocation(opts: InvocationOptions): string {
  return t.cloud.rpc.data.addInvocation(opts).invokeId;
}

describe('parallel pages of a finished invocation', () => {
  it('write the same bytes as the sequential NextToken walk, through PageNumber pages only', async () => {
    // Prepare: 1,234 instances = 25 pages of 50, parts of 300 records
    const id = invocation({ instances: 1234, failureRate: 0.1 });
    const seq = await sequential(id);
    // Act
    const par = await collectOnce(id, t.env('oss', { ...PARTS, ECS_PAGE_CONCURRENCY: '8' }));
    // Assess: committed, every call a legacy page of 50 (none with a NextToken), each page once
    expect(par.status).toBe('committed');
    expect(byToken(par.calls)).toEqual([]);
    expect(byPage(par.calls).map((c) => c.PageNumber).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(par.calls.every((c) => c.PageSize === 50 && c.IncludeHistory === false && c.MaxResults === undefined)).toBe(true);
    expect(byPage(seq.calls)).toEqual([]);
    await expectSameArchive(par, seq);
    // ...and both are the API's records, read independently
    const manifest = await readManifest(par.rt.store, par.ref);
    if (!manifest) throw new Error('no manifest');
    expect(manifest.parts.length).toBe(5);
    expect(await archivedRecords(par.rt.store, manifest)).toEqual(await apiRecords(t.cloud.rpc.url, 'ecs', id));
  });

  it('write the same bytes for the page edges: 0, 1, 50, 51 instances', async () => {
    for (const n of [0, 1, 50, 51]) {
      const id = invocation({ instances: n });
      const seq = await sequential(id);
      const par = await collectOnce(id, t.env('file', { ...PARTS, ECS_PAGE_CONCURRENCY: '3' }));
      expect(par.status).toBe('committed');
      expect(byPage(par.calls).length, `${n} instances`).toBe(Math.max(1, Math.ceil(n / 50)));
      expect(byToken(par.calls)).toEqual([]);
      await expectSameArchive(par, seq);
    }
  });
});

describe('the page-number path is taken only when it may be', () => {
  it('not with ECS_PAGE_CONCURRENCY 1 (the default), nor with includeHistory, nor for a periodic task between runs', async () => {
    // Prepare: a finished one-off task and a periodic task (DescribeInvocations says Scheduled: not finished)
    const once = invocation({ instances: 120 });
    const periodic = invocation({ instances: 60, repeats: 3 });
    // Act
    const defaults = await collectOnce(once, t.env('file'));
    const one = await collectOnce(once, t.env('file', { ECS_PAGE_CONCURRENCY: '1' }));
    const history = await collectOnce(once, t.env('file', { ECS_PAGE_CONCURRENCY: '8' }), { includeHistory: true });
    const scheduled = await collectOnce(periodic, t.env('file', { ECS_PAGE_CONCURRENCY: '8' }));
    // Assess: all committed, all through NextToken pages only
    for (const run of [defaults, one, history, scheduled]) {
      expect(run.status).toBe('committed');
      expect(byPage(run.calls)).toEqual([]);
      expect(run.calls.length).toBeGreaterThan(0);
    }
    expect(history.calls.every((c) => c.IncludeHistory === true)).toBe(true);
    // and the finished one-off task with concurrency is walked by page number
    const par = await collectOnce(once, t.env('file', { ECS_PAGE_CONCURRENCY: '8' }));
    expect(byPage(par.calls).length).toBe(3);
    expect(byToken(par.calls)).toEqual([]);
  });
});

describe('an invocation that cannot be collected, with ECS_PAGE_CONCURRENCY 8', () => {
  it('still running: 409, no page-number call, nothing written; unknown: 404, nothing written', async () => {
    // Prepare
    const running = t.cloud.rpc.data.simulateRunCommand({ instances: 120, durationMs: 600_000 }).invokeId;
    const env = t.env('file', { ECS_PAGE_CONCURRENCY: '8' });
    for (const [id, status] of [
      [running, 409],
      ['t-hz00000000unkn', 404],
    ] as const) {
      const calls: RpcParams[] = [];
      const rt = runtime(env, calls);
      // Act
      const refused = await runCollect(parseCollectRequest({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: id }), rt).catch((err: unknown) => err);
      // Assess
      expect(refused).toMatchObject({ status });
      expect(byPage(calls)).toEqual([]);
      expect(await keysUnder(rt.store, `${archiveDir({ source: 'ecs', regionId: 'cn-hangzhou', id })}/`)).toEqual([]);
    }
  });
});

describe('pages that do not add up', () => {
  it.each([
    ['a page repeats the last record of the page before (and the last record is missed)', { shiftFromPage: 9 }],
    ['TotalCount changes on the last page', { totalCountFromPage: 25, totalCountDelta: -1 }],
    ['TotalCount differs from the instance count from the first page on', { totalCountFromPage: 1, totalCountDelta: 2 }],
  ])('%s: the parallel walk is discarded, the NextToken walk writes the same bytes as the sequential one', async (_what, legacyDrift) => {
    // Prepare: legacy pages that disagree with themselves (the NextToken walk is unaffected)
    const id = invocation({ instances: 1234, failureRate: 0.1, legacyDrift });
    const seq = await sequential(id);
    // Act
    const par = await collectOnce(id, t.env('file', { ...PARTS, ECS_PAGE_CONCURRENCY: '4' }));
    // Assess: page-number calls first, then the NextToken walk from its first page to its last
    expect(par.status).toBe('committed');
    const firstToken = par.calls.findIndex((c) => c.PageNumber === undefined);
    expect(firstToken).toBeGreaterThan(0);
    expect(par.calls.slice(firstToken).every((c) => c.PageNumber === undefined)).toBe(true);
    expect(par.calls[firstToken]?.NextToken).toBeUndefined();
    expect(byToken(par.calls).length).toBe(25);
    // The archive is complete and exact: every record once, in API order, nothing left of the discarded walk
    const manifest = await readManifest(par.rt.store, par.ref);
    if (!manifest) throw new Error('no manifest');
    expect(manifest.records).toBe(1234);
    expect(manifest.pages).toBe(25);
    expect(await archivedRecords(par.rt.store, manifest)).toEqual(await apiRecords(t.cloud.rpc.url, 'ecs', id));
    await expectSameArchive(par, seq);
  });
});

describe('a deadline in the page-number walk', () => {
  it('checkpoints the next page number (no NextToken), and the resume goes on by page number to the same bytes', async () => {
    // Prepare
    const id = invocation({ instances: 1234, failureRate: 0.1 });
    const seq = await sequential(id);
    const env = t.env('file', { ...PARTS, ECS_PAGE_CONCURRENCY: '4' });
    // Act: stop after 8 pages (the deadline is asked about once per page)
    const first = await collectOnce(id, env, {}, deadlineAfter(8));
    const cp = await loadCheckpoint(first.rt.store, first.ref);
    // Assess: checkpointed at page 9, with a part stored and the rest pending
    expect(first.status).toBe('checkpointed');
    expect(cp).toMatchObject({ nextPage: 9, pages: 8, records: 400 });
    expect(cp?.nextToken).toBeUndefined();
    expect(cp?.parts).toHaveLength(1);
    expect(cp?.pending?.records).toBe(100);
    // Act: resume
    const rest = await collectOnce(id, env);
    // Assess: page-number calls from page 9 only, and the archive of the sequential walk
    expect(rest.status).toBe('committed');
    expect(byToken(rest.calls)).toEqual([]);
    expect(Math.min(...byPage(rest.calls).map((c) => Number(c.PageNumber)))).toBe(9);
    expect(byPage(rest.calls).length).toBe(17);
    await expectSameArchive(rest, seq);
    expect((await readManifest(rest.rt.store, rest.ref))?.invocations).toBe(2);
  });

  it('a page-number checkpoint that no longer adds up on resume starts over with NextToken, the checkpoint cleared first', async () => {
    // Prepare: checkpoint a page-number walk, then make the legacy pages disagree for the resume
    const id = invocation({ instances: 700, failureRate: 0.1 });
    const seq = await sequential(id);
    const env = t.env('file', { ...PARTS, ECS_PAGE_CONCURRENCY: '4' });
    const first = await collectOnce(id, env, {}, deadlineAfter(7));
    expect(first.status).toBe('checkpointed');
    const ds = t.cloud.rpc.data.getInvocation('cn-hangzhou', id);
    if (!ds) throw new Error('no dataset');
    Object.assign(ds.legacyDrift, { totalCountFromPage: 1, totalCountDelta: 1 });
    // Act
    const rest = await collectOnce(id, env);
    Object.assign(ds.legacyDrift, { totalCountFromPage: undefined, totalCountDelta: undefined });
    // Assess: one page-number round, then every page by NextToken; the archive is the sequential one
    expect(rest.status).toBe('committed');
    expect(byToken(rest.calls).length).toBe(14);
    await expectSameArchive(rest, seq);
  });
});

describe('the adaptive limiter', () => {
  it('paces the concurrent pages when the API throttles: retried, counted, and the same bytes', async () => {
    // Prepare
    const id = invocation({ instances: 1234, failureRate: 0.1 });
    const seq = await sequential(id);
    t.cloud.rpc.faults.inject({ kind: 'throttling', action: 'DescribeInvocationResults', times: 6, afterRequests: 3 });
    // Act
    const par = await collectOnce(id, t.env('file', { ...PARTS, ECS_PAGE_CONCURRENCY: '8' }));
    // Assess
    expect(t.cloud.rpc.faults.pending()).toEqual([]);
    expect(par.status).toBe('committed');
    const manifest = await readManifest(par.rt.store, par.ref);
    expect(manifest?.retries).toBe(6);
    expect(byToken(par.calls)).toEqual([]);
    await expectSameArchive(par, seq);
  });
});
