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

/** How an attempt ended, as far as the send rate is concerned. */
export type SendOutcome = 'throttled' | 'ok';

/**
 * A limiter that learns the API's rate: {@link RateLimiter} plus `record()` of each attempt's outcome.
 * `state` is a snapshot for logs, tests and benchmarks.
 */
export interface AdaptiveRateLimiter extends RateLimiter {
  record(outcome: SendOutcome): void;
  readonly state: {
    /** False until the first throttle: until then nothing but the ceiling limits the send rate. */
    readonly adaptive: boolean;
    /** The send rate allowed now, requests/s (`Infinity` before the first throttle without a ceiling). */
    readonly ratePerSecond: number;
    /** The send rate measured over the last half-second windows, requests/s. */
    readonly measuredPerSecond: number;
    /** Throttles that cut the rate (those answered during a pause count once, with the one that caused it). */
    readonly throttles: number;
    /** Epoch ms until which nothing is sent (0 = no pause). */
    readonly pausedUntil: number;
  };
}

/** Options of {@link createAdaptiveRateLimiter}. */
export interface AdaptiveRateLimiterOptions {
  /** A hard ceiling, requests/s, whatever the API allows; `undefined`, 0 or `Infinity` = none. @default none */
  ceilingPerSecond?: number | undefined;
  /**
   * The API's flow-control window: after a throttle nothing is sent for this long, so the next request lands in a
   * fresh window instead of being throttled again. Alibaba Cloud's API flow control counts calls per second.
   * @default 1000
   */
  windowMs?: number;
  /** Only pause when this deadline leaves at least the window plus `minAttemptMs` afterwards. @default no deadline */
  deadline?: { remaining(): number } | undefined;
  /** @default 500 */
  minAttemptMs?: number;
  /** Multiplicative decrease on a throttle (the new rate is `beta` × the rate that was throttled). @default 0.7 */
  beta?: number;
  /** CUBIC's scale: how fast the rate grows back (requests/s per s³). @default 0.4 */
  scale?: number;
  /** The rate never drops below this, requests/s. @default 0.5 */
  minRatePerSecond?: number;
  /** @default Date.now */
  now?: () => number;
  /** @default setTimeout-based sleep */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Adaptive client-side rate limiting in the manner of the AWS SDK's "adaptive" retry mode (CUBIC congestion control
 * applied to a send rate), written for this project:
 *
 * - Until the API throttles, requests go out as fast as the caller sends them (only the optional ceiling applies).
 * - On a throttle, the rate that was being sent (measured, or the allowed rate if lower) is remembered as the
 *   ceiling the API showed, the allowed rate drops to `beta` × that, and nothing is sent for one flow-control window
 *   (when the deadline leaves room), so the retry lands in a fresh window.
 * - On success the allowed rate grows back along a cubic curve: slowly near the remembered rate, faster further
 *   from it, `rate(t) = scale·(t − K)³ + lastMax` with `K = ∛(lastMax·(1 − beta)/scale)`, t seconds since the throttle;
 *   it never exceeds twice the measured send rate, so an idle client does not build up a rate it never tried.
 *
 * One limiter serves every call of a client (and every client of one service and region in an invocation), so
 * concurrent pages and related listings share what the API allows.
 *
 * @example
 * const limiter = createAdaptiveRateLimiter({ deadline });
 * await limiter.acquire(); try { await send(); limiter.record('ok'); } catch (e) { if (throttled(e)) limiter.record('throttled'); throw e; }
 */
