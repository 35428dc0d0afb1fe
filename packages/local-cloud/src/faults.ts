/**
 * Fault injection for the local cloud: makes the next matching request(s) fail the way real gateways fail, so that
 * retry, timeout and error paths can be tested deterministically.
 */

/** What can go wrong; see {@link FaultInjector} for what each looks like on the wire. */
export type FaultKind =
  | 'throttling'
  | 'internal-error'
  | 'service-unavailable'
  | 'empty-5xx'
  | 'html-502'
  | 'reset'
  | 'slow';

export const FAULT_KINDS: readonly FaultKind[] = [
  'throttling',
  'internal-error',
  'service-unavailable',
  'empty-5xx',
  'html-502',
  'reset',
  'slow',
];

/** One injected fault. */
export interface FaultSpec {
  kind: FaultKind;
  /** Only requests for this Action (exact name); default any action. */
  action?: string;
  /** How many matching requests fail; default 1. */
  times?: number;
  /** Let this many matching requests through first; default 0. */
  afterRequests?: number;
  /** For `slow`: how long to hold the answer, ms (default 5000, longer than pop-core's 3 s default timeout). */
  delayMs?: number;
  /**
   * For `throttling`: also send `x-acs-retry-after: <ms>`. Off by default: the official SDKs read the header when it
   * is present, but no ECS or OOS page documents that these APIs send it, so a client must not depend on it; a test
   * that wants to see a client honour it asks for it here.
   */
  retryAfterMs?: number;
}

/** A fault still waiting to fire, with what is left of it. */
export interface PendingFault {
  kind: FaultKind;
  action?: string;
  times: number;
  afterRequests: number;
  delayMs: number;
  retryAfterMs?: number;
}

export const DEFAULT_SLOW_MS = 5000;

/**
 * Queue of faults. Meanings: `throttling` → 400 `Throttling.User`; `internal-error` → 500 `InternalError`;
 * `service-unavailable` → 503 `ServiceUnavailable`; `empty-5xx` → 500 with `{"RequestId":"…"}` and no Code (pop-core
 * returns it as a success); `html-502` → 502 `text/html` nginx page (pop-core throws a JSON SyntaxError); `reset` →
 * the socket is destroyed without an answer; `slow` → the correct answer, after `delayMs`.
 */
export class FaultInjector {
  private queue: PendingFault[] = [];
  private latencyMs = 0;

  /** Queues a fault. Throws on an unknown kind or a negative count. */
  inject(spec: FaultSpec): void {
    if (!FAULT_KINDS.includes(spec.kind)) {
      throw new Error(`unknown fault kind ${JSON.stringify(spec.kind)}; one of ${FAULT_KINDS.join(', ')}`);
    }
    const times = spec.times ?? 1;
    const afterRequests = spec.afterRequests ?? 0;
    const delayMs = spec.delayMs ?? DEFAULT_SLOW_MS;
    for (const [name, v] of [
      ['times', times],
      ['afterRequests', afterRequests],
      ['delayMs', delayMs],
      ['retryAfterMs', spec.retryAfterMs ?? 0],
    ] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`fault ${name} must be a non-negative integer`);
    }
    const fault: PendingFault = { kind: spec.kind, action: spec.action, times, afterRequests, delayMs };
    if (spec.retryAfterMs !== undefined) fault.retryAfterMs = spec.retryAfterMs;
    this.queue.push(fault);
  }

  /** Extra latency added to every request (0 = none). */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error('latency must be a non-negative number of ms');
    this.latencyMs = ms;
  }

  get latency(): number {
    return this.latencyMs;
  }

  /** Removes every queued fault and the latency. */
  clear(): void {
    this.queue = [];
    this.latencyMs = 0;
  }

  /** Faults still waiting (copies). */
  pending(): PendingFault[] {
    return this.queue.filter((f) => f.times > 0).map((f) => ({ ...f }));
  }

  /**
   * Called once per request by the server: consumes and returns the fault to apply, if any. The first queued fault
   * that matches the action decides (so faults fire in the order they were injected).
   */
  take(action: string): PendingFault | undefined {
    for (const f of this.queue) {
      if (f.times <= 0 || (f.action !== undefined && f.action !== action)) continue;
      if (f.afterRequests > 0) {
        f.afterRequests--;
        return undefined;
      }
      f.times--;
      const fired = { ...f };
      this.queue = this.queue.filter((q) => q.times > 0);
      return fired;
    }
    return undefined;
  }
}

/**
 * The faults that break the connection instead of answering, the same for every service: `reset` destroys the socket
 * (true: nothing more is sent), `slow` waits `delayMs` (default {@link DEFAULT_SLOW_MS}) and the request goes on.
 * Any other kind is the service's to answer (false).
 */
export async function transportFault(
  fault: { kind: string; delayMs?: number | undefined },
  req: { socket: { destroy(): void } },
  sleep: (ms: number) => Promise<unknown> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<boolean> {
  if (fault.kind === 'reset') {
    req.socket.destroy();
    return true;
  }
  if (fault.kind === 'slow') await sleep(fault.delayMs ?? DEFAULT_SLOW_MS);
  return false;
}
