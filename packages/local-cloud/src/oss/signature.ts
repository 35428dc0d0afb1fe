import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { acsEncode, authorizationFields } from '../acs3';

/**
 * OSS V1 request signatures (`Authorization: OSS <AccessKeyId>:<Base64(HMAC-SHA1(secret, StringToSign))>`),
 * checked the way the OSS server checks them. Written from the protocol description, not from ali-oss's code:
 *
 *   StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedOSSHeaders CanonicalizedResource
 *
 * - `Date` is the `x-oss-date` header when present (ali-oss sends no `Date`), else `Date`.
 * - CanonicalizedOSSHeaders: every `x-oss-*` header, name lower-cased, value trimmed, sorted by name, `name:value\n`
 *   each (so `x-oss-date` appears a second time here).
 * - CanonicalizedResource: `/bucket/key` with the key as raw UTF-8 (not percent-encoded), then `?` and the
 *   sub-resources present in the query, sorted, `name` alone when the value is empty, else `name=value`.
 */

/** Query parameters that are sub-resources, i.e. part of the CanonicalizedResource (the OSS list). */
export const OSS_SUB_RESOURCES: ReadonlySet<string> = new Set([
  'acl', 'uploads', 'location', 'cors', 'logging', 'website', 'referer', 'lifecycle', 'delete', 'append', 'tagging',
  'objectMeta', 'uploadId', 'partNumber', 'security-token', 'position', 'img', 'style', 'styleName', 'replication',
  'replicationProgress', 'replicationLocation', 'cname', 'bucketInfo', 'comp', 'qos', 'live', 'status', 'vod',
  'startTime', 'endTime', 'symlink', 'x-oss-process', 'response-content-type', 'response-content-language',
  'response-expires', 'response-cache-control', 'response-content-disposition', 'response-content-encoding', 'udf',
  'udfName', 'udfImage', 'udfId', 'udfImageDesc', 'udfApplication', 'udfApplicationLog', 'restore', 'callback',
  'callback-var', 'continuation-token', 'versionId', 'versioning', 'versions', 'policy', 'requestPayment',
  'encryption', 'inventory', 'inventoryId', 'worm', 'wormId', 'wormExtend', 'asyncFetch', 'sequential', 'objectInfo',
  'stat', 'resourceGroup', 'transferAcceleration',
]);

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

/** The CanonicalizedResource for `bucket`/`key` and the request's query. */
export function canonicalizedResource(bucket: string, key: string, query: URLSearchParams): string {
  let resource = bucket === '' ? '/' : `/${bucket}/${key}`;
  const subs = [...new Set([...query.keys()].filter((k) => OSS_SUB_RESOURCES.has(k)))].sort();
  if (subs.length > 0) {
    resource +=
      '?' +
      subs
        .map((k) => {
          const v = query.get(k) ?? '';
          return v === '' ? k : `${k}=${v}`;
        })
        .join('&');
  }
  return resource;
}

/**
 * The V1 StringToSign of a request as the server sees it. For a presigned URL (`?OSSAccessKeyId=&Expires=&Signature=`)
 * the date line is the `Expires` value instead (`dateLine`).
 */
export function ossStringToSign(
  method: string,
  headers: IncomingHttpHeaders,
  bucket: string,
  key: string,
  query: URLSearchParams,
  dateLine?: string,
): string {
  const ossHeaders = Object.keys(headers)
    .map((k) => k.toLowerCase())
    .filter((k) => k.startsWith('x-oss-'))
    .sort()
    .map((k) => `${k}:${headerValue(headers, k).trim()}`);
  const date = dateLine ?? (headers['x-oss-date'] !== undefined ? headerValue(headers, 'x-oss-date') : headerValue(headers, 'date'));
  return [
    method.toUpperCase(),
    headerValue(headers, 'content-md5'),
    headerValue(headers, 'content-type'),
    date,
    ...ossHeaders,
    canonicalizedResource(bucket, key, query),
  ].join('\n');
}

/** Base64 HMAC-SHA1 of `stringToSign` under `secret`. */
export function ossSignature(secret: string, stringToSign: string): string {
  return createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');
}

/** Parses `OSS <AccessKeyId>:<Signature>`; `undefined` if the header has another shape. */
export function parseOssAuthorization(header: string | undefined): { accessKeyId: string; signature: string } | undefined {
  const m = /^OSS ([^:\s]+):(\S+)$/.exec(header?.trim() ?? '');
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  return { accessKeyId: m[1], signature: m[2] };
}

