/**
 * Nothing on collect's critical path but the round trips, against the local cloud with the real SDKs: the existence
 * check runs beside the first pages and nothing is written before it passes; the summary (and the warehouse's
 * results object) is aggregated while the walk goes and is the one summarize computes from the archive; the related listings run beside the records, each
 * with a cursor of its own.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { readdirSync, readlinkSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { collectDeps, runCollect } from '../../lib/collect';
import { collect } from '../../lib/collect/collect';
import { summarizeArchive } from '../../lib/summary';
import { SUMMARY_CHANNEL } from '../../lib/summary/index';
import type { ObjectStore } from '../../lib/archive/store';
import { StorageError } from '../../lib/errors';
import { createLiveSummary } from '../../lib/summary/live';
import { writeWarehouse } from '../../lib/warehouse';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime } from '../../lib/runtime';
import { archiveDir, failuresKey, manifestKey, partKey, pendingKey, relatedPendingKey, reportKey, retryListKey, summaryKey, type ArchiveRef } from '../../lib/archive/layout';
import { apiRecords } from '../helpers/api-records';
import { readManifest } from '../../lib/archive/reader';
import { loadCheckpoint, saveCheckpoint } from '../../lib/collect/checkpoint';
import { present } from '../helpers/present';
import { InputError } from '../../lib/errors';
import { archivedRecords, fcContext, keysUnder, useTestCloud, type TestCloud } from '../helpers/local-cloud';
import { deadlineAfter } from '../helpers/deadline';

let t: TestCloud;
useTestCloud({ seed: 23 }, (cloud) => (t = cloud));

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

describe('the summary is aggregated while the walk goes', () => {
  /**
   * Collects with a live summary as the walk's observer, then stores it; returns what both ways stored. `ahead`: the
   * live summary is given its options up front (as collect's inline summary is): it finishes the aggregation ahead of
   * the commit and stores the summary from the commit on.
   */
  async function liveAndReadBack(payload: Record<string, unknown>, env: NodeJS.ProcessEnv, maxWaitingChars?: number, ahead = false) {
    const rt = createRuntime(fcContext(), { env });
    const req = parseCollectRequest(payload);
    const ref: ArchiveRef = { source: req.source, regionId: req.regionId, id: req.id };
    const at = new Date(Date.now() + 60_000);
    const options = { store: rt.store, ref, logger: rt.logger, now: () => at, afterSummary: writeWarehouse };
    const live = createLiveSummary(req.source, { maxWaitingChars, warehouse: true, ...(ahead ? { summarize: options } : {}) });
    const result = await collect(req, { ...collectDeps(rt, req), observer: live });
    const fromWalk = await live.store(options);
    // The summary's objects, and the warehouse's results object (built from the records as the walk passed them).
    const results = async () => (await keysUnder(rt.store, 'warehouse/results/')).filter((k) => k.endsWith(`/${ref.id}.parquet`));
    const stored = async () => [
      ...(await Promise.all(['summary.json', 'summary.md', 'report.html', 'retry.txt'].map(async (name) => (await rt.store.get(`${archiveDir(ref)}/${name}`))?.toString('utf8')))),
      ...(await Promise.all((await results()).map(async (key) => (await rt.store.get(key))?.toString('base64')))),
    ];
    const walkObjects = await stored();
    const fromArchive = await summarizeArchive(options);
    return { result, live, fromWalk, fromArchive, walkObjects, archiveObjects: await stored() };
  }

  it.each([
    ['OOS with failed children', () => oosPayload(t.cloud.rpc.data.addExecution({ resources: 1_450, failureRate: 0.3 }).executionId), false],
    ['ECS with failures', () => ecsPayload(t.cloud.rpc.data.addInvocation({ instances: 730, failureRate: 0.25 }).invokeId), false],
    ['ECS, 24 KB outputs', () => ecsPayload(t.cloud.rpc.data.demo.largeOutputInvokeId), false],
    ['OOS with failed children, finished ahead of the commit', () => oosPayload(t.cloud.rpc.data.addExecution({ resources: 1_450, failureRate: 0.3 }).executionId), true],
    ['ECS with failures, finished ahead of the commit', () => ecsPayload(t.cloud.rpc.data.addInvocation({ instances: 730, failureRate: 0.25 }).invokeId), true],
  ])('%s: summary.json from the walk is byte-for-byte the one summarize computes from the archive', async (_what, payloadOf, ahead) => {
    // Prepare
    const env = t.env('oss', { ARCHIVE_PART_MAX_RECORDS: '400' });
    // Act
    const { result, live, fromWalk, walkObjects, archiveObjects, fromArchive } = await liveAndReadBack(payloadOf(), env, undefined, ahead);
    // Assess: the walk's summary was stored (not a read-back), and all four objects equal the read-back ones
    expect(result.status).toBe('committed');
    expect(live.unavailable).toBeUndefined();
    expect(fromWalk?.summary.total).toBe(result.records);
    expect(fromArchive.summary.failures).toBeGreaterThan(0);
    expect(walkObjects[0]).toBe(JSON.stringify(fromArchive.summary, null, 2));
    expect(walkObjects).toHaveLength(5);
    expect(walkObjects).toEqual(archiveObjects);
  });

  it('OOS failures beyond what may wait for the children: the walk stands aside and the archive is read back', async () => {
    // Prepare
    const id = t.cloud.rpc.data.addExecution({ resources: 300, failureRate: 0.5 }).executionId;
    // Act
    const { live, fromWalk, archiveObjects, fromArchive } = await liveAndReadBack(oosPayload(id), t.env('file'), 10_000);
    // Assess
    expect(live.unavailable).toMatch(/outgrew/);
    expect(fromWalk).toBeUndefined();
    expect(archiveObjects[0]).toBe(JSON.stringify(fromArchive.summary, null, 2));
  });

  it('parallel ECS pages that do not add up: the walk starts over, the live summary stands aside, the archive is read back', async () => {
    // Prepare: legacy pages that repeat a record from page 9 on, read 4 at a time
    const id = t.cloud.rpc.data.addInvocation({ instances: 1234, failureRate: 0.1, legacyDrift: { shiftFromPage: 9 } }).invokeId;
    // Act
    const { result, live, fromWalk, archiveObjects, fromArchive } = await liveAndReadBack(ecsPayload(id), t.env('file', { ECS_PAGE_CONCURRENCY: '4' }));
    // Assess
    expect(result).toMatchObject({ status: 'committed', records: 1234 });
    expect(live.unavailable).toMatch(/started over/);
    expect(fromWalk).toBeUndefined();
    expect(fromArchive.summary.total).toBe(1234);
    expect(archiveObjects[0]).toBe(JSON.stringify(fromArchive.summary, null, 2));
  });

  it('collect answers with the summary stored; after a resumed walk too, and the same as summarize computes', async () => {
    // Prepare: one uninterrupted collection and one cut by the deadline (resumed twice), SUMMARIZE_AFTER_COLLECT=inline
    const id = t.cloud.rpc.data.addExecution({ resources: 900, failureRate: 0.2 }).executionId;
    const whole = t.env('file', { SUMMARIZE_AFTER_COLLECT: 'inline', ARCHIVE_PART_MAX_RECORDS: '300' });
    const cut = t.env('file', { SUMMARIZE_AFTER_COLLECT: 'inline', ARCHIVE_PART_MAX_RECORDS: '300' });
    const ref: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id };
    // Act
    const one = await runCollect(parseCollectRequest(oosPayload(id)), createRuntime(fcContext(), { env: whole }));
    const statuses: string[] = [];
    let last;
    do {
      last = await runCollect(parseCollectRequest(oosPayload(id)), { ...createRuntime(fcContext(), { env: cut }), deadline: deadlineAfter(4) });
      statuses.push(last.status);
    } while (!last.complete && statuses.length < 10);
    // Assess: both answered with the summary, and each stored summary is the one summarize computes from its archive
    expect(statuses.length).toBeGreaterThan(1);
    for (const [env, answer] of [[whole, one], [cut, last]] as const) {
      const rt = createRuntime(fcContext(), { env });
      expect(answer.summary).toMatchObject({ mode: 'inline', failures: expect.any(Number) as number });
      expect(answer.summary?.error).toBeUndefined();
      const stored = JSON.parse(String(await rt.store.get(`${archiveDir(ref)}/summary.json`))) as { generatedAt: string; failures: number };
      expect(stored.failures).toBe(answer.summary?.failures);
      const again = await summarizeArchive({ store: rt.store, ref, logger: rt.logger, now: () => new Date(stored.generatedAt) });
      expect(JSON.parse(JSON.stringify(again.summary))).toEqual(stored);
    }
  });
});

