import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFileStore } from '../../lib/archive/file';
import type { ArchiveRef } from '../../lib/archive/layout';
import { InputError } from '../../lib/errors';
import { silentLogger } from '../../lib/log';
import { handleSummarizeEvent, negotiateFormat } from '../../lib/summary/http';
import { handleSummaryInvocation, parseArchiveRef, type SummarizeDeps, type SummarizeInvocationResult } from '../../lib/summary/invocation';
import { REPORT_CSP } from '../../lib/summary/render/report-html';
import { decodeEvent, type HttpResponse } from '../../lib/triggers';
import { ecsRecord, instanceId, oosRecord, writeArchive } from '../helpers/archive-fixture';
import { createMemoryStore } from '../helpers/memory-store';
import { httpEventBytes, type HttpEventOptions } from '../helpers/http-event';

const ECS: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b' };
const OOS: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id: 'exec-6be6d6ff805349d9ac13' };
const PARTIAL: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-partial00001' };
const NOW = () => new Date('2024-05-02T00:00:00.000Z');

function records() {
  return Array.from({ length: 50 }, (_, n) =>
    n < 5 ? ecsRecord({ InstanceId: instanceId(n), InvocationStatus: 'Failed', ExitCode: 1, Output: 'Error: <b>bad</b> thing\n' }) : ecsRecord({ InstanceId: instanceId(n) }),
  );
}

/** An FC 3.0 HTTP trigger event as the runtime delivers it: JSON bytes (GET /summary unless told). */
function httpEvent(opts: Omit<HttpEventOptions, 'body'> = {}): Buffer {
  return httpEventBytes({ method: 'GET', path: '/summary', ...opts });
}

const query = (ref: ArchiveRef, extra: Record<string, string> = {}) => ({ source: ref.source, regionId: ref.regionId, id: ref.id, ...extra });

