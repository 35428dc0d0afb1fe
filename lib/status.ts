/**
 * Every status set of the project and the decisions made on them: when an OOS execution or a Cloud Assistant
 * invocation is final, and how one record's status counts in a summary (succeeded, failed, unfinished, skipped).
 *
 * collect refuses (409 NotFinished) what is still active. The event consumer and the sweep are stricter by one state:
 * an invocation that is `Scheduled` (a periodic or timed task between runs) is not finished for them, so neither
 * archives on its own a task that will run again (it is archived once stopped); an operator may still collect one
 * by hand, which archives the runs so far. An empty or absent status is never final, for anyone: what the API does
 * not say has ended is not archived as if it had.
 */
import type { Source } from './ids';

/** OOS execution statuses that may still change (protocols §3.3). */
export const OOS_UNFINISHED: ReadonlySet<string> = new Set(['Started', 'Queued', 'Running', 'Waiting', 'Pending']);

/** Cloud Assistant overall `InvocationStatus` values of a task still at work (protocols §4.4): collect refuses these. */
export const ECS_ACTIVE: ReadonlySet<string> = new Set(['Pending', 'Running', 'Stopping']);

/** ...and, for events and the sweep, a periodic task between runs. */
export const ECS_UNFINISHED: ReadonlySet<string> = new Set([...ECS_ACTIVE, 'Scheduled']);

/** Per-record statuses (OOS `Status`, ECS `InvocationStatus`) of a task that has not ended yet, both sources. */
export const RECORD_UNFINISHED: ReadonlySet<string> = new Set(['Running', 'Pending', 'Scheduled', 'Stopping', 'Waiting', 'Queued', 'Started']);

/** ECS per-record statuses of a task that never started on the instance: the record's `ExitCode` (0) means nothing. */
export const ECS_NEVER_RAN: ReadonlySet<string> = new Set(['Aborted', 'Invalid', 'Cancelled']);

const known = (status: unknown): status is string => typeof status === 'string' && status !== '';

/** True when an OOS execution status is final. An empty/absent status is not. */
export function isFinishedExecutionStatus(status: unknown): boolean {
  return known(status) && !OOS_UNFINISHED.has(status);
}

/** True when a Cloud Assistant overall invocation status is final (a `Scheduled` task is not). An empty/absent status is not. */
export function isFinishedInvocationStatus(status: unknown): boolean {
  return known(status) && !ECS_UNFINISHED.has(status);
}

/**
 * Whether collect may archive an execution or invocation in this status now: final, or (ECS) a periodic task between
 * runs, whose runs so far are archived. An empty/absent status is not.
 * @example isCollectableStatus('ecs', 'Scheduled') // true; isCollectableStatus('ecs', 'Running') // false
 */
export function isCollectableStatus(source: Source, status: unknown): boolean {
  if (source === 'oos') return isFinishedExecutionStatus(status);
  return known(status) && !ECS_ACTIVE.has(status);
}

/** The overall status of a DescribeInvocations record (`InvocationStatus`, else the legacy `InvokeStatus`). */
export function invocationStatusOf(record: { InvocationStatus?: unknown; InvokeStatus?: unknown }): string {
  const s = record.InvocationStatus ?? record.InvokeStatus;
  return typeof s === 'string' ? s : '';
}

/** How a record's status counts in a summary. */
export type StatusClass = 'succeeded' | 'failed' | 'unfinished' | 'skipped';

/**
 * Classifies a per-resource status. `Success` succeeded; `Skipped` (OOS) was deliberately not run; the statuses
 * of {@link RECORD_UNFINISHED} are unfinished; every other value — the known failures (ECS Failed, Error, Timeout,
 * Invalid, Aborted, Cancelled, Terminated; OOS Failed, Cancelled) and any unknown or missing status — is a failure,
 * so nothing unexpected goes unreported.
 * @example classifyStatus('ecs', 'Timeout') // 'failed'
 */
export function classifyStatus(source: Source, status: string): StatusClass {
  if (status === 'Success') return 'succeeded';
  if (RECORD_UNFINISHED.has(status)) return 'unfinished';
  if (source === 'oos' && status === 'Skipped') return 'skipped';
  return 'failed';
}
