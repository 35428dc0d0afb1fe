import { describe, expect, it } from 'vitest';
import { createAdaptiveRateLimiter, type AdaptiveRateLimiter } from '../../lib/cloud/rate-limit';
import { fakeTime } from '../helpers/fake-time';

/** An API with per-second flow control: at most `perSecond` calls in each calendar second, the rest throttled. */
function flowControlledApi(perSecond: number, now: () => number) {
  const accepted = new Map<number, number>();
  let throttled = 0;
  return {
    call(): boolean {
      const window = Math.floor(now() / 1000);
      const n = accepted.get(window) ?? 0;
      if (n >= perSecond) {
        throttled += 1;
        return false;
      }
      accepted.set(window, n + 1);
      return true;
    },
    get throttled() {
      return throttled;
    },
    /** Accepted calls per window, in window order. */
    perWindow: () => [...accepted.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n),
  };
}

/** One sequential caller that sends as fast as the limiter lets it; each call takes `rttMs`. Retries throttled calls. */
async function drive(limiter: AdaptiveRateLimiter, api: ReturnType<typeof flowControlledApi>, t: ReturnType<typeof fakeTime>, calls: number, rttMs = 5) {
  let done = 0;
  while (done < calls) {
    await limiter.acquire();
    t.advance(rttMs);
    if (api.call()) {
      limiter.record('ok');
      done += 1;
    } else {
      limiter.record('throttled');
    }
  }
}

