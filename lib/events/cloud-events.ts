/**
 * Cloud Assistant `ecs:CloudAssistant:TaskCompleted` events as EventBridge delivers them to FC (protocols §5, §6.5):
 * one CloudEvents 1.0 object per invocation (event-driven mode) or a JSON array of them (event-streaming / batches).
 *
 * Parsing never throws for an event it does not want (a foreign source, another type, a missing field): such an
 * event is listed as rejected with a reason, because a thrown error makes EventBridge retry a delivery that can never
 * succeed. Only a payload that is not JSON, or neither an object nor an array, is an `InputError`.
 *
 * Nothing in `data` is trusted for the archive's content: only the ids are used, to find the invocation in the API.
 */
import { InputError } from '../errors';
import { COMMAND_ID, INSTANCE_ID, INVOKE_ID, REGION_ID } from '../ids';

/** The EventBridge source of ECS events. */
export const ECS_EVENT_SOURCE = 'acs.ecs';
/** The event type sent when a Cloud Assistant task reaches a final state on one instance. */
export const TASK_COMPLETED_TYPE = 'ecs:CloudAssistant:TaskCompleted';

/** An accepted TaskCompleted event, reduced to what the consumer uses. */
export interface TaskCompletedEvent {
  /** The CloudEvents `id` (with `source`, the event's identity; duplicates are possible). */
  id: string;
  /** `data.regionId`, else the envelope's `aliyunregionid`, else the configured region. */
  regionId: string;
  instanceId: string;
  /** `data.invokeId` when the event carries one (undocumented field); otherwise resolved through the API. */
  invokeId?: string | undefined;
  /** `data.commandId`: with `instanceId` and `finishTime`, finds the invocation when `invokeId` is absent. */
  commandId?: string | undefined;
  /** `data.finishTime` as epoch ms (`undefined` when absent). */
  finishTimeMs?: number | undefined;
  /** `data.finishTime` as sent. */
  finishTime?: string | undefined;
  /** `data.invocationStatus` as sent (informational only). */
  invocationStatus?: string | undefined;
}

/** An event that was not accepted, and why. */
export interface RejectedEvent {
  /** The event's `id`, or `#<index>` when it has none. */
  id: string;
  reason: string;
}

/** A parsed delivery. */
export interface ParsedDelivery {
  /** How many events the delivery held. */
  events: number;
  accepted: TaskCompletedEvent[];
  rejected: RejectedEvent[];
}

/** Options of {@link parseTaskCompletedDelivery}. */
export interface ParseOptions {
  /** The region used when neither `data.regionId` nor `aliyunregionid` is present (config region). */
  defaultRegionId: string;
  /**
   * The function's own account (`context.accountId`). When set, an event whose `aliyunaccountid` is missing or names
   * another account is rejected: EventBridge only delivers an account's own events, so anything else is forged or
   * misrouted.
   */
  accountId?: string | undefined;
}

const MAX_ID_LENGTH = 256;

/**
 * Splits a decoded FC event (see `decodeEvent`) into accepted TaskCompleted events and rejected ones.
 *
 * @param payload a single CloudEvents object or an array of them (already JSON-decoded).
 * @throws InputError `InvalidPayload` when the payload is neither an object nor an array.
 * @example parseTaskCompletedDelivery(decodeEvent(event), { defaultRegionId: 'cn-hangzhou' })
 */
export function parseTaskCompletedDelivery(payload: unknown, options: ParseOptions): ParsedDelivery {
  let items: unknown[];
  if (Array.isArray(payload)) items = payload;
  else if (payload && typeof payload === 'object') items = [payload];
  else throw new InputError('InvalidPayload', 'an EventBridge delivery must be a CloudEvents JSON object or an array of them');
  const accepted: TaskCompletedEvent[] = [];
  const rejected: RejectedEvent[] = [];
  items.forEach((item, index) => {
    const r = parseTaskCompletedEvent(item, index, options);
    if ('reason' in r) rejected.push(r);
    else accepted.push(r);
  });
  return { events: items.length, accepted, rejected };
}

/**
 * Validates one CloudEvents envelope and its `data`; unknown extra fields are ignored.
 * @returns the accepted event, or a {@link RejectedEvent} with the reason.
 */
