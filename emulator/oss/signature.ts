import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

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

/** The V1 StringToSign of a request as the server sees it. */
export function ossStringToSign(
  method: string,
  headers: IncomingHttpHeaders,
  bucket: string,
  key: string,
  query: URLSearchParams,
): string {
  const ossHeaders = Object.keys(headers)
    .map((k) => k.toLowerCase())
    .filter((k) => k.startsWith('x-oss-'))
    .sort()
    .map((k) => `${k}:${headerValue(headers, k).trim()}`);
  const date = headers['x-oss-date'] !== undefined ? headerValue(headers, 'x-oss-date') : headerValue(headers, 'date');
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

/** Constant-time string comparison. */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