describe('createAdaptiveRateLimiter', () => {
  it('sends without any limit until the API throttles', async () => {
    // Prepare
    const t = fakeTime();
    const limiter = createAdaptiveRateLimiter({ now: t.now, sleep: t.sleep });
    // Act: 2,000 calls as fast as they come, all successful
    for (let i = 0; i < 2_000; i++) {
      await limiter.acquire();
      t.advance(1);
      limiter.record('ok');
    }
    // Assess
    expect(t.sleeps).toEqual([]);
    expect(limiter.state).toMatchObject({ adaptive: false, ratePerSecond: Number.POSITIVE_INFINITY, throttles: 0 });
  });

  it('on a throttle cuts the rate to 0.7 × what was being sent and waits out the flow-control window', async () => {
    // Prepare: 100 calls/s for two seconds
    const t = fakeTime();
    const limiter = createAdaptiveRateLimiter({ now: t.now, sleep: t.sleep, deadline: { remaining: () => 60_000 } });
    for (let i = 0; i < 200; i++) {
      await limiter.acquire();
      t.advance(10);
      limiter.record('ok');
    }
    // Act
    limiter.record('throttled');
    const throttledAt = t.now();
    await limiter.acquire();
    // Assess
    expect(limiter.state.adaptive).toBe(true);
    expect(limiter.state.throttles).toBe(1);
    expect(limiter.state.ratePerSecond).toBeGreaterThan(0.7 * 90);
    expect(limiter.state.ratePerSecond).toBeLessThan(0.7 * 110);
    expect(t.now() - throttledAt).toBeGreaterThanOrEqual(1000);
  });

  it('does not pause when the deadline leaves no room for the window', async () => {
    const t = fakeTime();
    const limiter = createAdaptiveRateLimiter({ now: t.now, sleep: t.sleep, deadline: { remaining: () => 1_200 } });
    await limiter.acquire();
    limiter.record('throttled');
    const before = t.now();
    await limiter.acquire();
    expect(limiter.state.pausedUntil).toBe(0);
    expect(t.now() - before).toBeLessThan(1000);
  });

  it('counts the throttles of calls already in flight as one', () => {
    const t = fakeTime();
    const limiter = createAdaptiveRateLimiter({ now: t.now, sleep: t.sleep });
    limiter.record('throttled');
    const rate = limiter.state.ratePerSecond;
    t.advance(50);
    limiter.record('throttled');
    limiter.record('throttled');
    expect(limiter.state.throttles).toBe(1);
    expect(limiter.state.ratePerSecond).toBe(rate);
  });

  it('grows the rate back along the cubic curve and goes past the throttled rate when the API allows', async () => {
    // Prepare: throttled at ~100/s
    const t = fakeTime();
    const limiter = createAdaptiveRateLimiter({ now: t.now, sleep: t.sleep });
    for (let i = 0; i < 200; i++) {
      await limiter.acquire();
      t.advance(10);
      limiter.record('ok');
    }
    limiter.record('throttled');
    const cut = limiter.state.ratePerSecond;
    // Act: keep calling with every call successful, and sample the allowed rate every simulated second
    const samples: number[] = [];
    let next = t.now() + 1000;
    while (samples.length < 12) {
      await limiter.acquire();
      t.advance(1);
      limiter.record('ok');
      if (t.now() >= next) {
        samples.push(limiter.state.ratePerSecond);
        next += 1000;
      }
    }
    // Assess: never below the cut, flat-ish around the old rate, then beyond it
    expect(samples.every((r) => r >= cut)).toBe(true);
    for (let i = 1; i < samples.length; i++) expect(samples[i]).toBeGreaterThanOrEqual((samples[i - 1] ?? 0) - 1e-9);
    expect(samples.at(-1)).toBeGreaterThan(110);
  });

  it('under a per-second flow control of 50 calls: settles near the API rate with few throttles', async () => {
    // Prepare
    const t = fakeTime();
    const api = flowControlledApi(50, t.now);
    const limiter = createAdaptiveRateLimiter({ now: t.now, sleep: t.sleep, deadline: { remaining: () => 3_600_000 } });
    const started = t.now();
    // Act: 3,000 calls, a sequential caller that could do 200/s
    await drive(limiter, api, t, 3_000);
    // Assess: an unlimited client would have been throttled on every call beyond 50 in each second (~75% of its
    // attempts); the adaptive one wastes few, and still moves at more than half the API's rate
    const seconds = (t.now() - started) / 1000;
    expect(api.throttled).toBeLessThan(3_000 * 0.1);
    expect(3_000 / seconds).toBeGreaterThan(25);
    expect(Math.max(...api.perWindow())).toBeLessThanOrEqual(50);
    expect(limiter.state.adaptive).toBe(true);
  });

  it('is shared: two callers through one limiter stay within the API rate together', async () => {
    const t = fakeTime();
    const api = flowControlledApi(40, t.now);
    const limiter = createAdaptiveRateLimiter({ now: t.now, sleep: t.sleep, deadline: { remaining: () => 3_600_000 } });
    // Interleave two callers' calls (the fake clock is shared, so they alternate)
    const a = drive(limiter, api, t, 1_000, 3);
    const b = drive(limiter, api, t, 1_000, 3);
    await Promise.all([a, b]);
    expect(api.throttled).toBeLessThan(2_000 * 0.1);
  });

  it('applies a hard ceiling from the first call', async () => {
    const t = fakeTime();
    const limiter = createAdaptiveRateLimiter({ ceilingPerSecond: 10, now: t.now, sleep: t.sleep });
    const started = t.now();
    for (let i = 0; i < 100; i++) {
      await limiter.acquire();
      limiter.record('ok');
    }
    expect(t.now() - started).toBeGreaterThanOrEqual(8_900);
    expect(limiter.state.ratePerSecond).toBe(10);
  });

  it('never adapts above the ceiling', async () => {
    const t = fakeTime();
    const limiter = createAdaptiveRateLimiter({ ceilingPerSecond: 30, now: t.now, sleep: t.sleep });
    for (let i = 0; i < 90; i++) {
      await limiter.acquire();
      limiter.record('ok');
    }
    limiter.record('throttled');
    for (let i = 0; i < 600; i++) {
      await limiter.acquire();
      limiter.record('ok');
    }
    expect(limiter.state.ratePerSecond).toBeLessThanOrEqual(30);
  });
});
