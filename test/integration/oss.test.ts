import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import OSS from 'ali-oss';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_KEY, DEMO_STS_KEY, type DemoKey } from '@execution-archive/local-cloud/credentials';
import { startOssEmulator, type OssEmulator } from '@execution-archive/local-cloud/oss/server';
import { ConfigError, StorageError, isAlreadyExists } from '../../lib/errors';
import { createFileStore } from '../../lib/archive/file';
import { createOssStore, type OssStoreOptions } from '../../lib/archive/oss';
import { openStore, parseArchiveUrl } from '../../lib/archive/open';
import type { ObjectInfo, ObjectStore, SpooledBody } from '../../lib/archive/store';
import { withStoreRetries } from '../../lib/archive/retrying';
import { silentLogger } from '../../lib/log';
import { present } from '../helpers/present';

const BUCKET = 'archive-test';
const STS_A: DemoKey = { accessKeyId: 'STS.RotateA', accessKeySecret: 'rotate-secret-a', securityToken: 'token-a' };
const STS_B: DemoKey = { accessKeyId: 'STS.RotateB', accessKeySecret: 'rotate-secret-b', securityToken: 'token-b' };
/** Mutable on purpose: a test "expires" STS_A by removing it. */
const keys: DemoKey[] = [DEMO_KEY, DEMO_STS_KEY, STS_A, STS_B];

let oss: OssEmulator;
let tmp: string;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'oss-test-'));
  oss = await startOssEmulator({ root: path.join(tmp, 'oss'), buckets: [BUCKET], keys });
});

afterAll(async () => {
  await oss?.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

afterEach(() => oss.faults.clear());

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function client(extra: Partial<OSS.Options> = {}): OSS {
  return new OSS({
    endpoint: oss.url,
    bucket: BUCKET,
    accessKeyId: DEMO_KEY.accessKeyId,
    accessKeySecret: DEMO_KEY.accessKeySecret,
    ...extra,
  });
}

function ossStore(prefix: string, extra: Partial<OssStoreOptions> = {}): ObjectStore {
  return createOssStore({
    bucket: BUCKET,
    prefix,
    endpoint: oss.url,
    credentials: async () => DEMO_KEY,
    logger: silentLogger,
    ...extra,
  });
}

async function collect(it: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of it) out.push(o);
  return out;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++] as T);
  }));
}

/** A deterministic pseudo-random body (multipart tests must not pass by accident on uniform bytes). */
function body(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(Math.ceil(size / 4) * 4);
  let x = seed;
  for (let i = 0; i < b.length; i += 4) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b.writeUInt32LE(x, i);
  }
  return b.subarray(0, size);
}

/**
 * `data` as a spooled body (what the writer hands the stores), read in 64 KiB chunks; `reads` counts the streams
 * opened, and `tamper` changes what the n-th read returns (a body damaged between its checksum and its upload).
 */
function spooled(data: Buffer, tamper?: { read: number }): SpooledBody & { reads: number } {
  const spool = {
    size: data.length,
    reads: 0,
    read(start = 0, end = data.length) {
      spool.reads += 1;
      const range = Buffer.from(data.subarray(start, end));
      if (tamper?.read === spool.reads && range.length > 0) range[0] = (range[0] ?? 0) ^ 0xff;
      const chunks: Buffer[] = [];
      for (let at = 0; at < range.length; at += 64 * 1024) chunks.push(range.subarray(at, at + 64 * 1024));
      return Readable.from(chunks);
    },
  };
  return spool;
}

let storeSeq = 0;
const stores: [string, () => ObjectStore][] = [
  ['file store', () => createFileStore(path.join(tmp, `files-${++storeSeq}`))],
  ['oss store', () => ossStore(`contract-${++storeSeq}/root`)],
];

