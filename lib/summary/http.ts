/**
 * The summarize function's HTTP face and its event dispatch, kept out of the handler so it stays thin:
 *
 * - direct or async invocation with `{"source","regionId","id"[,"force"]}` or collect's payload (`executionId` /
 *   `invokeId` instead of `id`) → a compact result (throws typed errors): invocation.ts, which collect also uses;
 * - HTTP trigger `GET /summary?source=&regionId=&id=[&format=json|html|md][&refresh=true]` (or `executionId=` /
 *   `invokeId=`) → summary.json (default),
 *   report.html (`Accept: text/html` or `format=html`) or summary.md (`format=md`, `Accept: text/markdown`).
 */
import { InputError } from '../errors';
import { ARCHIVE_FIELDS, describeValue, rejectUnknownFields } from '../payload';
import { errorResponse, isHttpTriggerEvent, jsonResponse, plainText, readJsonBody, toHttpRequest, type HttpRequest, type HttpResponse } from '../triggers';
import { loadSummary, type LoadedSummary, type SummaryFormat } from './index';
import { handleSummaryInvocation, parseArchiveRef, type SummarizeDeps, type SummarizeInvocationResult } from './invocation';
import { REPORT_CSP } from './render/report-html';

/** The parameters of `GET /summary`. */
const QUERY_FIELDS: readonly string[] = [...ARCHIVE_FIELDS, 'format', 'refresh', 'force'];
const MEDIA: { format: SummaryFormat; types: string[] }[] = [
  { format: 'json', types: ['application/json'] },
  { format: 'html', types: ['text/html', 'application/xhtml+xml'] },
  { format: 'md', types: ['text/markdown', 'text/x-markdown'] },
];

/**
 * Picks the document: `format` (json|html|md|markdown) wins; else the `Accept` header's best match (highest q,
 * then exact types over wildcards, then json > html > md); else JSON.
 * @throws InputError 400 for an unknown `format`.
 * @example negotiateFormat({}, { accept: 'text/html,*\/*;q=0.8' }) // 'html'
 */
export function negotiateFormat(query: Record<string, string>, headers: Record<string, string>): SummaryFormat {
  const asked = query.format?.trim().toLowerCase();
  if (asked) {
    if (asked === 'json' || asked === 'html' || asked === 'md') return asked;
    if (asked === 'markdown') return 'md';
    throw new InputError('InvalidParameter', `format must be json, html or md, got ${describeValue(query.format)}`);
  }
  const accept = headers.accept;
  if (!accept) return 'json';
  const ranges = accept.split(',').map((part) => {
    const [type = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const qv = q === undefined ? 1 : Number(q.slice(2));
    return { type: type.trim(), q: Number.isFinite(qv) ? qv : 0 };
  });
  let best: { format: SummaryFormat; q: number; exact: boolean } | undefined;
  for (const media of MEDIA) {
    let q = -1;
    let exact = false;
    for (const r of ranges) {
      const isExact = media.types.includes(r.type);
      const isWild = r.type === '*/*' || media.types.some((t) => r.type === `${t.split('/')[0]}/*`);
      if (isExact && (!exact || r.q > q)) {
        q = r.q;
        exact = true;
      } else if (isWild && !exact && r.q > q) {
        q = r.q;
      }
    }
    if (q <= 0) continue;
    if (!best || q > best.q || (q === best.q && exact && !best.exact)) best = { format: media.format, q, exact };
  }
  return best?.format ?? 'json';
}

/**
 * The largest body `GET /summary` answers with: Function Compute limits a synchronous invocation's payload to 32 MB
 * (https://www.alibabacloud.com/help/doc-detail/2527064.html; the HTTP trigger's limits,
 * https://alibabacloud.com/help/en/functioncompute/code-development-in-custom-container-runtimes, say the same for
 * the request body), and the handler's answer travels inside the invocation's JSON response (escaped, or base64 for
 * a range: 4/3 of its bytes), so half of it is kept as the limit. Larger bodies get 413 naming the object instead.
 */
export const MAX_HTTP_BODY_BYTES = 16 * 1024 * 1024;

/** A single `bytes=` range of an object of `size` bytes: `[start, end)`, `'unsatisfiable'`, or `undefined` to send all (RFC 9110 §14). */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  // Several ranges, another unit or a malformed one: the Range header may be ignored (the whole object is sent).
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? Infinity : Number(m[2]);
  if (last < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(size, last + 1) };
}

/** The summarize trigger's routes, anchored: `/summary`, `/summary/`, and the function's root. */
const PATHS = /^\/(?:summary\/?)?$/;

/**
 * Answers an HTTP trigger request. `GET`/`HEAD /summary?source=&regionId=&id=` read (a GET writes nothing it was not
 * going to write anyway: a missing or stale summary is computed and stored once); `POST /summary` with the same
 * parameters (query or JSON body) recomputes and rewrites the summary objects. Errors become JSON
 * `{error:{code,message},requestId}` with their status (400 bad parameters, 404 no archive or path, 405 method,
 * 409 unfinished archive, 415 body type, 5xx otherwise, logged).
 * @example const res = await handleSummaryHttp(toHttpRequest(event), deps, context.requestId);
 */
