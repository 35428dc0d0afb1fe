/**
 * The HTTP triggers' edges: anchored routes, trailing slashes, the one body type, plain messages for a BOM or deep
 * nesting, HEAD's real Content-Length, every error in the documented `{"error":{"code","message"}}` shape, and a GET
 * that writes nothing (POST recomputes).
 */
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveRef } from '../../lib/archive/layout';
import { handleCollectEvent } from '../../lib/collect';
import { silentLogger } from '../../lib/log';
import type { Runtime } from '../../lib/runtime';
import { handleSummarizeEvent, MAX_HTTP_BODY_BYTES } from '../../lib/summary/http';
import type { SummarizeDeps } from '../../lib/summary/invocation';
import { decodeEvent, MAX_JSON_DEPTH, type HttpResponse } from '../../lib/triggers';
import { ecsRecord, instanceId, writeArchive } from '../helpers/archive-fixture';
import { httpEventBytes, type HttpEventOptions } from '../helpers/http-event';
import { createMemoryStore } from '../helpers/memory-store';

const ECS: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b' };
const q = { source: ECS.source, regionId: ECS.regionId, id: ECS.id };
const JSON_TYPE = { 'content-type': 'application/json' };

/** collect's HTTP face up to the point where it would call the cloud: a runtime that must never be reached. */
const unreachable = new Proxy({} as Runtime, {
  get(_t, prop) {
    if (prop === 'context') return { requestId: 'req-edge' };
    if (prop === 'logger') return silentLogger;
    throw new Error(`the request reached the runtime (${String(prop)}) although it should have been refused`);
  },
});
const collect = async (opts: HttpEventOptions) => (await handleCollectEvent(decodeEvent(httpEventBytes({ path: '/collect', ...opts })), unreachable)) as HttpResponse;

function errorOf(res: HttpResponse): { code: string; message: string } {
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.message).not.toMatch(/\n\s+at |Maximum call stack|\ufeff/);
  return body.error;
}

