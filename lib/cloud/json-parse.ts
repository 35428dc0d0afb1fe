/**
 * Pages are parsed once, natively, when nothing in them needs json-bigint; a large body a caller asked to keep as
 * text is scanned instead of parsed.
 *
 * pop-core parses every response with json-bigint (exact big integers), a parser written in JavaScript that reads a
 * string character by character: for Cloud Assistant pages, whose records carry outputs of up to 24 KB, it was most
 * of the collector's CPU, and its null-prototype objects and BigNumbers needed a deep copy afterwards. json-bigint's
 * exactness matters only for number literals longer than 15 characters (it turns exactly those into BigNumbers), so
 * a body without such a literal is parsed with `JSON.parse` (the same values, plain objects, no copy needed), and a
 * body with one, or one `JSON.parse` refuses, goes to json-bigint as before (same values, same errors).
 *
 * Raw bodies (`rawBodyClient` in ./rpc.ts, through {@link withRawBodies}): a call made through such a client runs in an
 * AsyncLocalStorage context that this hook reads (switched off while no such call is in flight: it costs every promise of the process). A body of at least `minBytes` is then scanned by ./raw-json (validated, only its shallow part
 * built, deeper containers as counted spans, each built object's minified text kept for storing it), instead of
 * becoming objects. The scope is exactly the calls made through that client (other calls in flight at the same time
 * are parsed as always), and a small body, an error body (one with a `Code`, which pop-core must see to throw) or
 * anything the scan does not take is parsed the ordinary way. The risk is the scanner itself (a JSON validator of our
 * own); its tests compare it with JSON.parse and json-bigint on valid and invalid bodies.
 *
 * Such a body is also read into one buffer of its announced size ({@link readAnnounced}, a hook on httpx's `read`, in
 * the same scope only), not into httpx's list of socket chunks and then a joined copy of them.
 *
 * json-bigint is used by pop-core alone (lib/rpc.js and lib/roa.js read `JSON.parse` of its exports at call time),
 * so installing the fast path on that module object changes nothing else; httpx's `read` is likewise read at call
 * time, by pop-core and the FC SDK's runtime, and the hook passes every call outside a raw-body scope through.
 * Importing this module changes nothing: the hooks are installed by {@link installResponseHooks}, which the RPC client
 * calls where it is built (./rpc.ts `createRpcClient`), the one place that needs them.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import httpx from 'httpx';
import jsonBigint from 'json-bigint';
import { canonicalSpans, scanJson } from './raw-json';

/** A number token of 16 characters or more where a JSON value can start (may also match inside a string: then json-bigint parses, which is only slower). */
const LONG_NUMBER = /[:,[]\s*-?[0-9][0-9.eE+-]{15,}/;

const results = new WeakSet<object>();
const slowParse = jsonBigint.parse.bind(jsonBigint) as (text: string) => unknown;

/** What a raw-body call asks of the hook. */
export interface RawBodyOptions {
  /** Bodies smaller than this are parsed as always. @default 262144 (256 KiB) */
  minBytes?: number;
  /** Containers nested this deep or deeper (the body is depth 0) are counted, not built. */
  depth: number;
}
const rawBodies = new AsyncLocalStorage<Required<RawBodyOptions>>();
/**
 * Raw-body calls in flight. An AsyncLocalStorage in use turns on Node's promise hooks for every promise of the
 * process (~3 µs per archived record of a Cloud Assistant walk, ~6 % of its CPU), so the scope is switched off again
 * (`disable`) whenever no raw-body call is in flight; `run` switches it on for the next one.
 */
let rawCalls = 0;

/** Parses like json-bigint, natively when that gives the same values; scans a large body a raw-body call asked for. */
export function parseResponse(source: unknown): unknown {
  const raw = rawBodies.getStore();
  if (raw && Buffer.isBuffer(source) && source.length >= raw.minBytes) {
    const scanned = scanJson(source, raw.depth, exactNumber);
    if (scanned) {
      results.add(scanned);
      return scanned;
    }
  }
  const text = typeof source === 'string' ? source : String(source);
  if (!LONG_NUMBER.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return slowParse(text);
    }
    if (typeof value === 'object' && value !== null) {
      results.add(value);
      if (Buffer.isBuffer(source)) registerLists(value, source, [], 0);
    }
    return value;
  }
  return slowParse(text);
}

