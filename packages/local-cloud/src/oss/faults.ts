/**
 * Fault injection for the OSS emulator: make the next matching requests fail the way real OSS (or the network)
 * sometimes does, so tests can prove the client aborts, retries or reports instead of committing garbage.
 * Same conventions as the RPC emulator's `faults.ts` (`times` default 1, `afterRequests`, `delayMs` 5000),
 * but matched on the OSS operation (or HTTP method) and key prefix instead of an RPC Action.
 */

/**
 * - `internal-error`: 500 `InternalError` (the request body is read and dropped first, nothing is stored).
 * - `service-unavailable`: 503 `ServiceUnavailable`.
 * - `reset`: the TCP connection is destroyed without an answer (the client sees ECONNRESET / socket hang up).
 * - `slow`: the request is held for `delayMs` and then served normally (for timeout tests).
 */
export type OssFaultKind = 'internal-error' | 'service-unavailable' | 'reset' | 'slow';

/** What to break, and how often. */
export interface OssFaultSpec {
  kind: OssFaultKind;
  /**
   * Only requests of this operation (`PutObject`, `GetObject`, `HeadObject`, `DeleteObject`, `ListObjectsV2`,
   * `ListObjects`, `InitiateMultipartUpload`, `UploadPart`, `CompleteMultipartUpload`, `AbortMultipartUpload`,
   * `ListParts`, `ListMultipartUploads`) or of this HTTP method (`PUT`, `GET`, ...). Default: any.
   */
  method?: string;
  /** Only requests whose object key starts with this. Default: any (bucket-level requests have key ''). */
  keyPrefix?: string;
  /** How many matching requests fail before the fault is spent. Default 1; `Infinity` for a permanent fault. */
  times?: number;
  /** For `slow`: how long to hold the request (default 5000 ms). */
  delayMs?: number;
  /** Let this many matching requests through untouched before the fault starts firing (default 0). */
  afterRequests?: number;
}

/** An injected fault; `remove()` withdraws it early. */
export interface OssFaultHandle {
  readonly spec: Readonly<OssFaultSpec>;
  /** How many requests this fault has broken so far. */
  readonly fired: number;
  remove(): void;
}

/** The request a fault is matched against. */
export interface OssFaultTarget {
  operation: string;
  httpMethod: string;
  key: string;
}

interface Active {
  spec: OssFaultSpec;
  remaining: number;
  skip: number;
  fired: number;
}

/** The fault table of one emulator. */
export class OssFaults {
  private active: Active[] = [];

  /** Adds a fault; the oldest matching fault fires first. */
  inject(spec: OssFaultSpec): OssFaultHandle {
    const a: Active = { spec: { ...spec }, remaining: spec.times ?? 1, skip: spec.afterRequests ?? 0, fired: 0 };
    this.active.push(a);
    return {
      spec: a.spec,
      get fired() {
        return a.fired;
      },
      remove: () => {
        this.active = this.active.filter((x) => x !== a);
      },
    };
  }

  /** Removes every fault. */
  clear(): void {
    this.active = [];
  }

  /** Number of faults still armed. */
  get pending(): number {
    return this.active.length;
  }

  /** Consumes and returns the fault for this request, if one matches. */
  take(target: OssFaultTarget): OssFaultSpec | undefined {
    for (const a of this.active) {
      const m = a.spec.method;
      if (m !== undefined && m !== target.operation && m.toUpperCase() !== target.httpMethod) continue;
      if (a.spec.keyPrefix !== undefined && !target.key.startsWith(a.spec.keyPrefix)) continue;
      if (a.skip > 0) {
        a.skip--;
        continue;
      }
      a.fired++;
      a.remaining--;
      if (a.remaining <= 0) this.active = this.active.filter((x) => x !== a);
      return a.spec;
    }
    return undefined;
  }
}
