/**
 * FC 3.0 trigger formats: what arrives in `event` (always bytes) and what an HTTP trigger expects back.
 * Reference: alibaba-protocols.md §6.1–§6.5.
 */
import { gunzipSync } from 'node:zlib';
import { scan } from './cloud/raw-json';
import { InputError } from './errors';
import { describeFailure } from './failure';
import type { Logger } from './log';

/** The FC 3.0 `context` fields this project reads. `credentials` may be `{}` when the function has no role. */
export interface FcContext {
  requestId: string;
  credentials?: { accessKeyId?: string; accessKeySecret?: string; securityToken?: string };
  function?: { name?: string; handler?: string; memory?: number; timeout?: number };
  region?: string;
  accountId?: string;
}

/** The FC 3.0 HTTP trigger request struct (version v1). */
export interface HttpTriggerEvent {
  version: 'v1';
  rawPath: string;
  body?: string;
  isBase64Encoded?: boolean;
  headers?: Record<string, string>;
  queryParameters?: Record<string, string>;
  requestContext: { requestId?: string; http: { method: string; path: string; sourceIp?: string } };
}

export interface HttpRequest {
  method: string;
  path: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  query: Record<string, string>;
  body: Buffer;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  isBase64Encoded: boolean;
  body: string;
}

/** Largest JSON request body accepted by the HTTP triggers. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

/**
 * Decodes FC's `event` (a Buffer of JSON text) into a plain value. Rejects non-JSON with `InputError` and strips
 * `__proto__`/`constructor.prototype` keys so a payload can't pollute prototypes.
 */
export function decodeEvent(event: unknown): unknown {
  if (event === undefined || event === null) throw new InputError('InvalidPayload', 'the invocation payload is empty');
  if (Buffer.isBuffer(event) || typeof event === 'string' || event instanceof Uint8Array) {
    const text = Buffer.isBuffer(event) ? event.toString('utf8') : typeof event === 'string' ? event : Buffer.from(event).toString('utf8');
    if (text.trim() === '') throw new InputError('InvalidPayload', 'the invocation payload is empty');
    return parseJson(text, 'the invocation payload');
  }
  if (typeof event === 'object') return event;
  throw new InputError('InvalidPayload', 'the invocation payload must be a JSON object');
}

/** Deepest nesting of arrays and objects a payload may have (ours are 3 levels deep; EventBridge batches 4). */
export const MAX_JSON_DEPTH = 64;

/**
 * `JSON.parse` that throws `InputError(MalformedJson)` with a plain message and drops prototype-polluting keys.
 * A leading byte order mark and nesting deeper than {@link MAX_JSON_DEPTH} are refused by name (instead of an
 * invisible character in the message, or a stack overflow).
 */
