/**
 * A token bucket per API client: at most `ratePerSecond` requests per second on average, bursts up to `burst`.
 * Callers reserve a token and wait out the deficit, so waiters are served in call order without a queue.
 */

/** A rate limiter; `acquire()` resolves when the caller may send one request. */
export interface RateLimiter {
  acquire(): Promise<void>;
  /** Milliseconds the next `acquire()` would wait, without reserving (for tests and logs). */
  peekWaitMs(): number;
}

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** Average requests per second; `0`, negative or `Infinity` disables the limit. @default 20 */
  ratePerSecond?: number;
  /** Bucket size (requests that may go out at once after a quiet period). @default max(1, ratePerSecond) */
  burst?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
  /** @default setTimeout-based sleep */
  sleep?: (ms: number) => Promise<void>;
}

/** Sleeps `ms` milliseconds (0 or less resolves on the next tick). */
export const realSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, Math.max(0, ms));
  });

/**
 * Creates a token bucket that starts full.
 * @example const limiter = createRateLimiter({ ratePerSecond: 20 }); await limiter.acquire();
 */
export function createRateLimiter(options: RateLimiterOptions = {}): RateLimiter {
  const rate = options.ratePerSecond ?? 20;
  if (!(rate > 0) || !Number.isFinite(rate)) {
    return { acquire: async () => undefined, peekWaitMs: () => 0 };
  }
  const burst = Math.max(1, options.burst ?? rate);
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  let tokens = burst;
  let last = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(burst, tokens + ((t - last) * rate) / 1000);
    last = t;
  };
  return {
    peekWaitMs() {
      refill();
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / rate);
    },
    async acquire() {
      refill();
      tokens -= 1; // reserve now; a negative balance is the queue of callers ahead of the next refill
      if (tokens >= 0) return;
      await sleep(Math.ceil((-tokens * 1000) / rate));
    },
  };
}
