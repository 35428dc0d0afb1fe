/**
 * The sweep's payload: the timer trigger's configured string (JSON text, carried in `payload` of the timer event,
 * protocols §6.4) or, for a direct invocation, the same JSON object. Validated strictly: a typo in a timer payload
 * must fail loudly on the first run, not silently sweep with defaults.
 */
import { InputError } from '../errors';
import { REGION_ID, isSource, type Source } from '../ids';
import { optionalBoolean, rejectUnknownFields, requireObject } from '../payload';
import { isTimerTriggerEvent, parseJson } from '../triggers';

/** A validated sweep request. */
export interface SweepRequest {
  regions: string[];
  sources: Source[];
  lookbackHours: number;
  concurrency: number;
  retentionDays: number;
  warnDays: number;
  dryRun: boolean;
  /** The timer's `triggerTime` (epoch ms) when invoked by a timer; names the sweep's task ids. */
  triggerTimeMs: number | undefined;
}

/** Defaults and bounds. Retention: the docs say 4 weeks / 100,000 records (newer pages: 30 days / 10,000). */
export const SWEEP_LIMITS = Object.freeze({
  lookbackHours: { default: 72, min: 0.01, max: 24 * 30 },
  concurrency: { default: 16, min: 1, max: 64 },
  retentionDays: { default: 28, min: 0.1, max: 365 },
  warnDays: { default: 3, min: 0, max: 365 },
  maxRegions: 32,
});

const KNOWN: readonly string[] = ['regions', 'sources', 'lookbackHours', 'concurrency', 'retentionDays', 'warnDays', 'dryRun'];

/**
 * Parses a decoded FC event: a timer trigger event (its `payload` string is JSON, or blank for all defaults) or a
 * direct invocation's JSON object.
 *
 * @param defaultRegionId the region swept when `regions` is absent (config region).
 * @throws InputError `InvalidPayload` naming the field and what was expected.
 * @example parseSweepPayload({ triggerTime: '2026-01-01T00:00:00Z', triggerName: 't', payload: '{"dryRun":true}' }, 'cn-hangzhou')
 */
export function parseSweepPayload(event: unknown, defaultRegionId: string): SweepRequest {
  let body: unknown = event;
  let triggerTimeMs: number | undefined;
  if (isTimerTriggerEvent(event)) {
    const t = Date.parse(event.triggerTime);
    if (!Number.isFinite(t)) throw new InputError('InvalidPayload', `the timer event's triggerTime ${JSON.stringify(event.triggerTime)} is not a timestamp`);
    triggerTimeMs = t;
    const text = event.payload;
    if (text !== undefined && typeof text !== 'string') throw new InputError('InvalidPayload', 'the timer event\'s "payload" must be a string (the trigger\'s configured payload)');
    body = text === undefined || text.trim() === '' ? {} : parseJson(text, 'the timer trigger payload');
  }
  const v = requireObject(body, 'the sweep payload', '{"regions":["cn-hangzhou"],"lookbackHours":72}');
  rejectUnknownFields(v, KNOWN, 'the sweep payload');

  let regions = [defaultRegionId];
  if (v.regions !== undefined) {
    if (!Array.isArray(v.regions) || v.regions.length === 0 || v.regions.length > SWEEP_LIMITS.maxRegions) {
      throw new InputError('InvalidPayload', `"regions" must be a non-empty array of at most ${SWEEP_LIMITS.maxRegions} region ids`);
    }
    for (const r of v.regions) {
      if (typeof r !== 'string' || !REGION_ID.test(r)) throw new InputError('InvalidPayload', `"regions" holds ${JSON.stringify(r)}, which is not a region id such as cn-hangzhou`);
    }
    regions = [...new Set(v.regions as string[])];
  }

  let sources: Source[] = ['oos', 'ecs'];
  if (v.sources !== undefined) {
    if (!Array.isArray(v.sources) || v.sources.length === 0) throw new InputError('InvalidPayload', '"sources" must be a non-empty array of "oos" and/or "ecs"');
    for (const s of v.sources) if (!isSource(s)) throw new InputError('InvalidPayload', `"sources" holds ${JSON.stringify(s)}; use "oos" and/or "ecs"`);
    sources = [...new Set(v.sources as Source[])];
  }

  const lookbackHours = number(v, 'lookbackHours', SWEEP_LIMITS.lookbackHours, false);
  const concurrency = number(v, 'concurrency', SWEEP_LIMITS.concurrency, true);
  const retentionDays = number(v, 'retentionDays', SWEEP_LIMITS.retentionDays, false);
  const warnDays = number(v, 'warnDays', SWEEP_LIMITS.warnDays, false);
  if (warnDays >= retentionDays) throw new InputError('InvalidPayload', `"warnDays" (${warnDays}) must be smaller than "retentionDays" (${retentionDays})`);
  return { regions, sources, lookbackHours, concurrency, retentionDays, warnDays, dryRun: optionalBoolean(v, 'dryRun'), triggerTimeMs };
}

function number(v: Record<string, unknown>, key: string, limits: { default: number; min: number; max: number }, integer: boolean): number {
  const value = v[key];
  if (value === undefined) return limits.default;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < limits.min || value > limits.max) {
    throw new InputError(
      'InvalidPayload',
      `"${key}" must be ${integer ? 'an integer' : 'a number'} from ${limits.min} to ${limits.max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}