/** A list of a parsed body: the body's bytes and the keys from the body down to it. */
interface ListSource {
  body: Buffer;
  path: string[];
}
/** The lists of bodies parsed natively from bytes (see {@link verbatimSpans}), while they live. */
const listSources = new WeakMap<readonly unknown[], ListSource>();
/** How deep in a body's objects (not in its lists) lists are remembered: the records of every walk sit at 1 to 3. */
const LIST_DEPTH = 3;

/** Remembers the lists found in `value`'s objects (not inside lists), with where they are in `body`. */
function registerLists(value: object, body: Buffer, path: string[], depth: number): void {
  if (Array.isArray(value)) return;
  for (const key of Object.keys(value)) {
    const member = (value as Record<string, unknown>)[key];
    if (typeof member !== 'object' || member === null) continue;
    if (Array.isArray(member)) {
      if (member.length > 0) listSources.set(member, { body, path: [...path, key] });
    } else if (depth + 1 < LIST_DEPTH) {
      registerLists(member, body, [...path, key], depth + 1);
    }
  }
}

/**
 * For a list as a response body's native parse gave it (a page's records, untouched since), where each element's
 * text sits in the body's bytes when every element's bytes are what JSON.stringify writes of it (raw-json.ts
 * `canonicalSpans`: `spans[2k]` its start, `spans[2k + 1]` its end); `undefined` for any other list, a body that is not
 * valid UTF-8, or one written otherwise. A writer of the list's JSON lines copies those bytes instead of stringifying.
 * The list must not have been changed since it was parsed (the walk hands pages on as they came).
 * @example const raw = verbatimSpans(page.records); if (raw) copy(raw.body, raw.spans[0], raw.spans[1]);
 */
export function verbatimSpans(list: readonly unknown[]): { body: Buffer; spans: Int32Array } | undefined {
  const source = listSources.get(list);
  if (!source) return undefined;
  listSources.delete(list);
  if (!isUtf8(source.body)) return undefined;
  const spans = new Int32Array(2 * list.length);
  return canonicalSpans(source.body, source.path, list.length, spans) ? { body: source.body, spans } : undefined;
}

/** True when `value` came from a native path (JSON.parse or the scan): plain JSON values already, nothing to convert. */
export function isPlainParsed(value: unknown): boolean {
  return typeof value === 'object' && value !== null && results.has(value);
}

/**
 * A json-bigint BigNumber as a plain JSON value: a number when a JS number represents it exactly, else its exact
 * decimal string; anything else unchanged.
 * @example bigNumberValue(jsonBigint.parse('12345678901234567890')) // '12345678901234567890'
 */
export function bigNumberValue(value: unknown): unknown {
  const v = value as { _isBigNumber?: unknown; toFixed?: () => string } | null;
  if (typeof v !== 'object' || v === null || v._isBigNumber !== true || typeof v.toFixed !== 'function') return value;
  const exact = v.toFixed();
  const n = Number(exact);
  return String(n) === exact ? n : exact;
}

/** The value the parsed path stores for a number literal longer than 15 characters. */
function exactNumber(token: string): number | string {
  // Inside a list, as in a body: json-bigint parses a negative number at the top level as a plain number.
  return bigNumberValue((slowParse(`[${token}]`) as unknown[])[0]) as number | string;
}

/**
 * Runs `call` in a raw-body scope (see the module comment): a large body it receives is scanned, not parsed, and read
 * into one buffer of its announced size. The scope is switched off again once no such call is in flight.
 * @example const page = await withRawBodies({ depth: 5 }, () => client.request('DescribeInvocations', { InvokeId }))
 */
