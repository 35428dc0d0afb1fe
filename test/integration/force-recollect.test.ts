/**
 * A forced re-collect never destroys the complete archive before the new one is complete: the new collection is a
 * generation of its own, the manifest switch is one write, the replaced objects go only after it. Against the local
 * cloud with the real SDKs: an API outage mid-walk, a deadline mid-walk, two racing re-collections, and readers
 * (summary over HTTP) in between.
 */
import { describe, expect, it } from 'vitest';
import { archiveDir, type ArchiveRef } from '../../lib/archive/layout';
import type { Manifest } from '../../lib/archive/manifest';
import { readManifest } from '../../lib/archive/reader';
import { verifyArchive } from '../../lib/archive/verify';
import type { ObjectStore } from '../../lib/archive/store';
import { handleCollectEvent, runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime, type Runtime } from '../../lib/runtime';
import { handleSummarizeEvent } from '../../lib/summary/http';
import { decodeEvent, type HttpResponse } from '../../lib/triggers';
import { archivedRecords, fcContext, keysUnder, useTestCloud, type StoreKind, type TestCloud } from '../helpers/local-cloud';
import { httpEventBytes, httpTriggerEvent } from '../helpers/http-event';
import { deadlineAfter } from '../helpers/deadline';

let t: TestCloud;
useTestCloud({ seed: 13 }, (cloud) => (t = cloud));

const PARTS = { ARCHIVE_PART_MAX_RECORDS: '120' };
const payload = (invokeId: string, force = false) => ({ source: 'ecs', regionId: 'cn-hangzhou', invokeId, ...(force ? { force: true } : {}) });

/** The archive a reader trusts: its manifest, complete, every object present with its size; and its records. */
async function trusted(store: ObjectStore, ref: ArchiveRef): Promise<{ manifest: Manifest; records: unknown[] }> {
  const manifest = await readManifest(store, ref);
  if (!manifest?.complete) throw new Error('no trusted archive');
  for (const e of [...manifest.parts, ...manifest.related]) expect((await store.head(e.key))?.size, e.key).toBe(e.bytes);
  return { manifest, records: await archivedRecords(store, manifest) };
}

async function summaryStatus(rt: Runtime, ref: ArchiveRef): Promise<number> {
  const bytes = httpEventBytes({ method: 'GET', path: '/summary', query: { source: ref.source, regionId: ref.regionId, id: ref.id } });
  const res = (await handleSummarizeEvent(decodeEvent(bytes), { store: rt.store, logger: rt.logger }, 'req-f')) as HttpResponse;
  return res.statusCode;
}

