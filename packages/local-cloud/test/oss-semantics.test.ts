/**
 * The local OSS answers what documented OSS answers, proven through the real `ali-oss` (raw HTTP only where the SDK
 * cannot express the request): Range with and without `x-oss-range-behavior: standard`, conditional GETs,
 * `response-*` overrides, `x-oss-hash-crc64ecma`, CopyObject, DeleteMultipleObjects, GetObjectMeta, AppendObject, V4
 * signatures and presigned URLs (V1 and V4), and OSS's answer to what is not emulated.
 */
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_KEY, DEMO_STS_KEY, type DemoKey } from '../src/credentials';
import { startOssEmulator, type OssEmulator } from '../src/oss/server';
import { rejection } from '../../../test/helpers/rejection';

const BUCKET = 'semantics';

let oss: OssEmulator;
let tmp: string;
/** Added to Date.now() by the emulator's clock (presigned URLs "expire" by moving it). */
let clockOffset = 0;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'oss-semantics-'));
  oss = await startOssEmulator({ root: path.join(tmp, 'oss'), buckets: [BUCKET], now: () => Date.now() + clockOffset });
});

afterAll(async () => {
  await oss?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

function client(extra: Partial<OSS.Options> = {}, key: DemoKey = DEMO_KEY): OSS {
  return new OSS({
    endpoint: oss.url,
    bucket: BUCKET,
    accessKeyId: key.accessKeyId,
    accessKeySecret: key.accessKeySecret,
    ...(key.securityToken ? { stsToken: key.securityToken } : {}),
    ...extra,
  });
}

/** Calls ali-oss 6.23 has that its typings lack. */
interface OssMore {
  getObjectMeta(name: string): Promise<{ status: number; res: { headers: Record<string, string> } }>;
  getObjectTagging(name: string): Promise<unknown>;
}
const more = (c: OSS) => c as unknown as OssMore;

/** ali-oss refuses to presign for an IP endpoint: presign for `localhost` (path style), then fetch 127.0.0.1. */
function presigner(key: DemoKey = DEMO_KEY): OSS {
  return client({ endpoint: oss.url.replace('127.0.0.1', 'localhost'), sldEnable: true } as Partial<OSS.Options>, key);
}
const toLoopback = (url: string) => url.replace('//localhost:', '//127.0.0.1:');

interface OssErr {
  status?: number;
  code?: string;
  name?: string;
}

/** CRC-64/ECMA-182 as OSS computes it, bit by bit with BigInt: an independent reference for the emulator's table. */
function referenceCrc64(data: Buffer): string {
  const poly = 0xc96c5795d7870f42n;
  let crc = 0xffffffffffffffffn;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return (crc ^ 0xffffffffffffffffn).toString();
}

const THOUSAND = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));

describe('Range', () => {
  beforeAll(async () => {
    await client().put('range/1000.bin', THOUSAND);
  });

  const get = (range: string, standard = false) =>
    client().get('range/1000.bin', { headers: { Range: range, ...(standard ? { 'x-oss-range-behavior': 'standard' } : {}) } });

  it('serves a valid range as 206 in both behaviours', async () => {
    for (const standard of [false, true]) {
      const r = await get('bytes=0-499', standard);
      expect([r.res.status, r.content.length, r.res.headers['content-range' as never]]).toEqual([206, 500, 'bytes 0-499/1000']);
      expect(Buffer.compare(r.content, THOUSAND.subarray(0, 500))).toBe(0);
      const tail = await get('bytes=-10', standard);
      expect(Buffer.compare(tail.content, THOUSAND.subarray(990))).toBe(0);
      expect((await get('bytes=990-', standard)).content.length).toBe(10);
    }
  });

  it('without x-oss-range-behavior, ignores an invalid or out-of-range Range: 200 with the whole object', async () => {
    for (const range of ['bytes=500-2000', 'bytes=1000-2000', 'bytes=1000-', 'bytes=-2000', 'byte=0-1', 'bytes=500-100', 'bytes=x-y']) {
      const r = await get(range);
      expect([range, r.res.status, r.content.length]).toEqual([range, 200, 1000]);
    }
  });

  it('with x-oss-range-behavior: standard, clamps an end past the object (206) and refuses a start past it (416)', async () => {
    const clamped = await get('bytes=500-2000', true);
    expect([clamped.res.status, clamped.content.length, clamped.res.headers['content-range' as never]]).toEqual([206, 500, 'bytes 500-999/1000']);
    const e = await rejection<OssErr>(get('bytes=1000-2000', true));
    expect([e.status, e.code]).toEqual([416, 'InvalidRange']);
    const suffix = await get('bytes=-2000', true);
    expect([suffix.res.status, suffix.content.length]).toEqual([206, 1000]);
  });

  it('multi-range: the first range by default, 416 with standard', async () => {
    const first = await get('bytes=0-1,5-9');
    expect([first.res.status, first.content.length]).toEqual([206, 2]);
    expect((await rejection<OssErr>(get('bytes=0-1,5-9', true))).status).toBe(416);
  });
});

