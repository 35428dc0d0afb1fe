import { randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { listen } from '../listen';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { ACCOUNT_ID, DEMO_KEYS, findKey, type DemoKey } from '../credentials';
import { OssFaults } from './faults';
import { ossSignature, ossStringToSign, parseOssAuthorization, safeEqual } from './signature';
import { OssError, OssStorage, type StoredObject } from './storage';
import { parseCompleteMultipartUpload, xmlDocument, type XmlNode } from './xml';

/**
 * The local cloud's OSS: a node:http server that speaks enough of the OSS REST API for `ali-oss` (V1 signatures,
 * virtual-host or path-style addressing, put/get/head/delete, ListObjects v1/v2, multipart uploads) and stores
 * objects as files under a folder (see `storage.ts` for the layout).
 *
 * Addressing: when `Host` is `<bucket>.<something>` (ali-oss sends `<bucket>.oss-<region>.aliyuncs.com` when its
 * endpoint is an IP) the bucket is the first label and the path is the key; when `Host` is an IP, `localhost` or a
 * bare `oss-<region>.aliyuncs.com`, the first path segment is the bucket (path style). With `sldEnable` plus an IP
 * endpoint ali-oss sends both (bucket in Host *and* path); the emulator then tries both readings and keeps the one
 * whose signature verifies (the CanonicalizedResource `/bucket/key` differs between them), so no guessing is needed.
 */

/** Counters of what the emulator served. */
export interface OssStats {
  /** Every request received (including rejected ones). */
  requests: number;
  /** Requests per operation (`PutObject`, `UploadPart`, ...), counted after authentication. */
  byOperation: Record<string, number>;
}

/** Options of {@link createOssHandler} and {@link startOssEmulator}. */
export interface OssEmulatorOptions {
  /** The folder that holds the buckets (created if missing). */
  root: string;
  /** Accepted keys (default: the demo keys of `emulator/credentials.ts`). */
  keys?: readonly DemoKey[];
  /** Buckets to create at start. */
  buckets?: string[];
  /** Clock for the request-time check (default `Date.now`). */
  now?: () => number;
  /** Maximum clock skew accepted, ms (default 15 minutes, as OSS). */
  maxSkewMs?: number;
}

/** A RequestListener serving OSS, plus its state. */
export interface OssHandler extends RequestListener {
  readonly storage: OssStorage;
  readonly faults: OssFaults;
  readonly stats: OssStats;
  /** Resolves once the root folder is ready (requests wait for it on their own). */
  readonly ready: Promise<void>;
  /** Creates a bucket (idempotent). */
  createBucket(name: string): Promise<void>;
  /** The file that holds `bucket`/`key`. */
  objectPath(bucket: string, key: string): string;
}

/** A running OSS emulator. */
export interface OssEmulator {
  /** `http://127.0.0.1:<port>`: give it to ali-oss as `endpoint`. */
  readonly url: string;
  /** The absolute storage folder. */
  readonly root: string;
  readonly faults: OssFaults;
  readonly stats: OssStats;
  readonly storage: OssStorage;
  createBucket(name: string): Promise<void>;
  objectPath(bucket: string, key: string): string;
  close(): Promise<void>;
}

/** Longest `CompleteMultipartUpload` body accepted. */
const MAX_XML_BODY = 2 * 1024 * 1024;

interface Target {
  bucket: string;
  key: string;
}

function requestId(): string {
  return randomBytes(12).toString('hex').toUpperCase();
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function userMetaOf(req: IncomingMessage): Record<string, string> {
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith('x-oss-meta-') && v !== undefined) meta[k.slice('x-oss-meta-'.length)] = Array.isArray(v) ? v.join(',') : v;
  }
  return meta;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new OssError(400, 'InvalidURI', 'Could not parse the specified URI.');
  }
}

