import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { listen } from '../listen';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { ACCOUNT_ID, DEMO_KEYS, findKey, type DemoKey } from '../credentials';
import { transportFault } from '../faults';
import { OssFaults } from './faults';
import { conditionalAnswer, rangeOf, RESPONSE_OVERRIDES } from './http';
import {
  OSS_V4,
  ossSignature,
  ossStringToSign,
  ossV4CanonicalRequest,
  ossV4Signature,
  ossV4StringToSign,
  parseOssAuthorization,
  parseOssV4Authorization,
  parseOssV4Credential,
  parseOssV4Date,
  safeEqual,
  type OssV4Credential,
} from './signature';
import { OssError, OssStorage, type StoredObject } from './storage';
import { parseCompleteMultipartUpload, parseDeleteRequest, xmlDocument, type XmlNode } from './xml';

/**
 * The local cloud's OSS: a node:http server that speaks the OSS REST API as `ali-oss` uses it and stores objects as
 * files under a folder (see `storage.ts` for the layout):
 * - authentication: V1 (`OSS ak:sig`) and V4 (`OSS4-HMAC-SHA256`, ali-oss `authorizationV4: true`) headers, and
 *   presigned URLs of both kinds (`?OSSAccessKeyId&Expires&Signature`, `?x-oss-signature-version=OSS4-HMAC-SHA256…`);
 * - objects: Put (with `x-oss-forbid-overwrite`), Get (Range with and without `x-oss-range-behavior: standard`,
 *   If-Match / If-None-Match / If-Modified-Since / If-Unmodified-Since, `response-*` overrides), Head,
 *   GetObjectMeta, Delete, DeleteMultipleObjects, CopyObject, AppendObject, multipart Initiate/UploadPart/Complete/
 *   Abort/ListParts/ListMultipartUploads, ListObjects v1/v2; `x-oss-hash-crc64ecma` on every write and read;
 * - anything else (bucket management, ACLs, tagging, versioning, symlinks, image processing, …) is 501
 *   `NotImplemented`, OSS's answer for functionality it does not provide.
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
  /** Accepted keys (default: the demo keys of `credentials.ts`). */
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
  /** Sets a bucket's region and access (see {@link BucketPolicy}). */
  setBucketPolicy(bucket: string, policy: BucketPolicy): void;
}

/**
 * What OSS decides per bucket beyond signatures. `region`: the bucket's region; a request addressed to another
 * region's endpoint (ali-oss names it in `Host`: `<bucket>.oss-<region>[-internal].aliyuncs.com`) is refused with 403
 * `AccessDenied` and the endpoint to use, as OSS does. `denyRead`: the caller's RAM policy lacks `oss:GetObject` on it:
 * reads (GetObject, HeadObject, GetObjectMeta) are refused with 403 `AccessDenied`.
 */