export function createAdaptiveRateLimiter(options: AdaptiveRateLimiterOptions = {}): AdaptiveRateLimiter {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  const windowMs = options.windowMs ?? 1000;
  const minAttemptMs = options.minAttemptMs ?? 500;
  const beta = options.beta ?? 0.7;
  const scale = options.scale ?? 0.4;
  const minRate = options.minRatePerSecond ?? 0.5;
  const ceilingRate = options.ceilingPerSecond !== undefined && options.ceilingPerSecond > 0 && Number.isFinite(options.ceilingPerSecond) ? options.ceilingPerSecond : undefined;
  const ceiling = ceilingRate === undefined ? undefined : createRateLimiter({ ratePerSecond: ceilingRate, now, sleep });

  let adaptive = false;
  let rate = Number.POSITIVE_INFINITY;
  let lastMax = 0;
  let cubicK = 0;
  let throttledAt = 0;
  let pausedUntil = 0;
  let throttles = 0;
  // The allowed-rate bucket (used once adaptive): capacity max(1, rate), reservations may go negative (a queue).
  let tokens = 1;
  let refilledAt = now();
  // Send-rate measurement over half-second buckets, smoothed.
  const BUCKET_MS = 500;
  const SMOOTH = 0.8;
  let bucketStart = Math.floor(now() / BUCKET_MS) * BUCKET_MS;
  let bucketCount = 0;
  let measured = 0;

  const measureSend = () => {
    const t = now();
    const bucket = Math.floor(t / BUCKET_MS) * BUCKET_MS;
    if (bucket > bucketStart) {
      const current = (bucketCount * 1000) / (bucket - bucketStart);
      measured = current * SMOOTH + measured * (1 - SMOOTH);
      bucketCount = 0;
      bucketStart = bucket;
    }
    bucketCount += 1;
  };
  /** The measured rate including the bucket in progress (what was sent just before a throttle). */
  const sendRate = () => {
    const elapsed = Math.max(1, now() - bucketStart);
    const current = (bucketCount * 1000) / Math.max(elapsed, BUCKET_MS);
    return Math.max(measured, current);
  };
  const refill = () => {
    const t = now();
    if (Number.isFinite(rate)) tokens = Math.min(Math.max(1, rate), tokens + ((t - refilledAt) * rate) / 1000);
    refilledAt = t;
  };
  const setRate = (next: number) => {
    refill();
    rate = Math.max(minRate, ceilingRate === undefined ? next : Math.min(next, ceilingRate));
    tokens = Math.min(tokens, Math.max(1, rate));
  };

  return {
    get state() {
      return { adaptive, ratePerSecond: adaptive ? rate : (ceilingRate ?? Number.POSITIVE_INFINITY), measuredPerSecond: sendRate(), throttles, pausedUntil };
    },
    peekWaitMs() {
      const pause = Math.max(0, pausedUntil - now());
      if (!adaptive) return Math.max(pause, ceiling?.peekWaitMs() ?? 0);
      refill();
      return Math.max(pause, tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / rate));
    },
    async acquire() {
      const pause = pausedUntil - now();
      if (pause > 0) await sleep(pause);
      if (adaptive) {
        refill();
        tokens -= 1;
        if (tokens < 0) await sleep(Math.ceil((-tokens * 1000) / rate));
      }
      if (ceiling) await ceiling.acquire();
      measureSend();
    },
    record(outcome) {
      const t = now();
      if (outcome === 'throttled') {
        // Answers to requests already in flight when the first throttle came are the same event.
        if (adaptive && t - throttledAt < windowMs) return;
        throttles += 1;
        const sent = sendRate();
        lastMax = Math.max(minRate, adaptive ? Math.min(sent, rate) : sent);
        cubicK = Math.cbrt((lastMax * (1 - beta)) / scale);
        throttledAt = t;
        adaptive = true;
        setRate(lastMax * beta);
        const remaining = options.deadline?.remaining() ?? Number.POSITIVE_INFINITY;
        if (remaining >= windowMs + minAttemptMs) pausedUntil = t + windowMs;
        return;
      }
      if (!adaptive) return;
      const since = (t - throttledAt) / 1000;
      const cubic = scale * (since - cubicK) ** 3 + lastMax;
      setRate(Math.min(cubic, 2 * Math.max(sendRate(), minRate)));
    },
  };
}
