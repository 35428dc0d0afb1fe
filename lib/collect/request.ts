/**
 * The collect request: what a direct/async invocation or `POST /collect` carries, validated before anything is read
 * or written. Ids are checked against their documented shapes so nothing odd ever reaches an object key.
 */
import { InputError } from '../errors';
import { EXECUTION_ID, INVOKE_ID, REGION_ID, isSource, type Source } from '../ids';
import type { ArchiveRef } from '../archive/layout';

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
}

const KNOWN_FIELDS = new Set(['source', 'regionId', 'executionId', 'invokeId', 'includeHistory', 'force', 'async', 'continuation']);

/** Parses and validates a collect payload (already JSON-decoded). Throws `InputError` (HTTP 400) with the reason. */
export function parseCollectRequest(value: unknown): CollectRequest {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError('InvalidPayload', 'the collect payload must be a JSON object');
  }
  const v = value as Record<string, unknown>;
  const unknown = Object.keys(v).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length > 0) {
    throw new InputError('InvalidPayload', `unknown field(s) in the collect payload: ${unknown.join(', ')}`);
  }
  if (!isSource(v.source)) {
    throw new InputError('InvalidSource', `"source" must be "oos" or "ecs", got ${describe(v.source)}`);
  }
  const regionId = requireString(v, 'regionId');
  if (!REGION_ID.test(regionId)) throw new InputError('InvalidRegionId', `"regionId" ${describe(regionId)} is not a region id such as cn-hangzhou`);

  let id: string;
  if (v.source === 'oos') {
    if (v.invokeId !== undefined) throw new InputError('InvalidPayload', '"invokeId" belongs to source "ecs"; OOS takes "executionId"');
    if (v.includeHistory !== undefined) throw new InputError('InvalidPayload', '"includeHistory" applies to source "ecs" only');
    id = requireString(v, 'executionId');
    if (!EXECUTION_ID.test(id)) throw new InputError('InvalidExecutionId', `"executionId" ${describe(id)} is not an OOS execution id (exec-…)`);
  } else {
    if (v.executionId !== undefined) throw new InputError('InvalidPayload', '"executionId" belongs to source "oos"; ECS takes "invokeId"');
    id = requireString(v, 'invokeId');
    if (!INVOKE_ID.test(id)) throw new InputError('InvalidInvokeId', `"invokeId" ${describe(id)} is not a Cloud Assistant invoke id (t-…)`);
  }
  const continuation = v.continuation ?? 0;
  if (typeof continuation !== 'number' || !Number.isInteger(continuation) || continuation < 0 || continuation > 10_000) {
    throw new InputError('InvalidPayload', '"continuation" must be a non-negative integer');
  }
  return {
    source: v.source,
    regionId,
    id,
    includeHistory: optionalBoolean(v, 'includeHistory'),
    force: optionalBoolean(v, 'force'),
    async: optionalBoolean(v, 'async'),
    continuation,
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
  return out;
}

function requireString(v: Record<string, unknown>, key: string): string {
  const value = v[key];
  if (value === undefined || value === null || value === '') throw new InputError('MissingParameter', `"${key}" is required`);
  if (typeof value !== 'string') throw new InputError('InvalidPayload', `"${key}" must be a string, got ${describe(value)}`);
  return value;
}

function optionalBoolean(v: Record<string, unknown>, key: string): boolean {
  const value = v[key];
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new InputError('InvalidPayload', `"${key}" must be true or false, got ${describe(value)}`);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value);
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}
