/**
 * The sweep: the reconciliation half of "events + sweep" (product anchors §7 ideas 2, 5, 6). On a timer it lists
 * what finished recently (OOS parent executions, Cloud Assistant invocations), keeps what has no complete archive,
 * and dispatches `collect` for each with bounded concurrency until the invocation's deadline. It also warns about
 * unarchived items close to the API's retention horizon, and counts the Cloud Assistant invocations it had to heal
 * (finished long enough ago that their event should have archived them: evidence of a lost event).
 *
 * Listing cost: ListExecutions 100 per page (EndDateAfter filters on the server) and DescribeInvocations 50 per page
 * (newest first, no time filter on the server: the walk stops after a page that lies wholly before the window).
 */
import { manifestKey, type ArchiveRef } from '../archive/layout';
import type { ObjectStore } from '../archive/store';
import { describeInvocations } from '../cloud/ecs';
import { listExecutions } from '../cloud/oos';
import { detached } from '../cloud/paginate';
import type { RpcClient } from '../cloud/rpc';
import { budgetShare, collectPayload } from '../collect/request';
import type { Deadline } from '../deadline';
import { EXECUTION_ID, INVOKE_ID, type Source } from '../ids';
import type { Logger } from '../log';
import { dispatchDeps, type Runtime } from '../runtime';
import { readClaim } from '../archive/claim';
import { DEFAULT_COLLECT_FUNCTION_NAME, type AsyncInvoker } from '../fanout';
import { invocationStatusOf, isFinishedExecutionStatus, isFinishedInvocationStatus } from '../status';
import { pLimit } from '../limit';
import { parseSweepPayload, type SweepRequest } from './payload';

export { parseSweepPayload, SWEEP_LIMITS, type SweepRequest } from './payload';

const DAY_MS = 86_400_000;

/** What the sweep needs; everything is injected so it runs without FC. */
export interface SweepDeps {
  store: ObjectStore;
  /** An API client for a service in a region (the sweep makes one per region and service). */
  rpc(service: Source, regionId: string): RpcClient;
  invoker: AsyncInvoker;
  logger: Logger;
  /** The invocation's deadline: no dispatch starts within `reserveMs` of it. */
  deadline: Deadline;
  /** Region swept when the payload names none (config region). */
  defaultRegionId: string;
  /** @default 'execution-archive-collect' */
  collectFunctionName?: string;
  /** Epoch ms. @default Date.now */
  now?: () => number;
  /** Kept back before the deadline. @default 1000 */
  reserveMs?: number;
  /** An ECS invocation finished longer ago than this, dispatched by the sweep, counts as healed. @default 15 */
  healAfterMinutes?: number;
  /**
   * API_ACCOUNT_RATE_BUDGET: each collect dispatched gets budget ÷ the sweep's concurrency as its ceiling, so the
   * collections running at once stay within the budget together. @default none
   */
  accountBudgetPerSecond?: number | undefined;
  /** Epoch ms: only what finished (OOS) or was created (ECS) before this is checked and dispatched (`execution-archive sweep --until`). @default now */
  untilMs?: number;
}

/** One unarchived item close to the retention horizon. */
export interface NearHorizonItem {
  source: Source;
  regionId: string;
  id: string;
  /** Age from creation / start, in days (two decimals). */
  ageDays: number;
}

/** A failure of one step; the sweep goes on with the rest. */
export interface SweepFailure {
  source: Source;
  regionId: string;
  /** Absent when listing the region/source failed. */
  id?: string;
  stage: 'list' | 'check' | 'dispatch';
  error: string;
}

/** The sweep's answer (also the function's result). */
export interface SweepResult {
  window: { from: string; to: string };
  regions: string[];
  sources: Source[];
  /** Parent executions / invocations seen in the window, finished or not. */
  listed: number;
  /** Of those, not finished yet (skipped; a later sweep or the events take them). */
  running: number;
  alreadyArchived: number;
  /** ECS only: a fresh dispatch claim shows an event already dispatched collect (skipped). */
  claimed: number;
  /** Async invocations of collect accepted by FC. */
  dispatched: number;
  /** FC already had the task id (this sweep ran before at the same minute). */
  duplicates: number;
  /** ECS invocations dispatched here that finished more than `healAfterMinutes` ago: their event was lost. */
  healed: number;
  failed: SweepFailure[];
  nearHorizon: NearHorizonItem[];
  /** True when the deadline stopped the listing or the dispatch: the next sweep picks up the rest. */
  incomplete: boolean;
  /** Items left unchecked / undispatched because of the deadline. */
  remaining: number;
  dryRun: boolean;
  /** dryRun only: what would be dispatched (first 1000). */
  wouldDispatch?: Array<{ source: Source; regionId: string; id: string }>;
  /** API calls (attempts) of the listing. */
  apiCalls: number;
}

