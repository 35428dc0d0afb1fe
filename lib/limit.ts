/**
 * A small p-limit: at most `concurrency` of the given async functions run at once, the rest wait in FIFO order.
 * Used for fan-out (sweep dispatch, per-invocation event handling) instead of an unbounded `Promise.all`.
 */

/** A concurrency limiter. Call it with an async function; it resolves/rejects with that function's outcome. */
export interface Limiter {
  <T>(fn: () => Promise<T> | T): Promise<T>;
  /** Functions running now. */
  readonly activeCount: number;
  /** Functions waiting for a slot. */
  readonly pendingCount: number;
  /** The most that ever ran at once (for tests and metrics). */
  readonly maxActive: number;
}

/**
 * Creates a limiter.
 * @throws RangeError when `concurrency` is not an integer ≥ 1.
 * @example const limit = pLimit(16); await Promise.all(ids.map((id) => limit(() => dispatch(id))));
 */
export function pLimit(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be an integer >= 1, got ${concurrency}`);
  const queue: Array<() => void> = [];
  let active = 0;
  let maxActive = 0;

  const next = () => {
    if (active >= concurrency) return;
    const start = queue.shift();
    if (start) start();
  };

  const limit = (<T>(fn: () => Promise<T> | T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push(() => {
        active++;
        maxActive = Math.max(maxActive, active);
        Promise.resolve()
          .then(fn)
          .then(resolve, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    })) as Limiter;

  Object.defineProperties(limit, {
    activeCount: { get: () => active },
    pendingCount: { get: () => queue.length },
    maxActive: { get: () => maxActive },
  });
  return limit;
}
