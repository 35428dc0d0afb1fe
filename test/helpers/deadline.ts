/** Deadlines for tests that cut a walk or a delivery short without waiting for a clock. */
import type { Deadline } from '../../lib/deadline';

/** A deadline that reports "nearly done" from its n-th look on (1 = the first look), as a short FC timeout would mid-walk. */
export function deadlineAfter(looks: number): Deadline {
  let seen = 0;
  return { at: Date.now() + 3_600_000, remaining: () => 3_600_000, nearlyDone: () => ++seen >= looks, signal: new AbortController().signal };
}