interface Candidate {
  source: Source;
  regionId: string;
  id: string;
  /** Creation (ECS) / start (OOS), epoch ms; NaN when unknown. */
  createdMs: number;
  /** End (OOS) / latest instance finish (ECS), epoch ms; NaN when unknown. */
  finishedMs: number;
}

/** The `yyyymmddhhmm` (UTC) stamp that makes one sweep's task ids unique per trigger minute. */
export function sweepStamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace(/[-T:]/g, '');
}

/** The async task id of a sweep dispatch: `collect-<source>-<id>-sweep-<yyyymmddhhmm>`. */
export function sweepTaskId(source: Source, id: string, triggerMs: number): string {
  return `collect-${source}-${id}-sweep-${sweepStamp(triggerMs)}`;
}

/**
 * Runs one sweep.
 * @param event the decoded FC event: a timer trigger event or the payload object of a direct invocation.
 * @throws InputError for a bad payload (nothing is listed or dispatched).
 * @example await runSweep({ triggerTime, triggerName: 'sweep', payload: '{"lookbackHours":24}' }, sweepDeps(rt, invoker))
 */
export async function runSweep(event: unknown, deps: SweepDeps): Promise<SweepResult> {
  const sweep = startSweep(event, deps);
  const candidates = inWindowOldestFirst(await listFinished(sweep), deps.untilMs);
  const limit = pLimit(sweep.req.concurrency);
  await Promise.all(candidates.map((c) => limit(() => sweepCandidate(sweep, c))));
  return finishSweep(sweep);
}

/** One sweep as it runs: its request, its clock and window, and the result it is counting. */
interface Sweep {
  readonly req: SweepRequest;
  readonly deps: SweepDeps;
  readonly log: Logger;
  readonly now: () => number;
  /** When the sweep started (epoch ms): ages are measured from here. */
  readonly nowMs: number;
  readonly fromMs: number;
  /** The timer's time (task ids name it), else `nowMs`. */
  readonly triggerMs: number;
  readonly result: SweepResult;
  /** The deadline is near: what is not started is left to the next sweep. */
  outOfTime(): boolean;
}

function startSweep(event: unknown, deps: SweepDeps): Sweep {
  const req = parseSweepPayload(event, deps.defaultRegionId);
  const now = deps.now ?? Date.now;
  const nowMs = now();
  const fromMs = nowMs - req.lookbackHours * 3_600_000;
  const triggerMs = req.triggerTimeMs ?? nowMs;
  const reserveMs = deps.reserveMs ?? 1_000;
  const result: SweepResult = {
    window: { from: new Date(fromMs).toISOString(), to: new Date(Math.min(nowMs, deps.untilMs ?? nowMs)).toISOString() },
    regions: req.regions,
    sources: req.sources,
    listed: 0,
    running: 0,
    alreadyArchived: 0,
    claimed: 0,
    dispatched: 0,
    duplicates: 0,
    healed: 0,
    failed: [],
    nearHorizon: [],
    incomplete: false,
    remaining: 0,
    dryRun: req.dryRun,
    ...(req.dryRun ? { wouldDispatch: [] } : {}),
    apiCalls: 0,
  };
  return {
    req,
    deps,
    log: deps.logger.child({ sweep: sweepStamp(triggerMs) }),
    now,
    nowMs,
    fromMs,
    triggerMs,
    result,
    outOfTime: () => deps.deadline.nearlyDone(reserveMs),
  };
}