describe('conditional requests', () => {
  let etag: string;
  let lastModified: string;

  beforeAll(async () => {
    await client().put('cond/a.txt', Buffer.from('conditional'));
    const head = await client().head('cond/a.txt');
    etag = String(head.res.headers['etag' as never]);
    lastModified = String(head.res.headers['last-modified' as never]);
  });

  const get = (headers: Record<string, string>) => client().get('cond/a.txt', { headers });
  const past = () => new Date(Date.parse(lastModified) - 3600_000).toUTCString();
  const future = () => new Date(Date.parse(lastModified) + 3600_000).toUTCString();

  it('If-Match: 200 when it names the ETag (or *), 412 PreconditionFailed otherwise', async () => {
    expect((await get({ 'If-Match': etag })).res.status).toBe(200);
    expect((await get({ 'If-Match': '*' })).res.status).toBe(200);
    const e = await rejection<OssErr>(get({ 'If-Match': '"0123456789ABCDEF0123456789ABCDEF"' }));
    expect([e.status, e.code]).toEqual([412, 'PreconditionFailed']);
  });

  it('If-None-Match: 304 when it names the ETag, 200 otherwise; HEAD too', async () => {
    expect((await get({ 'If-None-Match': etag })).res.status).toBe(304);
    expect((await get({ 'If-None-Match': '"other"' })).res.status).toBe(200);
    const head = await client().head('cond/a.txt', { headers: { 'If-None-Match': etag } } as never);
    expect(head.res.status).toBe(304);
  });

  it('If-Modified-Since and If-Unmodified-Since compare with Last-Modified', async () => {
    expect((await get({ 'If-Modified-Since': future() })).res.status).toBe(304);
    expect((await get({ 'If-Modified-Since': lastModified })).res.status).toBe(304);
    expect((await get({ 'If-Modified-Since': past() })).res.status).toBe(200);
    expect((await get({ 'If-Unmodified-Since': future() })).res.status).toBe(200);
    expect((await rejection<OssErr>(get({ 'If-Unmodified-Since': past() }))).status).toBe(412);
  });

  it('follows RFC 7232 precedence: a true If-Match makes If-Unmodified-Since irrelevant', async () => {
    expect((await get({ 'If-Match': etag, 'If-Unmodified-Since': past() })).res.status).toBe(200);
    expect((await get({ 'If-None-Match': '"other"', 'If-Modified-Since': future() })).res.status).toBe(200);
  });
});

describe('response-* overrides', () => {
  it('sets the headers a GET asks for', async () => {
    await client().put('reports/r.html', Buffer.from('<h1>report</h1>'), { mime: 'text/html' });
    const r = await client().get('reports/r.html', {
      subres: { 'response-content-type': 'text/plain', 'response-content-disposition': 'attachment; filename="r.html"', 'response-cache-control': 'no-store' },
    } as never);
    expect(r.res.headers).toMatchObject({ 'content-type': 'text/plain', 'content-disposition': 'attachment; filename="r.html"', 'cache-control': 'no-store' });
    const plain = await client().get('reports/r.html');
    expect(plain.res.headers).toMatchObject({ 'content-type': 'text/html' });
  });
});