describe('summarize over HTTP', () => {
  const store = createMemoryStore();
  const deps: SummarizeDeps = { store, logger: silentLogger, now: NOW };
  const call = async (event: Buffer) => (await handleSummarizeEvent(decodeEvent(event), deps, 'req-1')) as HttpResponse;

  beforeAll(async () => {
    await writeArchive(store, { ref: ECS, records: records() });
    await writeArchive(store, { ref: OOS, records: [oosRecord({ Status: 'Failed' })] });
    await writeArchive(store, { ref: PARTIAL, records: records(), commit: false });
  });

  it('answers JSON by default', async () => {
    const res = await call(httpEvent({ query: query(ECS) }));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['x-summary-computed']).toBe('true');
    const body = JSON.parse(res.body);
    expect(body).toMatchObject({ source: 'ecs', id: ECS.id, total: 50, failures: 5 });
    const again = await call(httpEvent({ query: query(ECS), headers: { Accept: '*/*' } }));
    expect(again.headers['x-summary-computed']).toBe('false');
    expect(JSON.parse(again.body)).toEqual(body);
  });

  it('answers the HTML report to browsers and to format=html', async () => {
    const browser = await call(httpEvent({ query: query(ECS), headers: { Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } }));
    expect(browser.statusCode).toBe(200);
    expect(browser.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(browser.headers['content-security-policy']).toBe(REPORT_CSP);
    expect(browser.body).toMatch(/^<!doctype html>/);
    expect(browser.body).toContain('&#60;b&#62;bad&#60;/b&#62;');
    expect(browser.body).not.toContain('<b>bad</b>');
    const explicit = await call(httpEvent({ query: query(ECS, { format: 'html' }) }));
    expect(explicit.body).toBe(browser.body);
  });

  it('answers Markdown to format=md and Accept: text/markdown', async () => {
    const res = await call(httpEvent({ query: query(ECS, { format: 'md' }) }));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(res.body).toContain('5 of 50 failed (10.0%) in 1 cause');
    const negotiated = await call(httpEvent({ query: query(ECS), headers: { accept: 'text/markdown' } }));
    expect(negotiated.body).toBe(res.body);
  });

  it('answers HEAD without a body and with the Content-Length of the GET', async () => {
    const get = await call(httpEvent({ query: query(ECS) }));
    const res = await call(httpEvent({ method: 'HEAD', query: query(ECS) }));
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(get.body, 'utf8')));
    expect(Number(res.headers['content-length'])).toBeGreaterThan(100);
  });

  it.each([
    [{}, 'MissingParameter', '"source" must be "oos" or "ecs"'],
    [{ source: 'rds', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b' }, 'InvalidSource', '"source" must be'],
    [{ source: 'ecs', regionId: 'Hangzhou!', id: 't-hz0jdfwd9f0a1b' }, 'InvalidRegionId', 'is not a region id'],
    [{ source: 'ecs', regionId: 'cn-hangzhou', id: 'exec-6be6d6ff805349d9ac13' }, 'InvalidInvokeId', 'is not a Cloud Assistant invoke id'],
    [{ source: 'oos', regionId: 'cn-hangzhou', id: '../../etc/passwd' }, 'InvalidExecutionId', 'is not an OOS execution id'],
    [{ source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b', format: 'xml' }, 'InvalidParameter', 'format must be json, html or md'],
    [{ source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b', fromat: 'html' }, 'InvalidPayload', 'unknown field "fromat" in the summary query string (did you mean "format"?)'],
    [{ source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b', refresh: 'yes' }, 'InvalidParameter', 'refresh is not accepted on GET'],
    [{ source: 'ecs', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13' }, 'InvalidPayload', '"executionId" belongs to source "oos"'],
  ])('answers 400 for %o', async (q, code, message) => {
    const res = await call(httpEvent({ query: q as Record<string, string> }));
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = JSON.parse(res.body);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toContain(message);
    expect(body.requestId).toBe('req-1');
  });

  it("accepts collect's field names in the query: invokeId instead of id", async () => {
    const res = await call(httpEvent({ query: { source: ECS.source, regionId: ECS.regionId, invokeId: ECS.id } }));
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ id: ECS.id });
  });

  it('answers 404 when there is no archive', async () => {
    const res = await call(httpEvent({ query: query({ ...ECS, id: 't-nothinghere01' }) }));
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body).error.code).toBe('ArchiveNotFound');
  });

  it('answers 409 while the archive is being collected', async () => {
    const res = await call(httpEvent({ query: query(PARTIAL), headers: { accept: 'text/html' } }));
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'ArchiveIncomplete' });
  });

  it('answers 405 to other methods', async () => {
    const res = await call(httpEvent({ method: 'PUT', query: query(ECS) }));
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(JSON.parse(res.body).error.code).toBe('MethodNotAllowed');
  });

  it('answers 404 to unknown paths', async () => {
    const res = await call(httpEvent({ path: '/admin', query: query(ECS) }));
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body).error.code).toBe('NotFound');
  });

  it('answers 500 without internals when the archive is damaged', async () => {
    const broken = createMemoryStore();
    await broken.put('ecs/cn-hangzhou/t-hz0jdfwd9f0a1b/manifest.json', '{not json');
    const res = (await handleSummarizeEvent(decodeEvent(httpEvent({ query: query(ECS) })), { store: broken, logger: silentLogger }, 'req-2')) as HttpResponse;
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body).error.code).toBe('InternalError');
  });
});

describe('negotiateFormat', () => {
  it.each([
    [undefined, 'json'],
    ['*/*', 'json'],
    ['application/json', 'json'],
    ['text/html', 'html'],
    ['text/html;q=0.5, application/json', 'json'],
    ['text/*', 'html'],
    ['text/markdown, text/html;q=0.9', 'md'],
    ['image/png', 'json'],
  ])('Accept %s → %s', (accept, format) => {
    expect(negotiateFormat({}, accept === undefined ? {} : { accept })).toBe(format);
  });
  it('lets format= win over Accept', () => {
    expect(negotiateFormat({ format: 'markdown' }, { accept: 'text/html' })).toBe('md');
  });
});