export function parseJson(text: string, what = 'the body'): unknown {
  if (text.charCodeAt(0) === 0xfeff) {
    throw new InputError('MalformedJson', `${what} starts with a byte order mark (U+FEFF); send the JSON text without it`);
  }
  // One pass of lib's JSON scanner (lib/cloud/raw-json.ts) refuses deep nesting before JSON.parse could overflow the
  // stack, and an object that names a key twice (JSON.parse keeps the last; which one a caller meant is a guess).
  const shape = scan(Buffer.from(text, 'utf8'), { depth: 0, exactNumber: Number, maxNesting: MAX_JSON_DEPTH, uniqueKeys: true, anyRoot: true });
  if (!shape.ok && shape.refused === 'too-deep') {
    throw new InputError('MalformedJson', `${what} nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text, (key, v: unknown) => (key === '__proto__' || key === 'constructor' ? undefined : v));
  } catch (err) {
    throw new InputError('MalformedJson', `${what} is not valid JSON: ${plainText((err as Error).message)}`, 400, { cause: err });
  }
  if (!shape.ok && shape.refused === 'duplicate-key') {
    throw new InputError('MalformedJson', `${what} has the key ${JSON.stringify(plainText(shape.key ?? ''))} twice in one object`);
  }
  return value;
}

/** A message safe to show: control, invisible and line-separator characters written as `\uXXXX`. */
export function plainText(message: string): string {
  return message.replace(/[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function isHttpTriggerEvent(value: unknown): value is HttpTriggerEvent {
  if (!value || typeof value !== 'object') return false;
  const v = value as Partial<HttpTriggerEvent>;
  return v.version === 'v1' && typeof v.rawPath === 'string' && typeof v.requestContext?.http?.method === 'string';
}

/** Normalises an HTTP trigger event: header names lower-cased, body decoded from Base64 when flagged. */
export function toHttpRequest(event: HttpTriggerEvent): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = String(v);
  const body = event.body ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.requestContext.http.path || event.rawPath,
    headers,
    query: { ...(event.queryParameters ?? {}) },
    body,
  };
}

/** `application/json`, optionally with `charset=utf-8`: the one body type the HTTP triggers read. */
const JSON_CONTENT_TYPE = /^application\/json[ \t]*(?:;[ \t]*charset[ \t]*=[ \t]*(?:utf-8|"utf-8")[ \t]*)?$/i;

/**
 * Reads a JSON object body: 413 when too large, 415 unless `Content-Type` is `application/json` (optionally with
 * `charset=utf-8`), 400 when empty, not UTF-8, or not a JSON object.
 */
export function readJsonBody(req: HttpRequest, maxBytes = MAX_JSON_BODY_BYTES): Record<string, unknown> {
  if (req.body.length > maxBytes) {
    throw new InputError('PayloadTooLarge', `the request body is ${req.body.length} bytes; the limit is ${maxBytes}`, 413);
  }
  const type = req.headers['content-type'];
  if (type === undefined || !JSON_CONTENT_TYPE.test(type.trim())) {
    throw new InputError(
      'UnsupportedMediaType',
      type === undefined
        ? 'the request has no Content-Type; send the body as application/json'
        : `the request body must be Content-Type application/json (charset utf-8, if any), not ${JSON.stringify(plainText(type.slice(0, 100)))}`,
      415,
    );
  }
  if (req.body.length === 0) throw new InputError('InvalidPayload', 'the request body is empty; a JSON object is expected');
  const body = decodeContent(req, maxBytes);
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch (err) {
    throw new InputError('MalformedJson', 'the request body is not valid UTF-8', 400, { cause: err });
  }
  const value = parseJson(text, 'the request body');
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError('InvalidPayload', 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * The body as sent before its `Content-Encoding`: as is for none or `identity`; unzipped for `gzip` (400 when the
 * body is not gzip or is cut, 413 when it unzips to more than `maxBytes`); 415 for any other coding.
 */
function decodeContent(req: HttpRequest, maxBytes: number): Buffer {
  const coding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return req.body;
  if (coding !== 'gzip' && coding !== 'x-gzip') {
    throw new InputError('UnsupportedMediaType', `the request body's Content-Encoding ${JSON.stringify(plainText(coding.slice(0, 100)))} is not supported; send it as is or gzip`, 415);
  }
  if (req.body.length < 18 || req.body[0] !== 0x1f || req.body[1] !== 0x8b) {
    throw new InputError('InvalidContentEncoding', 'the request body says Content-Encoding: gzip but is not gzip data', 400);
  }
  try {
    return gunzipSync(req.body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InputError('PayloadTooLarge', `the request body unzips to more than ${maxBytes} bytes, the limit`, 413, { cause: err });
    }
    throw new InputError('InvalidContentEncoding', 'the request body says Content-Encoding: gzip but is not valid gzip data (corrupt or cut)', 400, { cause: err });
  }
}

/** Strict UTF-8 (a malformed byte sequence throws) that keeps a leading BOM, so parseJson can name it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    isBase64Encoded: false,
    body: JSON.stringify(body),
  };
}

export function textResponse(statusCode: number, body: string, contentType: string): HttpResponse {
  return { statusCode, headers: { 'content-type': contentType }, isBase64Encoded: false, body };
}

/**
 * Maps an error to the HTTP answer a caller may see, as `describeFailure` classifies it: the caller's faults are 4xx
 * with code and message; a dependency that is down is 503; anything else is logged in full and answered 500 without
 * internals.
 */
export function errorResponse(err: unknown, requestId: string, logger?: Logger): HttpResponse {
  const failure = describeFailure(err);
  if (failure.fault === 'internal') logger?.error('request failed', { err });
  else if (failure.fault === 'unavailable') logger?.warn('request failed: a dependency is unavailable', { err });
  const headers: Record<string, string> = failure.retryable ? { 'retry-after': '30' } : {};
  return jsonResponse(failure.status, { error: { code: failure.code, message: failure.message }, requestId }, headers);
}

/** The FC 3.0 timer trigger event. `payload` is the trigger's configured string (often JSON). */
export interface TimerTriggerEvent {
  triggerTime: string;
  triggerName: string;
  payload?: string;
}

export function isTimerTriggerEvent(value: unknown): value is TimerTriggerEvent {
  if (!value || typeof value !== 'object') return false;
  const v = value as Partial<TimerTriggerEvent>;
  return typeof v.triggerTime === 'string' && typeof v.triggerName === 'string';
}
