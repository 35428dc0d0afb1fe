/**
 * collect against the local cloud with the real SDKs (pop-core, ali-oss): exact archives, faults, deadline and
 * resume, racing collectors, bad input.
 */
import { describe, expect, it } from 'vitest';
import { apiInvocation, apiRecords as readApiRecords } from '../helpers/api-records';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime, type Runtime } from '../../lib/runtime';
import { manifestKey, archiveDir, type ArchiveRef } from '../../lib/archive/layout';
import { readManifest, readRelated } from '../../lib/archive/reader';
import { InputError } from '../../lib/errors';
import type { Deadline } from '../../lib/deadline';
import { archivedRecords, fcContext, keysUnder, useTestCloud, type StoreKind, type TestCloud } from '../helpers/local-cloud';
import { present } from '../helpers/present';
import { deadlineAfter } from '../helpers/deadline';

let t: TestCloud;
useTestCloud({}, (cloud) => (t = cloud));

function runtime(kind: StoreKind, env: Record<string, string> = {}, deadline?: Deadline): Runtime {
  const rt = createRuntime(fcContext(), { env: t.env(kind, env) });
  return deadline ? { ...rt, deadline } : rt;
}

/** The API's records, read with raw pop-core (see the helper). */
function apiRecords(source: 'oos' | 'ecs', id: string, includeHistory = false): Promise<unknown[]> {
  return readApiRecords(t.cloud.rpc.url, source, id, { includeHistory });
}

async function collectAndRead(rt: Runtime, payload: Record<string, unknown>) {
  const req = parseCollectRequest(payload);
  const result = await runCollect(req, rt);
  const ref: ArchiveRef = { source: req.source, regionId: req.regionId, id: req.id };
  const manifest = await readManifest(rt.store, ref);
  return { result, manifest, ref, records: manifest ? await archivedRecords(rt.store, manifest) : [] };
}

const oosPayload = (executionId: string) => ({ source: 'oos', regionId: 'cn-hangzhou', executionId });
const ecsPayload = (invokeId: string, includeHistory = false) => ({ source: 'ecs', regionId: 'cn-hangzhou', invokeId, includeHistory });

describe.each<StoreKind>(['file', 'oss'])('exact archives (%s store)', (kind) => {
  it.each(['0', '1', '99', '100', '101', '2500'])('OOS execution with %s resources', async (size) => {
    const data = t.cloud.rpc.data;
    const id = data.demo.executionsBySize[size] ?? data.addExecution({ resources: Number(size), failureRate: 0.2 }).executionId;
    const rt = runtime(kind, { ARCHIVE_PART_MAX_RECORDS: '1000' });
    const { result, manifest, records } = await collectAndRead(rt, oosPayload(id));
    const expected = await apiRecords('oos', id);
    expect(records).toEqual(expected);
    expect(records).toHaveLength(Number(size));
    expect(result).toMatchObject({ status: 'committed', complete: true, records: Number(size) });
    expect(manifest).toMatchObject({ complete: true, records: Number(size), source: 'oos', id });
    expect(manifest?.pages).toBe(Math.max(1, Math.ceil(Number(size) / 100)));
    expect(manifest?.parts.reduce((n, p) => n + p.records, 0)).toBe(Number(size));
    expect(manifest?.parts.length).toBe(Math.ceil(Number(size) / 1000));
    expect(manifest?.related.map((r) => r.name)).toEqual(['execution', 'failed-child-executions']);
    const failedRows = (expected as { Status: string }[]).filter((r) => r.Status === 'Failed').length;
    const children = [];
    for await (const c of readRelated(rt.store, present(manifest), 'failed-child-executions')) children.push(c);
    expect(children).toHaveLength(failedRows);
  });

  it.each(['0', '1', '49', '50', '51', '101'])('ECS invocation with %s instances', async (size) => {
    const id = present(t.cloud.rpc.data.demo.invocationsBySize[size]);
    const { manifest, records } = await collectAndRead(runtime(kind), ecsPayload(id));
    expect(records).toEqual(await apiRecords('ecs', id));
    expect(records).toHaveLength(Number(size));
    expect(manifest?.pages).toBe(Math.max(1, Math.ceil(Number(size) / 50)));
    expect(manifest?.related).toEqual([expect.objectContaining({ name: 'invocation', records: 1 })]);
    expect(manifest?.api.parameters).toEqual({ InvokeId: id, RegionId: 'cn-hangzhou', IncludeHistory: false, ContentEncoding: 'PlainText' });
  });
});