export function parseTaskCompletedEvent(item: unknown, index: number, options: ParseOptions): TaskCompletedEvent | RejectedEvent {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return { id: `#${index}`, reason: 'not a JSON object' };
  const e = item as Record<string, unknown>;
  const id = typeof e.id === 'string' && e.id !== '' && e.id.length <= MAX_ID_LENGTH ? e.id : undefined;
  const reject = (reason: string): RejectedEvent => ({ id: id ?? `#${index}`, reason });
  if (e.specversion !== '1.0') {
    return reject(
      e.specversion === undefined
        ? 'not a CloudEvents envelope (no specversion); configure the trigger with eventSchema CloudEvents'
        : `unsupported specversion ${show(e.specversion)}; expected "1.0"`,
    );
  }
  if (!id) return reject('missing or invalid "id"');
  if (e.source !== ECS_EVENT_SOURCE) return reject(`foreign source ${show(e.source)}; only ${ECS_EVENT_SOURCE} is handled`);
  if (e.type !== TASK_COMPLETED_TYPE) return reject(`unsupported type ${show(e.type)}; only ${TASK_COMPLETED_TYPE} is handled`);

  if (options.accountId !== undefined && options.accountId !== '') {
    if (e.aliyunaccountid === undefined) return reject(`no "aliyunaccountid": the event's account cannot be checked against ${options.accountId}`);
    if (e.aliyunaccountid !== options.accountId) {
      return reject(`"aliyunaccountid" ${show(e.aliyunaccountid)} is not this function's account; events from other accounts are not acted upon`);
    }
  }

  let data = e.data;
  if (typeof data === 'string') {
    // Tolerated: `data` delivered as JSON text (datacontenttype application/json).
    try {
      data = JSON.parse(data, (k, v) => (k === '__proto__' || k === 'constructor' ? undefined : v));
    } catch {
      return reject('"data" is a string that is not JSON');
    }
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return reject('"data" is missing or not an object');
  const d = data as Record<string, unknown>;

  const instanceId = d.instanceId;
  if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) return reject(`"data.instanceId" ${show(instanceId)} is not an instance id (i-…)`);

  const dataRegion = optionalString(d.regionId);
  const envelopeRegion = optionalString(e.aliyunregionid);
  if (dataRegion !== undefined && envelopeRegion !== undefined && dataRegion !== envelopeRegion) {
    return reject(`"data.regionId" ${show(dataRegion)} contradicts "aliyunregionid" ${show(envelopeRegion)}`);
  }
  const regionId = dataRegion ?? envelopeRegion ?? options.defaultRegionId;
  if (!REGION_ID.test(regionId)) return reject(`region ${show(regionId)} is not a region id`);

  const invokeId = optionalString(d.invokeId);
  if (invokeId !== undefined && !INVOKE_ID.test(invokeId)) return reject(`"data.invokeId" ${show(invokeId)} is not an invoke id (t-…)`);
  const commandId = optionalString(d.commandId);
  if (commandId !== undefined && !COMMAND_ID.test(commandId)) return reject(`"data.commandId" ${show(commandId)} is not a command id (c-…)`);

  const finishTime = optionalString(d.finishTime);
  let finishTimeMs: number | undefined;
  if (finishTime !== undefined) {
    finishTimeMs = Date.parse(finishTime);
    if (!Number.isFinite(finishTimeMs)) return reject(`"data.finishTime" ${show(finishTime)} is not a timestamp`);
  }
  if (invokeId === undefined) {
    if (commandId === undefined) return reject('"data" has neither "invokeId" nor "commandId": the invocation cannot be identified');
    if (finishTimeMs === undefined) return reject('"data" has no "invokeId" and no "finishTime": the invocation cannot be identified');
  }
  return {
    id,
    regionId,
    instanceId,
    invokeId,
    commandId,
    finishTime,
    finishTimeMs,
    invocationStatus: optionalString(d.invocationStatus),
  };
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = typeof v === 'string' ? JSON.stringify(v.length > 80 ? v.slice(0, 80) + '…' : v) : (JSON.stringify(v) ?? String(v));
  return s.length > 100 ? s.slice(0, 100) + '…' : s;
}
