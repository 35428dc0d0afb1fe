/**
 * POP RPC signature version 1.0 (HMAC-SHA1), server side, per protocols §1.4: decode every pair, drop `Signature`,
 * sort by name, re-encode strictly, `METHOD&%2F&enc(query)`, key `secret&`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The strict encoder pop-core and the docs use: `encodeURIComponent` plus `! ' ( ) *`, so only `A–Z a–z 0–9 - _ . ~`
 * stay literal, a space is `%20` and non-ASCII is UTF-8 `%XX`.
 */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Thrown by {@link parseUrlEncoded} on a broken `%` escape or invalid UTF-8. */
export class MalformedQueryError extends Error {}

/**
 * Splits an `application/x-www-form-urlencoded` string (query or body) into decoded pairs, in order. `+` means a space,
 * as in every form decoder (pop-core never sends a literal `+`: it writes `%2B`).
 */
export function parseUrlEncoded(raw: string): [string, string][] {
  const pairs: [string, string][] = [];
  if (!raw) return pairs;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    try {
      pairs.push([decodeURIComponent(k.replace(/\+/g, ' ')), decodeURIComponent(v.replace(/\+/g, ' '))]);
    } catch {
      throw new MalformedQueryError(`malformed percent-encoding in ${JSON.stringify(part.slice(0, 60))}`);
    }
  }
  return pairs;
}

/**
 * Canonical query of the parameters without `Signature`: keys sorted by UTF-16 code units (JS default sort, as
 * pop-core), `enc(k)=enc(v)` joined with `&`.
 */
export function canonicalQuery(params: Readonly<Record<string, string>>): string {
  return Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k] ?? '')}`)
    .join('&');
}

/** `METHOD&%2F&enc(canonicalQuery)`. */
export function stringToSign(method: string, params: Readonly<Record<string, string>>): string {
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`;
}

/** Base64 HMAC-SHA1 of the string to sign with key `secret&`. */
export function computeSignature(secret: string, method: string, params: Readonly<Record<string, string>>): string {
  return createHmac('sha1', `${secret}&`).update(stringToSign(method, params), 'utf8').digest('base64');
}

/** Constant-time comparison of the provided and expected signatures. */
export function signaturesEqual(provided: string, expected: string): boolean {
  const a = Buffer.from(provided, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