describe('ECS details', () => {
  it('keeps every run of a periodic task with includeHistory, only the latest without', async () => {
    const id = t.cloud.rpc.data.demo.periodicInvokeId;
    const withHistory = await collectAndRead(runtime('file'), ecsPayload(id, true));
    const latest = await collectAndRead(runtime('file'), ecsPayload(id, false));
    expect(withHistory.records).toEqual(await apiRecords('ecs', id, true));
    expect(latest.records).toEqual(await apiRecords('ecs', id, false));
    expect(withHistory.records.length).toBe(72);
    expect(latest.records.length).toBe(12);
  });

  it('stores 24 KB and unicode outputs byte-exact, and counts truncated outputs', async () => {
    for (const id of [t.cloud.rpc.data.demo.largeOutputInvokeId, t.cloud.rpc.data.demo.unicodeInvokeId]) {
      const { records, manifest } = await collectAndRead(runtime('oss'), ecsPayload(id));
      const expected = (await apiRecords('ecs', id)) as { Output: string; Dropped: number }[];
      expect(records.map((r) => Buffer.from(String(r.Output), 'utf8'))).toEqual(expected.map((r) => Buffer.from(r.Output, 'utf8')));
      expect(manifest?.truncatedOutputs).toBe(expected.filter((r) => r.Dropped > 0).length);
    }
    const large = await collectAndRead(runtime('file'), ecsPayload(t.cloud.rpc.data.demo.largeOutputInvokeId));
    expect(large.manifest?.truncatedOutputs).toBe(20);
    expect(Buffer.byteLength(String(large.records[0]?.Output))).toBe(24 * 1024);
  });

  it('stores the invocation as the API describes it, also when the answer is large enough to be scanned, not parsed', async () => {
    // 256 KiB and more is scanned (lib/cloud/json-parse.ts); 51 instances are parsed as always.
    const large = t.cloud.rpc.data.addInvocation({ instances: 1500, failureRate: 0.2 }).invokeId;
    const small = present(t.cloud.rpc.data.demo.invocationsBySize['51']);
    for (const [id, scanned] of [[large, true], [small, false]] as const) {
      const truth = await apiInvocation(t.cloud.rpc.url, id);
      expect(truth.bodyBytes >= 256 * 1024).toBe(scanned);
      for (const kind of ['file', 'oss'] as const) {
        const rt = runtime(kind);
        const { manifest, records } = await collectAndRead(rt, ecsPayload(id));
        const stored = [];
        for await (const r of readRelated(rt.store, present(manifest), 'invocation')) stored.push(r);
        expect(stored).toEqual([truth.invocation]);
        expect(records).toHaveLength(scanned ? 1500 : 51);
      }
    }
  });

  it('follows empty pages that still carry a NextToken (first, middle and consecutive)', async () => {
    const inv = t.cloud.rpc.data.addInvocation({ instances: 180, emptyPages: [0, 2, 3] });
    const exec = t.cloud.rpc.data.addExecution({ resources: 250, emptyPages: [1] });
    const ecs = await collectAndRead(runtime('file'), ecsPayload(inv.invokeId));
    const oos = await collectAndRead(runtime('file'), oosPayload(exec.executionId));
    expect(ecs.records).toHaveLength(180);
    expect(new Set(ecs.records.map((r) => r.InstanceId)).size).toBe(180);
    expect(ecs.manifest?.pages).toBe(4 + 3);
    expect(oos.records).toHaveLength(250);
    expect(new Set(oos.records.map((r) => r.ResourceId)).size).toBe(250);
    expect(oos.manifest?.pages).toBe(3 + 1);
  });

  it('does nothing for an archive that is already complete, and re-collects with force', async () => {
    const rt = runtime('file');
    const id = present(t.cloud.rpc.data.demo.invocationsBySize['51']);
    const first = await collectAndRead(rt, ecsPayload(id));
    const before = t.cloud.rpc.stats.requests;
    const again = await runCollect(parseCollectRequest(ecsPayload(id)), rt);
    expect(again.status).toBe('already-complete');
    expect(t.cloud.rpc.stats.requests).toBe(before);
    const forced = await collectAndRead(rt, { ...ecsPayload(id), force: true });
    expect(forced.result.status).toBe('committed');
    expect(forced.records).toEqual(first.records);
    // The same bytes, in the re-collection's own generation of keys (the old archive stayed whole until the switch).
    const strip = (es: { key: string }[] | undefined) => (es ?? []).map(({ key, ...rest }) => ({ ...rest, name: key.split('/').pop() }));
    expect(strip(forced.manifest?.parts)).toEqual(strip(first.manifest?.parts));
    expect(forced.manifest?.parts.every((p) => p.key.includes(`/g-${forced.manifest?.generation}/`))).toBe(true);
  });

  it('refuses a complete archive with other parameters unless forced', async () => {
    const rt = runtime('file');
    const id = t.cloud.rpc.data.demo.periodicInvokeId;
    await runCollect(parseCollectRequest(ecsPayload(id, false)), rt);
    await expect(runCollect(parseCollectRequest(ecsPayload(id, true)), rt)).rejects.toMatchObject({ code: 'ArchiveConflict', status: 409 });
    const forced = await runCollect(parseCollectRequest({ ...ecsPayload(id, true), force: true }), rt);
    expect(forced.records).toBe(72);
  });
});