/** The readings of a request's bucket and key, most likely first. */
function targetsOf(req: IncomingMessage, pathname: string): Target[] {
  const host = (header(req, 'host') ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  const rawPath = pathname.startsWith('/') ? pathname.slice(1) : pathname;
  const out: Target[] = [];
  const hostIsService = host === '' || isIP(host) !== 0 || host === 'localhost' || /^oss-[a-z0-9-]+\.aliyuncs\.com$/.test(host) || !host.includes('.');
  if (!hostIsService) {
    const bucket = host.slice(0, host.indexOf('.'));
    out.push({ bucket, key: safeDecode(rawPath) });
  }
  // Path style: /<bucket>/<key>
  const slash = rawPath.indexOf('/');
  const pathBucket = slash < 0 ? rawPath : rawPath.slice(0, slash);
  if (pathBucket !== '') out.push({ bucket: safeDecode(pathBucket), key: slash < 0 ? '' : safeDecode(rawPath.slice(slash + 1)) });
  return out;
}

function operationOf(method: string, key: string, q: URLSearchParams, req: IncomingMessage): string {
  if (key === '') {
    if (method === 'GET' && q.has('uploads')) return 'ListMultipartUploads';
    if (method === 'GET' && [...q.keys()].every((k) => ['list-type', 'prefix', 'delimiter', 'max-keys', 'continuation-token', 'start-after', 'encoding-type', 'fetch-owner', 'marker'].includes(k))) {
      return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    }
    return `Unsupported:${method}:bucket`;
  }
  const has = (k: string) => q.has(k);
  const plainSubs = [...q.keys()].filter((k) => !k.startsWith('response-'));
  switch (method) {
    case 'PUT':
      if (has('partNumber') && has('uploadId')) return 'UploadPart';
      if (plainSubs.length === 0 && header(req, 'x-oss-copy-source') === undefined) return 'PutObject';
      break;
    case 'GET':
      if (has('uploadId')) return 'ListParts';
      if (plainSubs.length === 0) return 'GetObject';
      break;
    case 'HEAD':
      if (plainSubs.length === 0) return 'HeadObject';
      break;
    case 'DELETE':
      if (has('uploadId')) return 'AbortMultipartUpload';
      if (plainSubs.length === 0) return 'DeleteObject';
      break;
    case 'POST':
      if (has('uploads')) return 'InitiateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      break;
  }
  return `Unsupported:${method}:object`;
}

async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded) return;
  await new Promise<void>((resolve) => {
    req.on('end', resolve).on('close', resolve).on('error', resolve);
    req.resume();
  });
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new OssError(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function isTrue(v: string | undefined): boolean {
  return v !== undefined && v.trim().toLowerCase() === 'true';
}

interface ListItem {
  /** Key or common prefix of the last item returned. */
  k: string;
  /** True when `k` is a common prefix. */
  p: boolean;
}

function encodeToken(item: ListItem): string {
  return Buffer.from(JSON.stringify(item), 'utf8').toString('base64url');
}

function decodeToken(token: string): ListItem {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (v && typeof v === 'object' && 'k' in v && 'p' in v && typeof v.k === 'string' && typeof v.p === 'boolean') return { k: v.k, p: v.p };
  } catch {
    // fall through
  }
  throw new OssError(400, 'InvalidArgument', 'The continuation token provided is incorrect');
}

/**
 * Builds the OSS RequestListener over a folder. The folder is prepared asynchronously; requests wait for it.
 * Compose it into another server by calling it from a `request` handler.
 */
