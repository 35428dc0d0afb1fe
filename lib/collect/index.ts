/**
 * The collect service: one request → one walk (or resume) → what happens after (continuation, summary).
 * `handleCollectEvent` is what the FC handler calls for both direct invocations and the HTTP trigger.
 */
import { InputError } from '../errors';
import type { SummarizeAfterCollect } from '../config';
import type { Runtime } from '../runtime';
import { COLLECTOR } from '../runtime';
import { errorResponse, isHttpTriggerEvent, jsonResponse, plainText, readJsonBody, toHttpRequest, type HttpResponse } from '../triggers';
import { summarizeArchive } from '../summary/index';
import { summarizeDeps } from '../summary/invocation';
import { createLiveSummary, type LiveSummary } from '../summary/live';
import { headline } from '../summary/render/markdown';
import { collect, type CollectDeps, type CollectResult } from './collect';
import { collectPayload, parseCollectRequest, type CollectRequest } from './request';
import { collectFunctionName, type AsyncInvoker } from '../fanout';

export type { AsyncInvoker } from '../fanout';
import { ecsAdapter, oosAdapter } from './sources';

export interface CollectServiceOptions {
  /** Needed for self-continuation of async invocations and for `SUMMARIZE_AFTER_COLLECT=async`. */
  invoker?: AsyncInvoker | undefined;
  /** Progress after every page (the command line's display). */
  onProgress?: CollectDeps['onProgress'];
}

export interface CollectResponse extends CollectResult {
  /** Set when this invocation scheduled its own continuation. */
  continuation?: { scheduled: boolean; requestId?: string; reason?: string };
  /** What happened about the summary once the archive was complete. */
  summary?: { mode: SummarizeAfterCollect; headline?: string; failures?: number; requestId?: string; error?: string };
}

/** Continuations stop here (the sweep picks up what is left); a runaway loop of invocations is worse than a delay. */
export const MAX_CONTINUATIONS = 200;

/**
 * Builds the walk's dependencies for one request from a handler runtime: the source's adapter over a rate-limited
 * client (`rateLimitPerSecond`), the part limits (ARCHIVE_PART_MAX_RECORDS, ARCHIVE_PART_MAX_MB), the deadline.
 */