/** Steps published on SUMMARY_CHANNEL while `act` runs, with their times (performance.now()). */
async function summarySteps<T>(act: () => Promise<T>): Promise<{ value: T; steps: Array<[string, number]> }> {
  const steps: Array<[string, number]> = [];
  const listener = (m: unknown) => steps.push([(m as { phase: string }).phase, performance.now()]);
  subscribe(SUMMARY_CHANNEL, listener);
  try {
    return { value: await act(), steps };
  } finally {
    unsubscribe(SUMMARY_CHANNEL, listener);
  }
}

/**
 * Resolves when the summary publishes `phase` on SUMMARY_CHANNEL, or after `capMs` when it never does (so a summary that
 * waits for the commit makes the test fail on its assertions instead of hanging). Subscribed from the call on.
 */
function phaseSeen(phase: string, capMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      unsubscribe(SUMMARY_CHANNEL, listener);
      resolve();
    };
    const listener = (m: unknown) => {
      if ((m as { phase: string }).phase === phase) done();
    };
    const timer = setTimeout(done, capMs);
    subscribe(SUMMARY_CHANNEL, listener);
  });
}

/**
 * A store that records when each write starts and ends (performance.now()), and holds the manifest's write until
 * `manifestHeld` resolves (then fails it with `manifestError`, if given): the walk's commit, slow or failing, ordered by
 * events rather than by a guess at how long the work beside it takes.
 */