describe.each(stores)('ObjectStore contract: %s', (name, make) => {
  it('puts, gets, heads and deletes an object', async () => {
    const store = make();
    await store.put('a/b.json', '{"x":1}', { contentType: 'application/json' });
    expect((await store.get('a/b.json'))?.toString()).toBe('{"x":1}');
    const info = await store.head('a/b.json');
    expect(info).toMatchObject({ key: 'a/b.json', size: 7 });
    expect(info?.lastModified).toBeInstanceOf(Date);
    await store.put('a/b.json', Buffer.from([0, 1, 2, 255]));
    expect(await store.get('a/b.json')).toEqual(Buffer.from([0, 1, 2, 255]));
    await store.delete('a/b.json');
    expect(await store.get('a/b.json')).toBeUndefined();
    expect(await store.head('a/b.json')).toBeUndefined();
    expect(await store.getStream('a/b.json')).toBeUndefined();
    await store.delete('a/b.json'); // missing is fine
    await store.put('empty', '');
    expect(await store.get('empty')).toEqual(Buffer.alloc(0));
  });

  it('handles unicode and special-character keys', async () => {
    const store = make();
    const keys = ['dir/a b+ü.json', '中文/报告.md', 'emoji/😀 %2F&?=#.txt', "q/it's \"quoted\" <x>.txt"];
    for (const k of keys) await store.put(k, `body of ${k}`);
    for (const k of keys) expect((await store.get(k))?.toString()).toBe(`body of ${k}`);
    const listed = (await collect(store.list(''))).map((o) => o.key);
    expect(listed.sort()).toEqual([...keys].sort());
  });

  it('streams an object', async () => {
    const store = make();
    const data = body(300_000, 7);
    await store.put('s/big.bin', data);
    const stream = await store.getStream('s/big.bin');
    expect(stream).toBeDefined();
    expect(sha256(await readAll(present(stream)))).toBe(sha256(data));
  });

  it('refuses to overwrite with forbidOverwrite and keeps the original', async () => {
    const store = make();
    await store.put('m/manifest.json', 'first', { forbidOverwrite: true });
    const err = await store.put('m/manifest.json', 'second', { forbidOverwrite: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(isAlreadyExists(err)).toBe(true);
    expect((err as StorageError).key).toBe('m/manifest.json');
    expect((await store.get('m/manifest.json'))?.toString()).toBe('first');
    await store.put('m/manifest.json', 'third'); // without the flag it overwrites
    expect((await store.get('m/manifest.json'))?.toString()).toBe('third');
  });

  it('lets exactly one of several racing forbidOverwrite writers win', async () => {
    const store = make();
    const bodies = Array.from({ length: 8 }, (_, i) => `writer-${i}-${'x'.repeat(1000 * i)}`);
    const results = await Promise.allSettled(bodies.map((b) => store.put('race/claim.json', b, { forbidOverwrite: true })));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(isAlreadyExists(r.reason)).toBe(true);
    expect((await store.get('race/claim.json'))?.toString()).toBe(bodies[present(won[0])]);
  });

  it('lists recursively in key order, by prefix, across pages', async () => {
    const store = make();
    const keys = Array.from({ length: 1005 }, (_, i) => `p/${String(i % 7)}/k-${String(i).padStart(4, '0')}.json`);
    keys.push('p/0-after-dir', 'p-sibling', 'p/00', 'q/other');
    await pool(keys, 16, (k) => store.put(k, k));
    const all = await collect(store.list('p/'));
    const expected = keys.filter((k) => k.startsWith('p/')).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(all.map((o) => o.key)).toEqual(expected);
    expect(all.every((o) => o.size === Buffer.byteLength(o.key))).toBe(true);
    expect((await collect(store.list('p/3/'))).length).toBe(keys.filter((k) => k.startsWith('p/3/')).length);
    expect((await collect(store.list('p'))).length).toBe(expected.length + 1); // includes p-sibling
    expect(await collect(store.list('nothing/'))).toEqual([]);
  });

  it('writes a large body whole (multipart on OSS)', async () => {
    const store = make();
    const data = body(12 * 1024 * 1024 + 12345, 3);
    const before = oss.stats.byOperation.UploadPart ?? 0;
    await store.put('big/part-00000.ndjson.gz', data);
    const back = await store.get('big/part-00000.ndjson.gz');
    expect(back?.length).toBe(data.length);
    expect(sha256(present(back))).toBe(sha256(data));
    expect((await store.head('big/part-00000.ndjson.gz'))?.size).toBe(data.length);
    if (name === 'oss store') expect((oss.stats.byOperation.UploadPart ?? 0) - before).toBe(3);
  });

  it('writes a spooled body whole, read from where it is kept: small (one put) and large (multipart on OSS)', async () => {
    // Prepare
    const store = make();
    const small = body(300 * 1024, 21);
    const large = body(11 * 1024 * 1024 + 777, 22);
    const before = oss.stats.byOperation.UploadPart ?? 0;
    // Act
    await store.put('spool/small.ndjson.gz', spooled(small), { contentType: 'application/x-ndjson' });
    await store.put('spool/large.ndjson.gz', spooled(large));
    // Assess
    expect(sha256(present(await store.get('spool/small.ndjson.gz')))).toBe(sha256(small));
    expect(sha256(present(await store.get('spool/large.ndjson.gz')))).toBe(sha256(large));
    expect((await store.head('spool/large.ndjson.gz'))?.size).toBe(large.length);
    if (name === 'oss store') expect((oss.stats.byOperation.UploadPart ?? 0) - before).toBe(3);
  });

  it('rejects unsafe keys with InvalidKey', async () => {
    const store = make();
    for (const k of ['../x', '/abs', 'a\\b', 'a\0b', 'a//b', 'a/./b', 'a/../b', '', 'dir/']) {
      await expect(store.put(k, 'x')).rejects.toMatchObject({ code: 'InvalidKey' });
    }
    await expect(store.get('../x')).rejects.toBeInstanceOf(StorageError);
  });

  it('names itself and its objects with URLs', () => {
    const store = make();
    if (name === 'file store') {
      expect(store.url).toMatch(/^file:\/\/\//);
      expect(store.locate('a/b.json')).toBe(`${store.url}/a/b.json`);
    } else {
      expect(store.url).toMatch(new RegExp(`^oss://${BUCKET}/contract-\\d+/root$`));
      expect(store.locate('a/b.json')).toBe(`${store.url}/a/b.json`);
    }
  });
});

describe('OSS emulator with the real ali-oss client', () => {
  it('stores objects as files with the exact bytes', async () => {
    const c = client();
    await c.put('raw/a b+ü.json', Buffer.from('{"a":1}'));
    expect(await fs.readFile(oss.objectPath(BUCKET, 'raw/a b+ü.json'), 'utf8')).toBe('{"a":1}');
    const head = await c.head('raw/a b+ü.json');
    expect(head.res.headers).toMatchObject({ 'content-type': 'application/json', etag: '"BB6CB5C68DF4652941CAF652A366F2D8"' });
  });

  it('rejects a wrong secret with SignatureDoesNotMatch', async () => {
    const err = await client({ accessKeySecret: 'not-the-secret' }).get('raw/a b+ü.json').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
    expect((err as { requestId?: string }).requestId).toMatch(/^[0-9A-F]{24}$/);
    const storeErr = await ossStore('x', { credentials: async () => ({ ...DEMO_KEY, accessKeySecret: 'nope' }) })
      .get('k')
      .catch((e: unknown) => e);
    expect(storeErr).toBeInstanceOf(StorageError);
    expect(storeErr).toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
    expect((storeErr as Error).message).not.toContain('nope');
  });

  it('rejects unknown keys and wrong STS tokens', async () => {
    await expect(client({ accessKeyId: 'LTAIunknown' }).get('x')).rejects.toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
    const sts = (token?: string) =>
      client({
        accessKeyId: DEMO_STS_KEY.accessKeyId,
        accessKeySecret: DEMO_STS_KEY.accessKeySecret,
        ...(token ? { stsToken: token, refreshSTSToken: async () => ({ ...DEMO_STS_KEY, stsToken: token }) } : {}),
      });
    await sts(DEMO_STS_KEY.securityToken).put('sts/ok.txt', Buffer.from('ok'));
    expect((await sts(DEMO_STS_KEY.securityToken).get('sts/ok.txt')).content.toString()).toBe('ok');
    await expect(sts().get('sts/ok.txt')).rejects.toMatchObject({ code: 'InvalidAccessKeyId', status: 403 });
    await expect(sts('wrong-token').get('sts/ok.txt')).rejects.toMatchObject({ code: 'InvalidSecurityToken', status: 403 });
  });

  it('follows rotating STS credentials in the OSS store', async () => {
    let current = STS_A;
    let calls = 0;
    const store = ossStore('rotate', {
      refreshIntervalMs: 1,
      credentials: async () => {
        calls++;
        return current;
      },
    });
    await store.put('one', '1');
    current = STS_B;
    keys.splice(keys.indexOf(STS_A), 1); // STS_A expires
    await new Promise((r) => setTimeout(r, 20));
    await store.put('two', '2');
    expect((await store.get('two'))?.toString()).toBe('2');
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it('answers 404 NoSuchBucket for an unknown bucket', async () => {
    await expect(client({ bucket: 'no-such-bucket' }).get('x')).rejects.toMatchObject({ code: 'NoSuchBucket', status: 404 });
    const err = await createOssStore({ bucket: 'no-such-bucket', prefix: '', endpoint: oss.url, credentials: async () => DEMO_KEY })
      .get('x')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NoSuchBucket', status: 404 });
  });

  it('supports path-style addressing (sldEnable)', async () => {
    const c = client({ sldEnable: true } as Partial<OSS.Options>); // sldEnable is missing from @types/ali-oss
    await c.put('archive-test/nested.txt', Buffer.from('path-style'));
    expect((await client().get('archive-test/nested.txt')).content.toString()).toBe('path-style');
  });

  it('checks Content-MD5', async () => {
    const c = client();
    await expect(c.put('md5/x', Buffer.from('abc'), { headers: { 'Content-MD5': '1B2M2Y8AsgTpgAmY7PhCfg==' } })).rejects.toMatchObject({
      code: 'BadDigest',
      status: 400,
    });
    await expect(c.put('md5/x', Buffer.from('abc'), { headers: { 'Content-MD5': 'not-md5' } })).rejects.toMatchObject({
      code: 'InvalidDigest',
      status: 400,
    });
    expect(existsSync(oss.objectPath(BUCKET, 'md5/x'))).toBe(false);
  });

  it('accepts chunked uploads (putStream) and serves ranges', async () => {
    const c = client();
    const r = await c.putStream('stream/chunked.txt', Readable.from([Buffer.from('hello '), Buffer.from('chunked '), Buffer.from('world')]));
    expect(r.res.status).toBe(200);
    expect((await c.get('stream/chunked.txt')).content.toString()).toBe('hello chunked world');
    const part = await c.get('stream/chunked.txt', { headers: { Range: 'bytes=6-12' } });
    expect(part.res.status).toBe(206);
    expect(part.content.toString()).toBe('chunked');
  });

  it('pages ListObjectsV2 with continuation tokens and common prefixes', async () => {
    const c = client();
    const names = Array.from({ length: 1003 }, (_, i) => `lv2/${i % 3 === 0 ? 'sub/' : ''}k${String(i).padStart(4, '0')}`);
    await pool(names, 16, (n) => c.put(n, Buffer.from('x')));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await c.listV2({ prefix: 'lv2/', 'max-keys': 97, ...(token ? { 'continuation-token': token } : {}) });
      expect(r.keyCount).toBe(r.objects.length);
      seen.push(...r.objects.map((o) => o.name));
      token = r.isTruncated ? r.nextContinuationToken : undefined;
      pages++;
    } while (token);
    expect(pages).toBe(Math.ceil(1003 / 97));
    expect(seen).toEqual([...names].sort());

    const top = await c.listV2({ prefix: 'lv2/', delimiter: '/', 'max-keys': 1000 });
    expect(top.prefixes).toEqual(['lv2/sub/']);
    expect(top.objects).toHaveLength(names.filter((n) => !n.includes('/sub/')).length);
    // Paging across a common prefix returns it once.
    const first = await c.listV2({ prefix: 'lv2/', delimiter: '/', 'max-keys': 1, 'start-after': 'lv2/k0999' } as OSS.ListV2ObjectsQuery);
    const second = await c.listV2({ prefix: 'lv2/', delimiter: '/', 'max-keys': 1000, 'continuation-token': first.nextContinuationToken });
    expect(first.objects.map((o) => o.name)).toEqual(['lv2/k1000']);
    expect(second.prefixes).toEqual(['lv2/sub/']);
    expect(second.objects.map((o) => o.name)).toEqual(['lv2/k1001']); // k1002 is under sub/
    await expect(c.listV2({ 'max-keys': 1001 })).rejects.toMatchObject({ code: 'InvalidArgument', status: 400 });
  });

  it('completes multipart uploads with an OSS-style ETag', async () => {
    const data = body(350 * 1024, 9);
    const r = await client().multipartUpload('mp/sdk.bin', data, { partSize: 100 * 1024 });
    expect(r.res.status).toBe(200);
    const head = await client().head('mp/sdk.bin');
    expect(head.res.headers).toMatchObject({ 'x-oss-object-type': 'Multipart', 'content-length': String(data.length) });
    expect((head.res.headers as Record<string, string>).etag).toMatch(/^"[0-9A-F]{32}-4"$/);
    expect(sha256(await fs.readFile(oss.objectPath(BUCKET, 'mp/sdk.bin')))).toBe(sha256(data));
  });

  it('enforces multipart rules: part size, order, unknown upload', async () => {
    const c = client();
    const init = await c.initMultipartUpload('mp/rules.bin');
    const small = Buffer.alloc(10, 1);
    const p1 = await c.uploadPart('mp/rules.bin', init.uploadId, 1, small, 0, small.length);
    const p2 = await c.uploadPart('mp/rules.bin', init.uploadId, 2, small, 0, small.length);
    await expect(
      c.completeMultipartUpload('mp/rules.bin', init.uploadId, [{ number: 1, etag: p1.etag }, { number: 2, etag: p2.etag }]),
    ).rejects.toMatchObject({ code: 'EntityTooSmall', status: 400 });
    await expect(
      c.completeMultipartUpload('mp/rules.bin', init.uploadId, [{ number: 1, etag: '"00000000000000000000000000000000"' }]),
    ).rejects.toMatchObject({ code: 'InvalidPart', status: 400 });
    await c.abortMultipartUpload('mp/rules.bin', init.uploadId);
    await expect(c.completeMultipartUpload('mp/rules.bin', init.uploadId, [{ number: 1, etag: p1.etag }])).rejects.toMatchObject({
      code: 'NoSuchUpload',
      status: 404,
    });
    expect((await c.listUploads({ prefix: 'mp/rules' })).uploads ?? []).toHaveLength(0);
  });

  it('aborts a multipart upload that fails on part 2: no object, no pending upload, error thrown', async () => {
    const store = ossStore('mpfail', { partConcurrency: 1 });
    const handle = oss.faults.inject({ kind: 'internal-error', method: 'UploadPart', afterRequests: 1 });
    const before = oss.stats.byOperation.AbortMultipartUpload ?? 0;
    const err = await store.put('x/part.bin', body(12 * 1024 * 1024, 5)).catch((e: unknown) => e);
    expect(handle.fired).toBe(1);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'InternalError', status: 500, key: 'x/part.bin' });
    expect((oss.stats.byOperation.AbortMultipartUpload ?? 0) - before).toBe(1);
    expect(await store.head('x/part.bin')).toBeUndefined();
    expect((await client().listUploads({ prefix: 'mpfail/' })).uploads ?? []).toHaveLength(0);
  });

  it('aborts when the connection resets mid-upload or completion fails', async () => {
    const store = ossStore('mpreset', { partConcurrency: 2 });
    oss.faults.inject({ kind: 'reset', method: 'UploadPart', afterRequests: 1 });
    await expect(store.put('r.bin', body(11 * 1024 * 1024, 6))).rejects.toBeInstanceOf(StorageError);
    oss.faults.inject({ kind: 'service-unavailable', method: 'CompleteMultipartUpload' });
    await expect(store.put('c.bin', body(11 * 1024 * 1024, 7))).rejects.toMatchObject({ code: 'ServiceUnavailable', status: 503 });
    expect(await store.head('r.bin')).toBeUndefined();
    expect(await store.head('c.bin')).toBeUndefined();
    expect((await client().listUploads({ prefix: 'mpreset/' })).uploads ?? []).toHaveLength(0);
  });

  it('re-reads a spooled body for a retried put and a retried part; a body changed after its checksum is refused', async () => {
    // Prepare: one failed PutObject, one failed UploadPart, and a body whose second read differs from its first
    const store = withStoreRetries(ossStore('spoolretry', { partConcurrency: 1 }), { sleep: async () => undefined });
    const small = spooled(body(200 * 1024, 31));
    const large = spooled(body(6 * 1024 * 1024, 32));
    oss.faults.inject({ kind: 'internal-error', method: 'PutObject' });
    oss.faults.inject({ kind: 'internal-error', method: 'UploadPart', afterRequests: 1 });
    const tampered = spooled(body(200 * 1024, 33), { read: 2 });
    // Act
    await store.put('s.bin', small);
    await store.put('l.bin', large);
    const refused = await ossStore('spoolretry').put('t.bin', tampered).catch((e: unknown) => e);
    // Assess: each attempt read the body again (its checksum, then its upload), and the bytes are whole
    expect(small.reads).toBe(4);
    expect(large.reads).toBeGreaterThanOrEqual(6);
    expect(sha256(present(await store.get('s.bin')))).toBe(sha256(body(200 * 1024, 31)));
    expect(sha256(present(await store.get('l.bin')))).toBe(sha256(body(6 * 1024 * 1024, 32)));
    expect(refused).toBeInstanceOf(StorageError);
    expect(await store.head('t.bin')).toBeUndefined();
    expect((await client().listUploads({ prefix: 'spoolretry/' })).uploads ?? []).toHaveLength(0);
  });

  it('honours forbidOverwrite for multipart uploads, also when two race to complete', async () => {
    const store = ossStore('mpforbid');
    const a = body(6 * 1024 * 1024, 11);
    const b = body(6 * 1024 * 1024, 12);
    const results = await Promise.allSettled([a, b].map((d) => store.put('m.bin', d, { forbidOverwrite: true })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(isAlreadyExists(loser.reason)).toBe(true);
    const winner = results[0]?.status === 'fulfilled' ? a : b;
    expect(sha256(present(await store.get('m.bin')))).toBe(sha256(winner));
    await expect(store.put('m.bin', a, { forbidOverwrite: true })).rejects.toMatchObject({ code: 'ObjectAlreadyExists' });
    expect((await client().listUploads({ prefix: 'mpforbid/' })).uploads ?? []).toHaveLength(0);
  });

  it('injects faults and counts operations', async () => {
    const store = ossStore('faults');
    await store.put('f.txt', 'x');
    oss.faults.inject({ kind: 'service-unavailable', method: 'GetObject', keyPrefix: 'faults/', times: 2 });
    await expect(store.get('f.txt')).rejects.toMatchObject({ code: 'ServiceUnavailable', status: 503 });
    await expect(store.get('f.txt')).rejects.toMatchObject({ status: 503 });
    expect((await store.get('f.txt'))?.toString()).toBe('x');
    oss.faults.inject({ kind: 'slow', method: 'HeadObject', delayMs: 300 });
    const t0 = Date.now();
    expect(await store.head('f.txt')).toMatchObject({ size: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    const slowStore = ossStore('faults', { timeoutMs: 100 });
    oss.faults.inject({ kind: 'slow', method: 'GetObject', delayMs: 1000 });
    await expect(slowStore.get('f.txt')).rejects.toBeInstanceOf(StorageError);
    expect(oss.stats.requests).toBeGreaterThan(0);
    expect(oss.stats.byOperation.GetObject).toBeGreaterThan(0);
  });
});

describe('openStore', () => {
  it('opens file:// and oss:// archives', async () => {
    const dir = path.join(tmp, 'opened');
    const f = openStore(`file://${dir}`, { credentials: async () => DEMO_KEY });
    await f.put('k', 'v');
    expect(await fs.readFile(path.join(dir, 'k'), 'utf8')).toBe('v');
    const o = openStore(`oss://${BUCKET}/opened/root/`, { credentials: async () => DEMO_KEY, ossEndpoint: oss.url });
    expect(o.url).toBe(`oss://${BUCKET}/opened/root`);
    await o.put('k', 'v');
    expect((await client().get('opened/root/k')).content.toString()).toBe('v');
  });

  it('rejects malformed archive URLs with ConfigError', () => {
    const deps = { credentials: async () => DEMO_KEY, regionId: 'cn-hangzhou' };
    for (const bad of ['s3://bucket/x', 'oss://Bad_Bucket/x', 'oss://ab/x', 'oss:///x', 'file://relative/dir', 'file:rel', 'oss://bkt/a/../b', 'oss://bkt/x?y=1', '/abs/dir', '']) {
      expect(() => openStore(bad, deps), bad).toThrow(ConfigError);
    }
    expect(() => openStore(`oss://${BUCKET}/x`, { credentials: async () => DEMO_KEY })).toThrow(ConfigError);
    expect(parseArchiveUrl('oss://my-bucket')).toEqual({ kind: 'oss', bucket: 'my-bucket', prefix: '' });
    expect(parseArchiveUrl('file://localhost/tmp/a')).toEqual({ kind: 'file', dir: '/tmp/a' });
  });
});