describe('summarize by direct invocation', () => {
  const store = createMemoryStore();
  const deps: SummarizeDeps = { store, logger: silentLogger, now: NOW };

  beforeAll(async () => {
    await writeArchive(store, { ref: ECS, records: records() });
  });

  it('returns the compact summary result', async () => {
    const result = (await handleSummarizeEvent(decodeEvent(Buffer.from(JSON.stringify(ECS))), deps, 'req-3')) as SummarizeInvocationResult;
    expect(result).toMatchObject({ archive: ECS, computed: true, total: 50, failures: 5, causes: 1, retryCount: 5, headline: '5 of 50 failed (10.0%) in 1 cause' });
    expect(result.topGroups[0]).toMatchObject({ count: 5, resources: 5, exampleId: instanceId(0) });
    expect(result.topGroups[0]).not.toHaveProperty('resourceIds');
    expect(result.keys.report).toBe('ecs/cn-hangzhou/t-hz0jdfwd9f0a1b/report.html');
    expect((await handleSummaryInvocation(ECS, deps)).computed).toBe(false);
    expect((await handleSummaryInvocation({ ...ECS, force: true }, deps)).computed).toBe(true);
  });

  it.each([
    [[1, 2], 'InvalidPayload'],
    [{ source: 'ecs', regionId: 'cn-hangzhou' }, 'MissingParameter'],
    [{ ...ECS, force: 'yes' }, 'InvalidPayload'],
    [{ ...ECS, forse: true }, 'InvalidPayload'],
    [{ ...ECS, async: true }, 'InvalidPayload'],
    [{ source: 'ecs', regionId: 'cn-hangzhou', id: ECS.id, invokeId: 't-hz0jdfwd9f0zzz' }, 'InvalidPayload'],
    [{ source: 'ecs', regionId: 'cn-hangzhou', invokeId: ECS.id, includeHistory: 'no' }, 'InvalidPayload'],
  ])('throws a 400 InputError for %o', async (payload, code) => {
    await expect(handleSummaryInvocation(payload, deps)).rejects.toMatchObject({ code, status: 400 });
  });

  it('names an unknown field, and the field it probably meant', async () => {
    await expect(handleSummaryInvocation({ ...ECS, forse: true }, deps)).rejects.toThrow('unknown field "forse" in the summarize payload (did you mean "force"?)');
  });

  it("takes collect's payload as it is", async () => {
    const collectPayload = { source: 'ecs', regionId: ECS.regionId, invokeId: ECS.id, includeHistory: false, force: true };
    const result = await handleSummaryInvocation(collectPayload, deps);
    expect(result).toMatchObject({ archive: ECS, computed: true, failures: 5 });
    expect(result.topGroups[0]).not.toHaveProperty('instanceErrors');
  });

  it('throws the typed 404 for a missing archive', async () => {
    const err = await handleSummaryInvocation({ ...ECS, id: 't-nothinghere01' }, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'ArchiveNotFound', status: 404 });
  });

  it('validates refs', () => {
    expect(parseArchiveRef({ ...OOS })).toEqual(OOS);
  });
});

describe('functions/summarize handler', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summarize-handler-'));
    await writeArchive(createFileStore(dir), { ref: ECS, records: records() });
    vi.stubEnv('ARCHIVE_URL', pathToFileURL(dir).href);
    vi.stubEnv('LOG_LEVEL', 'error');
    vi.stubEnv('NOTIFY_WEBHOOK_URL', '');
    vi.resetModules();
  });
  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves an HTTP request and a direct invocation from the configured store', async () => {
    const { handler } = await import('../../functions/summarize/index');
    const context = { requestId: 'req-h', credentials: {} };
    const res = (await handler(httpEvent({ query: query(ECS, { format: 'html' }) }), context)) as HttpResponse;
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('5 of 50 failed');
    const direct = (await handler(Buffer.from(JSON.stringify(ECS)), context)) as SummarizeInvocationResult;
    expect(direct).toMatchObject({ total: 50, failures: 5, computed: false });
    const missing = (await handler(httpEvent({ query: query({ ...ECS, id: 't-nothinghere01' }) }), context)) as HttpResponse;
    expect(missing.statusCode).toBe(404);
    await expect(handler(Buffer.from('{"source":"ecs"}'), context)).rejects.toMatchObject({ status: 400 });
    await expect(handler(Buffer.from('not json'), context)).rejects.toMatchObject({ code: 'MalformedJson' });
  });
});