function recordingStore(inner: ObjectStore, manifestHeld: Promise<void>, manifestError?: Error): { store: ObjectStore; writes: Array<{ key: string; start: number; end?: number }> } {
  const writes: Array<{ key: string; start: number; end?: number }> = [];
  const store: ObjectStore = Object.create(inner) as ObjectStore;
  store.put = async (key, body, options) => {
    const write: { key: string; start: number; end?: number } = { key, start: performance.now() };
    writes.push(write);
    if (key.endsWith('/manifest.json')) {
      await manifestHeld;
      if (manifestError) throw manifestError;
    }
    await inner.put(key, body, options);
    write.end = performance.now();
  };
  return { store, writes };
}

/** The summary's objects (and the warehouse's) among written keys: anything but the archive's own parts, related objects and manifest. */
const summaryObject = (key: string) => /\/(summary\.json|summary\.md|report\.html|retry\.txt|truncated\.txt|failures\.ndjson\.gz)$|\/(causes|report)\/|^warehouse\//.test(key);

describe('collect\'s inline summary is finished ahead of the commit', () => {
  it('its lists are read back while the manifest is written, and nothing of it is stored before the manifest is', async () => {
    // Prepare: ECS with failures; a manifest write held until the summary says its aggregation is read back (at most
    // 10 s: a summary that waited for the commit would read back after it, and fail below); the live summary given its
    // options up front
    const id = t.cloud.rpc.data.addInvocation({ instances: 900, failureRate: 0.3 }).invokeId;
    const rt = createRuntime(fcContext(), { env: t.env('file', { ARCHIVE_PART_MAX_RECORDS: '400' }) });
    const req = parseCollectRequest(ecsPayload(id));
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id };
    const { store, writes } = recordingStore(rt.store, phaseSeen('aggregated'));
    const options = { store, ref, logger: rt.logger, afterSummary: writeWarehouse };
    const live = createLiveSummary('ecs', { warehouse: true, summarize: options });
    // Act
    const { value: stored, steps } = await summarySteps(async () => {
      const result = await collect(req, { ...collectDeps(rt, req), store, observer: live });
      expect(result.status).toBe('committed');
      return live.store(options);
    });
    // Assess: stored from the walk; the aggregation read back before the manifest's write ended; every summary object
    // written after it
    expect(stored?.summary.failures).toBeGreaterThan(0);
    const manifest = writes.find((w) => w.key === manifestKey(ref));
    const at = (phase: string) => steps.find(([p]) => p === phase)?.[1] ?? Number.NaN;
    expect(at('finishing')).toBeLessThan(manifest?.start ?? 0);
    expect(at('aggregated')).toBeLessThan(manifest?.end ?? 0);
    expect(at('committed')).toBeGreaterThanOrEqual(manifest?.end ?? Infinity);
    const summaryWrites = writes.filter((w) => summaryObject(w.key));
    expect(summaryWrites.map((w) => w.key)).toEqual(expect.arrayContaining([retryListKey(ref), failuresKey(ref), summaryKey(ref)]));
    for (const w of summaryWrites) expect(w.start, w.key).toBeGreaterThanOrEqual(manifest?.end ?? Infinity);
  });

  it.skipIf(process.platform !== 'linux')('a walk whose commit fails after its records were read writes nothing of the summary and leaves no temporary file', async () => {
    // Prepare: OOS with failed children; the manifest's write fails for good once the summary has started finishing
    const id = t.cloud.rpc.data.addExecution({ resources: 600, failureRate: 0.3 }).executionId;
    const rt = createRuntime(fcContext(), { env: t.env('file') });
    const req = parseCollectRequest(oosPayload(id));
    const ref: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id };
    const { store, writes } = recordingStore(rt.store, phaseSeen('finishing'), new StorageError('InternalError', 'the manifest could not be written', { key: manifestKey(ref) }));
    const options = { store, ref, logger: rt.logger, afterSummary: writeWarehouse };
    const before = openTempFiles();
    const live = createLiveSummary('oos', { warehouse: true, summarize: options });
    // Act
    const { value: err, steps } = await summarySteps(async () => {
      const failed = await collect(req, { ...collectDeps(rt, req), store, observer: live }).catch((e: unknown) => e);
      live.discard();
      return failed;
    });
    // Assess: the commit's error; the aggregation had been finished ahead, yet no summary object was written, none
    // is in the store, and the live summary's files are closed
    expect(err).toBeInstanceOf(StorageError);
    expect(steps.map(([p]) => p)).toContain('finishing');
    expect(await live.store(options)).toBeUndefined();
    // (once its files are closed, the summary's work is over: nothing can be written after that)
    await vi.waitFor(() => expect(openTempFiles()).toBe(before), { timeout: 5_000, interval: 20 });
    expect(writes.filter((w) => summaryObject(w.key))).toEqual([]);
    expect((await keysUnder(rt.store, '')).filter(summaryObject)).toEqual([]);
  });
});

