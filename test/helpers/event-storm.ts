/**
 * An event storm on a deterministic schedule: the local cloud's clock stands still and is moved by the test in steps;
 * at each step the simulated instances due by then finish (their TaskCompleted events fire), each event's delivery is
 * scheduled a seeded number of steps later (the bus's jitter), a seeded share is delivered twice (a redelivery, some
 * late), and the deliveries due at the step are made (at once, through the caller's concurrency limit) before the
 * clock moves on. Nothing waits on real time, and the same seed gives the same schedule.
 */
import type { Datasets, InstanceFinishedEvent } from '@execution-archive/local-cloud/datasets';
import { Rng } from '@execution-archive/local-cloud/datasets/prng';

/**
 * The local cloud's clock (`startTestCloud({ now: clock.now })`): the real time until a test stops it; released, it
 * runs on from where it was moved to (never backwards: what finished stays finished).
 */
export class SteppedClock {
  private stoppedAt: number | undefined;
  private aheadMs = 0;
  readonly now = (): number => this.stoppedAt ?? Date.now() + this.aheadMs;
  /** Stops the clock at the current time and returns it. */
  stop(): number {
    this.stoppedAt = this.now();
    return this.stoppedAt;
  }
  set(ms: number): void {
    this.stoppedAt = ms;
  }
  /** Lets the clock run again, from where it stands. */
  release(): void {
    if (this.stoppedAt !== undefined) this.aheadMs = Math.max(this.aheadMs, this.stoppedAt - Date.now());
    this.stoppedAt = undefined;
  }
}

export interface StormOptions<T> {
  data: Datasets;
  clock: SteppedClock;
  /** Starts the simulated tasks (on the stopped clock) and says how many events to expect. */
  start(): { total: number; accept(e: InstanceFinishedEvent): boolean };
  /** The event the bus delivers for an instance that finished (once: a redelivery carries the same event). */
  envelope(e: InstanceFinishedEvent): unknown;
  /** One delivery of one event (the caller limits the concurrency). */
  deliver(event: unknown): Promise<T>;
  seed: number;
  /** @default 100 */
  stepMs?: number;
  /** A delivery comes 0..jitterMs after its instance finished. */
  jitterMs: number;
  /** This share of the events is delivered once more, `lateMs[0]..lateMs[1]` after the instance finished. */
  duplicateShare: number;
  lateMs: [number, number];
  /** Called at every step with the emulator time since the start (e.g. to fire a sweep's timer). */
  onStep?(elapsedMs: number): void;
  /** Called once, at the step where the last instance finished. */
  onAllFinished?(): void;
}

export interface StormResult<T> {
  results: T[];
  duplicates: number;
  events: InstanceFinishedEvent[];
}

export async function stormOnSteppedClock<T>(o: StormOptions<T>): Promise<StormResult<T>> {
  const stepMs = o.stepMs ?? 100;
  const rng = new Rng(o.seed);
  const due = new Map<number, unknown[]>();
  const schedule = (at: number, event: unknown) => due.set(at, [...(due.get(at) ?? []), event]);
  const events: InstanceFinishedEvent[] = [];
  let duplicates = 0;
  let step = 0;
  const startMs = o.clock.stop();
  const { total, accept } = o.start();
  const unsubscribe = o.data.onInstanceFinished((e) => {
    if (!accept(e)) return;
    events.push(e);
    const event = o.envelope(e);
    schedule(step + rng.int(Math.floor(o.jitterMs / stepMs) + 1), event);
    if (rng.next() < o.duplicateShare) {
      duplicates++;
      const [min, max] = o.lateMs.map((ms) => Math.round(ms / stepMs)) as [number, number];
      schedule(step + min + rng.int(max - min + 1), event);
    }
  });
  const results: T[] = [];
  let finished = false;
  try {
    for (; events.length < total || due.size > 0; step++) {
      if (step * stepMs > 600_000) throw new Error(`the storm did not end: ${events.length} of ${total} instances finished`);
      o.clock.set(startMs + step * stepMs);
      o.data.tick();
      o.onStep?.(step * stepMs);
      if (!finished && events.length >= total) {
        finished = true;
        o.onAllFinished?.();
      }
      const now = due.get(step) ?? [];
      due.delete(step);
      results.push(...(await Promise.all(now.map((event) => o.deliver(event)))));
    }
  } finally {
    unsubscribe();
    o.clock.release();
  }
  return { results, duplicates, events };
}