export function createOssHandler(options: OssEmulatorOptions): OssHandler {
  const root = path.resolve(options.root);
  const storage = new OssStorage(root);
  const faults = new OssFaults();
  const stats: OssStats = { requests: 0, byOperation: {} };
  const keys = options.keys ?? DEMO_KEYS;
  const now = options.now ?? Date.now;
  const maxSkew = options.maxSkewMs ?? 15 * 60_000;
  const ready = (async () => {
    await storage.init();
    for (const b of options.buckets ?? []) await storage.createBucket(b);
  })();
  ready.catch(() => undefined);

  async function authenticate(req: IncomingMessage, method: string, targets: Target[], q: URLSearchParams): Promise<Target> {
    const auth = header(req, 'authorization');
    if (auth === undefined) {
      throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');
    }
    const parsed = parseOssAuthorization(auth);
    if (!parsed) throw new OssError(400, 'InvalidArgument', 'Authorization header is invalid.');
    const key = findKey(parsed.accessKeyId, keys);
    if (!key) throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', { OSSAccessKeyId: parsed.accessKeyId });
    const token = header(req, 'x-oss-security-token');
    if (key.securityToken !== undefined) {
      if (token === undefined) throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', { OSSAccessKeyId: parsed.accessKeyId });
      if (!safeEqual(token, key.securityToken)) throw new OssError(403, 'InvalidSecurityToken', 'The security token you provided is invalid.');
    } else if (token !== undefined) {
      throw new OssError(403, 'InvalidSecurityToken', 'The security token you provided is invalid.');
    }
    const dateText = header(req, 'x-oss-date') ?? header(req, 'date');
    const date = dateText === undefined ? NaN : Date.parse(dateText);
    if (Number.isNaN(date)) throw new OssError(403, 'AccessDenied', 'OSS authentication requires a valid Date.');
    if (Math.abs(now() - date) > maxSkew) {
      throw new OssError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    }
    let firstStringToSign: string | undefined;
    for (const t of targets) {
      const sts = ossStringToSign(method, req.headers, t.bucket, t.key, q);
      firstStringToSign ??= sts;
      if (safeEqual(ossSignature(key.accessKeySecret, sts), parsed.signature)) return t;
    }
    throw new OssError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      StringToSign: firstStringToSign ?? '',
      OSSAccessKeyId: parsed.accessKeyId,
    });
  }

  function sendError(req: IncomingMessage, res: ServerResponse, rid: string, err: OssError, hostBucket?: string): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const doc = xmlDocument('Error', {
      Code: err.code,
      Message: err.message,
      RequestId: rid,
      HostId: `${hostBucket ? `${hostBucket}.` : ''}oss-cn-hangzhou.aliyuncs.com`,
      ...err.extra,
    });
    res.statusCode = err.status;
    res.setHeader('x-oss-request-id', rid);
    res.setHeader('x-oss-ec', '0000-00000000');
    if (req.method === 'HEAD') {
      // HEAD answers have no body; OSS puts the error document, Base64, in x-oss-err.
      res.setHeader('x-oss-err', Buffer.from(doc).toString('base64'));
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/xml');
    res.setHeader('content-length', Buffer.byteLength(doc));
    res.end(doc);
  }

  function sendXml(res: ServerResponse, status: number, root: string, body: XmlNode): void {
    const doc = xmlDocument(root, body);
    res.statusCode = status;
    res.setHeader('content-type', 'application/xml');
    res.setHeader('content-length', Buffer.byteLength(doc));
    res.end(doc);
  }

  function objectHeaders(res: ServerResponse, o: StoredObject): void {
    res.setHeader('content-type', o.contentType);
    res.setHeader('etag', o.etag);
    res.setHeader('last-modified', o.lastModified.toUTCString());
    res.setHeader('accept-ranges', 'bytes');
    res.setHeader('x-oss-object-type', o.type);
    res.setHeader('x-oss-storage-class', 'Standard');
    for (const [k, v] of Object.entries(o.userMeta)) res.setHeader(`x-oss-meta-${k}`, v);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await ready;
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://oss.invalid');
    const q = url.searchParams;
    const targets = targetsOf(req, url.pathname);
    const existing = targets.filter((t) => storage.hasBucket(t.bucket));
    if (targets.length === 0) throw new OssError(501, 'NotImplemented', 'Service-level requests are not supported by the emulator.');
    if (existing.length === 0) {
      throw new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: targets[0]?.bucket ?? '' });
    }
    const { bucket, key } = await authenticate(req, method, existing, q);
    const op = operationOf(method, key, q, req);
    stats.byOperation[op] = (stats.byOperation[op] ?? 0) + 1;
    if (op.startsWith('Unsupported:')) throw new OssError(501, 'NotImplemented', `The emulator does not implement ${method} with these parameters.`);

    const fault = faults.take({ operation: op, httpMethod: method, key });
    if (fault) {
      switch (fault.kind) {
        case 'reset':
          req.socket.destroy();
          return;
        case 'slow':
          await new Promise((r) => setTimeout(r, fault.delayMs ?? 5000));
          break;
        case 'internal-error':
          throw new OssError(500, 'InternalError', 'We encountered an internal error. Please try again.');
        case 'service-unavailable':
          throw new OssError(503, 'ServiceUnavailable', 'Please reduce your request rate.');
      }
    }
    const forbid = isTrue(header(req, 'x-oss-forbid-overwrite'));
    const contentType = header(req, 'content-type') ?? 'application/octet-stream';

    switch (op) {
      case 'PutObject': {
        storage.objectPath(bucket, key);
        const { tmp, size, md5 } = await storage.receive(req as AsyncIterable<Buffer>, header(req, 'content-md5'));
        const o = await storage.commit(bucket, key, tmp, { size, etag: `"${md5.toString('hex').toUpperCase()}"`, type: 'Normal' }, {
          contentType,
          userMeta: userMetaOf(req),
          forbidOverwrite: forbid,
        });
        res.statusCode = 200;
        res.setHeader('etag', o.etag);
        res.setHeader('content-md5', md5.toString('base64'));
        res.setHeader('content-length', 0);
        res.end();
        return;
      }
      case 'GetObject':
      case 'HeadObject': {
        const opened = op === 'HeadObject' ? undefined : await storage.open(bucket, key);
        const o = op === 'HeadObject' ? await storage.head(bucket, key) : opened?.object;
        if (!o) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
        objectHeaders(res, o);
        let start = 0;
        let end = o.size - 1;
        const range = header(req, 'range');
        const m = range === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(range.trim());
        if (m && (m[1] !== '' || m[2] !== '')) {
          let s: number;
          let e: number;
          if (m[1] === '') {
            s = Math.max(0, o.size - Number(m[2]));
            e = o.size - 1;
          } else {
            s = Number(m[1]);
            e = m[2] === '' ? o.size - 1 : Math.min(Number(m[2]), o.size - 1);
          }
          if (s >= o.size) {
            await opened?.handle.close();
            res.setHeader('content-range', `bytes */${o.size}`);
            throw new OssError(416, 'InvalidRange', 'The requested range cannot be satisfied.');
          }
          if (s <= e) {
            // An invalid range (start > end) is ignored, as OSS does: the whole object is returned.
            start = s;
            end = e;
            res.statusCode = 206;
            res.setHeader('content-range', `bytes ${s}-${e}/${o.size}`);
          }
        }
        res.setHeader('content-length', Math.max(0, end - start + 1));
        if (!opened) {
          res.end();
          return;
        }
        if (end < start) {
          await opened.handle.close();
          res.end();
          return;
        }
        const stream = opened.handle.createReadStream({ start, end });
        await new Promise<void>((resolve) => {
          stream.on('error', () => {
            res.destroy();
            resolve();
          });
          res.on('close', () => {
            stream.destroy();
            resolve();
          });
          stream.pipe(res);
        });
        return;
      }
      case 'DeleteObject':
        await storage.delete(bucket, key);
        res.statusCode = 204;
        res.end();
        return;
      case 'ListObjectsV2':
      case 'ListObjects':
        await list(res, bucket, q, op === 'ListObjectsV2');
        return;
      case 'InitiateMultipartUpload': {
        if (forbid && (await storage.head(bucket, key))) {
          throw new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.');
        }
        await drain(req);
        const uploadId = await storage.initiate(bucket, key, { contentType, userMeta: userMetaOf(req) });
        sendXml(res, 200, 'InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: uploadId });
        return;
      }
      case 'UploadPart': {
        const n = Number(q.get('partNumber'));
        if (!Number.isInteger(n) || n < 1 || n > 10000) {
          throw new OssError(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive.');
        }
        const part = await storage.uploadPart(bucket, key, q.get('uploadId') ?? '', n, req as AsyncIterable<Buffer>, header(req, 'content-md5'));
        res.statusCode = 200;
        res.setHeader('etag', part.etag);
        res.setHeader('content-length', 0);
        res.end();
        return;
      }
      case 'CompleteMultipartUpload': {
        const body = await readBody(req, MAX_XML_BODY);
        const uploadId = q.get('uploadId') ?? '';
        await storage.upload(bucket, key, uploadId);
        const parts = parseCompleteMultipartUpload(body.toString('utf8'));
        if (!parts) throw new OssError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
        const o = await storage.complete(bucket, key, uploadId, parts, forbid);
        res.setHeader('etag', o.etag);
        sendXml(res, 200, 'CompleteMultipartUploadResult', {
          Location: `http://${bucket}.oss-cn-hangzhou.aliyuncs.com/${encodeURI(key)}`,
          Bucket: bucket,
          Key: key,
          ETag: o.etag,
        });
        return;
      }
      case 'AbortMultipartUpload':
        await storage.abort(bucket, key, q.get('uploadId') ?? '');
        res.statusCode = 204;
        res.end();
        return;
      case 'ListParts': {
        const uploadId = q.get('uploadId') ?? '';
        await storage.upload(bucket, key, uploadId);
        const marker = Number(q.get('part-number-marker') ?? '0') || 0;
        const max = Math.min(1000, Number(q.get('max-parts') ?? '1000') || 1000);
        const all = (await storage.parts(uploadId)).filter((p) => p.partNumber > marker);
        const page = all.slice(0, max);
        sendXml(res, 200, 'ListPartsResult', {
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumberMarker: marker,
          NextPartNumberMarker: page.at(-1)?.partNumber ?? marker,
          MaxParts: max,
          IsTruncated: all.length > page.length,
          Part: page.map((p) => ({ PartNumber: p.partNumber, LastModified: p.lastModified, ETag: p.etag, Size: p.size })),
        });
        return;
      }
      case 'ListMultipartUploads': {
        const uploads = await storage.uploads(bucket, q.get('prefix') ?? '');
        sendXml(res, 200, 'ListMultipartUploadsResult', {
          Bucket: bucket,
          KeyMarker: '',
          UploadIdMarker: '',
          NextKeyMarker: '',
          NextUploadIdMarker: '',
          Delimiter: '',
          Prefix: q.get('prefix') ?? '',
          MaxUploads: 1000,
          IsTruncated: false,
          Upload: uploads.map((u) => ({ Key: u.key, UploadId: u.uploadId, StorageClass: 'Standard', Initiated: u.initiated })),
        });
        return;
      }
    }
    throw new OssError(501, 'NotImplemented', `The emulator does not implement ${op}.`);
  }

  async function list(res: ServerResponse, bucket: string, q: URLSearchParams, v2: boolean): Promise<void> {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxText = q.get('max-keys');
    const maxKeys = maxText === null ? 100 : Number(maxText);
    if (!Number.isInteger(maxKeys) || maxKeys < 0 || maxKeys > 1000) {
      throw new OssError(400, 'InvalidArgument', 'Argument max-keys must be an integer between 0 and 1000.', { ArgumentName: 'max-keys', ArgumentValue: maxText ?? '' });
    }
    const urlEncode = q.get('encoding-type') === 'url';
    if (q.has('encoding-type') && !urlEncode) throw new OssError(400, 'InvalidArgument', 'Invalid Encoding Method specified in Request');
    const enc = (s: string) => (urlEncode ? encodeURIComponent(s) : s);
    const token = v2 ? q.get('continuation-token') : null;
    const startAfter = (v2 ? q.get('start-after') : q.get('marker')) ?? '';
    let after = startAfter;
    let skipPrefix: string | undefined;
    if (token !== null && token !== '') {
      const t = decodeToken(token);
      after = t.k;
      if (t.p) skipPrefix = t.k;
    } else if (!v2 && delimiter !== '' && startAfter.endsWith(delimiter)) {
      skipPrefix = startAfter;
    }
    const contents: StoredObject[] = [];
    const prefixes: string[] = [];
    let last: ListItem | undefined;
    let truncated = false;
    for await (const o of storage.list(bucket, prefix, after)) {
      if (skipPrefix !== undefined && o.key.startsWith(skipPrefix)) continue;
      if (delimiter !== '') {
        const rest = o.key.slice(prefix.length);
        const i = rest.indexOf(delimiter);
        if (i >= 0) {
          const cp = prefix + rest.slice(0, i + delimiter.length);
          if (contents.length + prefixes.length >= maxKeys) {
            truncated = true;
            break;
          }
          prefixes.push(cp);
          skipPrefix = cp;
          last = { k: cp, p: true };
          continue;
        }
      }
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      contents.push(o);
      last = { k: o.key, p: false };
    }
    const owner = v2 && !isTrue(q.get('fetch-owner') ?? undefined) ? undefined : { ID: ACCOUNT_ID, DisplayName: ACCOUNT_ID };
    const body: XmlNode = {
      Name: bucket,
      Prefix: enc(prefix),
      ...(v2
        ? {
            StartAfter: q.has('start-after') ? enc(startAfter) : undefined,
            ContinuationToken: token ?? undefined,
          }
        : { Marker: enc(startAfter) }),
      MaxKeys: maxKeys,
      Delimiter: delimiter === '' ? undefined : enc(delimiter),
      EncodingType: urlEncode ? 'url' : undefined,
      IsTruncated: truncated,
      ...(v2
        ? { NextContinuationToken: truncated && last ? encodeToken(last) : undefined, KeyCount: contents.length + prefixes.length }
        : { NextMarker: truncated && last ? enc(last.k) : undefined }),
      Contents: contents.map((o) => ({
        Key: enc(o.key),
        LastModified: o.lastModified.toISOString(),
        ETag: o.etag,
        Type: o.type,
        Size: o.size,
        StorageClass: 'Standard',
        Owner: owner,
      })),
      CommonPrefixes: prefixes.map((p) => ({ Prefix: enc(p) })),
    };
    sendXml(res, 200, 'ListBucketResult', body);
  }

  const handler = ((req: IncomingMessage, res: ServerResponse) => {
    const rid = requestId();
    stats.requests++;
    res.setHeader('x-oss-request-id', rid);
    res.setHeader('server', 'AliyunOSS');
    res.setHeader('date', new Date(now()).toUTCString());
    serve(req, res).catch(async (err: unknown) => {
      const e =
        err instanceof OssError
          ? err
          : new OssError(500, 'InternalError', `We encountered an internal error. Please try again. (${err instanceof Error ? err.message : String(err)})`);
      if (!(err instanceof OssError) && (req.destroyed || req.socket.destroyed)) return; // the client went away mid-upload
      await drain(req);
      sendError(req, res, rid, e, undefined);
    });
  }) as OssHandler;
  Object.assign(handler, {
    storage,
    faults,
    stats,
    ready,
    createBucket: async (name: string) => {
      await ready;
      await storage.createBucket(name);
    },
    objectPath: (bucket: string, key: string) => storage.objectPath(bucket, key),
  });
  return handler;
}

/**
 * Starts the OSS emulator on `host:port` (default 127.0.0.1 and a free port).
 *
 * @example
 *   const oss = await startOssEmulator({ root: '/tmp/oss', buckets: ['archive'] });
 *   const client = new OSS({ endpoint: oss.url, bucket: 'archive', accessKeyId: DEMO_KEY.accessKeyId,
 *     accessKeySecret: DEMO_KEY.accessKeySecret });
 */
export async function startOssEmulator(options: OssEmulatorOptions & { host?: string; port?: number }): Promise<OssEmulator> {
  const handler = createOssHandler(options);
  await handler.ready;
  const served = await listen(handler, options);
  served.server.keepAliveTimeout = 5_000;
  return {
    url: served.url,
    root: handler.storage.root,
    faults: handler.faults,
    stats: handler.stats,
    storage: handler.storage,
    createBucket: (name) => handler.createBucket(name),
    objectPath: (bucket, key) => handler.objectPath(bucket, key),
    close: () => served.close(),
  };
}

export { OssFaults } from './faults';
export type { OssFaultSpec, OssFaultKind, OssFaultHandle } from './faults';
export { OssError, OssStorage, compareUtf8 } from './storage';