export async function handleSummaryHttp(req: HttpRequest, deps: SummarizeDeps, requestId: string): Promise<HttpResponse> {
  try {
    if (!PATHS.test(req.path)) {
      throw new InputError('NotFound', `no such path ${JSON.stringify(plainText(req.path.slice(0, 200)))}; use GET /summary?source=&regionId=&id=`, 404);
    }
    const recompute = req.method === 'POST';
    if (req.method !== 'GET' && req.method !== 'HEAD' && !recompute) {
      throw new InputError('MethodNotAllowed', `${plainText(req.method.slice(0, 20))} is not supported; GET or HEAD reads a summary, POST recomputes it`, 405);
    }
    const params: Record<string, unknown> = { ...req.query, ...(recompute && req.body.length > 0 ? readJsonBody(req) : {}) };
    rejectUnknownFields(params, QUERY_FIELDS, recompute ? 'the summary request' : 'the summary query string');
    if (!recompute && (params.refresh !== undefined || params.force !== undefined)) {
      throw new InputError(
        'InvalidParameter',
        `${params.refresh !== undefined ? 'refresh' : 'force'} is not accepted on GET: a GET changes nothing; POST /summary with the same parameters recomputes the summary`,
      );
    }
    const ref = parseArchiveRef(params);
    if (params.format !== undefined && typeof params.format !== 'string') {
      throw new InputError('InvalidParameter', `format must be json, html or md, got ${describeValue(params.format)}`);
    }
    const format = negotiateFormat(params.format === undefined ? {} : { format: params.format }, req.headers);
    const loaded = await loadSummary({ ...deps, ref }, format, recompute);
    return await storedObjectResponse(req, loaded, format, deps);
  } catch (err) {
    const res = errorResponse(err, requestId, deps.logger);
    if (err instanceof InputError && err.status === 405) res.headers.allow = 'GET, HEAD, POST';
    return res;
  }
}

const CONTENT_TYPES: Record<SummaryFormat, string> = {
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
};

/**
 * The stored object as stored: all of it (200), or the `Range` asked for (206, base64: a range may cut a character),
 * `416` for a range past its end; `413 ResponseTooLarge` naming the object (key and URL) when the body would be over
 * {@link MAX_HTTP_BODY_BYTES}. HEAD answers the same headers, the real length included, and no body.
 */
async function storedObjectResponse(req: HttpRequest, loaded: LoadedSummary, format: SummaryFormat, deps: SummarizeDeps): Promise<HttpResponse> {
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPES[format],
    'cache-control': 'no-cache',
    vary: 'Accept',
    'x-content-type-options': 'nosniff',
    'x-summary-computed': String(loaded.computed),
    'accept-ranges': 'bytes',
  };
  if (format === 'html') headers['content-security-policy'] = REPORT_CSP;
  const range = req.method === 'POST' ? undefined : parseRange(req.headers.range, loaded.size);
  if (range === 'unsatisfiable') {
    const res = jsonResponse(416, { error: { code: 'RangeNotSatisfiable', message: `${loaded.key} is ${loaded.size} bytes; the range ${plainText(String(req.headers.range).slice(0, 100))} starts past its end` } });
    res.headers['content-range'] = `bytes */${loaded.size}`;
    return res;
  }
  const [start, end] = range ? [range.start, range.end] : [0, loaded.size];
  if (end - start > MAX_HTTP_BODY_BYTES) {
    const url = deps.store.locate(loaded.key);
    const res = jsonResponse(413, {
      error: {
        code: 'ResponseTooLarge',
        message:
          `${loaded.key} is ${loaded.size} bytes, more than the ${MAX_HTTP_BODY_BYTES} an HTTP answer of Function Compute can carry; ` +
          `read it from ${url}, or ask for parts of it with a Range header (bytes=0-${MAX_HTTP_BODY_BYTES - 1}, …)`,
      },
      object: { key: loaded.key, url, size: loaded.size },
    });
    Object.assign(res.headers, { 'x-summary-computed': String(loaded.computed), 'accept-ranges': 'bytes' });
    return res;
  }
  headers['content-length'] = String(end - start);
  const partial = range !== undefined;
  if (partial) headers['content-range'] = `bytes ${start}-${end - 1}/${loaded.size}`;
  if (req.method === 'HEAD') return { statusCode: partial ? 206 : 200, headers, isBase64Encoded: false, body: '' };
  const bytes = await loaded.read(start, end);
  return partial
    ? { statusCode: 206, headers, isBase64Encoded: true, body: bytes.toString('base64') }
    : { statusCode: 200, headers, isBase64Encoded: false, body: bytes.toString('utf8') };
}

/**
 * Dispatches a decoded FC event: an HTTP trigger request gets an HTTP response (errors included); anything else
 * is an invocation payload (errors thrown, so FC's async retry and dead-letter handling apply).
 */
export async function handleSummarizeEvent(
  event: unknown,
  deps: SummarizeDeps,
  requestId: string,
): Promise<HttpResponse | SummarizeInvocationResult> {
  if (isHttpTriggerEvent(event)) return handleSummaryHttp(toHttpRequest(event), deps, requestId);
  return handleSummaryInvocation(event, deps);
}
