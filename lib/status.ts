/**
 * When an OOS execution or a Cloud Assistant invocation is final.
 *
 * collect refuses (409 NotFinished) what is still active. The event consumer and the sweep are stricter by one state:
 * an invocation that is `Scheduled` (a periodic or timed task between runs) is not finished for them, so neither
 * archives on its own a task that will run again (it is archived once stopped); an operator may still collect one
 * by hand, which archives the runs so far.
 */

/** OOS execution statuses that may still change (protocols §3.3). */
export const OOS_UNFINISHED: ReadonlySet<string> = new Set(['Started', 'Queued', 'Running', 'Waiting', 'Pending']);

/** Cloud Assistant overall `InvocationStatus` values of a task still at work (protocols §4.4): collect refuses these. */
export const ECS_ACTIVE: ReadonlySet<string> = new Set(['Pending', 'Running', 'Stopping']);

/** ...and, for events and the sweep, a periodic task between runs. */
export const ECS_UNFINISHED: ReadonlySet<string> = new Set([...ECS_ACTIVE, 'Scheduled']);

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
