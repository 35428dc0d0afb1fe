/**
 * The summarize function's two faces, kept out of the handler so it stays thin:
 *
 * - direct or async invocation with `{"source","regionId","id"[,"force"]}` or collect's payload (`executionId` /
 *   `invokeId` instead of `id`) → a compact result (throws typed errors);
 * - HTTP trigger `GET /summary?source=&regionId=&id=[&format=json|html|md][&refresh=true]` (or `executionId=` /
 *   `invokeId=`) → summary.json (default),
 *   report.html (`Accept: text/html` or `format=html`) or summary.md (`format=md`, `Accept: text/markdown`).
 */
import type { ArchiveRef } from '../archive/layout';
import { InputError } from '../errors';
import { ARCHIVE_FIELDS, describeValue, optionalBoolean, parseArchiveFields, rejectUnknownFields, requireObject } from '../payload';
import { errorResponse, isHttpTriggerEvent, textResponse, toHttpRequest, type HttpRequest, type HttpResponse } from '../triggers';
import type { FailureGroup } from './aggregate';
import { loadSummary, type SummarizeOptions, type SummaryFormat, type SummaryKeys } from './index';
import { headline } from './markdown';
import type { NotifyOutcome } from './notify';
import { REPORT_CSP } from './report-html';
import type { Summary } from './summary';

/** What the summarize entry points need (built once per invocation by the handler). */
export type SummarizeDeps = Omit<SummarizeOptions, 'ref'>;

/** The fields of a summarize invocation payload: collect's payload (without the fan-out's fields) is one. */
const PAYLOAD_FIELDS: readonly string[] = [...ARCHIVE_FIELDS, 'force', 'includeHistory'];
/** The parameters of `GET /summary`. */
const QUERY_FIELDS: readonly string[] = [...ARCHIVE_FIELDS, 'format', 'refresh', 'force'];
const PAYLOAD_EXAMPLE = '{"source":"ecs","regionId":"cn-hangzhou","invokeId":"t-hz0jdfwd9f0a1b"}';

/**
 * Validates the archive a payload or query string names: `source`, `regionId` and the id as `id`, `executionId`
 * (OOS) or `invokeId` (ECS), the same fields collect takes.
 * @throws InputError 400 naming the first bad field and what it should look like.
 * @example parseArchiveRef({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: 't-hz0jdfwd9f0a1b' })
 */
export function parseArchiveRef(input: Record<string, unknown>): ArchiveRef {
  return parseArchiveFields(input);
}

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

const PATHS = /^\/(?:summary\/?)?$|\/summary\/?$/;

/**
 * Answers an HTTP trigger request. Errors become JSON `{error:{code,message},requestId}` with their status
 * (400 bad parameters, 404 no archive, 405 method, 409 unfinished archive, 5xx otherwise, logged).
 * @example const res = await handleSummaryHttp(toHttpRequest(event), deps, context.requestId);
 */
export async function handleSummaryHttp(req: HttpRequest, deps: SummarizeDeps, requestId: string): Promise<HttpResponse> {
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const res = errorResponse(new InputError('MethodNotAllowed', `${req.method} is not supported; use GET`, 405), requestId);
      res.headers.allow = 'GET, HEAD';
      return res;
    }
    if (!PATHS.test(req.path)) {
      throw new InputError('NotFound', `no such path ${JSON.stringify(req.path.slice(0, 200))}; use GET /summary?source=&regionId=&id=`, 404);
    }
    rejectUnknownFields(req.query, QUERY_FIELDS, 'the summary query string');
    const ref = parseArchiveRef(req.query);
    const format = negotiateFormat(req.query, req.headers);
    const force = optionalBoolean(req.query, 'refresh', true) || optionalBoolean(req.query, 'force', true);
    const loaded = await loadSummary({ ...deps, ref }, format, force);
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
    });
    if (format === 'html') res.headers['content-security-policy'] = REPORT_CSP;
    if (req.method === 'HEAD') res.body = '';
    return res;
  } catch (err) {
    return errorResponse(err, requestId, deps.logger);
  }
}

/** A failure group without its instance list (what an invocation result carries). */
export type GroupDigest = Omit<FailureGroup, 'resourceIds' | 'example' | 'instanceErrors'> & { resources: number; exampleId: string };

/** The result of a direct or async invocation: the headline numbers, the top causes and where everything is. */
export interface SummarizeInvocationResult {
  archive: ArchiveRef;
  /** False when the stored summary was current and served as is. */
  computed: boolean;
  headline: string;
  total: number;
  byStatus: Record<string, number>;
  failures: number;
  unfinished: number;
  failureRatio: number;
  causes: number;
  /** The 10 largest causes. */
  topGroups: GroupDigest[];
  retryCount: number;
  truncatedOutputs: number;
  keys: SummaryKeys;
  links: Summary['links'];
  generatedAt: string;
  notification?: NotifyOutcome;
}

/**
 * Handles a direct/async invocation payload `{"source","regionId","id","force"?}` or collect's payload. The summary is recomputed when
 * stale or when `force` is true (a collector that just finished an archive may pass it).
 * @throws InputError 400 for a bad payload, 404/409 for a missing or unfinished archive; StorageError for damage.
 * @example await handleSummaryInvocation({ source: 'oos', regionId: 'cn-hangzhou', id: 'exec-6be6d6ff805349d9ac13' }, deps)
 */
export async function handleSummaryInvocation(payload: unknown, deps: SummarizeDeps): Promise<SummarizeInvocationResult> {
  const input = requireObject(payload, 'the summarize payload', PAYLOAD_EXAMPLE);
  rejectUnknownFields(input, PAYLOAD_FIELDS, 'the summarize payload');
  const ref = parseArchiveRef(input);
  // includeHistory is collect's: accepted (and checked) so that one payload serves both; the archive is summarized as collected.
  if (ref.source === 'oos' && input.includeHistory !== undefined) throw new InputError('InvalidPayload', '"includeHistory" applies to source "ecs" only');
  optionalBoolean(input, 'includeHistory');
  const loaded = await loadSummary({ ...deps, ref }, 'json', optionalBoolean(input, 'force'));
  const s = loaded.summary;
  const result: SummarizeInvocationResult = {
    archive: ref,
    computed: loaded.computed,
    headline: headline(s),
    total: s.total,
    byStatus: s.byStatus,
    failures: s.failures,
    unfinished: s.unfinished,
    failureRatio: s.failureRatio,
    causes: s.groups.length,
    topGroups: s.groups.slice(0, 10).map(({ resourceIds, example, instanceErrors: _errors, ...g }) => ({ ...g, resources: resourceIds.length, exampleId: example.id })),
    retryCount: s.retry.count,
    truncatedOutputs: s.truncatedOutputs.count,
    keys: loaded.keys,
    links: s.links,
    generatedAt: s.generatedAt,
  };
  if (loaded.notification) result.notification = loaded.notification;
  return result;
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
