/**
 * Fan-out: asynchronous invocations of sibling functions (collect's continuations and summaries, the event consumer,
 * the sweep). The FC implementation is `createFunctionInvoker` in lib/cloud/invoke.ts, imported only by handlers.
 */
import type { AppConfig } from './config';

/** Options of one invocation. */
export interface InvokeOptions {
  /**
   * Async only: `x-fc-async-task-id` (letters, digits, `_`, `-`, starting with a letter or `_`, ≤ 128). Makes the
   * invocation idempotent: a task id FC already accepted is answered `AsyncTaskAlreadyExists`, which
   * `invokeAsync` reports as `{ duplicate: true }` instead of an error.
   */
  taskId?: string | undefined;
  /** Version or alias (default: LATEST). */
  qualifier?: string | undefined;
}

/** The answer to an async invocation. */
export interface AsyncInvocation {
  /** `x-fc-request-id` of the accepted invocation (or of the duplicate rejection). */
  requestId: string;
  /** True when FC already had this `taskId` (the earlier invocation stands; nothing new was queued). */
  duplicate?: boolean;
}

/**
 * Asynchronous invocation of a function: the one interface of the FC invoke client that the fan-out sees
 * (`FunctionInvoker` in lib/cloud/invoke.ts extends it with synchronous invocations).
 */
export interface AsyncInvoker {
  /** Queues an async invocation (FC answers 202); `payload` is sent as is if Buffer/string, else as JSON. */
  invokeAsync(functionName: string, payload: unknown, options?: InvokeOptions): Promise<AsyncInvocation>;
}

/** The collect function's default name (env `COLLECT_FUNCTION_NAME`). */
export const DEFAULT_COLLECT_FUNCTION_NAME = 'execution-archive-collect';

/** `COLLECT_FUNCTION_NAME`, else `fallback` (collect passes its own name), else {@link DEFAULT_COLLECT_FUNCTION_NAME}. */
export function collectFunctionName(config: Pick<AppConfig, 'collectFunctionName'>, fallback?: string): string {
  return config.collectFunctionName ?? fallback ?? DEFAULT_COLLECT_FUNCTION_NAME;
}

/** FC async task ids: `^[A-Za-z_][A-Za-z0-9_-]{0,127}$`. */
export const FC_TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
