/**
 * The HTTP semantics of an OSS GetObject as OSS documents them: byte ranges (its own lenient default and the
 * `x-oss-range-behavior: standard` behaviour), conditional requests, and the `response-*` header overrides.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { StoredObject } from './storage';

/** `response-*` query parameter → the response header it sets (GetObject only, signed requests only). */
export const RESPONSE_OVERRIDES: readonly [string, string][] = [
  ['response-content-type', 'content-type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];

/**
 * What a `Range` header selects of an object of `size` bytes: a byte span, the whole object (200), or nothing (416).
 *
 * Without `x-oss-range-behavior: standard` (OSS's documented default), a range that is malformed or not within
 * 0..size-1 is ignored and the whole object comes back with 200: `bytes=0-1000` and `bytes=1000-` on 1,000 bytes,
 * `bytes=-2000`, `byte=0-1`. With `standard`, an end past the object is clamped (206) and a start past it is 416
 * `InvalidRange`; a suffix longer than the object is the whole object as 206 (RFC 7233).
 *
 * Several ranges (`bytes=0-1,5-9`): the docs disagree (the range guide says only the first range is served, the 416
 * page lists multiple ranges as a cause of InvalidRange). The emulator serves the first range by default and answers
 * 416 with `standard`, the stricter reading of each.
 */
export function rangeOf(header: string | undefined, size: number, standard: boolean): { start: number; end: number } | 'whole' | 'unsatisfiable' {
  if (header === undefined) return 'whole';
  const m = /^bytes=(.+)$/.exec(header.trim());
  if (!m || m[1] === undefined) return 'whole';
  const specs = m[1].split(',');
  if (specs.length > 1 && standard) return 'unsatisfiable';
  const spec = /^\s*(\d*)-(\d*)\s*$/.exec(specs[0] ?? '');
  if (!spec || (spec[1] === '' && spec[2] === '')) return 'whole';
  if (spec[1] === '') {
    const n = Number(spec[2]);
    if (n === 0 || size === 0) return standard ? 'unsatisfiable' : 'whole';
    if (n > size) return standard ? { start: 0, end: size - 1 } : 'whole';
    return { start: size - n, end: size - 1 };
  }
  const start = Number(spec[1]);
  const end = spec[2] === '' ? size - 1 : Number(spec[2]);
  if (spec[2] !== '' && end < start) return 'whole';
  if (start >= size) return standard ? 'unsatisfiable' : 'whole';
  if (end >= size) return standard ? { start, end: size - 1 } : 'whole';
  return { start, end };
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** Does an `If-Match` / `If-None-Match` list (`"a", "b"`, `*`, quotes optional) name this ETag? */
function etagListMatches(list: string, etag: string): boolean {
  const bare = (e: string) => e.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toUpperCase();
  return list.split(',').some((e) => e.trim() === '*' || bare(e) === bare(etag));
}

/** An HTTP date, or undefined when it is not one (an invalid date is ignored, as HTTP says). */
function httpDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The answer the conditional headers ask for: 412 PreconditionFailed, 304 Not Modified, or 200 (go on). Evaluated in
 * RFC 7232 order: If-Match, else If-Unmodified-Since; then If-None-Match, else If-Modified-Since. Times compare at the
 * second, the precision of Last-Modified. `prefix` is `x-oss-copy-source-` for CopyObject's source conditions.
 */
export function conditionalAnswer(headers: IncomingHttpHeaders, o: StoredObject, prefix = ''): 200 | 304 | 412 {
  const modified = Math.floor(o.lastModified.getTime() / 1000) * 1000;
  const ifMatch = headerValue(headers, `${prefix}if-match`);
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, o.etag)) return 412;
  } else {
    const since = httpDate(headerValue(headers, `${prefix}if-unmodified-since`));
    if (since !== undefined && modified > since) return 412;
  }
  const ifNoneMatch = headerValue(headers, `${prefix}if-none-match`);
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, o.etag)) return 304;
  } else {
    const since = httpDate(headerValue(headers, `${prefix}if-modified-since`));
    if (since !== undefined && modified <= since) return 304;
  }
  return 200;
}
