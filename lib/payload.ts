/**
 * The checks every payload shares (collect, summarize, sweep; JSON payloads and HTTP query strings): an object, no
 * unknown field (a typo such as `forse` is an error naming the field, never a silent default), typed fields, and the
 * archive a payload names. Each failure is an `InputError` (HTTP 400) that says which field and what it should be.
 */
import type { ArchiveRef } from './archive/layout';
import { InputError } from './errors';
import { EXECUTION_ID, INVOKE_ID, REGION_ID, isSource } from './ids';

/** The fields that name an archive: `source`, `regionId`, and its id as `id`, `executionId` (OOS) or `invokeId` (ECS). */
export const ARCHIVE_FIELDS: readonly string[] = ['source', 'regionId', 'id', 'executionId', 'invokeId'];

/** A value as an error message quotes it: strings quoted and cut at 80 characters. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 80) + '…' : value);
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

/**
 * The payload as an object.
 * @param what names the payload in the message (`the collect payload`).
 * @param example a valid payload, shown in the message.
 * @throws InputError `InvalidPayload` for anything but a JSON object.
 */
export function requireObject(value: unknown, what: string, example: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError('InvalidPayload', `${what} must be a JSON object such as ${example}`);
  }
  return value as Record<string, unknown>;
}

/** Levenshtein distance, for the "did you mean" of an unknown field. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * Rejects fields the payload does not define, naming each one (and the known field it probably meant).
 * @throws InputError `InvalidPayload`: `unknown field "forse" in the collect payload (did you mean "force"?); known fields: …`
 * @example rejectUnknownFields({ source: 'oos', forse: true }, ['source', 'force'], 'the collect payload')
 */
export function rejectUnknownFields(v: Record<string, unknown>, known: readonly string[], what: string): void {
  const unknown = Object.keys(v).filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  const hint = (k: string): string => {
    const near = known.map((f) => ({ f, d: distance(k.toLowerCase(), f.toLowerCase()) })).sort((a, b) => a.d - b.d)[0];
    return near && near.d <= Math.max(1, Math.floor(near.f.length / 3)) ? ` (did you mean "${near.f}"?)` : '';
  };
  const name = (k: string): string => JSON.stringify(k.slice(0, 80));
  const first = unknown[0] ?? '';
  const said =
    unknown.length === 1
      ? `unknown field ${name(first)} in ${what}${hint(first)}`
      : `unknown fields ${unknown.map((k) => name(k) + hint(k)).join(', ')} in ${what}`;
  throw new InputError('InvalidPayload', `${said}; known fields: ${known.join(', ')}`);
}

/**
 * A string field that must be present and non-empty.
 * @throws InputError `MissingParameter` when absent or empty, `InvalidPayload` when not a string.
 */
export function requireString(v: Record<string, unknown>, key: string): string {
  const value = v[key];
  if (value === undefined || value === null || value === '') throw new InputError('MissingParameter', `"${key}" is required`);
  if (typeof value !== 'string') throw new InputError('InvalidPayload', `"${key}" must be a string, got ${describeValue(value)}`);
  return value;
}

/**
 * An optional boolean field (`false` when absent). In a query string (`fromQuery`) the text forms `true`, `1`,
 * `false`, `0` are read.
 * @throws InputError `InvalidPayload` for anything else.
 */
export function optionalBoolean(v: Record<string, unknown>, key: string, fromQuery = false): boolean {
  const value = v[key];
  if (value === undefined) return false;
  if (typeof value === 'boolean') return value;
  if (fromQuery && typeof value === 'string') {
    const t = value.trim().toLowerCase();
    if (t === 'true' || t === '1') return true;
    if (t === 'false' || t === '0' || t === '') return false;
  }
  throw new InputError('InvalidPayload', `"${key}" must be true or false, got ${describeValue(value)}`);
}

/**
 * The archive a payload names: `source`, `regionId` and the id, given as `id` or as collect's `executionId` (OOS) /
 * `invokeId` (ECS), so one payload serves collect and summarize. Ids are checked against their documented shapes
 * so nothing odd reaches an object key.
 * @throws InputError `InvalidSource`, `InvalidRegionId`, `MissingParameter`, `InvalidExecutionId`/`InvalidInvokeId`,
 *   or `InvalidPayload` (an id of the other source, two ids that disagree, a value of the wrong type).
 * @example parseArchiveFields({ source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13' })
 */
export function parseArchiveFields(v: Record<string, unknown>): ArchiveRef {
  if (!isSource(v.source)) {
    throw new InputError(v.source === undefined ? 'MissingParameter' : 'InvalidSource', `"source" must be "oos" or "ecs", got ${describeValue(v.source)}`);
  }
  const regionId = requireString(v, 'regionId');
  if (!REGION_ID.test(regionId)) throw new InputError('InvalidRegionId', `"regionId" ${describeValue(regionId)} is not a region id such as cn-hangzhou`);
  const oos = v.source === 'oos';
  const own = oos ? 'executionId' : 'invokeId';
  const other = oos ? 'invokeId' : 'executionId';
  if (v[other] !== undefined) {
    throw new InputError('InvalidPayload', `"${other}" belongs to source "${oos ? 'ecs' : 'oos'}"; source "${v.source}" takes "${own}" (or "id")`);
  }
  if (v.id !== undefined && v[own] !== undefined && v.id !== v[own]) {
    throw new InputError('InvalidPayload', `"id" ${describeValue(v.id)} and "${own}" ${describeValue(v[own])} disagree; give one of them`);
  }
  const key = v[own] !== undefined ? own : v.id !== undefined ? 'id' : own;
  const id = requireString(v, key);
  if (!(oos ? EXECUTION_ID : INVOKE_ID).test(id)) {
    throw new InputError(
      oos ? 'InvalidExecutionId' : 'InvalidInvokeId',
      `"${key}" ${describeValue(id)} is not ${oos ? 'an OOS execution id (exec-…, such as exec-6be6d6ff805349d9ac13)' : 'a Cloud Assistant invoke id (t-…, such as t-hz0jdfwd9f0a1b)'}`,
    );
  }
  return { source: v.source, regionId, id };
}