describe.each<StoreKind>(['oss', 'file'])('forced re-collect (%s store)', (kind) => {
  it('an API outage during the re-collect answers 503 and leaves the complete archive trusted and readable', async () => {
    const invokeId = t.cloud.rpc.data.addInvocation({ instances: 400, failureRate: 0.2 }).invokeId;
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: invokeId };
    const env = t.env(kind, { ...PARTS, API_MAX_ATTEMPTS: '1' });
    const rt = createRuntime(fcContext(), { env });
    await runCollect(parseCollectRequest(payload(invokeId)), rt);
    const before = await trusted(rt.store, ref);
    expect(await summaryStatus(rt, ref)).toBe(200);

    t.cloud.rpc.faults.inject({ kind: 'service-unavailable', action: 'DescribeInvocationResults', afterRequests: 1, times: 50 });
    const res = (await handleCollectEvent(httpTriggerEvent({ body: JSON.stringify(payload(invokeId, true)), headers: { 'content-type': 'application/json' } }), rt)) as HttpResponse;
    t.cloud.rpc.faults.clear();
    expect(res.statusCode).toBe(503);
    const during = await trusted(rt.store, ref);
    expect(during.manifest).toEqual(before.manifest);
    expect(during.records).toEqual(before.records);
    expect(await summaryStatus(rt, ref)).toBe(200);

    // Retried, the forced collection resumes its own generation and switches over; the replaced objects go.
    const done = await runCollect(parseCollectRequest(payload(invokeId, true)), rt);
    expect(done.status).toBe('committed');
    const after = await trusted(rt.store, ref);
    expect(after.manifest.generation).toMatch(/^\d{8}T\d{6}-[0-9a-f]{8}$/);
    expect(after.records).toEqual(before.records);
    expect(after.manifest.invocations).toBe(2);
    const keys = await keysUnder(rt.store, `${archiveDir(ref)}/`);
    for (const e of before.manifest.parts) expect(keys).not.toContain(e.key);
    expect(keys.filter((k) => k.includes('_checkpoint') || k.includes('_pending'))).toEqual([]);
    expect(await summaryStatus(rt, ref)).toBe(200);
  });

  it('a re-collect cut by the deadline keeps the old archive trusted at every step, and its continuation switches', async () => {
    const invokeId = t.cloud.rpc.data.addInvocation({ instances: 500 }).invokeId;
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: invokeId };
    const env = t.env(kind, PARTS);
    const rt = createRuntime(fcContext(), { env });
    await runCollect(parseCollectRequest(payload(invokeId)), rt);
    const before = await trusted(rt.store, ref);
    let result;
    let steps = 0;
    do {
      result = await runCollect(parseCollectRequest(payload(invokeId, true)), { ...createRuntime(fcContext(), { env }), deadline: deadlineAfter(3) });
      steps++;
      const now = await trusted(rt.store, ref);
      if (!result.complete) expect(now.manifest).toEqual(before.manifest);
      expect(now.records).toEqual(before.records);
    } while (!result.complete && steps < 20);
    expect(steps).toBeGreaterThan(2);
    const after = await trusted(rt.store, ref);
    expect(after.manifest.generation).toBeDefined();
    expect(after.manifest.invocations).toBe(steps);
  });

  it('twenty concurrent forced re-collects leave no generation behind that the manifest does not name (verify: intact, no warning)', async () => {
    const invokeId = t.cloud.rpc.data.addInvocation({ instances: 150 }).invokeId;
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: invokeId };
    const env = t.env(kind, { ARCHIVE_PART_MAX_RECORDS: '100' });
    await runCollect(parseCollectRequest(payload(invokeId)), createRuntime(fcContext(), { env }));
    const before = await trusted(createRuntime(fcContext(), { env }).store, ref);
    const results = await Promise.all(Array.from({ length: 20 }, () => runCollect(parseCollectRequest(payload(invokeId, true)), createRuntime(fcContext(), { env }))));
    expect(results.every((r) => r.complete)).toBe(true);
    expect(results.filter((r) => r.status === 'committed').length).toBeGreaterThanOrEqual(1);
    const rt = createRuntime(fcContext(), { env });
    const after = await trusted(rt.store, ref);
    expect(after.records).toEqual(before.records);
    const report = await verifyArchive(rt.store, ref);
    expect(report.unlisted).toEqual([]);
    expect(report.verdict).toBe('intact');
    const generations = new Set((await keysUnder(rt.store, `${archiveDir(ref)}/`)).map((k) => /\/g-([^/]+)\//.exec(k)?.[1]).filter((g) => g !== undefined));
    expect([...generations]).toEqual([after.manifest.generation]);
  }, 60_000);

  it('two racing forced re-collects end with exactly one trusted archive', async () => {
    const invokeId = t.cloud.rpc.data.addInvocation({ instances: 450, failureRate: 0.1 }).invokeId;
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: invokeId };
    const env = t.env(kind, PARTS);
    await runCollect(parseCollectRequest(payload(invokeId)), createRuntime(fcContext(), { env }));
    const before = await trusted(createRuntime(fcContext(), { env }).store, ref);
    const results = await Promise.all([0, 1, 2].map(() => runCollect(parseCollectRequest(payload(invokeId, true)), createRuntime(fcContext(), { env }))));
    expect(results.every((r) => r.complete)).toBe(true);
    const rt = createRuntime(fcContext(), { env });
    const after = await trusted(rt.store, ref);
    expect(after.records).toEqual(before.records);
    expect(after.manifest.generation).toBeDefined();
    // The replaced archive's objects are gone; what is left besides the trusted archive are at most losers' leftovers.
    const keys = await keysUnder(rt.store, `${archiveDir(ref)}/`);
    for (const e of before.manifest.parts) expect(keys).not.toContain(e.key);
  });
});
