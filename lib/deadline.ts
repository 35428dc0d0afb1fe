/**
 * The invocation's time budget. FC has no "remaining time" API, so the deadline is computed at invocation start
 * from `context.function.timeout` (seconds) minus a safety margin for checkpointing and answering.
 */
export interface Deadline {
  /** Epoch milliseconds at which work must have stopped. */
  readonly at: number;
  /** Milliseconds left (never negative). */
  remaining(): number;
  /** True once fewer than `reserveMs` milliseconds are left. */
  nearlyDone(reserveMs?: number): boolean;
  /** Aborted when the deadline passes. */
  readonly signal: AbortSignal;
}

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export function deadlineAt(at: number, clock: Clock = systemClock): Deadline {
  const controller = new AbortController();
  const ms = Math.max(0, at - clock.now());
  if (Number.isFinite(ms)) {
    const timer = setTimeout(() => controller.abort(new Error('deadline reached')), ms);
    timer.unref?.();
  }
  return {
    at,
    remaining: () => Math.max(0, at - clock.now()),
    nearlyDone: (reserveMs = 0) => at - clock.now() <= reserveMs,
    signal: controller.signal,
  };
}

/**
 * The deadline for an FC invocation: `timeoutSeconds` from `startedAt`, minus `marginMs` (default: 10% of the
 * timeout, at least 2 s and at most 30 s) kept back for the checkpoint and the answer.
 */
export function invocationDeadline(
  timeoutSeconds: number | undefined,
  options: { startedAt?: number; marginMs?: number; clock?: Clock; defaultTimeoutSeconds?: number } = {},
): Deadline {
  const clock = options.clock ?? systemClock;
  const start = options.startedAt ?? clock.now();
  const seconds = timeoutSeconds && timeoutSeconds > 0 ? timeoutSeconds : (options.defaultTimeoutSeconds ?? 600);
  const total = seconds * 1000;
  const margin = options.marginMs ?? Math.min(30_000, Math.max(2_000, total * 0.1));
  return deadlineAt(start + Math.max(total - margin, Math.min(total, 1_000)), clock);
}

/** A deadline that never comes (CLI backfills, tests). */
export const noDeadline: Deadline = {
  at: Number.POSITIVE_INFINITY,
  remaining: () => Number.POSITIVE_INFINITY,
  nearlyDone: () => false,
  signal: new AbortController().signal,
};