/** The summary's temporary files this process holds open (lib/summary/temp-file.ts; unlinked, so only as open files). */
function openTempFiles(): number {
  let open = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).includes(`execution-archive-${process.pid}-`)) open += 1;
    } catch {
      // closed meanwhile (the directory's own descriptor)
    }
  }
  return open;
}

describe('the summary aggregated while the walk goes leaves nothing behind', () => {
  it.skipIf(process.platform !== 'linux')('a walk cut by its deadline closes the live summary\'s temporary files (failed records, children, id lists)', async () => {
    // Prepare: OOS with half its resources failed, summarized inline; the deadline comes after a few pages
    const id = t.cloud.rpc.data.addExecution({ resources: 900, failureRate: 0.5 }).executionId;
    const env = t.env('file', { SUMMARIZE_AFTER_COLLECT: 'inline', ARCHIVE_PART_MAX_RECORDS: '300' });
    const before = openTempFiles();
    let during = 0;
    const rt = createRuntime(fcContext(), { env });
    const deadline = deadlineAfter(4);
    // Act
    const result = await runCollect(parseCollectRequest(oosPayload(id)), {
      ...rt,
      deadline: { ...deadline, nearlyDone: () => ((during = Math.max(during, openTempFiles())), deadline.nearlyDone()) },
    });
    // Assess: the live summary had files open while the walk went, and none is left
    expect(result.status).toBe('checkpointed');
    expect(during).toBeGreaterThan(before);
    // (the warehouse table's spool closes once its pending writes are done: asynchronously)
    await vi.waitFor(() => expect(openTempFiles()).toBe(before), { timeout: 5_000, interval: 20 });
  });
});