describe('faults mid-walk', () => {
  it.each(['throttling', 'internal-error', 'service-unavailable', 'empty-5xx', 'html-502', 'reset'] as const)(
    '%s is retried and the archive is still exact',
    async (kind) => {
      const id = t.cloud.rpc.data.addInvocation({ instances: 230, failureRate: 0.3 }).invokeId;
      const expected = await apiRecords('ecs', id);
      t.cloud.rpc.faults.inject({ kind, action: 'DescribeInvocationResults', afterRequests: 2, times: 2 });
      const { manifest, records } = await collectAndRead(runtime('file'), ecsPayload(id));
      t.cloud.rpc.faults.clear();
      expect(records).toEqual(expected);
      expect(manifest?.retries).toBe(2);
      expect(manifest?.apiCalls).toBe(present(manifest).pages + 2 + 1);
    },
  );

  it('a response slower than the client timeout is retried', async () => {
    const id = t.cloud.rpc.data.addExecution({ resources: 150 }).executionId;
    t.cloud.rpc.faults.inject({ kind: 'slow', action: 'ListResourceExecutionStatus', delayMs: 1_500, times: 1 });
    const { manifest, records } = await collectAndRead(runtime('file', { API_TIMEOUT_MS: '500' }), oosPayload(id));
    t.cloud.rpc.faults.clear();
    expect(records).toEqual(await apiRecords('oos', id));
    expect(manifest?.retries).toBe(1);
  });

  it('a non-retryable error surfaces typed, keeps progress, and a re-run finishes the same archive', async () => {
    const id = t.cloud.rpc.data.addInvocation({ instances: 400 }).invokeId;
    const rt = runtime('file', { ARCHIVE_PART_MAX_RECORDS: '120' });
    const impatient: Runtime = { ...runtime('file', { ARCHIVE_PART_MAX_RECORDS: '120', API_MAX_ATTEMPTS: '2' }), store: rt.store };
    t.cloud.rpc.faults.inject({ kind: 'throttling', action: 'DescribeInvocationResults', afterRequests: 4, times: 50 });
    const err = await runCollect(parseCollectRequest(ecsPayload(id)), impatient).catch((e: unknown) => e);
    t.cloud.rpc.faults.clear();
    expect(err).toMatchObject({ name: 'ApiError', code: 'Throttling.User', retryable: true, attempts: 2 });
    expect((err as { requestId?: string }).requestId).toMatch(/^[0-9A-F-]{36}$/);
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id };
    expect(await rt.store.head(manifestKey(ref))).toBeUndefined();
    const resumed = await runCollect(parseCollectRequest(ecsPayload(id)), rt);
    expect(resumed.invocations).toBe(2);
    const manifest = await readManifest(rt.store, ref);
    expect(await archivedRecords(rt.store, present(manifest))).toEqual(await apiRecords('ecs', id));
  });
});

describe('OSS faults mid-walk', () => {
  it.each(['internal-error', 'service-unavailable', 'reset'] as const)('%s on object writes is retried and the archive is exact', async (kind) => {
    const id = t.cloud.rpc.data.addExecution({ resources: 640, failureRate: 0.2 }).executionId;
    const rt = runtime('oss', { ARCHIVE_PART_MAX_RECORDS: '200' });
    t.cloud.oss.faults.inject({ kind, method: 'PutObject', times: 2, afterRequests: 3 });
    const { result, records } = await collectAndRead(rt, oosPayload(id));
    t.cloud.oss.faults.clear();
    expect(result.status).toBe('committed');
    expect(records).toEqual(await apiRecords('oos', id));
  });
});

describe('deadline and resume', () => {
  it('checkpoints before the deadline and resumes to an archive identical to an uninterrupted run', async () => {
    const id = t.cloud.rpc.data.addExecution({ resources: 1234, failureRate: 0.15 }).executionId;
    const env = { ARCHIVE_PART_MAX_RECORDS: '250' };
    const whole = await collectAndRead(runtime('oss', env), oosPayload(id));

    const rtEnv = t.env('oss', env);
    let result;
    let invocations = 0;
    do {
      const rt = { ...createRuntime(fcContext(), { env: rtEnv }), deadline: deadlineAfter(3) };
      result = await runCollect(parseCollectRequest(oosPayload(id)), rt);
      invocations += 1;
      if (!result.complete) expect(result.manifestKey).toMatch(/_checkpoint\.json$/);
    } while (!result.complete && invocations < 50);
    expect(invocations).toBe(Math.ceil(13 / 3));
    const rt = createRuntime(fcContext(), { env: rtEnv });
    const ref: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id };
    const resumed = present(await readManifest(rt.store, ref));
    expect(resumed.invocations).toBe(invocations);
    expect(resumed.parts).toEqual(whole.manifest?.parts);
    expect(resumed.related).toEqual(whole.manifest?.related);
    expect(await archivedRecords(rt.store, resumed)).toEqual(whole.records);
    const left = await keysUnder(rt.store, `${archiveDir(ref)}/`);
    expect(left.filter((k) => k.includes('_checkpoint') || k.includes('_pending'))).toEqual([]);
  });
});

