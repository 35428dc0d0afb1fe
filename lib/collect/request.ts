/**
 * The collect request: what a direct/async invocation or `POST /collect` carries, validated before anything is read
 * or written. Ids are checked against their documented shapes so nothing odd ever reaches an object key.
 */
import type { ArchiveRef } from '../archive/layout';
import { InputError } from '../errors';
import type { Source } from '../ids';
import { ARCHIVE_FIELDS, describeValue, optionalBoolean, parseArchiveFields, rejectUnknownFields, requireObject } from '../payload';

export interface CollectRequest extends ArchiveRef {
  source: Source;
  /** ECS only: include every run of a periodic task (`IncludeHistory=true`). @default false */
  includeHistory: boolean;
  /** Re-collect even when a complete archive exists. @default false */
  force: boolean;
  /**
   * Set by fan-out (sweep, events) and by the collector's own continuations: the invocation is asynchronous, so
   * when the deadline comes it schedules its own continuation instead of relying on a caller to re-invoke.
   */
  async: boolean;
  /** Continuation number (0 for the first invocation); bounds self-continuation. */
  continuation: number;
  /**
   * This collection's share of the account's API budget (API_ACCOUNT_RATE_BUDGET), requests per second, given by the
   * sweep or the event consumer that started it: a hard ceiling on its send rate, kept by its continuations.
   * @default none (only API_RATE_LIMIT_PER_SECOND and the API's throttling limit it)
   */
  rateLimitPerSecond?: number | undefined;
}

const KNOWN_FIELDS: readonly string[] = [...ARCHIVE_FIELDS, 'includeHistory', 'force', 'async', 'continuation', 'rateLimitPerSecond'];
const EXAMPLE = '{"source":"oos","regionId":"cn-hangzhou","executionId":"exec-6be6d6ff805349d9ac13"}';

/**
 * Parses and validates a collect payload (already JSON-decoded): the archive (`id` or `executionId`/`invokeId`, see
 * `parseArchiveFields`), `includeHistory` (ECS), `force`, and the fan-out's `async`, `continuation` and
 * `rateLimitPerSecond`.
 * Throws `InputError` (HTTP 400) with the reason; an unknown field is named.
 */
export function parseCollectRequest(value: unknown): CollectRequest {
  const v = requireObject(value, 'the collect payload', EXAMPLE);
  rejectUnknownFields(v, KNOWN_FIELDS, 'the collect payload');
  const ref = parseArchiveFields(v);
  if (ref.source === 'oos' && v.includeHistory !== undefined) throw new InputError('InvalidPayload', '"includeHistory" applies to source "ecs" only');
  const continuation = v.continuation ?? 0;
  if (typeof continuation !== 'number' || !Number.isInteger(continuation) || continuation < 0 || continuation > 10_000) {
    throw new InputError('InvalidPayload', '"continuation" must be a non-negative integer');
  }
  const rate = v.rateLimitPerSecond;
  if (rate !== undefined && (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0 || rate > 100_000)) {
    throw new InputError('InvalidPayload', `"rateLimitPerSecond" must be a number of requests per second above 0 (at most 100000), got ${describeValue(rate)}`);
  }
  return {
    ...ref,
    includeHistory: optionalBoolean(v, 'includeHistory'),
    force: optionalBoolean(v, 'force'),
    async: optionalBoolean(v, 'async'),
    continuation,
    ...(rate !== undefined ? { rateLimitPerSecond: rate } : {}),
  };
}

/** The payload that re-invokes the collector for the same archive (continuations, fan-out). */
export function collectPayload(req: Pick<CollectRequest, 'source' | 'regionId' | 'id'> & Partial<CollectRequest>): Record<string, unknown> {
  const out: Record<string, unknown> = { source: req.source, regionId: req.regionId };
  if (req.source === 'oos') out.executionId = req.id;
  else {
    out.invokeId = req.id;
    if (req.includeHistory) out.includeHistory = true;
  }
  if (req.force) out.force = true;
  if (req.async) out.async = true;
  if (req.continuation) out.continuation = req.continuation;
  if (req.rateLimitPerSecond !== undefined) out.rateLimitPerSecond = req.rateLimitPerSecond;
  return out;
}

/**
 * One collector's share of an account-wide API budget split `shares` ways, requests per second (three decimals,
 * rounded down so N shares never add up to more than the budget), or `undefined` without a budget.
 * @example budgetShare(100, 16) // 6.25
 */
export function budgetShare(budgetPerSecond: number | undefined, shares: number): number | undefined {
  if (budgetPerSecond === undefined) return undefined;
  return Math.max(0.001, Math.floor((budgetPerSecond / Math.max(1, shares)) * 1000) / 1000);
}
