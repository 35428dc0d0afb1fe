/**
 * Fan-out: asynchronous invocations of sibling functions (collect's continuations and summaries, the event consumer,
 * the sweep). The FC implementation is `createFunctionInvoker` in lib/cloud/invoke.ts, imported only by handlers; the
 * fan-out sees only its {@link AsyncInvoker} interface.
 */
import type { AppConfig } from './config';

// The invoker interface: defined by the FC client that implements it (lib/cloud/invoke.ts, below this file), named
// here as what the fan-out sees.
export type { AsyncInvocation, AsyncInvoker, InvokeOptions } from './cloud/invoke';

/** The collect function's default name (env `COLLECT_FUNCTION_NAME`). */
export const DEFAULT_COLLECT_FUNCTION_NAME = 'execution-archive-collect';

/** `COLLECT_FUNCTION_NAME`, else `fallback` (collect passes its own name), else {@link DEFAULT_COLLECT_FUNCTION_NAME}. */
export function collectFunctionName(config: Pick<AppConfig, 'collectFunctionName'>, fallback?: string): string {
  return config.collectFunctionName ?? fallback ?? DEFAULT_COLLECT_FUNCTION_NAME;
}

/** FC async task ids: `^[A-Za-z_][A-Za-z0-9_-]{0,127}$`. */
export const FC_TASK_ID = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