describe('x-oss-hash-crc64ecma', () => {
  it('matches the published check value and an independent bitwise implementation', async () => {
    const put = await client().put('crc/check.txt', Buffer.from('123456789'));
    expect(put.res.headers['x-oss-hash-crc64ecma' as never]).toBe('11051210869376104954');
    expect(referenceCrc64(Buffer.from('123456789'))).toBe('11051210869376104954');
    const head = await client().head('crc/check.txt');
    expect(head.res.headers['x-oss-hash-crc64ecma' as never]).toBe('11051210869376104954');
    const got = await client().get('crc/check.txt');
    expect(got.res.headers['x-oss-hash-crc64ecma' as never]).toBe('11051210869376104954');
  });

  it('is sent for each uploaded part and for the completed multipart object', async () => {
    const c = client();
    const body = Buffer.concat([Buffer.alloc(150 * 1024, 'a'), Buffer.alloc(60 * 1024, 'b')]);
    const init = await c.initMultipartUpload('crc/multi.bin');
    const p1 = await c.uploadPart('crc/multi.bin', init.uploadId, 1, body, 0, 150 * 1024);
    const p2 = await c.uploadPart('crc/multi.bin', init.uploadId, 2, body, 150 * 1024, body.length);
    expect(p1.res.headers['x-oss-hash-crc64ecma' as never]).toBe(referenceCrc64(body.subarray(0, 150 * 1024)));
    const done = await c.completeMultipartUpload('crc/multi.bin', init.uploadId, [
      { number: 1, etag: p1.etag },
      { number: 2, etag: p2.etag },
    ]);
    expect(done.res.headers['x-oss-hash-crc64ecma' as never]).toBe(referenceCrc64(body));
    expect((await c.head('crc/multi.bin')).res.headers['x-oss-hash-crc64ecma' as never]).toBe(referenceCrc64(body));
  });
});

