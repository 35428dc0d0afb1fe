import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Alibaba Cloud signature V3 (`ACS3-HMAC-SHA256`) as the server checks it, written from the V3 specification
 * (https://help.aliyun.com/document_detail/2593177.html) and cross-checked against what `@alicloud/openapi-core`
 * puts on the wire:
 *
 *   CanonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
 *   StringToSign     = "ACS3-HMAC-SHA256" \n hex(sha256(CanonicalRequest))
 *   Signature        = hex(HMAC-SHA256(AccessKeySecret, StringToSign))
 *   Authorization    = ACS3-HMAC-SHA256 Credential=<AK>,SignedHeaders=<h1;h2>,Signature=<hex>
 *
 * - CanonicalURI: the request path as sent (already percent-encoded by the client).
 * - CanonicalQueryString: parameters sorted by name, `name=value` with the value RFC 3986-encoded
 *   (encodeURIComponent plus `!'()*`), joined by `&`.
 * - CanonicalHeaders: the headers named in SignedHeaders, lower-cased, values trimmed, sorted, `name:value\n` each.
 * - HashedPayload: the `x-acs-content-sha256` header (hex sha256 of the body; the server checks it separately).
 */

/** The one algorithm the emulators accept. */
export const ACS3_ALGORITHM = 'ACS3-HMAC-SHA256';

/** RFC 3986 percent-encoding as the V3 spec wants it. */
export function acsEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A parsed V3 `Authorization` header. */
export interface Acs3Authorization {
  accessKeyId: string;
  signedHeaders: string[];
  signature: string;
}

/** Parses `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`; `undefined` if malformed. */
export function parseAcs3Authorization(header: string | undefined): Acs3Authorization | undefined {
  const h = header?.trim() ?? '';
  if (!h.startsWith(`${ACS3_ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of h.slice(ACS3_ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const accessKeyId = fields.get('Credential');
  const signed = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!accessKeyId || signed === undefined || !signature) return undefined;
  return { accessKeyId, signedHeaders: signed.split(';').filter(Boolean), signature };
}

/** The canonical query string of a raw query (`a=1&b=x%20y`). */
export function canonicalQueryString(rawQuery: string): string {
  const params = new URLSearchParams(rawQuery);
  const pairs: [string, string][] = [...params.entries()];
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return pairs.map(([k, v]) => `${acsEncode(k)}=${acsEncode(v)}`).join('&');
}

/** The V3 CanonicalRequest of a request as received. */
export function acs3CanonicalRequest(
  method: string,
  rawPath: string,
  rawQuery: string,
  headers: IncomingHttpHeaders,
  signedHeaders: readonly string[],
): string {
  const names = [...signedHeaders].map((h) => h.toLowerCase()).sort();
  const canonicalHeaders = names
    .map((n) => {
      const v = headers[n];
      return `${n}:${(Array.isArray(v) ? v.join(',') : (v ?? '')).trim()}\n`;
    })
    .join('');
  const payload = headers['x-acs-content-sha256'];
  return [method.toUpperCase(), rawPath, canonicalQueryString(rawQuery), canonicalHeaders, names.join(';'), Array.isArray(payload) ? payload[0] : (payload ?? '')].join('\n');
}

/** The V3 StringToSign of a CanonicalRequest. */
export function acs3StringToSign(canonicalRequest: string): string {
  return `${ACS3_ALGORITHM}\n${createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
}

/** The hex signature of a StringToSign. */
export function acs3Signature(secret: string, stringToSign: string): string {
  return createHmac('sha256', secret).update(stringToSign, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings. */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
