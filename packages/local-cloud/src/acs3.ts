import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { findKey, type DemoKey } from './credentials';
import type { NonceStore } from './nonces';

/**
 * Alibaba Cloud signature V3 (`ACS3-HMAC-SHA256`) as the server checks it, the one implementation the local cloud's
 * endpoints share (FC invoke API, OOS and ECS RPC), written from the V3 specification
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
 * - HashedPayload: the `x-acs-content-sha256` header (hex sha256 of the body; {@link verifyAcs3} checks it against
 *   the body it received).
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

/** The `Name=value` fields after the algorithm of an Authorization header (`Credential=..,Signature=..`). */
export function authorizationFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return fields;
}

/** Parses `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`; `undefined` if malformed. */
export function parseAcs3Authorization(header: string | undefined): Acs3Authorization | undefined {
  const h = header?.trim() ?? '';
  if (!h.startsWith(`${ACS3_ALGORITHM} `)) return undefined;
  const fields = authorizationFields(h.slice(ACS3_ALGORITHM.length + 1));
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
  hashedPayload?: string,
): string {
  const names = [...signedHeaders].map((h) => h.toLowerCase()).sort();
  const canonicalHeaders = names
    .map((n) => {
      const v = headers[n];
      return `${n}:${(Array.isArray(v) ? v.join(',') : (v ?? '')).trim()}\n`;
    })
    .join('');
  const sent = headers['x-acs-content-sha256'];
  const payload = hashedPayload ?? (Array.isArray(sent) ? sent[0] : sent) ?? '';
  return [method.toUpperCase(), rawPath, canonicalQueryString(rawQuery), canonicalHeaders, names.join(';'), payload].join('\n');
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

/** Why {@link verifyAcs3} refused a request; each endpoint maps it to its own documented error code. */
export type Acs3Failure =
  /** No `Authorization`, or not `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`. */
  | 'authorization'
  /** The AccessKeyId is unknown. */
  | 'access-key'
  /** An STS key without `x-acs-security-token`. */
  | 'token-missing'
  /** A token that does not belong to the key (or a token with a long-term key). */
  | 'token-mismatch'
  | 'date-missing'
  /** `x-acs-date` is not `yyyy-MM-ddTHH:mm:ssZ`. */
  | 'date-malformed'
  /** `x-acs-date` is outside the accepted window. */
  | 'date-expired'
  /** `host` or an `x-acs-*` header is sent but not listed in SignedHeaders, or a listed header is absent. */
  | 'signed-headers'
  /** `x-acs-content-sha256` is absent or is not the SHA-256 of the body received. */
  | 'payload-hash'
  | 'signature'
  | 'nonce-missing'
  | 'nonce-used';

/** A refused V3 request: `reason` for the endpoint's error mapping, `stringToSign` as the server computed it. */
export class Acs3Error extends Error {
  constructor(
    readonly reason: Acs3Failure,
    message: string,
    readonly stringToSign?: string,
  ) {
    super(message);
    this.name = 'Acs3Error';
  }
}

/** The parts of a received request that the V3 signature covers. */
export interface Acs3Request {
  method: string;
  /** The path exactly as received (still percent-encoded). */
  rawPath: string;
  /** The query exactly as received, without `?`. */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  /** Hex SHA-256 of the body as received. */
  bodySha256: string;
}

/** Accepted keys, the clock, the window of `x-acs-date` and the nonce memory. */
export interface Acs3Options {
  keys: readonly DemoKey[];
  /** The server clock at the time of the request, ms. */
  now: number;
  /** Accepted distance between `x-acs-date` and the server clock, ms (15 minutes on Alibaba Cloud). */
  skewMs: number;
  nonces: NonceStore;
}

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** `yyyy-MM-ddTHH:mm:ssZ` (what the V3 spec and every official SDK send) to ms; NaN otherwise. */
export function parseAcsDate(text: string | undefined): number {
  if (!text || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) return NaN;
  return Date.parse(text);
}

/**
 * Verifies a V3 request and returns the caller's key. Order: Authorization shape, AccessKeyId, STS token, date
 * window, nonce present, signed-header coverage, payload hash, signature, nonce unused. The nonce is recorded only for a correctly signed
 * request, so a forged request cannot burn a legitimate client's nonce. Throws {@link Acs3Error}.
 *
 * Signed headers: the V3 spec says every common request header other than Authorization that is present must be
 * signed; the emulator enforces it for `host` and every `x-acs-*` header (what the official SDKs sign, besides
 * `content-type`).
 */
export function verifyAcs3(r: Acs3Request, o: Acs3Options): DemoKey {
  const authHeader = one(r.headers, 'authorization');
  const auth = parseAcs3Authorization(authHeader);
  if (!auth) {
    const algorithm = authHeader?.trim().split(/\s/, 1)[0] ?? '';
    throw new Acs3Error(
      'authorization',
      algorithm.startsWith('ACS3-') && algorithm !== ACS3_ALGORITHM
        ? `The signature algorithm ${algorithm} is not supported; use ${ACS3_ALGORITHM}.`
        : 'The Authorization header is missing or is not "ACS3-HMAC-SHA256 Credential=...,SignedHeaders=...,Signature=...".',
    );
  }
  const key = findKey(auth.accessKeyId, o.keys);
  if (!key) throw new Acs3Error('access-key', 'Specified access key is not found.');
  const token = one(r.headers, 'x-acs-security-token');
  if (key.securityToken !== undefined) {
    if (token === undefined) throw new Acs3Error('token-missing', 'An STS AccessKey needs the x-acs-security-token header.');
    if (!safeEqual(token, key.securityToken)) throw new Acs3Error('token-mismatch', 'The security token does not match the AccessKeyId.');
  } else if (token !== undefined) {
    throw new Acs3Error('token-mismatch', 'A security token was sent with a long-term AccessKey.');
  }
  const dateText = one(r.headers, 'x-acs-date');
  if (dateText === undefined) throw new Acs3Error('date-missing', 'The x-acs-date header is required.');
  const date = parseAcsDate(dateText);
  if (Number.isNaN(date)) throw new Acs3Error('date-malformed', `x-acs-date must be yyyy-MM-ddTHH:mm:ssZ (UTC), got "${dateText}".`);
  if (Math.abs(o.now - date) > o.skewMs) {
    throw new Acs3Error('date-expired', `x-acs-date must be within ${Math.round(o.skewMs / 60_000)} minutes of the server time.`);
  }
  const nonce = one(r.headers, 'x-acs-signature-nonce');
  if (!nonce) throw new Acs3Error('nonce-missing', 'The x-acs-signature-nonce header is required.');
  const signed = new Set(auth.signedHeaders.map((h) => h.toLowerCase()));
  for (const h of Object.keys(r.headers)) {
    if ((h.startsWith('x-acs-') || h === 'host') && !signed.has(h)) throw new Acs3Error('signed-headers', `The header ${h} must be signed.`);
  }
  for (const h of signed) if (r.headers[h] === undefined) throw new Acs3Error('signed-headers', `The signed header ${h} is missing.`);
  const contentSha = one(r.headers, 'x-acs-content-sha256');
  if (contentSha === undefined || contentSha.toLowerCase() !== r.bodySha256) {
    throw new Acs3Error('payload-hash', 'x-acs-content-sha256 is not the SHA-256 of the request body.');
  }
  const canonical = acs3CanonicalRequest(r.method, r.rawPath, r.rawQuery, r.headers, [...signed], r.bodySha256);
  const stringToSign = acs3StringToSign(canonical);
  if (!safeEqual(acs3Signature(key.accessKeySecret, stringToSign), auth.signature.toLowerCase())) {
    throw new Acs3Error('signature', 'Specified signature does not match our calculation.', stringToSign);
  }
  if (!o.nonces.use(key.accessKeyId, nonce, date + o.skewMs, o.now)) throw new Acs3Error('nonce-used', 'Specified signature nonce was used already.');
  return key;
}
