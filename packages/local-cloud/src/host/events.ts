/**
 * The local EventBridge default bus as far as Cloud Assistant goes: each instance of a simulated task that reaches
 * a final state becomes one `ecs:CloudAssistant:TaskCompleted` CloudEvent (alibaba-protocols.md §5), which every
 * matching eventbridge trigger receives in event-driven mode (one event per invocation).
 */
import { randomUUID } from 'node:crypto';
import type { InstanceFinishedEvent } from '../datasets';

/** The CloudEvents envelope of a Cloud Assistant task event. */
export interface CloudAssistantEvent {
  id: string;
  source: 'acs.ecs';
  specversion: '1.0';
  subject: string;
  time: string;
  type: 'ecs:CloudAssistant:TaskCompleted';
  datacontenttype: 'application/json';
  aliyunaccountid: string;
  aliyunpublishtime: string;
  aliyuneventbusname: string;
  aliyunregionid: string;
  aliyunpublishaddr: string;
  data: {
    commandId: string;
    commandName: string;
    /** A string, as the real event carries it. */
    exitCode: string;
    finishTime: string;
    instanceId: string;
    invocationStatus: string;
    invokeId: string;
    regionId: string;
  };
}

/** Turns an emulator completion into the CloudEvent EventBridge would publish. */
export function cloudAssistantEvent(e: InstanceFinishedEvent, accountId: string, now = Date.now()): CloudAssistantEvent {
  return {
    id: randomUUID(),
    source: 'acs.ecs',
    specversion: '1.0',
    subject: `acs.ecs:${e.regionId}:${accountId}:${e.invokeId}/${e.instanceId}`,
    time: e.finishTime,
    type: 'ecs:CloudAssistant:TaskCompleted',
    datacontenttype: 'application/json',
    aliyunaccountid: accountId,
    aliyunpublishtime: new Date(now).toISOString(),
    aliyuneventbusname: 'default',
    aliyunregionid: e.regionId,
    aliyunpublishaddr: '127.0.0.1',
    data: {
      commandId: e.commandId,
      commandName: e.commandName,
      exitCode: String(e.exitCode),
      finishTime: e.finishTime,
      instanceId: e.instanceId,
      invocationStatus: e.invocationStatus,
      invokeId: e.invokeId,
      regionId: e.regionId,
    },
  };
}

/** How the local bus delivers (the real one may duplicate and reorder; both are on by default in `npm start`). */
export interface EventDeliveryOptions {
  /** Share (0–1) of events delivered twice (same `id`). @default 0 */
  duplicateRate?: number;
  /** Deliver each event after a random delay in [0, maxDelayMs], so events arrive out of order. @default false */
  shuffle?: boolean;
  /** Upper bound of the random delay when `shuffle` is on, ms. @default 200 */
  maxDelayMs?: number;
  /** First retry delay after a failed delivery, ms; doubles per attempt (EventBridge waits 10–20 s). @default 50 */
  retryDelayMs?: number;
  /** Seeded randomness for duplicates and delays. @default Math.random */
  random?: () => number;
}
