/**
 * The shapes of the identifiers that reach object keys. Anything else is rejected before it can name a key, so
 * `../`, `%2e`, slashes and control characters never get near the store.
 */

export type Source = 'oos' | 'ecs';
export const SOURCES: readonly Source[] = ['oos', 'ecs'];

/** Region ids such as `cn-hangzhou`, `ap-southeast-1`, `cn-shanghai-finance-1`, `us-east-1`. */
export const REGION_ID = /^[a-z]{2,4}(?:-[a-z0-9]+){1,4}$/;
/** OOS execution ids: `exec-` and hex/alphanumerics (e.g. `exec-6be6d6ff805349d9ac13`). */
export const EXECUTION_ID = /^exec-[A-Za-z0-9]{6,64}$/;
/** Cloud Assistant invoke ids: `t-` and lower-case alphanumerics (e.g. `t-hz0jdfwd9f0a1b`). */
export const INVOKE_ID = /^t-[A-Za-z0-9]{6,64}$/;
/** ECS instance ids: `i-` and alphanumerics. */
export const INSTANCE_ID = /^i-[A-Za-z0-9]{6,64}$/;
/** Cloud Assistant command ids: `c-` and alphanumerics. */
export const COMMAND_ID = /^c-[A-Za-z0-9]{6,64}$/;

export function isSource(v: unknown): v is Source {
  return v === 'oos' || v === 'ecs';
}

/** The id pattern for a source's primary id (execution id for OOS, invoke id for ECS). */
export function idPattern(source: Source): RegExp {
  return source === 'oos' ? EXECUTION_ID : INVOKE_ID;
}
