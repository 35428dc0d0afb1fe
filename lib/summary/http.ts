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
import { errorResponse, isHttpTriggerEvent, plainText, readJsonBody, textResponse, toHttpRequest, type HttpRequest, type HttpResponse } from '../triggers';
import { loadSummary, type SummaryFormat } from './index';
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
    const res =
      format === 'html'
        ? textResponse(200, loaded.body, 'text/html; charset=utf-8')
        : format === 'md'
          ? textResponse(200, loaded.body, 'text/markdown; charset=utf-8')
          : textResponse(200, loaded.body, 'application/json; charset=utf-8');
    Object.assign(res.headers, {
      'cache-control': 'no-cache',
      vary: 'Accept',
      'x-content-type-options': 'nosniff',
      'x-summary-computed': String(loaded.computed),
      // HEAD answers the same headers as GET, the real length included, and no body.
      'content-length': String(Buffer.byteLength(loaded.body, 'utf8')),
    });
    if (format === 'html') res.headers['content-security-policy'] = REPORT_CSP;
    if (req.method === 'HEAD') res.body = '';
    return res;
  } catch (err) {
    const res = errorResponse(err, requestId, deps.logger);
    if (err instanceof InputError && err.status === 405) res.headers.allow = 'GET, HEAD, POST';
    return res;
  }
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
