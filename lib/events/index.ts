/**
 * The Cloud Assistant event consumer: TaskCompleted events (one per instance) → at most one `collect` dispatch per
 * invocation. Per distinct (region, invokeId) of a delivery:
 *
 *   1. HEAD the manifest: the archive is complete → `archived` (no API call).
 *   2. Read `_claim.json`: held and not expired → `claimed-elsewhere`.
 *   3. Probe (optional, default on): DescribeInvocationResults `InvokeRecordStatus=Running`, one record → any record
 *      means an instance still runs → `waiting`. This small answer replaces, for almost every event of a large task,
 *      the DescribeInvocations answer, which lists every instance of the task (≈ 400 bytes × instances).
 *   4. DescribeInvocations by InvokeId: unknown → `not-found` (events rejected); not finished → `waiting` (the event of
 *      the last instance to finish finds it finished).
 *   5. Take the claim (forbid-overwrite; single-winner takeover of an expired one); lost → `claimed-elsewhere`.
 *   6. Invoke `collect` asynchronously, task id `collect-ecs-<invokeId>` (a duplicate task id is fine) → `dispatched`.
 *      If the invoke fails the claim is released and, once the other invocations of the delivery are handled, the
 *      error is thrown so FC / EventBridge retry the delivery.
 *
 * Every step is idempotent: redeliveries and retries converge on the same single archive.
 */
import { createHash } from 'node:crypto';
import { noDeadline, type Deadline } from '../deadline';
import { DeadlineError } from '../errors';
import { describeFailure } from '../failure';
import type { ObjectStore } from '../archive/store';
import { manifestKey, type ArchiveRef } from '../archive/layout';
import { describeInvocationResults, describeInvocations } from '../cloud/ecs';
import type { RpcClient } from '../cloud/rpc';
import { budgetShare, collectPayload } from '../collect/request';
import type { Logger } from '../log';
import { dispatchDeps, type Runtime } from '../runtime';
import { DEFAULT_COLLECT_FUNCTION_NAME, type AsyncInvoker } from '../fanout';
import { invocationStatusOf, isFinishedInvocationStatus } from '../status';
import { pLimit } from '../limit';
import { DEFAULT_CLAIM_TTL_SECONDS, readClaim, releaseClaim, takeClaim } from '../archive/claim';
import { ECS_EVENT_SOURCE, parseTaskCompletedDelivery, TASK_COMPLETED_TYPE, type RejectedEvent, type TaskCompletedEvent } from './cloud-events';
import { listCandidates, pickInvocation, type InvocationCandidate } from './resolve';

export * from './cloud-events';
export { DEFAULT_CLAIM_TTL_SECONDS, type Claim } from '../archive/claim';

/** What happened for one invocation of a delivery. */
export type InvocationOutcome = 'archived' | 'claimed-elsewhere' | 'waiting' | 'dispatched' | 'not-found' | 'rejected';

/** One invocation of a delivery and its outcome. */
export interface InvocationReport {
  regionId: string;
  invokeId: string;
  outcome: InvocationOutcome;
  /** The async request id of the collect invocation (`dispatched`). */
  collectRequestId?: string;
  /** FC already had the task id: the earlier collect invocation stands (`dispatched`). */
  duplicate?: boolean;
  /** The overall status the API reported (`waiting`, `dispatched`). */
  status?: string;
  /** Why the API refused to look the invocation up (`rejected`: a region or id it does not accept). */
  reason?: string;
  /** How many events of the delivery named this invocation. */
  events: number;
}

/** The consumer's answer (also the function's result). */
export interface EventDeliveryResult {
  events: number;
  accepted: number;
  rejected: RejectedEvent[];
  invocations: InvocationReport[];
  /** API calls (attempts) this delivery made. */
  apiCalls: number;
  /** Events left when the deadline came near, handed on to later invocations of this function. */
  handedOn?: { events: number; requestIds: string[] };
}