describe('CopyObject, DeleteMultipleObjects, GetObjectMeta, AppendObject', () => {
  it('copies bytes, ETag and metadata (COPY), or replaces the metadata (REPLACE)', async () => {
    const c = client();
    await c.put('copy/src.json', Buffer.from('{"a":1}'), { mime: 'application/json', meta: { origin: 'test' } } as never);
    const src = await c.head('copy/src.json');
    const copied = await c.copy('copy/dst.json', 'copy/src.json');
    expect(copied.res.status).toBe(200);
    const dst = await c.head('copy/dst.json');
    expect(dst.res.headers).toMatchObject({
      etag: src.res.headers['etag' as never],
      'content-type': 'application/json',
      'x-oss-meta-origin': 'test',
      'x-oss-hash-crc64ecma': referenceCrc64(Buffer.from('{"a":1}')),
    });
    await c.copy('copy/replaced.json', 'copy/src.json', { meta: { origin: 'copy' } } as never);
    expect((await c.head('copy/replaced.json')).res.headers).toMatchObject({ 'x-oss-meta-origin': 'copy' });
    expect((await c.get('copy/replaced.json')).content.toString()).toBe('{"a":1}');
  });

  it('refuses a copy onto an existing key with forbid-overwrite, from a missing source, or against its conditions', async () => {
    const c = client();
    await c.put('copy/x.txt', Buffer.from('x'));
    await c.put('copy/y.txt', Buffer.from('y'));
    const exists = await rejection<OssErr>(c.copy('copy/y.txt', 'copy/x.txt', { headers: { 'x-oss-forbid-overwrite': 'true' } }));
    expect([exists.status, exists.code]).toEqual([409, 'FileAlreadyExists']);
    expect((await c.get('copy/y.txt')).content.toString()).toBe('y');
    const missing = await rejection<OssErr>(c.copy('copy/z.txt', 'copy/none.txt'));
    expect([missing.status, missing.code]).toEqual([404, 'NoSuchKey']);
    const cond = await rejection<OssErr>(c.copy('copy/z.txt', 'copy/x.txt', { headers: { 'If-Match': '"00000000000000000000000000000000"' } }));
    expect([cond.status, cond.code]).toEqual([412, 'PreconditionFailed']);
    expect((await rejection<OssErr>(c.head('copy/z.txt'))).status).toBe(404);
  });

  it('deletes several objects in one request (verbose and quiet)', async () => {
    const c = client();
    for (const k of ['multi/a', 'multi/b', 'multi/c']) await c.put(k, Buffer.from(k));
    const verbose = await c.deleteMulti(['multi/a', 'multi/b', 'multi/missing']);
    expect((verbose.deleted as unknown as ({ Key: string } | string)[] | undefined)?.map((d) => (typeof d === 'string' ? d : d.Key)).sort()).toEqual(['multi/a', 'multi/b', 'multi/missing']);
    const quiet = await c.deleteMulti(['multi/c'], { quiet: true });
    expect(quiet.deleted ?? []).toEqual([]);
    const left = await c.listV2({ prefix: 'multi/', 'max-keys': '10' } as never, {});
    expect(left.objects ?? []).toEqual([]);
  });

  it('GetObjectMeta answers ETag, size and CRC without the body', async () => {
    const c = client();
    await c.put('meta/m.txt', Buffer.from('meta!'));
    const m = await more(c).getObjectMeta('meta/m.txt');
    expect(m.status).toBe(200);
    expect(m.res.headers).toMatchObject({ 'content-length': '5', 'x-oss-hash-crc64ecma': referenceCrc64(Buffer.from('meta!')) });
    expect((await rejection<OssErr>(more(c).getObjectMeta('meta/none.txt'))).status).toBe(404);
  });

  it('appends at the current length, refuses a wrong position or a Normal object, and continues the CRC', async () => {
    const c = client();
    const one = await c.append('append/log.txt', Buffer.from('line 1\n'));
    expect(one.nextAppendPosition).toBe('7');
    const two = await c.append('append/log.txt', Buffer.from('line 2\n'), { position: one.nextAppendPosition } as never);
    expect(two.nextAppendPosition).toBe('14');
    const wrong = await rejection<OssErr>(c.append('append/log.txt', Buffer.from('x'), { position: '3' } as never));
    expect([wrong.status, wrong.code]).toEqual([409, 'PositionNotEqualToLength']);
    const got = await c.get('append/log.txt');
    expect(got.content.toString()).toBe('line 1\nline 2\n');
    expect(got.res.headers).toMatchObject({ 'x-oss-object-type': 'Appendable', 'x-oss-hash-crc64ecma': referenceCrc64(Buffer.from('line 1\nline 2\n')) });
    await c.put('append/normal.txt', Buffer.from('n'));
    const normal = await rejection<OssErr>(c.append('append/normal.txt', Buffer.from('x'), { position: '1' } as never));
    expect([normal.status, normal.code]).toEqual([409, 'ObjectNotAppendable']);
  });
});