/** Step 1: what finished in the window, listed a few (region, source) pairs at a time. */
async function listFinished(sweep: Sweep): Promise<Candidate[]> {
  const { req, deps, log, result } = sweep;
  const candidates: Candidate[] = [];
  const clients: RpcClient[] = [];
  const pairs = req.regions.flatMap((regionId) => req.sources.map((source) => ({ regionId, source })));
  const listLimit = pLimit(4);
  await Promise.all(
    pairs.map(({ regionId, source }) =>
      listLimit(async () => {
        const client = deps.rpc(source, regionId);
        clients.push(client);
        try {
          const listing = source === 'oos' ? listOos(client, sweep.fromMs, sweep.outOfTime) : listEcs(client, sweep.fromMs, sweep.outOfTime);
          const { items, listed, running, cut } = await listing;
          result.listed += listed;
          result.running += running;
          if (cut) {
            result.incomplete = true;
            log.warn('listing stopped by the deadline', { source, regionId });
          }
          candidates.push(...items);
        } catch (err) {
          log.error('listing failed', { source, regionId, err });
          result.failed.push({ source, regionId, stage: 'list', error: message(err) });
        }
      }),
    ),
  );
  result.apiCalls = clients.reduce((n, c) => n + c.stats.apiCalls, 0);
  return candidates;
}

/** The candidates up to `untilMs` (when the window has an end), oldest first: closest to the horizon. */
function inWindowOldestFirst(candidates: Candidate[], untilMs: number | undefined): Candidate[] {
  const inWindow = untilMs === undefined ? candidates : candidates.filter((c) => !((c.source === 'oos' ? c.finishedMs : c.createdMs) > untilMs));
  return inWindow.sort((a, b) => (a.createdMs || 0) - (b.createdMs || 0));
}

/** Step 2, for one candidate: skip it if archived or claimed, warn near the horizon, dispatch its collect. */
async function sweepCandidate(sweep: Sweep, c: Candidate): Promise<void> {
  const { result } = sweep;
  if (sweep.outOfTime()) {
    result.remaining++;
    return;
  }
  const ref: ArchiveRef = { source: c.source, regionId: c.regionId, id: c.id };
  try {
    if (await isTakenCareOf(sweep, ref)) return;
  } catch (err) {
    result.failed.push({ source: c.source, regionId: c.regionId, id: c.id, stage: 'check', error: message(err) });
    return;
  }
  warnNearHorizon(sweep, c);
  if (sweep.req.dryRun) {
    if (result.wouldDispatch && result.wouldDispatch.length < 1000) result.wouldDispatch.push({ source: c.source, regionId: c.regionId, id: c.id });
    return;
  }
  await dispatchCollect(sweep, c);
}

/** A complete archive exists (counted `alreadyArchived`), or, for ECS, an event's claim holds (`claimed`). */
async function isTakenCareOf(sweep: Sweep, ref: ArchiveRef): Promise<boolean> {
  const { deps, result } = sweep;
  if (await deps.store.head(manifestKey(ref))) {
    result.alreadyArchived++;
    return true;
  }
  if (ref.source === 'ecs') {
    const claim = await readClaim(deps.store, ref, sweep.now());
    if (claim && !claim.expired) {
      result.claimed++;
      return true;
    }
  }
  return false;
}

/** An unarchived item older than retentionDays − warnDays is listed (and logged) in `nearHorizon`. */
function warnNearHorizon(sweep: Sweep, c: Candidate): void {
  const { req } = sweep;
  const ageMs = sweep.nowMs - c.createdMs;
  if (!(Number.isFinite(ageMs) && ageMs > (req.retentionDays - req.warnDays) * DAY_MS)) return;
  const item: NearHorizonItem = { source: c.source, regionId: c.regionId, id: c.id, ageDays: Math.round((ageMs / DAY_MS) * 100) / 100 };
  sweep.result.nearHorizon.push(item);
  sweep.log.warn('unarchived item close to the retention horizon', { ...item, retentionDays: req.retentionDays });
}

/** One asynchronous collect, its task id naming the sweep's time so a retried sweep dispatches nothing twice. */
async function dispatchCollect(sweep: Sweep, c: Candidate): Promise<void> {
  const { deps, result } = sweep;
  const taskId = sweepTaskId(c.source, c.id, sweep.triggerMs);
  const functionName = deps.collectFunctionName ?? DEFAULT_COLLECT_FUNCTION_NAME;
  const share = budgetShare(deps.accountBudgetPerSecond, sweep.req.concurrency);
  try {
    const res = await deps.invoker.invokeAsync(functionName, collectPayload({ source: c.source, regionId: c.regionId, id: c.id, async: true, rateLimitPerSecond: share }), { taskId });
    if (res.duplicate) {
      result.duplicates++;
      return;
    }
    result.dispatched++;
    const healMs = (deps.healAfterMinutes ?? 15) * 60_000;
    if (c.source === 'ecs' && Number.isFinite(c.finishedMs) && sweep.nowMs - c.finishedMs > healMs) result.healed++;
  } catch (err) {
    sweep.log.error('collect dispatch failed', { source: c.source, regionId: c.regionId, id: c.id, taskId, err });
    result.failed.push({ source: c.source, regionId: c.regionId, id: c.id, stage: 'dispatch', error: message(err) });
  }
}

