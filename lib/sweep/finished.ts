/**
 * When an OOS execution or a Cloud Assistant invocation is final, for the event consumer and the sweep. These mirror
 * the collector's own test (lib/collect/sources.ts: collect answers 409 NotFinished otherwise) and add one state:
 * an invocation that is `Scheduled` (a periodic or timed task between runs) is *not* finished here, so neither the
 * events nor the sweep archive a task that will run again; it is archived once it is stopped.
 */

/** OOS execution statuses that may still change (protocols §3.3; same set as lib/collect/sources.ts). */
export const OOS_UNFINISHED: ReadonlySet<string> = new Set(['Started', 'Queued', 'Running', 'Waiting', 'Pending']);

/** Cloud Assistant overall `InvocationStatus` values that may still change (protocols §4.4). */
export const ECS_UNFINISHED: ReadonlySet<string> = new Set(['Pending', 'Running', 'Stopping', 'Scheduled']);

/** True when an OOS execution status is final. An empty/absent status is not. */
export function isFinishedExecutionStatus(status: unknown): boolean {
  return typeof status === 'string' && status !== '' && !OOS_UNFINISHED.has(status);
}

/** True when a Cloud Assistant overall invocation status is final. An empty/absent status is not. */
export function isFinishedInvocationStatus(status: unknown): boolean {
  return typeof status === 'string' && status !== '' && !ECS_UNFINISHED.has(status);
}

/** The overall status of a DescribeInvocations record (`InvocationStatus`, else the legacy `InvokeStatus`). */
export function invocationStatusOf(record: { InvocationStatus?: unknown; InvokeStatus?: unknown }): string {
  const s = record.InvocationStatus ?? record.InvokeStatus;
  return typeof s === 'string' ? s : '';
}
