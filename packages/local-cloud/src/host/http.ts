/**
 * HTTP triggers of the local host: one server, one route prefix per function. A request to
 * `/<functionName>/<rest>` reaches that function as the FC 3.0 HTTP event (version v1) with `rawPath: /<rest>`,
 * and its `{statusCode, headers, body, isBase64Encoded}` answer goes back as the HTTP response. Emulator choices:
 * the trigger's `authType` is not enforced (the host listens on loopback only); a method the trigger does not list
 * gets 405; a handler that throws gets 502 with `x-fc-error-type: UnhandledInvocationError` and the FC error body.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The FC 3.0 HTTP trigger event (alibaba-protocols.md §6.3). */
export interface FcHttpEvent {
  version: 'v1';
  rawPath: string;
  body: string;
  isBase64Encoded: boolean;
  headers: Record<string, string>;
  queryParameters: Record<string, string>;
  requestContext: {
    accountId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    time: string;
    timeEpoch: string;
    triggerId?: string;
  };
}

const TEXT_TYPE = /^(text\/|application\/(?:[\w.+-]+\+)?(?:json|xml|javascript|x-www-form-urlencoded)\b)/i;

/** Builds the event FC passes for an HTTP request (`rawPathWithQuery` is the URL after the function prefix). */
export function buildHttpEvent(
  req: IncomingMessage,
  rawPathWithQuery: string,
  body: Buffer,
  info: { accountId: string; requestId: string; functionName: string; triggerName: string; now?: number },
): FcHttpEvent {
  const q = rawPathWithQuery.indexOf('?');
  const rawPath = (q < 0 ? rawPathWithQuery : rawPathWithQuery.slice(0, q)) || '/';
  const headers: Record<string, string> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i] ?? '';
    const v = req.rawHeaders[i + 1] ?? '';
    const existing = Object.keys(headers).find((h) => h.toLowerCase() === k.toLowerCase());
    if (existing !== undefined) headers[existing] = `${headers[existing]},${v}`;
    else headers[k] = v;
  }
  const queryParameters: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(q < 0 ? '' : rawPathWithQuery.slice(q + 1))) {
    queryParameters[k] = k in queryParameters ? `${queryParameters[k]},${v}` : v;
  }
  let path = rawPath;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    // FC passes the raw path when it does not decode; so does the host.
  }
  const contentType = req.headers['content-type'] ?? '';
  const textual = body.length === 0 || (TEXT_TYPE.test(contentType) && Buffer.from(body.toString('utf8'), 'utf8').equals(body));
  const now = info.now ?? Date.now();
  const host = req.headers.host ?? 'localhost';
  return {
    version: 'v1',
    rawPath,
    body: textual ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: !textual,
    headers,
    queryParameters,
    requestContext: {
      accountId: info.accountId,
      domainName: host,
      domainPrefix: info.functionName,
      http: {
        method: (req.method ?? 'GET').toUpperCase(),
        path,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: String(req.headers['user-agent'] ?? ''),
      },
      requestId: info.requestId,
      time: new Date(now).toISOString().slice(0, 19) + 'Z',
      timeEpoch: String(now),
      triggerId: info.triggerName,
    },
  };
}

/** Writes a function's return value as the HTTP response (FC 3.0 built-in runtime conversion). */
export function writeHttpResult(res: ServerResponse, result: Buffer, requestId: string, method = 'GET'): void {
  res.setHeader('x-fc-request-id', requestId);
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.toString('utf8'));
  } catch {
    parsed = undefined;
  }
  if (parsed && typeof parsed === 'object' && typeof (parsed as { statusCode?: unknown }).statusCode === 'number') {
    const r = parsed as { statusCode: number; headers?: Record<string, unknown>; body?: unknown; isBase64Encoded?: boolean };
    const body =
      r.body === undefined || r.body === null
        ? Buffer.alloc(0)
        : typeof r.body === 'string'
          ? Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8')
          : Buffer.from(JSON.stringify(r.body), 'utf8');
    res.statusCode = r.statusCode;
    for (const [k, v] of Object.entries(r.headers ?? {})) {
      const lower = k.toLowerCase();
      // Like FC: hop-by-hop and framing headers are the gateway's, not the function's.
      if (['connection', 'content-length', 'date', 'keep-alive', 'transfer-encoding', 'upgrade'].includes(lower) || lower.startsWith('x-fc-')) continue;
      res.setHeader(k, Array.isArray(v) ? v.map(String) : String(v));
    }
    // A HEAD answer has no body; its Content-Length is the function's (the length a GET would have).
    const declared = Object.entries(r.headers ?? {}).find(([k]) => k.toLowerCase() === 'content-length')?.[1];
    res.setHeader('content-length', method === 'HEAD' && body.length === 0 && declared !== undefined ? String(declared) : body.length);
    res.end(method === 'HEAD' ? undefined : body);
    return;
  }
  res.statusCode = 200;
  res.setHeader('content-length', result.length);
  res.end(result);
}

/** A request id in FC's `1-<hex seconds>-<hex>` shape. */
export function fcRequestId(now = Date.now()): string {
  return `1-${Math.floor(now / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

/** Reads a request body up to `limit` bytes (FC's 32 MB sync payload limit by default). */
export async function readRequestBody(req: IncomingMessage, limit = 32 * 1024 * 1024): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}