function finishSweep(sweep: Sweep): SweepResult {
  const { result, log } = sweep;
  if (result.remaining > 0) result.incomplete = true;
  result.nearHorizon.sort((a, b) => b.ageDays - a.ageDays);
  const { wouldDispatch, nearHorizon, failed, ...counts } = result;
  log.info('sweep done', { ...counts, nearHorizon: nearHorizon.length, failed: failed.length, wouldDispatch: wouldDispatch?.length });
  if (result.healed > 0) log.warn('the sweep archived invocations whose events were lost', { healed: result.healed });
  return result;
}

interface Listing {
  items: Candidate[];
  listed: number;
  running: number;
  /** The deadline stopped the walk. */
  cut: boolean;
}

async function listOos(client: RpcClient, fromMs: number, outOfTime: () => boolean): Promise<Listing> {
  const out: Listing = { items: [], listed: 0, running: 0, cut: false };
  const seen = new Set<string>();
  for await (const page of listExecutions(client, { EndDateAfter: isoSeconds(fromMs) })) {
    for (const e of page.records) {
      if (typeof e.ExecutionId !== 'string') continue;
      // Kept across pages: detached, so it does not keep the page's response body alive.
      const id = detached(e.ExecutionId);
      if (!EXECUTION_ID.test(id) || seen.has(id)) continue;
      if (typeof e.ParentExecutionId === 'string' && e.ParentExecutionId !== '') continue;
      seen.add(id);
      out.listed++;
      if (!isFinishedExecutionStatus(e.Status)) {
        out.running++;
        continue;
      }
      out.items.push({
        source: 'oos',
        regionId: client.regionId,
        id,
        createdMs: parse(e.StartDate ?? e.CreateDate),
        finishedMs: parse(e.EndDate),
      });
    }
    if (page.nextToken !== undefined && outOfTime()) {
      out.cut = true;
      break;
    }
  }
  return out;
}

async function listEcs(client: RpcClient, fromMs: number, outOfTime: () => boolean): Promise<Listing> {
  const out: Listing = { items: [], listed: 0, running: 0, cut: false };
  const seen = new Set<string>();
  // No IncludeOutput: the answer lists every instance of every invocation already; outputs would multiply it.
  for await (const page of describeInvocations(client, { maxResults: 50 })) {
    let inWindow = 0;
    for (const inv of page.records) {
      const created = parse(inv.CreationTime);
      if (Number.isFinite(created) && created < fromMs) continue;
      inWindow++;
      if (typeof inv.InvokeId !== 'string') continue;
      // Kept across pages: detached, so it does not keep the (large) page's response body alive.
      const id = detached(inv.InvokeId);
      if (!INVOKE_ID.test(id) || seen.has(id)) continue;
      seen.add(id);
      out.listed++;
      if (!isFinishedInvocationStatus(invocationStatusOf(inv))) {
        out.running++;
        continue;
      }
      let finishedMs = NaN;
      for (const i of inv.InvokeInstances?.InvokeInstance ?? []) {
        const f = parse(i.FinishTime);
        if (Number.isFinite(f) && !(f <= finishedMs)) finishedMs = f;
      }
      out.items.push({ source: 'ecs', regionId: client.regionId, id, createdMs: created, finishedMs });
    }
    // Newest first: a non-empty page wholly before the window ends the walk.
    if (page.records.length > 0 && inWindow === 0) break;
    if (page.nextToken !== undefined && outOfTime()) {
      out.cut = true;
      break;
    }
  }
  return out;
}

function parse(value: unknown): number {
  return typeof value === 'string' && value !== '' ? Date.parse(value) : NaN;
}

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Builds the sweep's dependencies from a handler runtime (env `COLLECT_FUNCTION_NAME`). */
export function sweepDeps(rt: Runtime, invoker: AsyncInvoker): SweepDeps {
  return {
    ...dispatchDeps(rt, invoker),
    accountBudgetPerSecond: rt.config.apiAccountBudget,
  };
}