export interface BucketPolicy {
  region?: string;
  denyRead?: boolean;
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
  setBucketPolicy(bucket: string, policy: BucketPolicy): void;
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

/** Query parameters that carry a presigned URL's signature: neither operations nor sub-resources. */
const SIGNATURE_PARAMS: ReadonlySet<string> = new Set([
  'OSSAccessKeyId', 'Expires', 'Signature', 'security-token', 'x-oss-signature-version', 'x-oss-credential', 'x-oss-date',
  'x-oss-expires', 'x-oss-signature', 'x-oss-additional-headers', 'x-oss-security-token',
]);

const LIST_PARAMS: ReadonlySet<string> = new Set(['list-type', 'prefix', 'delimiter', 'max-keys', 'continuation-token', 'start-after', 'encoding-type', 'fetch-owner', 'marker']);

function operationOf(method: string, key: string, q: URLSearchParams, req: IncomingMessage): string {
  const params = [...q.keys()].filter((k) => !SIGNATURE_PARAMS.has(k));
  if (key === '') {
    if (method === 'GET' && q.has('uploads')) return 'ListMultipartUploads';
    if (method === 'POST' && q.has('delete') && params.every((k) => k === 'delete' || k === 'encoding-type')) return 'DeleteMultipleObjects';
    if (method === 'GET' && params.every((k) => LIST_PARAMS.has(k))) return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    return `Unsupported:${method}:bucket`;
  }
  const has = (k: string) => q.has(k);
  const plainSubs = params.filter((k) => !k.startsWith('response-'));
  switch (method) {
    case 'PUT':
      if (has('partNumber') && has('uploadId')) return 'UploadPart';
      if (plainSubs.length === 0) return header(req, 'x-oss-copy-source') === undefined ? 'PutObject' : 'CopyObject';
      break;
    case 'GET':
      if (has('uploadId')) return 'ListParts';
      if (plainSubs.length === 0) return 'GetObject';
      break;
    case 'HEAD':
      if (plainSubs.length === 0) return 'HeadObject';
      if (plainSubs.length === 1 && has('objectMeta')) return 'GetObjectMeta';
      break;
    case 'DELETE':
      if (has('uploadId')) return 'AbortMultipartUpload';
      if (plainSubs.length === 0) return 'DeleteObject';
      break;
    case 'POST':
      if (has('uploads')) return 'InitiateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      if (has('append') && plainSubs.every((k) => k === 'append' || k === 'position')) return 'AppendObject';
      break;
  }
  return `Unsupported:${method}:object`;
}

/** The raw query as decoded pairs in order (V4 signs every parameter, so URLSearchParams' `+` handling is avoided). */
function rawQueryPairs(rawUrl: string): [string, string][] {
  const i = rawUrl.indexOf('?');
  if (i < 0) return [];
  const out: [string, string][] = [];
  for (const part of rawUrl.slice(i + 1).split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    out.push([safeDecode(eq < 0 ? part : part.slice(0, eq)), eq < 0 ? '' : safeDecode(part.slice(eq + 1))]);
  }
  return out;
}

const NOT_IMPLEMENTED = 'A header you provided implies functionality that is not implemented.';

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

/** A CopyObject whose `x-oss-copy-source-if-*` conditions say "not modified" (304, nothing copied). */
class NotModified extends Error {}

/** `x-oss-copy-source: /<bucket>/<url-encoded key>`. */
function parseCopySource(value: string): Target {
  const m = /^\/([^/]+)\/(.+)$/.exec(value.trim());
  if (!m || m[1] === undefined || m[2] === undefined) throw new OssError(400, 'InvalidArgument', 'x-oss-copy-source must be /<bucket>/<object>.');
  return { bucket: safeDecode(m[1]), key: safeDecode(m[2].split('?')[0] ?? '') };
}

/** The first conditional header present, for the `<Condition>` of a 412 answer. */
function conditionName(req: IncomingMessage): string {
  for (const h of ['If-Match', 'If-Unmodified-Since', 'If-None-Match', 'If-Modified-Since']) if (req.headers[h.toLowerCase()] !== undefined) return h;
  return '';
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
  const policies = new Map<string, BucketPolicy>();
  const stats: OssStats = { requests: 0, byOperation: {} };
  const keys = options.keys ?? DEMO_KEYS;
  const now = options.now ?? Date.now;
  const maxSkew = options.maxSkewMs ?? 15 * 60_000;
  const ready = (async () => {
    await storage.init();
    for (const b of options.buckets ?? []) await storage.createBucket(b);
  })();
  ready.catch(() => undefined);

  const invalidKey = (id: string) =>
    new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.', { OSSAccessKeyId: id });
  const expired = (expiresAt: number) =>
    new OssError(403, 'AccessDenied', 'Request has expired.', { Expires: new Date(expiresAt).toISOString(), ServerTime: new Date(now()).toISOString() });

  /** The key of `accessKeyId`, checked against the STS token the request carries (header or query). */
  function keyFor(accessKeyId: string, token: string | undefined): DemoKey {
    const key = findKey(accessKeyId, keys);
    if (!key) throw invalidKey(accessKeyId);
    if (key.securityToken !== undefined) {
      if (token === undefined) throw invalidKey(accessKeyId);
      if (!safeEqual(token, key.securityToken)) throw new OssError(403, 'InvalidSecurityToken', 'The security token you provided is invalid.');
    } else if (token !== undefined) {
      throw new OssError(403, 'InvalidSecurityToken', 'The security token you provided is invalid.');
    }
    return key;
  }

  function checkSkew(date: number): void {
    if (Number.isNaN(date)) throw new OssError(403, 'AccessDenied', 'OSS authentication requires a valid Date.');
    if (Math.abs(now() - date) > maxSkew) {
      throw new OssError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
    }
  }

  /** Tries each reading of bucket/key; the first whose signature verifies wins. */
  function firstSigned(targets: Target[], stringToSign: (t: Target) => string, sign: (sts: string) => string, provided: string, accessKeyId: string): Target {
    let first: string | undefined;
    for (const t of targets) {
      const sts = stringToSign(t);
      first ??= sts;
      if (safeEqual(sign(sts), provided)) return t;
    }
    throw new OssError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
      StringToSign: first ?? '',
      OSSAccessKeyId: accessKeyId,
    });
  }

  function v4Target(req: IncomingMessage, method: string, targets: Target[], pairs: [string, string][], cred: OssV4Credential, date: string, additional: string[], provided: string, key: DemoKey): Target {
    if (date.slice(0, 8) !== cred.day) throw new OssError(403, 'SignatureDoesNotMatch', 'The date of the credential scope is not the date of x-oss-date.');
    for (const h of additional) {
      if (req.headers[h.toLowerCase()] === undefined) throw new OssError(400, 'InvalidArgument', `The additional header ${h} is not in the request.`);
    }
    return firstSigned(
      targets,
      (t) => ossV4StringToSign(date, cred, ossV4CanonicalRequest(method, t.bucket, t.key, pairs, req.headers, additional)),
      (sts) => ossV4Signature(key.accessKeySecret, cred, sts),
      provided.toLowerCase(),
      key.accessKeyId,
    );
  }

  /**
   * Who signed the request, and which reading of bucket/key they signed. A request with neither an Authorization
   * header nor a presigned URL's parameters is anonymous: OSS refuses it on a private bucket (every bucket here is).
   */
  async function authenticate(req: IncomingMessage, method: string, targets: Target[], q: URLSearchParams): Promise<Target> {
    const auth = header(req, 'authorization');
    if (auth === undefined) {
      if (q.has('OSSAccessKeyId')) {
        const key = keyFor(q.get('OSSAccessKeyId') ?? '', q.get('security-token') ?? undefined);
        const expires = q.get('Expires') ?? '';
        if (!/^\d{1,12}$/.test(expires)) throw new OssError(403, 'AccessDenied', 'Expires must be a Unix time in seconds.');
        if (now() > Number(expires) * 1000) throw expired(Number(expires) * 1000);
        return firstSigned(targets, (t) => ossStringToSign(method, req.headers, t.bucket, t.key, q, expires), (sts) => ossSignature(key.accessKeySecret, sts), q.get('Signature') ?? '', key.accessKeyId);
      }
      if (q.has('x-oss-signature-version')) {
        if (q.get('x-oss-signature-version') !== OSS_V4) throw new OssError(400, 'InvalidArgument', `Unsupported signature version; use ${OSS_V4}.`);
        const cred = parseOssV4Credential(q.get('x-oss-credential') ?? '');
        if (!cred) throw new OssError(400, 'InvalidArgument', 'x-oss-credential is invalid.');
        const key = keyFor(cred.accessKeyId, q.get('x-oss-security-token') ?? undefined);
        const date = q.get('x-oss-date') ?? '';
        const signedAt = parseOssV4Date(date);
        const expiresIn = q.get('x-oss-expires') ?? '';
        if (Number.isNaN(signedAt) || !/^\d{1,6}$/.test(expiresIn) || Number(expiresIn) < 1 || Number(expiresIn) > 604_800) {
          throw new OssError(400, 'InvalidArgument', 'x-oss-date must be yyyymmddTHHMMSSZ and x-oss-expires 1 to 604800 seconds.');
        }
        if (now() > signedAt + Number(expiresIn) * 1000) throw expired(signedAt + Number(expiresIn) * 1000);
        if (signedAt - now() > maxSkew) throw new OssError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.');
        const pairs = rawQueryPairs(req.url ?? '/').filter(([k]) => k !== 'x-oss-signature');
        const additional = (q.get('x-oss-additional-headers') ?? '').split(';').filter(Boolean);
        return v4Target(req, method, targets, pairs, cred, date, additional, q.get('x-oss-signature') ?? '', key);
      }
      throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');
    }
    if (auth.trim().startsWith(OSS_V4)) {
      const parsed = parseOssV4Authorization(auth);
      if (!parsed) throw new OssError(400, 'InvalidArgument', 'Authorization header is invalid.');
      const key = keyFor(parsed.credential.accessKeyId, header(req, 'x-oss-security-token'));
      const date = header(req, 'x-oss-date') ?? '';
      checkSkew(parseOssV4Date(date));
      return v4Target(req, method, targets, rawQueryPairs(req.url ?? '/'), parsed.credential, date, parsed.additionalHeaders, parsed.signature, key);
    }
    const parsed = parseOssAuthorization(auth);
    if (!parsed) throw new OssError(400, 'InvalidArgument', 'Authorization header is invalid.');
    const key = keyFor(parsed.accessKeyId, header(req, 'x-oss-security-token'));
    const dateText = header(req, 'x-oss-date') ?? header(req, 'date');
    checkSkew(dateText === undefined ? NaN : Date.parse(dateText));
    return firstSigned(targets, (t) => ossStringToSign(method, req.headers, t.bucket, t.key, q), (sts) => ossSignature(key.accessKeySecret, sts), parsed.signature, key.accessKeyId);
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
    for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
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
    res.setHeader('x-oss-hash-crc64ecma', o.crc64);
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
    const policy = policies.get(bucket);
    if (policy?.region !== undefined) {
      const addressed = /\.oss-([a-z0-9-]+?)(?:-internal)?\.aliyuncs\.com(?::\d+)?$/.exec(header(req, 'host') ?? '')?.[1];
      if (addressed !== undefined && addressed !== policy.region) {
        throw new OssError(403, 'AccessDenied', 'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.', {
          Bucket: bucket,
          Endpoint: `oss-${policy.region}.aliyuncs.com`,
        });
      }
    }
    if (policy?.denyRead && (op === 'GetObject' || op === 'HeadObject' || op === 'GetObjectMeta')) {
      throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');
    }
    if (op.startsWith('Unsupported:')) throw new OssError(501, 'NotImplemented', NOT_IMPLEMENTED, { Method: method, ResourceType: key === '' ? 'Bucket' : 'Object' });

    const fault = faults.take({ operation: op, httpMethod: method, key });
    if (fault) {
      if (await transportFault(fault, req)) return;
      switch (fault.kind) {
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
        const { tmp, size, md5, crc64 } = await storage.receive(req as AsyncIterable<Buffer>, header(req, 'content-md5'));
        const o = await storage.commit(bucket, key, tmp, { size, etag: `"${md5.toString('hex').toUpperCase()}"`, type: 'Normal', crc64 }, {
          contentType,
          userMeta: userMetaOf(req),
          forbidOverwrite: forbid,
        });
        res.statusCode = 200;
        res.setHeader('etag', o.etag);
        res.setHeader('content-md5', md5.toString('base64'));
        res.setHeader('x-oss-hash-crc64ecma', o.crc64);
        res.setHeader('content-length', 0);
        res.end();
        return;
      }
      case 'GetObject':
      case 'HeadObject': {
        const opened = op === 'HeadObject' ? undefined : await storage.open(bucket, key);
        const o = op === 'HeadObject' ? await storage.head(bucket, key) : opened?.object;
        if (!o) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
        try {
          const answer = conditionalAnswer(req.headers, o);
          if (answer === 412) {
            throw new OssError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.', { Condition: conditionName(req) });
          }
          objectHeaders(res, o);
          if (answer === 304) {
            res.statusCode = 304;
            res.removeHeader('content-type');
            res.end();
            return;
          }
          if (op === 'GetObject') {
            for (const [param, name] of RESPONSE_OVERRIDES) {
              const v = q.get(param);
              if (v !== null) res.setHeader(name, v);
            }
          }
          const standard = (header(req, 'x-oss-range-behavior') ?? '').trim().toLowerCase() === 'standard';
          const range = rangeOf(header(req, 'range'), o.size, standard);
          if (range === 'unsatisfiable') {
            res.setHeader('content-range', `bytes */${o.size}`);
            throw new OssError(416, 'InvalidRange', 'The requested range cannot be satisfied.', { RangeRequested: header(req, 'range') ?? '', ActualObjectSize: String(o.size) });
          }
          let start = 0;
          let end = o.size - 1;
          if (range !== 'whole') {
            ({ start, end } = range);
            res.statusCode = 206;
            res.setHeader('content-range', `bytes ${start}-${end}/${o.size}`);
          }
          res.setHeader('content-length', Math.max(0, end - start + 1));
          if (!opened || end < start) {
            res.end();
            return;
          }
          const stream = opened.handle.createReadStream({ start, end, autoClose: false });
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
        } finally {
          await opened?.handle.close().catch(() => undefined);
        }
        return;
      }
      case 'GetObjectMeta': {
        const o = await storage.head(bucket, key);
        if (!o) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
        res.setHeader('etag', o.etag);
        res.setHeader('content-length', o.size);
        res.setHeader('last-modified', o.lastModified.toUTCString());
        res.setHeader('x-oss-last-access-time', o.lastModified.toUTCString());
        res.setHeader('x-oss-hash-crc64ecma', o.crc64);
        res.end();
        return;
      }
      case 'CopyObject': {
        const source = parseCopySource(header(req, 'x-oss-copy-source') ?? '');
        if (!storage.hasBucket(source.bucket)) throw new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: source.bucket });
        const directive = (header(req, 'x-oss-metadata-directive') ?? 'COPY').toUpperCase();
        if (directive !== 'COPY' && directive !== 'REPLACE') throw new OssError(400, 'InvalidArgument', 'x-oss-metadata-directive must be COPY or REPLACE.');
        await drain(req);
        let notModified = false;
        const copied = await storage.copy(source, { bucket, key }, {
          forbidOverwrite: forbid,
          meta: directive === 'REPLACE' ? { contentType, userMeta: userMetaOf(req) } : undefined,
          check: (src) => {
            const answer = conditionalAnswer(req.headers, src, 'x-oss-copy-source-');
            if (answer === 412) throw new OssError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold.');
            if (answer === 304) {
              notModified = true;
              throw new NotModified();
            }
          },
        }).catch((e: unknown) => {
          if (e instanceof NotModified) return undefined;
          throw e;
        });
        if (notModified) {
          res.statusCode = 304;
          res.end();
          return;
        }
        if (!copied) throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: source.key });
        res.setHeader('etag', copied.etag);
        res.setHeader('x-oss-hash-crc64ecma', copied.crc64);
        sendXml(res, 200, 'CopyObjectResult', { LastModified: copied.lastModified.toISOString(), ETag: copied.etag });
        return;
      }
      case 'AppendObject': {
        const position = q.get('position') ?? '';
        if (!/^\d{1,15}$/.test(position)) throw new OssError(400, 'InvalidArgument', 'position must be a non-negative integer.', { ArgumentName: 'position', ArgumentValue: position });
        storage.objectPath(bucket, key);
        const o = await storage.append(bucket, key, Number(position), req as AsyncIterable<Buffer>, {
          contentType,
          userMeta: userMetaOf(req),
          contentMd5: header(req, 'content-md5'),
        });
        res.setHeader('etag', o.etag);
        res.setHeader('x-oss-next-append-position', String(o.size));
        res.setHeader('x-oss-hash-crc64ecma', o.crc64);
        res.setHeader('content-length', 0);
        res.end();
        return;
      }
      case 'DeleteMultipleObjects': {
        if (header(req, 'content-md5') === undefined) throw new OssError(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5.');
        const body = await readBody(req, MAX_XML_BODY);
        const md5 = createHash('md5').update(body).digest('base64');
        if (md5 !== header(req, 'content-md5')?.trim()) throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.');
        const request = parseDeleteRequest(body.toString('utf8'));
        if (!request) throw new OssError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
        const urlEncode = q.get('encoding-type') === 'url';
        for (const k of request.keys) await storage.delete(bucket, k);
        sendXml(res, 200, 'DeleteResult', {
          EncodingType: urlEncode ? 'url' : undefined,
          Deleted: request.quiet ? undefined : request.keys.map((k) => ({ Key: urlEncode ? encodeURIComponent(k) : k })),
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
        res.setHeader('x-oss-hash-crc64ecma', part.crc64);
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
        res.setHeader('x-oss-hash-crc64ecma', o.crc64);
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
    throw new OssError(501, 'NotImplemented', NOT_IMPLEMENTED, { Method: method });
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
    setBucketPolicy: (bucket: string, policy: BucketPolicy) => {
      policies.set(bucket, { ...policies.get(bucket), ...policy });
    },
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
    setBucketPolicy: (bucket, policy) => handler.setBucketPolicy(bucket, policy),
    close: () => served.close(),
  };
}

export { OssFaults } from './faults';
export type { OssFaultSpec, OssFaultKind, OssFaultHandle } from './faults';
export { OssError, OssStorage, compareUtf8 } from './storage';