export async function withRawBodies<T>(options: RawBodyOptions, call: () => Promise<T>): Promise<T> {
  const scope = { minBytes: options.minBytes ?? 256 * 1024, depth: Math.max(1, options.depth) };
  rawCalls += 1;
  try {
    return await rawBodies.run(scope, call);
  } finally {
    rawCalls -= 1;
    if (rawCalls === 0) rawBodies.disable();
  }
}

/** The description of httpx's private symbol for the read timer it keeps on the socket (httpx 2.x). */
const HTTPX_READ_TIMER = 'TIMER::READ_TIMER';

/**
 * Reads a raw-body call's answer into one buffer of its announced size, instead of httpx's chunk list and the copy
 * that joins it (two bodies at once: ~80 MB for a 40 MB answer). Only for a call in a raw-body scope, an identity
 * body with a Content-Length of at least `minBytes`, and while httpx keeps its read timer where this can find it;
 * otherwise httpx reads as always. The read timeout stays httpx's: its timer, started with the request, aborts a
 * body that is still arriving (the read fails, the retry policy retries), and is cleared once the body is complete,
 * as httpx's own read does. A body shorter or longer than announced is an error.
 */
function readAnnounced(response: IncomingMessage, encoding: string | undefined): Promise<Buffer> | undefined {
  const raw = rawBodies.getStore();
  if (!raw || encoding !== undefined) return undefined;
  const coding = response.headers['content-encoding'];
  if (coding !== undefined && coding !== 'identity') return undefined;
  const length = Number(response.headers['content-length']);
  if (!Number.isSafeInteger(length) || length < raw.minBytes) return undefined;
  const socket = response.socket as (Socket & Record<symbol, unknown>) | null;
  const timer = socket ? Object.getOwnPropertySymbols(socket).find((s) => s.description === HTTPX_READ_TIMER) : undefined;
  if (!socket || timer === undefined) return undefined;
  return new Promise<Buffer>((resolve, reject) => {
    const body = Buffer.allocUnsafeSlow(length);
    let at = 0;
    const settle = (err?: Error) => {
      response.off('data', onData);
      response.off('end', onEnd);
      response.off('error', onError);
      response.off('aborted', onAborted);
      if (err) {
        reject(err);
        return;
      }
      clearTimeout(socket[timer] as NodeJS.Timeout | undefined);
      socket[timer] = null;
      resolve(body);
    };
    const onData = (chunk: Buffer) => {
      if (at + chunk.length > length) {
        response.destroy();
        settle(Object.assign(new Error(`the response body is longer than its Content-Length ${length}`), { code: 'ECONNRESET' }));
        return;
      }
      chunk.copy(body, at);
      at += chunk.length;
    };
    const onEnd = () => settle(at === length ? undefined : Object.assign(new Error(`the response body ended after ${at} of ${length} bytes`), { code: 'ECONNRESET' }));
    const onError = (err: Error) => settle(err);
    // httpx's read timer aborted the request: a read timeout, named as httpx names it.
    const onAborted = () => settle(Object.assign(new Error(`ReadTimeout: the response was aborted after ${at} of ${length} bytes`), { name: 'RequestTimeoutError' }));
    response.on('data', onData);
    response.on('end', onEnd);
    response.on('error', onError);
    response.on('aborted', onAborted);
  });
}

let installed = false;

/**
 * Installs the two hooks on the modules pop-core reads at call time: json-bigint's `parse` ({@link parseResponse}) and
 * httpx's `read` (a raw-body call's answer read into one buffer, every other read passed to httpx's own). Called by
 * `createRpcClient` before its first request; a second call does nothing.
 */
export function installResponseHooks(): void {
  if (installed) return;
  installed = true;
  (jsonBigint as { parse: (text: unknown) => unknown }).parse = parseResponse;
  const httpxRead = httpx.read.bind(httpx);
  (httpx as { read: typeof httpx.read }).read = (response: IncomingMessage, encoding: string) => readAnnounced(response, encoding) ?? httpxRead(response, encoding);
}
