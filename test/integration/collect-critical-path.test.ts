/**
 * Nothing on collect's critical path but the round trips, against the local cloud with the real SDKs: the existence
 * check runs beside the first pages and nothing is written before it passes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime } from '../../lib/runtime';
import { archiveDir, type ArchiveRef } from '../../lib/archive/layout';
import { InputError } from '../../lib/errors';
import type { Deadline } from '../../lib/deadline';
import { fcContext, keysUnder, startTestCloud, type TestCloud } from '../helpers/local-cloud';

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ seed: 23 });
});
afterAll(async () => {
  await t?.close();
});

/** A deadline that reports "nearly done" from its n-th look on. */
function deadlineAfter(looks: number): Deadline {
  let seen = 0;
  return { at: Date.now() + 3_600_000, remaining: () => 3_600_000, nearlyDone: () => ++seen >= looks, signal: new AbortController().signal };
}

const oosPayload = (executionId: string) => ({ source: 'oos', regionId: 'cn-hangzhou', executionId });
const ecsPayload = (invokeId: string) => ({ source: 'ecs', regionId: 'cn-hangzhou', invokeId });

/** Requests the local cloud has answered for `action` so far. */
const requestsOf = (action: string) => t.cloud.rpc.stats.byAction[action] ?? 0;

describe('the existence check runs beside the first pages', () => {
  it('OOS, still running: the pages read while the check was slow are discarded, 409, nothing written', async () => {
    // Prepare: 600 resources, one still running; the check answers after 1.5 s, a part would close every 100 records
    const id = t.cloud.rpc.data.addExecution({ resources: 600, statuses: { Success: 9, Running: 1 } }).executionId;
    const env = t.env('file', { ARCHIVE_PART_MAX_RECORDS: '100', API_TIMEOUT_MS: '20000' });
    const pagesBefore = requestsOf('ListResourceExecutionStatus');
    t.cloud.rpc.faults.inject({ kind: 'slow', action: 'ListExecutions', delayMs: 1_500, times: 1 });
    const rt = createRuntime(fcContext(), { env });
    // Act
    const err = await runCollect(parseCollectRequest(oosPayload(id)), rt).catch((e: unknown) => e);
    t.cloud.rpc.faults.clear();
    // Assess: the records listing was read meanwhile, yet the answer is the check's and the archive is untouched
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'NotFinished', status: 409 });
    expect((err as Error).message).toMatch(/is still Running/);
    expect(requestsOf('ListResourceExecutionStatus') - pagesBefore).toBeGreaterThanOrEqual(1);
    expect(await keysUnder(rt.store, '')).toEqual([]);
  });

  it('OOS, unknown: the records listing\'s own 404 gives way to the check\'s answer', async () => {
    // Prepare: the records listing answers 404 EntityNotExists.Execution at once, the check 1 s later
    const rt = createRuntime(fcContext(), { env: t.env('oss', { API_TIMEOUT_MS: '20000' }) });
    t.cloud.rpc.faults.inject({ kind: 'slow', action: 'ListExecutions', delayMs: 1_000, times: 1 });
    // Act
    const err = await runCollect(parseCollectRequest(oosPayload('exec-0000000000000000000a')), rt).catch((e: unknown) => e);
    t.cloud.rpc.faults.clear();
    // Assess
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'ExecutionNotFound', status: 404, message: 'OOS execution exec-0000000000000000000a does not exist in cn-hangzhou' });
    expect(await keysUnder(rt.store, '')).toEqual([]);
  });

  it('ECS, unknown, with a deadline on the first page: no checkpoint, no pending records, 404', async () => {
    // Prepare
    const rt = { ...createRuntime(fcContext(), { env: t.env('file', { API_TIMEOUT_MS: '20000' }) }), deadline: deadlineAfter(1) };
    t.cloud.rpc.faults.inject({ kind: 'slow', action: 'DescribeInvocations', delayMs: 800, times: 1 });
    // Act
    const err = await runCollect(parseCollectRequest(ecsPayload('t-hz0000000000000a')), rt).catch((e: unknown) => e);
    t.cloud.rpc.faults.clear();
    // Assess
    expect(err).toMatchObject({ code: 'InvocationNotFound', status: 404 });
    expect(await keysUnder(rt.store, '')).toEqual([]);
  });

  it('a forced collection over an unfinished archive keeps its leftovers when the check fails', async () => {
    // Prepare: an archive cut by the deadline (checkpoint, parts); then a forced collection whose check fails (throttled
    // past the retries)
    const data = t.cloud.rpc.data;
    const id = data.addExecution({ resources: 450, failureRate: 0.1 }).executionId;
    const env = t.env('file', { ARCHIVE_PART_MAX_RECORDS: '100' });
    const cut = await runCollect(parseCollectRequest(oosPayload(id)), { ...createRuntime(fcContext(), { env }), deadline: deadlineAfter(2) });
    expect(cut.status).toBe('checkpointed');
    const ref: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id };
    const store = createRuntime(fcContext(), { env }).store;
    const before = (await keysUnder(store, `${archiveDir(ref)}/`)).sort();
    t.cloud.rpc.faults.inject({ kind: 'throttling', action: 'ListExecutions', times: 20 });
    // Act
    const err = await runCollect(parseCollectRequest({ ...oosPayload(id), force: true }), createRuntime(fcContext(), { env: { ...env, API_MAX_ATTEMPTS: '2' } })).catch(
      (e: unknown) => e,
    );
    t.cloud.rpc.faults.clear();
    // Assess: the check's error, and the unfinished archive exactly as it was (nothing removed, nothing added)
    expect(err).toMatchObject({ name: 'ApiError', code: 'Throttling.User' });
    expect((await keysUnder(store, `${archiveDir(ref)}/`)).sort()).toEqual(before);
    expect(before.some((k) => k.endsWith('_checkpoint.json'))).toBe(true);
  });
});