describe('V4 signatures (authorizationV4)', () => {
  it.each([
    ['AccessKey', DEMO_KEY],
    ['STS', DEMO_STS_KEY],
  ] as const)('puts, lists, multipart-uploads, gets and deletes with %s', async (_n, key) => {
    const c = client({ authorizationV4: true, region: 'oss-cn-hangzhou' }, key);
    await c.put('v4/a b+ü.txt', Buffer.from('signed v4'), { headers: { 'x-oss-forbid-overwrite': 'false' } });
    expect((await c.get('v4/a b+ü.txt')).content.toString()).toBe('signed v4');
    const listed = await c.listV2({ prefix: 'v4/', 'max-keys': '10' } as never, {});
    expect(listed.objects?.map((o) => o.name)).toContain('v4/a b+ü.txt');
    const big = Buffer.alloc(250 * 1024, 'v');
    await c.multipartUpload('v4/big.bin', big, { partSize: 100 * 1024 });
    expect((await c.head('v4/big.bin')).res.headers['x-oss-hash-crc64ecma' as never]).toBe(referenceCrc64(big));
    await c.delete('v4/big.bin');
  });

  it('refuses a wrong secret with SignatureDoesNotMatch', async () => {
    const c = client({ authorizationV4: true, region: 'oss-cn-hangzhou' }, { ...DEMO_KEY, accessKeySecret: 'wrong' });
    const e = await rejection<OssErr>(c.put('v4/no.txt', Buffer.from('x')));
    expect([e.status, e.code]).toEqual([403, 'SignatureDoesNotMatch']);
  });
});

describe('presigned URLs', () => {
  beforeAll(async () => {
    await client().put('share/report.html', Buffer.from('<h1>shared</h1>'), { mime: 'text/html' });
  });

  it('V1: a presigned GET of a report works without credentials, with response overrides, also for STS keys', async () => {
    for (const key of [DEMO_KEY, DEMO_STS_KEY]) {
      const url = presigner(key).signatureUrl('share/report.html', { expires: 600, response: { 'content-disposition': 'inline' } } as never);
      expect(url).toContain('OSSAccessKeyId=');
      const res = await fetch(toLoopback(url));
      expect([res.status, await res.text(), res.headers.get('content-disposition')]).toEqual([200, '<h1>shared</h1>', 'inline']);
    }
  });

  it('V1: an expired or tampered URL is refused', async () => {
    const url = presigner().signatureUrl('share/report.html', { expires: 60 });
    clockOffset = 3600_000;
    try {
      const res = await fetch(toLoopback(url));
      expect(res.status).toBe(403);
      expect(await res.text()).toContain('Request has expired.');
    } finally {
      clockOffset = 0;
    }
    const tampered = await fetch(toLoopback(url).replace('share/report.html', 'share/other.html'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('V1: a presigned PUT uploads with the signed content type', async () => {
    const url = presigner().signatureUrl('share/upload.txt', { method: 'PUT', expires: 600, 'Content-Type': 'text/plain' } as never);
    const res = await fetch(toLoopback(url), { method: 'PUT', body: 'uploaded', headers: { 'content-type': 'text/plain' } });
    expect(res.status).toBe(200);
    expect((await client().get('share/upload.txt')).content.toString()).toBe('uploaded');
  });

  it('V4: signatureUrlV4 works, and expires', async () => {
    const signer = presigner();
    const url = await signer.signatureUrlV4('GET', 600, { headers: {}, queries: {} } as never, 'share/report.html');
    expect(url).toContain('x-oss-signature-version=OSS4-HMAC-SHA256');
    const res = await fetch(toLoopback(url));
    expect([res.status, await res.text()]).toEqual([200, '<h1>shared</h1>']);
    clockOffset = 3600_000;
    try {
      expect((await fetch(toLoopback(url))).status).toBe(403);
    } finally {
      clockOffset = 0;
    }
  });

  it('without any signature the bucket is private: 403 AccessDenied', async () => {
    const res = await fetch(`${oss.url}/${BUCKET}/share/report.html`);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
  });
});

describe('what is not emulated', () => {
  it('answers 501 NotImplemented, as OSS does for functionality it does not provide', async () => {
    const c = client();
    await c.put('ni/a.txt', Buffer.from('a'));
    const tagging = await rejection<OssErr>(more(c).getObjectTagging('ni/a.txt'));
    expect([tagging.status, tagging.code]).toEqual([501, 'NotImplemented']);
    const acl = await rejection<OssErr>(c.putACL('ni/a.txt', 'public-read'));
    expect([acl.status, acl.code]).toEqual([501, 'NotImplemented']);
  });
});