export function collectDeps(rt: Runtime, req: CollectRequest, options: Pick<CollectServiceOptions, 'onProgress'> = {}): CollectDeps {
  const client = rt.rpc(req.source, req.regionId, { ceilingPerSecond: req.rateLimitPerSecond });
  return {
    store: rt.store,
    adapter: req.source === 'oos' ? oosAdapter(client, req) : ecsAdapter(client, req, { ecsPageConcurrency: rt.config.ecsPageConcurrency }),
    deadline: rt.deadline,
    logger: rt.logger,
    collector: COLLECTOR,
    limits: { maxRecords: rt.config.partMaxRecords, maxBytes: rt.config.partMaxBytes },
    ...(rt.config.outputDelivery && req.source === 'ecs'
      ? { outputs: { config: rt.config.outputDelivery, openBucket: (bucket: string, regionId: string) => rt.deliveryBucket(bucket, regionId) } }
      : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  };
}

/**
 * One collect request end to end: the walk (with {@link collectDeps}), then its continuation or the summary.
 * @example await runCollect(parseCollectRequest({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: 't-hz0jdfwd9f0a1b' }), rt)
 */
export async function runCollect(req: CollectRequest, rt: Runtime, options: CollectServiceOptions = {}): Promise<CollectResponse> {
  // Inline, the summary is aggregated while the walk goes (when the walk reads the whole archive): see lib/summary/live.ts.
  // The inline summary writes the warehouse (summarizeDeps' afterSummary): its results table is built as the records pass.
  // It starts storing the summary as soon as the manifest is written (beside the walk's clean-up).
  const ref = { source: req.source, regionId: req.regionId, id: req.id };
  const live = rt.config.summarizeAfterCollect === 'inline' ? createLiveSummary(req.source, { warehouse: true, summarize: { ...summarizeDeps(rt), ref } }) : undefined;
  try {
    const result: CollectResponse = await collect(req, { ...collectDeps(rt, req, options), observer: live });

    if (result.status === 'checkpointed' && req.async) {
      result.continuation = await scheduleContinuation(req, result.invocations, rt, options.invoker);
    }
    if (result.status === 'committed' || (result.outputsFilled ?? 0) > 0) {
      // A later collect that read outputs whose delivery was pending: the summary is made again from the archive.
      // The walk's own aggregation saw the cut outputs only: with full ones stored, the live summary stands aside.
      result.summary = await afterCommit(req, rt, options.invoker, result.status === 'committed' ? live : undefined);
    }
    return result;
  } finally {
    // Whatever it did not store (a resumed walk, an error) goes with its temporary files.
    live?.discard();
  }
}

async function scheduleContinuation(
  req: CollectRequest,
  invocationsSoFar: number,
  rt: Runtime,
  invoker: AsyncInvoker | undefined,
): Promise<NonNullable<CollectResponse['continuation']>> {
  const next = req.continuation + 1;
  if (next > MAX_CONTINUATIONS) {
    rt.logger.error('continuation limit reached; the sweep will resume this archive', { continuation: req.continuation });
    return { scheduled: false, reason: `limit of ${MAX_CONTINUATIONS} continuations reached` };
  }
  if (!invoker) return { scheduled: false, reason: 'no invoker configured' };
  const functionName = collectFunctionName(rt.config, rt.context.function?.name);
  // The task id names this step of progress (the archive's invocation count), so a duplicated request for the same
  // step is dropped by FC, while a walk restarted later (by the sweep) still gets fresh ids.
  const taskId = `collect-${req.source}-${req.id}-i${invocationsSoFar + 1}`;
  const { requestId } = await invoker.invokeAsync(functionName, collectPayload({ ...req, async: true, continuation: next }), { taskId });
  rt.logger.info('continuation scheduled', { functionName, continuation: next, asyncRequestId: requestId });
  return { scheduled: true, requestId };
}

/**
 * The summary once the archive is committed. `inline`: stored before collect answers, from the aggregation of the
 * walk when it saw the whole archive (then only the small summary objects are left to write), else by reading the
 * archive back (a resumed walk). `async`: the summarize function, invoked asynchronously. Either way every
 * committed archive gets its summary, which `GET /summary` also recomputes whenever it is missing or stale.
 */
async function afterCommit(
  req: CollectRequest,
  rt: Runtime,
  invoker: AsyncInvoker | undefined,
  live: LiveSummary | undefined,
): Promise<NonNullable<CollectResponse['summary']>> {
  const mode = rt.config.summarizeAfterCollect;
  const payload = { source: req.source, regionId: req.regionId, id: req.id, force: true };
  try {
    if (mode === 'inline') {
      const ref = { source: req.source, regionId: req.regionId, id: req.id };
      const stored = await live?.store({ ...summarizeDeps(rt), ref });
      if (stored) return { mode, headline: headline(stored.summary), failures: stored.summary.failures };
      if (live?.unavailable) rt.logger.debug('summarizing from the archive', { reason: live.unavailable });
      const { summary } = await summarizeArchive({ ...summarizeDeps(rt), ref });
      return { mode, headline: headline(summary), failures: summary.failures };
    }
    if (mode === 'async' && invoker) {
      const { requestId } = await invoker.invokeAsync(rt.config.summarizeFunctionName, payload, { taskId: `summarize-${req.source}-${req.id}` });
      return { mode, requestId };
    }
    return { mode };
  } catch (err) {
    // The archive is complete and committed; a summary can always be made later from it. Never fail the collection.
    rt.logger.error('summary after collect failed', { err });
    return { mode, error: err instanceof Error ? err.message : String(err) };
  }
}


/** The collect trigger's routes, anchored: `/collect`, `/collect/`, and the function's root. */
const COLLECT_PATH = /^\/(?:collect\/?)?$/;

/**
 * A decoded FC event: the HTTP trigger (`POST /collect`) gets an HTTP answer, errors included; a direct or async
 * invocation gets the result, and bad input or failures are thrown (typed) so FC's retry policy applies.
 */
export async function handleCollectEvent(event: unknown, rt: Runtime, options: CollectServiceOptions = {}): Promise<CollectResponse | HttpResponse> {
  if (!isHttpTriggerEvent(event)) return runCollect(parseCollectRequest(event), rt, options);
  const req = toHttpRequest(event);
  try {
    if (!COLLECT_PATH.test(req.path)) {
      throw new InputError('NotFound', `no route for ${JSON.stringify(plainText(req.path.slice(0, 200)))}; POST /collect`, 404);
    }
    if (req.method !== 'POST') throw new InputError('MethodNotAllowed', `use POST ${req.path}, not ${req.method}`, 405);
    const request = parseCollectRequest(readJsonBody(req));
    // An HTTP caller waits for the answer; it is not an async continuation chain.
    const result = await runCollect({ ...request, async: false }, rt, options);
    return jsonResponse(result.complete ? 200 : 202, result);
  } catch (err) {
    const res = errorResponse(err, rt.context.requestId, rt.logger);
    if (err instanceof InputError && err.status === 405) res.headers.allow = 'POST';
    return res;
  }
}