describe('the related listings run beside the records', () => {
  const failedChildren = 'failed-child-executions';

  /** Collects `id` with a deadline after `looks` looks per invocation until it commits; the statuses it went through. */
  async function collectInSteps(id: string, env: NodeJS.ProcessEnv, looks: number): Promise<string[]> {
    const statuses: string[] = [];
    let result;
    do {
      result = await runCollect(parseCollectRequest(oosPayload(id)), { ...createRuntime(fcContext(), { env }), deadline: deadlineAfter(looks) });
      statuses.push(result.status);
    } while (!result.complete && statuses.length < 30);
    return statuses;
  }

  it('a deadline cut mid-walk leaves each listing its own cursor, and the resumed archive is the uninterrupted one', async () => {
    // Prepare: 600 resources, 90% failed: 6 pages of records and 6 of failed children; objects of 200 records
    const id = t.cloud.rpc.data.addExecution({ resources: 600, failureRate: 0.9 }).executionId;
    const ref: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id };
    const whole = t.env('file', { ARCHIVE_PART_MAX_RECORDS: '200' });
    const cut = t.env('file', { ARCHIVE_PART_MAX_RECORDS: '200' });
    await runCollect(parseCollectRequest(oosPayload(id)), createRuntime(fcContext(), { env: whole }));
    // Act: the first invocation stops after one page of records; the children's lane stops beside it
    const first = await runCollect(parseCollectRequest(oosPayload(id)), { ...createRuntime(fcContext(), { env: cut }), deadline: deadlineAfter(1) });
    const store = createRuntime(fcContext(), { env: cut }).store;
    const cp = await loadCheckpoint(store, ref);
    const statuses = await collectInSteps(id, cut, 1);
    // Assess: a cursor of its own, mid-walk, with what it read kept as its own pending object
    expect(first.status).toBe('checkpointed');
    expect(cp?.phase).toBe('records');
    const cursor = cp?.listings?.[failedChildren];
    expect(cursor?.nextToken).toEqual(expect.any(String));
    expect(cursor?.done).toBeUndefined();
    expect(cursor?.pending?.key).toBe(relatedPendingKey(ref, failedChildren));
    expect(cp?.pending?.key).toBe(pendingKey(ref));
    expect(statuses.at(-1)).toBe('committed');
    // Assess: the same objects as the uninterrupted run, nothing of the resume state left
    const a = present(await readManifest(createRuntime(fcContext(), { env: whole }).store, ref));
    const b = present(await readManifest(store, ref));
    expect(b.related).toEqual(a.related);
    expect(b.parts).toEqual(a.parts);
    expect(b.related.filter((r) => r.name === failedChildren).length).toBeGreaterThan(1);
    expect((await keysUnder(store, `${archiveDir(ref)}/`)).filter((k) => /_checkpoint|_pending/.test(k))).toEqual([]);
  });

  it('reads a checkpoint of the earlier format (one cursor and relatedStep for the listing after the records)', async () => {
    // Prepare: the records walked to their end, the children's listing stopped after its first (slow) page
    const id = t.cloud.rpc.data.addExecution({ resources: 600, failureRate: 0.9 }).executionId;
    const ref: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id };
    const whole = t.env('file', { ARCHIVE_PART_MAX_RECORDS: '200' });
    const env = t.env('file', { ARCHIVE_PART_MAX_RECORDS: '200', API_TIMEOUT_MS: '20000' });
    await runCollect(parseCollectRequest(oosPayload(id)), createRuntime(fcContext(), { env: whole }));
    t.cloud.rpc.faults.inject({ kind: 'slow', action: 'ListExecutions', afterRequests: 1, delayMs: 400, times: 2 });
    // 5 looks by the records (their last page has no token), the 6th by the children's lane
    const cut = await runCollect(parseCollectRequest(oosPayload(id)), { ...createRuntime(fcContext(), { env }), deadline: deadlineAfter(6) });
    t.cloud.rpc.faults.clear();
    const store = createRuntime(fcContext(), { env }).store;
    const cp = present(await loadCheckpoint(store, ref));
    const cursor = present(cp.listings?.[failedChildren]);
    expect(cut.status).toBe('checkpointed');
    expect(cp.phase).toBe('related');
    expect(cursor.nextToken).toEqual(expect.any(String));
    // …rewritten as the earlier format wrote it: the listing's token and pending at the top, its pending at _pending
    const pending = present(cursor.pending);
    await store.put(pendingKey(ref), present(await store.get(pending.key)));
    await store.delete(pending.key);
    const { listings: _listings, ...rest } = cp;
    await saveCheckpoint(store, ref, { ...rest, relatedStep: 0, nextToken: cursor.nextToken, pending: { ...pending, key: pendingKey(ref) } });
    const listed = requestsOf('ListExecutions');
    // Act
    const resumed = await runCollect(parseCollectRequest(oosPayload(id)), createRuntime(fcContext(), { env }));
    // Assess: the check, then only the children's pages after the first (100 a page): the old cursor was followed
    expect(resumed.status).toBe('committed');
    const a = present(await readManifest(createRuntime(fcContext(), { env: whole }).store, ref));
    const children = a.related.filter((r) => r.name === failedChildren).reduce((n, r) => n + r.records, 0);
    expect(requestsOf('ListExecutions') - listed).toBe(1 + Math.ceil(children / 100) - 1);
    const b = present(await readManifest(store, ref));
    expect(b.related).toEqual(a.related);
    expect(b.parts).toEqual(a.parts);
    expect((await keysUnder(store, `${archiveDir(ref)}/`)).filter((k) => /_checkpoint|_pending/.test(k))).toEqual([]);
  });
});

