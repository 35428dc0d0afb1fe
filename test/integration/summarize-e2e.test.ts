/**
 * collect → summarize on the local cloud: the summary of a real archive agrees with the API's records, and the
 * built summarize bundle serves it over its HTTP trigger.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime } from '../../lib/runtime';
import { readManifest } from '../../lib/archive/reader';
import { summaryKey, retryListKey, reportKey, type ArchiveRef } from '../../lib/archive/layout';
import type { FcContext, HttpResponse } from '../../lib/triggers';
import { archivedRecords, fcContext, useTestCloud, type TestCloud } from '../helpers/local-cloud';
import { present } from '../helpers/present';
import { ensureBundles } from '@execution-archive/local-cloud/host/bundles';
import { httpEventBytes } from '../helpers/http-event';

const root = join(__dirname, '..', '..');
const bundle = join(root, 'dist', 'summarize', 'index.js');
type Handler = (event: Buffer, context: FcContext) => Promise<unknown>;

let t: TestCloud;
const savedEnv = { ...process.env };
useTestCloud({}, (cloud) => (t = cloud));
beforeAll(async () => {
  // Rebuilt when missing or older than the sources, so the bundle under test is the code under test.
  await ensureBundles({ root });
});
afterAll(async () => {
  process.env = savedEnv;
});

const FAILED = new Set(['Failed', 'Error', 'Timeout', 'Invalid', 'Aborted', 'Cancelled', 'Terminated']);

describe.each(['ecs', 'oos'] as const)('collect then summarize (%s demo)', (source) => {
  it('writes a summary whose numbers agree with the archived records', async () => {
    const env = t.env('file', { SUMMARIZE_AFTER_COLLECT: 'inline' });
    const rt = createRuntime(fcContext(), { env });
    const demo = t.cloud.rpc.data.demo;
    const payload =
      source === 'ecs'
        ? { source, regionId: 'cn-hangzhou', invokeId: demo.invokeId }
        : { source, regionId: 'cn-hangzhou', executionId: demo.executionId };
    const result = await runCollect(parseCollectRequest(payload), rt);
    expect(result.summary).toMatchObject({ mode: 'inline' });
    expect(result.summary?.error).toBeUndefined();

    const ref: ArchiveRef = { source, regionId: 'cn-hangzhou', id: source === 'ecs' ? demo.invokeId : demo.executionId };
    const records = await archivedRecords(rt.store, present(await readManifest(rt.store, ref)));
    const statusOf = (r: Record<string, unknown>) => String(source === 'ecs' ? r.InvocationStatus : r.Status);
    const idOf = (r: Record<string, unknown>) => String(source === 'ecs' ? r.InstanceId : r.ResourceId);
    const counts: Record<string, number> = {};
    for (const r of records) counts[statusOf(r)] = (counts[statusOf(r)] ?? 0) + 1;
    const failedIds = records.filter((r) => FAILED.has(statusOf(r))).map(idOf).sort();

    const summary = JSON.parse(present(await rt.store.get(summaryKey(ref))).toString('utf8'));
    expect(summary.total).toBe(3000);
    expect(summary.byStatus).toEqual(counts);
    expect(summary.failures).toBe(failedIds.length);
    expect(summary.groups.reduce((n: number, g: { count: number }) => n + g.count, 0)).toBe(failedIds.length);
    expect(summary.groups.flatMap((g: { resourceIds: string[] }) => g.resourceIds).sort()).toEqual(failedIds);
    // A fleet's failures have a handful of causes, not one per instance.
    expect(summary.groups.length).toBeGreaterThan(1);
    expect(summary.groups.length).toBeLessThan(40);
    const retry = (await rt.store.get(retryListKey(ref)))?.toString('utf8').trim().split('\n').sort();
    expect(retry).toEqual(failedIds);
    expect((await rt.store.get(reportKey(ref)))?.toString('utf8')).toContain('<!doctype html>');
  });
});

describe('dist/summarize/index.js over HTTP', () => {
  it('serves JSON, the HTML report and Markdown for a complete archive, 404 for a missing one', async () => {
    const env = t.env('oss', { SUMMARIZE_AFTER_COLLECT: 'off' });
    const id = present(t.cloud.rpc.data.demo.invocationsBySize['101']);
    await runCollect(parseCollectRequest({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: id }), createRuntime(fcContext(), { env }));
    process.env = { ...savedEnv, ...env };
    const { handler } = require(bundle) as { handler: Handler };
    const get = async (query: Record<string, string>, headers: Record<string, string> = {}) =>
      (await handler(
        httpEventBytes({ method: 'GET', path: '/summary', query, headers }),
        fcContext({ function: { name: 'execution-archive-summarize', timeout: 60 } }),
      )) as HttpResponse;
    const q = { source: 'ecs', regionId: 'cn-hangzhou', id };
    const json = await get(q);
    expect(json.statusCode).toBe(200);
    expect(JSON.parse(json.body)).toMatchObject({ total: 101, source: 'ecs', id });
    const html = await get(q, { Accept: 'text/html' });
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toContain(id);
    const md = await get({ ...q, format: 'md' });
    expect(md.body).toContain(id);
    const missing = await get({ ...q, id: 't-hz00000000000000' });
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body).error.code).toBe('ArchiveNotFound');
  });
});
