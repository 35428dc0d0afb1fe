/**
 * Pages are parsed once, natively, when nothing in them needs json-bigint.
 *
 * pop-core parses every response with json-bigint (exact big integers), a parser written in JavaScript that reads a
 * string character by character: for Cloud Assistant pages, whose records carry outputs of up to 24 KB, it was most
 * of the collector's CPU, and its null-prototype objects and BigNumbers needed a deep copy afterwards. json-bigint's
 * exactness matters only for number literals longer than 15 characters (it turns exactly those into BigNumbers), so
 * a body without such a literal is parsed with `JSON.parse` (the same values, plain objects, no copy needed), and a
 * body with one, or one `JSON.parse` refuses, goes to json-bigint as before (same values, same errors).
 *
 * json-bigint is used by pop-core alone (lib/rpc.js and lib/roa.js read `JSON.parse` of its exports at call time),
 * so installing the fast path on that module object changes nothing else.
 */
import jsonBigint from 'json-bigint';

/** A number token of 16 characters or more where a JSON value can start (may also match inside a string: then json-bigint parses, which is only slower). */
const LONG_NUMBER = /[:,[]\s*-?[0-9][0-9.eE+-]{15,}/;

const results = new WeakSet<object>();
const slowParse = jsonBigint.parse.bind(jsonBigint) as (text: string) => unknown;

/** Parses like json-bigint, natively when that gives the same values. */
export function parseResponse(source: unknown): unknown {
  const text = typeof source === 'string' ? source : String(source);
  if (!LONG_NUMBER.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return slowParse(text);
    }
    if (typeof value === 'object' && value !== null) results.add(value);
    return value;
  }
  return slowParse(text);
}

/** True when `value` came from the native path: plain JSON values already, nothing to convert. */
export function isPlainParsed(value: unknown): boolean {
  return typeof value === 'object' && value !== null && results.has(value);
}

(jsonBigint as { parse: (text: unknown) => unknown }).parse = parseResponse;