/** What the consumer needs; everything is injected so it runs without FC. */
export interface EventConsumerDeps {
  store: ObjectStore;
  /** A Cloud Assistant API client for a region (a fresh one per call is fine; the consumer caches per region). */
  rpc(service: 'ecs', regionId: string): RpcClient;
  invoker: AsyncInvoker;
  logger: Logger;
  /** This invocation's request id (written into the claim). */
  requestId: string;
  /** Region of events that name none (config region). */
  defaultRegionId: string;
  /** @default 'execution-archive-collect' */
  collectFunctionName?: string;
  /** @default 900 (15 minutes) */
  claimTtlSeconds?: number;
  /** Skip the DescribeInvocationResults probe of step 3 (always DescribeInvocations). @default true */
  probe?: boolean;
  /** Invocations of one delivery handled at once. @default 8 */
  concurrency?: number;
  /** Epoch ms. @default Date.now */
  now?: () => number;
  /** This function's account (`context.accountId`): events of other accounts are rejected. @default no check */
  accountId?: string | undefined;
  /** The invocation's time budget; what it leaves no time for is handed on. @default no deadline */
  deadline?: Deadline;
  /** This function's name, to hand on what the deadline leaves (`context.function.name`). @default none: retryable failure */
  selfFunctionName?: string | undefined;
  /**
   * API_ACCOUNT_RATE_BUDGET and API_BUDGET_SHARES: each collect dispatched gets budget ÷ shares as its ceiling.
   * @default no budget
   */
  accountBudget?: { perSecond: number | undefined; shares: number } | undefined;
}

/** Events handed on to a later invocation per async invocation (≈ 300 bytes each, well under FC's 128 KB). */
export const HANDOFF_CHUNK = 200;

/**
 * Handles one EventBridge delivery (a decoded FC event: one CloudEvents object or an array).
 *
 * Work per delivery is bounded by the deadline: invocations not started before it comes near are handed on to a later
 * invocation of this function (asynchronously, with their events; at least one invocation is handled per delivery,
 * so a chain of hand-offs always progresses). Without a way to hand on, the delivery fails as retryable.
 *
 * @throws InputError when the payload is neither an object nor an array (undecodable).
 * @throws the first transient API / storage / invoke error after every invocation of the delivery was tried, so the
 *   delivery is retried; foreign, malformed or poison events (an input the API refuses) never throw: they are listed
 *   in `rejected`.
 * @example await handleCloudAssistantEvents(decodeEvent(event), eventConsumerDeps(rt, invoker))
 */
export async function handleCloudAssistantEvents(payload: unknown, deps: EventConsumerDeps): Promise<EventDeliveryResult> {
  const parsed = parseTaskCompletedDelivery(payload, { defaultRegionId: deps.defaultRegionId, accountId: deps.accountId });
  for (const r of parsed.rejected) deps.logger.warn('event rejected', { eventId: r.id, reason: r.reason });
  const delivery = startDelivery(deps, parsed.rejected);
  const resolved = await resolveInvokeIds(delivery, parsed.accepted);
  const invocations = await dispatchInvocations(delivery, groupByInvocation(resolved));
  return finishDelivery(delivery, { events: parsed.events, accepted: parsed.accepted.length }, invocations);
}

/** One delivery as it is handled: what was decided so far, the API clients, and the time it has. */
interface Delivery {
  readonly deps: EventConsumerDeps;
  readonly rejected: RejectedEvent[];
  /** Transient failures: thrown (the first) once every invocation was tried, so the delivery is retried. */
  readonly errors: unknown[];
  /** Events this delivery had no time for, handed on at the end. */
  readonly leftover: TaskCompletedEvent[];
  /** The ECS client of a region (one per region and delivery). */
  client(regionId: string): RpcClient;
  readonly clients: Map<string, RpcClient>;
  /** True when the next piece of work should be handed on (never before the first piece was done). */
  outOfTime(): boolean;
  /** Runs one piece of work, timing it: the slowest piece sets the margin kept before the deadline. */
  timed<T>(work: () => Promise<T>): Promise<T>;
}

function startDelivery(deps: EventConsumerDeps, rejected: readonly RejectedEvent[]): Delivery {
  const deadline = deps.deadline ?? noDeadline;
  const clients = new Map<string, RpcClient>();
  let slowestMs = 0;
  let handled = 0;
  return {
    deps,
    rejected: [...rejected],
    errors: [],
    leftover: [],
    clients,
    client(regionId) {
      let c = clients.get(regionId);
      if (!c) {
        c = deps.rpc('ecs', regionId);
        clients.set(regionId, c);
      }
      return c;
    },
    outOfTime: () => handled > 0 && deadline.nearlyDone(Math.max(MIN_RESERVE_MS, slowestMs * 3)),
    async timed(work) {
      const started = Date.now();
      try {
        return await work();
      } finally {
        handled += 1;
        slowestMs = Math.max(slowestMs, Date.now() - started);
      }
    },
  };
}