/** Constant-time string comparison (the one of `acs3.ts`). */
export { safeEqual } from '../acs3';

// ---- V4 (OSS4-HMAC-SHA256) ------------------------------------------------------------------------------------

/** The V4 algorithm name, in the Authorization header and in `x-oss-signature-version`. */
export const OSS_V4 = 'OSS4-HMAC-SHA256';

/** A parsed V4 credential scope `<AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request`. */
export interface OssV4Credential {
  accessKeyId: string;
  day: string;
  region: string;
}

export function parseOssV4Credential(text: string): OssV4Credential | undefined {
  const m = /^([^/\s]+)\/(\d{8})\/([a-z0-9-]+)\/oss\/aliyun_v4_request$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  return { accessKeyId: m[1], day: m[2], region: m[3] };
}

/** Parses `OSS4-HMAC-SHA256 Credential=<scope>,[AdditionalHeaders=a;b,]Signature=<hex>`. */
export function parseOssV4Authorization(
  header: string | undefined,
): { credential: OssV4Credential; additionalHeaders: string[]; signature: string } | undefined {
  const h = header?.trim() ?? '';
  if (!h.startsWith(`${OSS_V4} `)) return undefined;
  const fields = authorizationFields(h.slice(OSS_V4.length + 1));
  const credential = parseOssV4Credential(fields.get('Credential') ?? '');
  const signature = fields.get('Signature');
  if (!credential || !signature) return undefined;
  return { credential, additionalHeaders: (fields.get('AdditionalHeaders') ?? '').split(';').filter(Boolean), signature };
}

/** RFC 3986 encoding (encodeURIComponent plus `!'()*`), as V4 wants it: the same encoder as ACS3. */
const strictEncode = acsEncode;

/**
 * The V4 CanonicalRequest: VERB, `/bucket/key` strictly encoded with `/` kept, every query parameter sorted (a
 * parameter without a value, or with an empty one, is written as its name alone, as the SDKs sign sub-resources),
 * the canonical headers (`content-type`, `content-md5`, every `x-oss-*` and the additional headers; lower-cased,
 * trimmed, sorted), the additional header names, and `x-oss-content-sha256` (`UNSIGNED-PAYLOAD`).
 */
export function ossV4CanonicalRequest(
  method: string,
  bucket: string,
  key: string,
  query: readonly [string, string][],
  headers: IncomingHttpHeaders,
  additionalHeaders: readonly string[],
): string {
  const uri = strictEncode(`/${bucket}/${key}`).replace(/%2F/g, '/');
  const canonicalQuery = [...query]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => (v === '' ? strictEncode(k) : `${strictEncode(k)}=${strictEncode(v)}`))
    .join('&');
  const names = new Set(additionalHeaders.map((h) => h.toLowerCase()));
  for (const h of Object.keys(headers)) if (h === 'content-type' || h === 'content-md5' || h.startsWith('x-oss-')) names.add(h);
  const canonicalHeaders = [...names]
    .sort()
    .map((n) => `${n}:${headerValue(headers, n).trim()}\n`)
    .join('');
  const payload = headerValue(headers, 'x-oss-content-sha256') || 'UNSIGNED-PAYLOAD';
  return [method.toUpperCase(), uri, canonicalQuery, canonicalHeaders, additionalHeaders.join(';'), payload].join('\n');
}

/** `OSS4-HMAC-SHA256 \n <x-oss-date> \n <day>/<region>/oss/aliyun_v4_request \n hex(sha256(CanonicalRequest))`. */
export function ossV4StringToSign(date: string, c: OssV4Credential, canonicalRequest: string): string {
  return [OSS_V4, date, `${c.day}/${c.region}/oss/aliyun_v4_request`, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
}

/** The V4 signing key chain (`aliyun_v4` + secret → day → region → `oss` → `aliyun_v4_request`) and the hex HMAC. */
export function ossV4Signature(secret: string, c: OssV4Credential, stringToSign: string): string {
  let k: Buffer = createHmac('sha256', `aliyun_v4${secret}`).update(c.day).digest();
  for (const part of [c.region, 'oss', 'aliyun_v4_request']) k = createHmac('sha256', k).update(part).digest();
  return createHmac('sha256', k).update(stringToSign, 'utf8').digest('hex');
}

/** `yyyymmddTHHMMSSZ` to ms, NaN otherwise. */
export function parseOssV4Date(text: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text ?? '');
  if (!m) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}