describe('a closed part is uploaded while the next pages are read', () => {
  it('an upload that fails for good stops the walk without a gap: the re-run finishes the exact archive', async () => {
    // Prepare: 600 instances, parts of 100 (two pages each); the second part's upload fails through every retry
    const id = t.cloud.rpc.data.addInvocation({ instances: 600, failureRate: 0.1 }).invokeId;
    const env = t.env('oss', { ARCHIVE_PART_MAX_RECORDS: '100' });
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id };
    const prefix = new URL(String(env.ARCHIVE_URL)).pathname.replace(/^\//, '');
    const fault = t.cloud.oss.faults.inject({ kind: 'internal-error', method: 'PutObject', keyPrefix: `${prefix}/${partKey(ref, 1)}`, times: 6 });
    // Act
    const err = await runCollect(parseCollectRequest(ecsPayload(id)), createRuntime(fcContext(), { env })).catch((e: unknown) => e);
    fault.remove();
    const store = createRuntime(fcContext(), { env }).store;
    const cp = await loadCheckpoint(store, ref);
    const again = await runCollect(parseCollectRequest(ecsPayload(id)), createRuntime(fcContext(), { env }));
    // Assess: the failure surfaced, the checkpoint names only what was stored, the re-run's archive is the API's records
    expect(err).toMatchObject({ name: 'StorageError' });
    expect(cp?.parts.map((p) => p.key)).toEqual([partKey(ref, 0)]);
    expect(cp?.records).toBe(100);
    expect(again.status).toBe('committed');
    const manifest = present(await readManifest(store, ref));
    expect(await archivedRecords(store, manifest)).toEqual(await apiRecords(t.cloud.rpc.url, 'ecs', id));
  });
});

describe('the summary stores its objects side by side, summary.json last', () => {
  it('a list object whose store fails for good fails the summary: no summary.json is written, the one stored before stays byte for byte, and the archive is untouched', async () => {
    // Prepare: an archive and its summary, then retry.txt's upload failing through every retry
    const id = t.cloud.rpc.data.addInvocation({ instances: 900, failureRate: 0.3 }).invokeId;
    const env = t.env('oss', { SUMMARIZE_AFTER_COLLECT: 'off' });
    const rt = createRuntime(fcContext(), { env });
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id };
    expect((await runCollect(parseCollectRequest(ecsPayload(id)), rt)).status).toBe('committed');
    const options = (at: Date) => ({ store: rt.store, ref, logger: rt.logger, now: () => at, afterSummary: writeWarehouse });
    await summarizeArchive(options(new Date(Date.now() + 1_000)));
    const kept = await Promise.all([summaryKey(ref), manifestKey(ref), failuresKey(ref)].map(async (key) => rt.store.get(key)));
    const prefix = new URL(String(env.ARCHIVE_URL)).pathname.replace(/^\//, '');
    const fault = t.cloud.oss.faults.inject({ kind: 'internal-error', method: 'PutObject', keyPrefix: `${prefix}/${retryListKey(ref)}`, times: Infinity });
    // Act
    const err = await summarizeArchive(options(new Date(Date.now() + 60_000))).catch((e: unknown) => e);
    fault.remove();
    const after = await Promise.all([summaryKey(ref), manifestKey(ref), failuresKey(ref)].map(async (key) => rt.store.get(key)));
    const again = await summarizeArchive(options(new Date(Date.now() + 120_000)));
    // Assess: the store's error; summary.json as it was (the objects written beside the failed one are the same
    // lists again); the next summary goes through
    expect(err).toMatchObject({ name: 'StorageError' });
    expect(after.map((b) => b?.toString('base64'))).toEqual(kept.map((b) => b?.toString('base64')));
    expect(await rt.store.head(reportKey(ref))).toBeDefined();
    expect(again.summary.generatedAt > JSON.parse(kept[0]?.toString('utf8') ?? '{}').generatedAt).toBe(true);
    expect((await rt.store.get(summaryKey(ref)))?.toString('utf8')).toBe(JSON.stringify(again.summary, null, 2));
  });
});
