/**
 * FC 3.0 trigger formats: what arrives in `event` (always bytes) and what an HTTP trigger expects back.
 * Reference: alibaba-protocols.md §6.1–§6.5.
 */
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

/** `JSON.parse` that throws `InputError(MalformedJson)` and drops prototype-polluting keys. */
export function parseJson(text: string, what = 'the body'): unknown {
  try {
    return JSON.parse(text, (key, value) => (key === '__proto__' || key === 'constructor' ? undefined : value));
  } catch (err) {
    throw new InputError('MalformedJson', `${what} is not valid JSON: ${(err as Error).message}`, 400, { cause: err });
  }
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

/** Reads a JSON object body: 413 when too large, 415 for a non-JSON content type, 400 when malformed. */
export function readJsonBody(req: HttpRequest, maxBytes = MAX_JSON_BODY_BYTES): Record<string, unknown> {
  if (req.body.length > maxBytes) {
    throw new InputError('PayloadTooLarge', `the request body is ${req.body.length} bytes; the limit is ${maxBytes}`, 413);
  }
  const type = req.headers['content-type'];
  if (type && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new InputError('UnsupportedMediaType', `the request body must be application/json, not ${type}`, 415);
  }
  if (req.body.length === 0) throw new InputError('InvalidPayload', 'the request body is empty; a JSON object is expected');
  const value = parseJson(req.body.toString('utf8'), 'the request body');
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError('InvalidPayload', 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

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