/** Why the API refused an input (a caller's fault: the event is poison, rejected), or undefined for a transient failure. */
function poisonReason(err: unknown): string | undefined {
  const f = describeFailure(err);
  return f.fault === 'caller' ? `${f.code}: ${f.message}` : undefined;
}

/** Events without an invoke id are resolved through the API, one lookup per (region, instance, command). */
async function resolveInvokeIds(delivery: Delivery, accepted: readonly TaskCompletedEvent[]): Promise<Array<TaskCompletedEvent & { invokeId: string }>> {
  const { logger } = delivery.deps;
  const lookups = new Map<string, Promise<InvocationCandidate[]>>();
  const resolved: Array<TaskCompletedEvent & { invokeId: string }> = [];
  for (const e of accepted) {
    if (e.invokeId !== undefined) {
      resolved.push(e as TaskCompletedEvent & { invokeId: string });
      continue;
    }
    const key = `${e.regionId}\n${e.instanceId}\n${e.commandId}`;
    let lookup = lookups.get(key);
    if (!lookup) {
      if (delivery.outOfTime()) {
        delivery.leftover.push(e);
        continue;
      }
      lookup = delivery.timed(() => listCandidates(delivery.client(e.regionId), e.instanceId, e.commandId ?? ''));
      lookups.set(key, lookup);
    }
    try {
      const invokeId = pickInvocation(await lookup, e.finishTimeMs ?? NaN);
      if (invokeId) {
        logger.debug('invoke id resolved', { eventId: e.id, instanceId: e.instanceId, commandId: e.commandId, invokeId });
        resolved.push({ ...e, invokeId });
      } else {
        const reason = `no invocation of command ${e.commandId} on instance ${e.instanceId} matches finishTime ${e.finishTime}`;
        logger.warn('event rejected', { eventId: e.id, reason });
        delivery.rejected.push({ id: e.id, reason });
      }
    } catch (err) {
      const reason = poisonReason(err);
      if (reason) {
        logger.warn('event rejected: the API refuses its input', { eventId: e.id, reason });
        delivery.rejected.push({ id: e.id, reason });
      } else {
        logger.error('invoke id lookup failed', { eventId: e.id, err });
        delivery.errors.push(err);
      }
    }
  }
  return resolved;
}