describe('collect over HTTP', () => {
  it.each(['/anything/at/all/collect', '/collect/x', '/collectx', '//collect', '/COLLECT'])('%s is 404 in the error shape', async (path) => {
    const res = await collect({ path, body: '{}', headers: JSON_TYPE });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('NotFound');
  });

  it.each(['/collect', '/collect/', '/'])('%s is routed (a bad body is then 400, not 404)', async (path) => {
    const res = await collect({ path, body: '{"source":"nope"}', headers: JSON_TYPE });
    expect(res.statusCode).toBe(400);
  });

  it('405 with Allow and the error shape', async () => {
    const res = await collect({ method: 'DELETE', body: '' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(errorOf(res).code).toBe('MethodNotAllowed');
  });

  it.each([
    ['application/json', 400],
    ['application/json; charset=utf-8', 400],
    ['Application/JSON;charset="UTF-8"', 400],
    [undefined, 415],
    ['application/json, application/json', 415],
    ['application/json-seq', 415],
    ['application/json; charset=utf-16', 415],
    ['application/x-www-form-urlencoded', 415],
    ['text/plain', 415],
    ['application/vnd.api+json', 415],
  ])('Content-Type %s → %i', async (type, status) => {
    const res = await collect({ body: '{"source":"nope"}', headers: type === undefined ? {} : { 'content-type': type } });
    expect(res.statusCode).toBe(status);
    if (status === 415) expect(errorOf(res).code).toBe('UnsupportedMediaType');
  });

  it('a body over the limit is 413 in the error shape', async () => {
    const res = await collect({ body: `{"x":"${'a'.repeat(70_000)}"}`, headers: JSON_TYPE });
    expect(res.statusCode).toBe(413);
    expect(errorOf(res).code).toBe('PayloadTooLarge');
  });

  it('a UTF-8 BOM is named, not shown as an invisible character', async () => {
    const res = await collect({ body: Buffer.from('\ufeff{"source":"ecs"}', 'utf8'), headers: JSON_TYPE });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe('the request body starts with a byte order mark (U+FEFF); send the JSON text without it');
  });

  it('30,000 levels of nesting get a plain message, not a stack overflow', async () => {
    const res = await collect({ body: '['.repeat(30_000) + ']'.repeat(30_000), headers: JSON_TYPE });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe(`the request body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('bytes that are not UTF-8 are refused by name', async () => {
    const res = await collect({ body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), headers: JSON_TYPE });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).toBe('the request body is not valid UTF-8');
  });

  it.each([
    ['gzip, but the body is plain JSON', 'gzip', Buffer.from('{"source":"nope"}'), 400, 'InvalidContentEncoding'],
    ['gzip, but the body is cut', 'gzip', gzipSync('{"source":"nope"}').subarray(0, 20), 400, 'InvalidContentEncoding'],
    ['gzip that unzips past the limit', 'gzip', gzipSync(`{"x":"${'a'.repeat(200_000)}"}`), 413, 'PayloadTooLarge'],
    ['br', 'br', Buffer.from('{"source":"nope"}'), 415, 'UnsupportedMediaType'],
    ['deflate, gzip', 'deflate, gzip', gzipSync('{"source":"nope"}'), 415, 'UnsupportedMediaType'],
  ])('Content-Encoding %s is refused', async (_name, coding, body, status, code) => {
    // Prepare: a JSON body under a Content-Encoding it does not honour; Act
    const res = await collect({ body, headers: { ...JSON_TYPE, 'content-encoding': coding } });
    // Assess
    expect(res.statusCode).toBe(status);
    expect(errorOf(res).code).toBe(code);
  });

  it.each([
    ['gzip', (text: string) => gzipSync(text)],
    ['identity', (text: string) => Buffer.from(text)],
  ])('Content-Encoding %s is read (a bad body is then 400 about the body)', async (coding, encode) => {
    const res = await collect({ body: encode('{"source":"nope"}'), headers: { ...JSON_TYPE, 'content-encoding': coding } });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).code).not.toBe('InvalidContentEncoding');
    expect(errorOf(res).message).toMatch(/source/);
  });

  it('control characters in a parse error are escaped', async () => {
    const res = await collect({ body: '\u0000\u2028{', headers: JSON_TYPE });
    expect(res.statusCode).toBe(400);
    expect(errorOf(res).message).not.toMatch(/[\u0000-\u001f\u2028]/);
  });
});

describe('summarize over HTTP', () => {
  const store = createMemoryStore();
  const deps: SummarizeDeps = { store, logger: silentLogger };
  const call = async (opts: HttpEventOptions) => (await handleSummarizeEvent(decodeEvent(httpEventBytes({ method: 'GET', path: '/summary', query: q, ...opts })), deps, 'req-s')) as HttpResponse;

  beforeAll(async () => {
    await writeArchive(store, { ref: ECS, records: Array.from({ length: 20 }, (_, n) => ecsRecord({ InstanceId: instanceId(n) })) });
  });

  it.each(['/anything/at/all/summary', '/summary/x', '/x/summary/'])('%s is 404', async (path) => {
    const res = await call({ path });
    expect(res.statusCode).toBe(404);
    expect(errorOf(res).code).toBe('NotFound');
  });

  it('/summary and /summary/ answer alike', async () => {
    const a = await call({ path: '/summary' });
    const b = await call({ path: '/summary/' });
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(200);
    expect(b.body).toBe(a.body);
  });

  it('HEAD has no body and the real Content-Length', async () => {
    const get = await call({});
    const head = await call({ method: 'HEAD' });
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
  });

  it('serves the stored object as stored, a Range of it (206, 416), and 413 naming the object when it is too large to answer', async () => {
    // Prepare: a current summary.json, stored compact (summarize writes it indented): what is served is these bytes.
    await call({});
    const key = `${ECS.source}/${ECS.regionId}/${ECS.id}/summary.json`;
    const compact = JSON.stringify(JSON.parse(store.text(key) ?? ''));
    await store.put(key, compact);

    // Act
    const whole = await call({});
    const range = await call({ headers: { range: 'bytes=0-9' } });
    const suffix = await call({ headers: { range: 'bytes=-5' } });
    const past = await call({ headers: { range: `bytes=${compact.length}-` } });
    const several = await call({ headers: { range: 'bytes=0-1,4-5' } });

    // Assess
    expect(whole.statusCode).toBe(200);
    expect(whole.body).toBe(compact);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(range.statusCode).toBe(206);
    expect(Buffer.from(range.body, 'base64').toString('utf8')).toBe(compact.slice(0, 10));
    expect(range.headers['content-range']).toBe(`bytes 0-9/${compact.length}`);
    expect(Buffer.from(suffix.body, 'base64').toString('utf8')).toBe(compact.slice(-5));
    expect(past.statusCode).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${compact.length}`);
    expect(several.statusCode).toBe(200);

    // A report over what an HTTP answer of Function Compute may carry: 413 names the object; a range of it is served.
    const reportKey = `${ECS.source}/${ECS.regionId}/${ECS.id}/report.html`;
    await store.put(reportKey, Buffer.alloc(MAX_HTTP_BODY_BYTES + 1, 0x61));
    const large = await call({ query: { ...q, format: 'html' } });
    expect(large.statusCode).toBe(413);
    const answer = JSON.parse(large.body) as { error: { code: string; message: string }; object: { key: string; url: string; size: number } };
    expect(answer.error.code).toBe('ResponseTooLarge');
    expect(answer.object).toEqual({ key: reportKey, url: store.locate(reportKey), size: MAX_HTTP_BODY_BYTES + 1 });
    expect(answer.error.message).toContain(store.locate(reportKey));
    const head = await call({ query: { ...q, format: 'html' }, headers: { range: 'bytes=0-99' } });
    expect(head.statusCode).toBe(206);
    expect(Buffer.from(head.body, 'base64')).toEqual(Buffer.alloc(100, 0x61));
  });

  it('GET ?refresh=1 writes nothing and says to POST; POST recomputes', async () => {
    await call({});
    const puts = store.calls.put;
    const refused = await call({ query: { ...q, refresh: '1' } });
    expect(refused.statusCode).toBe(400);
    expect(errorOf(refused).message).toMatch(/POST \/summary/);
    expect(store.calls.put).toBe(puts);
    const again = await call({});
    expect(again.headers['x-summary-computed']).toBe('false');
    expect(store.calls.put).toBe(puts);
    const posted = await call({ method: 'POST' });
    expect(posted.statusCode).toBe(200);
    expect(posted.headers['x-summary-computed']).toBe('true');
    // summary.json, summary.md, report.html, retry.txt and failures.ndjson.gz.
    expect(store.calls.put).toBe(puts + 5);
    const viaBody = await call({ method: 'POST', query: {}, body: JSON.stringify(q), headers: JSON_TYPE });
    expect(viaBody.statusCode).toBe(200);
    const wrongType = await call({ method: 'POST', query: {}, body: JSON.stringify({ ...q, id: 7 }), headers: JSON_TYPE });
    expect(wrongType.statusCode).toBe(400);
    expect(errorOf(wrongType).message).toMatch(/\bid\b/);
  });

  it('405 for other methods, in the error shape with Allow', async () => {
    const res = await call({ method: 'DELETE' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(errorOf(res).code).toBe('MethodNotAllowed');
  });
});