describe('deadline with a long related listing', () => {
  it('walks a long failed-children listing beside the records, across invocations, into the same objects as one run', async () => {
    const id = t.cloud.rpc.data.addExecution({ resources: 600, failureRate: 0.9 }).executionId;
    const env = { ARCHIVE_PART_MAX_RECORDS: '200' };
    const whole = await collectAndRead(runtime('file', env), oosPayload(id));
    const children = present(whole.manifest).related.filter((r) => r.name === 'failed-child-executions');
    expect(children.length).toBeGreaterThan(1);
    expect(children.map((c) => c.key.replace(/^.*\/related\//, ''))).toEqual(
      children.map((_, i) => `failed-child-executions${i === 0 ? '' : `.${String(i).padStart(5, '0')}`}.ndjson.gz`),
    );

    const rtEnv = t.env('file', env);
    const statuses: string[] = [];
    let result;
    do {
      const rt = { ...createRuntime(fcContext(), { env: rtEnv }), deadline: deadlineAfter(4) };
      result = await runCollect(parseCollectRequest(oosPayload(id)), rt);
      statuses.push(result.status);
    } while (!result.complete && statuses.length < 20);
    // The listing runs beside the records, so how far each invocation gets in it depends on the two lanes' pace.
    expect(statuses.length).toBeGreaterThan(1);
    expect(statuses.at(-1)).toBe('committed');
    const rt = createRuntime(fcContext(), { env: rtEnv });
    const resumed = present(await readManifest(rt.store, { source: 'oos', regionId: 'cn-hangzhou', id }));
    expect(resumed.related).toEqual(whole.manifest?.related);
    expect(resumed.parts).toEqual(whole.manifest?.parts);
    const failedRows = whole.records.filter((r) => r.Status === 'Failed').length;
    let linked = 0;
    for await (const _ of readRelated(rt.store, resumed, 'failed-child-executions')) linked += 1;
    expect(linked).toBe(failedRows);
  });
});

describe('racing collectors', () => {
  it('two collectors on one id commit exactly once', async () => {
    const id = t.cloud.rpc.data.addInvocation({ instances: 700 }).invokeId;
    const env = t.env('oss');
    const [a, b] = await Promise.all([
      runCollect(parseCollectRequest(ecsPayload(id)), createRuntime(fcContext(), { env })),
      runCollect(parseCollectRequest(ecsPayload(id)), createRuntime(fcContext(), { env })),
    ]);
    expect([a.status, b.status].sort()).toEqual(['committed', 'committed-by-other']);
    const rt = createRuntime(fcContext(), { env });
    const manifest = present(await readManifest(rt.store, { source: 'ecs', regionId: 'cn-hangzhou', id }));
    expect(await archivedRecords(rt.store, manifest)).toEqual(await apiRecords('ecs', id));
  });
});

describe('bad input writes nothing', () => {
  it.each([
    ['an unknown OOS execution', oosPayload('exec-00000000000000000000'), 'ExecutionNotFound', 404],
    ['an unknown invocation', ecsPayload('t-hz00000000000000'), 'InvocationNotFound', 404],
  ])('%s → 404', async (_what, payload, code, status) => {
    const rt = runtime('oss');
    const err = await runCollect(parseCollectRequest(payload), rt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code, status });
    expect(await keysUnder(rt.store, '')).toEqual([]);
  });

  it('an invocation still running → 409, nothing written', async () => {
    const running = t.cloud.rpc.data.simulateRunCommand({ instances: 5, durationMs: 600_000 });
    const rt = runtime('file');
    const err = await runCollect(parseCollectRequest(ecsPayload(running.invokeId)), rt).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NotFinished', status: 409 });
    expect(await keysUnder(rt.store, '')).toEqual([]);
  });

  it('an unknown region is the API\'s typed error and writes nothing', async () => {
    const rt = runtime('file');
    const err = await runCollect(parseCollectRequest({ ...ecsPayload(t.cloud.rpc.data.demo.invokeId), regionId: 'xx-nowhere-1' }), rt).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'ApiError', code: 'InvalidRegionId.NotFound', httpStatus: 404, attempts: 1 });
    expect(await keysUnder(rt.store, '')).toEqual([]);
  });
});