/** The events by invocation, in first-seen order. */
function groupByInvocation(resolved: ReadonlyArray<TaskCompletedEvent & { invokeId: string }>): Array<{ ref: ArchiveRef; events: TaskCompletedEvent[] }> {
  const groups = new Map<string, { ref: ArchiveRef; events: TaskCompletedEvent[] }>();
  for (const e of resolved) {
    const key = `${e.regionId}/${e.invokeId}`;
    const g = groups.get(key) ?? { ref: { source: 'ecs', regionId: e.regionId, id: e.invokeId }, events: [] };
    g.events.push(e);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/**
 * Each invocation through the steps of the module's header ({@link handleInvocation}), a few at once, while there is
 * time; an invocation not started is left over with its events, one the API refuses is rejected with its events.
 */
async function dispatchInvocations(delivery: Delivery, list: ReadonlyArray<{ ref: ArchiveRef; events: TaskCompletedEvent[] }>): Promise<InvocationReport[]> {
  const { deps } = delivery;
  const ctx: GroupContext = {
    deps,
    now: deps.now ?? Date.now,
    client: (regionId) => delivery.client(regionId),
    functionName: deps.collectFunctionName ?? DEFAULT_COLLECT_FUNCTION_NAME,
    ttlSeconds: deps.claimTtlSeconds ?? DEFAULT_CLAIM_TTL_SECONDS,
  };
  const limit = pLimit(deps.concurrency ?? 8);
  const settled = await Promise.allSettled(
    list.map((g) =>
      limit(async () => {
        if (delivery.outOfTime()) return undefined;
        return delivery.timed(() => handleInvocation(g.ref, g.events, ctx));
      }),
    ),
  );
  const invocations: InvocationReport[] = [];
  settled.forEach((s, i) => {
    const g = list[i];
    if (g === undefined) return; // settled has one entry per item of list
    if (s.status === 'fulfilled') {
      if (s.value === undefined) {
        delivery.leftover.push(...g.events);
        return;
      }
      invocations.push(s.value);
      if (s.value.outcome === 'not-found') {
        for (const e of g.events) delivery.rejected.push({ id: e.id, reason: `invocation ${g.ref.id} does not exist in ${g.ref.regionId}` });
      }
    } else {
      const reason = poisonReason(s.reason);
      if (reason) {
        deps.logger.warn('events rejected: the API refuses their input', { invokeId: g.ref.id, regionId: g.ref.regionId, reason });
        invocations.push({ regionId: g.ref.regionId, invokeId: g.ref.id, outcome: 'rejected', reason, events: g.events.length });
        for (const e of g.events) delivery.rejected.push({ id: e.id, reason });
      } else delivery.errors.push(s.reason);
    }
  });
  return invocations;
}

/** The answer: what was left is handed on, then the first transient error is thrown, or the result logged and returned. */
async function finishDelivery(delivery: Delivery, counts: { events: number; accepted: number }, invocations: InvocationReport[]): Promise<EventDeliveryResult> {
  const { deps, rejected, errors, leftover } = delivery;
  const apiCalls = [...delivery.clients.values()].reduce((n, c) => n + c.stats.apiCalls, 0);
  const result: EventDeliveryResult = { ...counts, rejected, invocations, apiCalls };
  if (leftover.length > 0) result.handedOn = await handOn(leftover, deps);
  if (errors.length > 0) {
    deps.logger.error('event delivery failed; it will be retried', { errors: errors.length, result });
    throw errors[0];
  }
  deps.logger.info('event delivery handled', {
    events: result.events,
    accepted: result.accepted,
    rejected: rejected.length,
    outcomes: invocations.map((i) => `${i.invokeId}:${i.outcome}`),
    handedOn: result.handedOn?.events ?? 0,
    apiCalls,
  });
  return result;
}

/** Work left when the deadline came near, with enough margin to hand it on and answer. */
const MIN_RESERVE_MS = 5_000;

/**
 * Hands events this delivery had no time for to later invocations of this function (async, in chunks; the task id is
 * a digest of the event ids, so a redelivered delivery hands on nothing twice).
 * @throws DeadlineError (retryable) when there is no way to hand on, so EventBridge redelivers rather than drop.
 */
async function handOn(events: TaskCompletedEvent[], deps: EventConsumerDeps): Promise<NonNullable<EventDeliveryResult['handedOn']>> {
  if (!deps.selfFunctionName) {
    throw new DeadlineError(`the deadline came before ${events.length} events could be handled, and this function does not know its own name to hand them on`);
  }
  const requestIds: string[] = [];
  for (let i = 0; i < events.length; i += HANDOFF_CHUNK) {
    const chunk = events.slice(i, i + HANDOFF_CHUNK);
    const digest = createHash('sha256')
      .update(chunk.map((e) => e.id).join('\n'))
      .digest('hex')
      .slice(0, 40);
    const res = await deps.invoker.invokeAsync(deps.selfFunctionName, chunk.map((e) => envelopeOf(e, deps.accountId)), { taskId: `events-handoff-${digest}` });
    requestIds.push(res.requestId);
  }
  deps.logger.info('deadline near: events handed on', { events: events.length, invocations: requestIds.length });
  return { events: events.length, requestIds };
}

/** A TaskCompleted CloudEvent carrying what the consumer uses of `e` (parsed again by the next invocation). */
function envelopeOf(e: TaskCompletedEvent, accountId: string | undefined): Record<string, unknown> {
  const data: Record<string, string> = { instanceId: e.instanceId, regionId: e.regionId };
  if (e.invokeId) data.invokeId = e.invokeId;
  if (e.commandId) data.commandId = e.commandId;
  if (e.finishTime) data.finishTime = e.finishTime;
  if (e.invocationStatus) data.invocationStatus = e.invocationStatus;
  return {
    specversion: '1.0',
    id: e.id,
    source: ECS_EVENT_SOURCE,
    type: TASK_COMPLETED_TYPE,
    ...(accountId ? { aliyunaccountid: accountId } : {}),
    aliyunregionid: e.regionId,
    data,
  };
}

interface GroupContext {
  deps: EventConsumerDeps;
  now: () => number;
  client(regionId: string): RpcClient;
  functionName: string;
  ttlSeconds: number;
}

async function handleInvocation(ref: ArchiveRef, events: TaskCompletedEvent[], ctx: GroupContext): Promise<InvocationReport> {
  const { store } = ctx.deps;
  const log = ctx.deps.logger.child({ regionId: ref.regionId, invokeId: ref.id });
  const report = (outcome: InvocationOutcome, extra: Partial<InvocationReport> = {}): InvocationReport => {
    const r: InvocationReport = { regionId: ref.regionId, invokeId: ref.id, outcome, events: events.length, ...extra };
    log.info(`invocation ${outcome}`, { ...extra, events: events.length });
    return r;
  };

  // 1. Already archived: the manifest is written last, only for a complete archive.
  if (await store.head(manifestKey(ref))) return report('archived');

  // 2. Someone already dispatched collect and the claim is still fresh.
  const existing = await readClaim(store, ref, ctx.now());
  if (existing && !existing.expired) return report('claimed-elsewhere');

  const client = ctx.client(ref.regionId);
  // 3. Cheap probe: any record still Running means the invocation is not finished. Finding none proves nothing
  //    (Pending/Stopping records, an empty page): step 4 decides.
  if (ctx.deps.probe !== false) {
    for await (const page of describeInvocationResults(client, { invokeId: ref.id, invokeRecordStatus: 'Running', maxResults: 1, maxPages: 1 })) {
      if (page.records.length > 0) return report('waiting', { status: 'Running' });
    }
  }

  // 4. The overall status, authoritative.
  let status: string | undefined;
  for await (const page of describeInvocations(client, { InvokeId: ref.id })) {
    const record = page.records.find((r) => r.InvokeId === ref.id);
    if (record) {
      status = invocationStatusOf(record);
      break;
    }
  }
  if (status === undefined) {
    log.warn('invocation not found; its events are rejected', { events: events.map((e) => e.id) });
    return report('not-found');
  }
  if (!isFinishedInvocationStatus(status)) return report('waiting', { status });

  // 5. One dispatcher per invocation.
  const taken = await takeClaim(store, ref, { claimedBy: ctx.deps.requestId, nowMs: ctx.now(), ttlSeconds: ctx.ttlSeconds });
  if (!taken.taken) return report('claimed-elsewhere', { status });
  // A collector may have committed, and cleared the claims, between step 1 and now: look once more.
  if (await store.head(manifestKey(ref))) {
    await releaseClaim(store, ref, taken.claim).catch((err: unknown) => log.warn('claim release failed', { err }));
    return report('archived', { status });
  }

  // 6. Dispatch collect.
  const taskId = `collect-ecs-${ref.id}`;
  try {
    const res = await ctx.deps.invoker.invokeAsync(ctx.functionName, collectPayload({
        source: 'ecs',
        regionId: ref.regionId,
        id: ref.id,
        async: true,
        rateLimitPerSecond: budgetShare(ctx.deps.accountBudget?.perSecond, ctx.deps.accountBudget?.shares ?? 1),
      }), {
      taskId,
    });
    return report('dispatched', {
      status,
      collectRequestId: res.requestId,
      ...(res.duplicate ? { duplicate: true } : {}),
    });
  } catch (err) {
    log.error('collect dispatch failed; releasing the claim', { taskId, err });
    await releaseClaim(store, ref, taken.claim).catch((releaseErr: unknown) => log.error('claim release failed', { err: releaseErr }));
    throw err;
  }
}

/** Builds the consumer's dependencies from a handler runtime (COLLECT_FUNCTION_NAME, CLAIM_TTL_SECONDS). */
export function eventConsumerDeps(rt: Runtime, invoker: AsyncInvoker): EventConsumerDeps {
  return {
    ...dispatchDeps(rt, invoker),
    requestId: rt.context.requestId,
    claimTtlSeconds: rt.config.claimTtlSeconds,
    accountId: rt.context.accountId,
    selfFunctionName: rt.context.function?.name,
    accountBudget: { perSecond: rt.config.apiAccountBudget, shares: rt.config.apiBudgetShares },
  };
}
