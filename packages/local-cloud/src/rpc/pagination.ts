/**
 * NextToken pagination shared by OOS and ECS handlers.
 *
 * Tokens are opaque base64url strings: a version byte, a cursor (segment key, index, page number) and a truncated
 * HMAC over the cursor *and the query's filters* (not MaxResults, which may change between pages). A token replayed
 * with another ExecutionId/InvokeId, edited, or made up is rejected. The HMAC key is derived from the seed, so a token
 * survives an emulator restart with the same seed, as real tokens survive server restarts.
 *
 * The docs do not say what the last page carries; the emulator sends `NextToken: ""` (an empty string, never absent
 * and never null), and only when there is really nothing left (a full last page ends with "").
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Where the next page starts: `seg` is the segment key (e.g. a dataset's sequence number), `index` inside it. */
export interface Position {
  seg: number;
  index: number;
}

/** A decoded token: position plus the number of pages already served for this query (for empty-page scenarios). */
export interface Cursor extends Position {
  page: number;
}

const VERSION = 1;
const MAC_BYTES = 12;

export class TokenCodec {
  private readonly key: Buffer;
  constructor(seed: number) {
    this.key = createHash('sha256').update(`local-cloud/next-token/${seed}`).digest();
  }

  private mac(scope: string, payload: Buffer): Buffer {
    return createHmac('sha256', this.key).update(scope).update('\0').update(payload).digest().subarray(0, MAC_BYTES);
  }

  /** `scope` names the action and its filters; the token is only valid for the same scope. */
  encode(scope: string, c: Cursor): string {
    const payload = Buffer.alloc(15);
    payload.writeUInt8(VERSION, 0);
    payload.writeUInt32BE(c.seg >>> 0, 1);
    payload.writeUIntBE(c.index, 5, 6);
    payload.writeUInt32BE(c.page >>> 0, 11);
    return Buffer.concat([payload, this.mac(scope, payload)]).toString('base64url');
  }

  /** The cursor, or undefined when the token is malformed, tampered with or bound to another query. */
  decode(scope: string, token: string): Cursor | undefined {
    if (!/^[A-Za-z0-9_-]{36}$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64url');
    if (raw.length !== 15 + MAC_BYTES) return undefined;
    const payload = raw.subarray(0, 15);
    const mac = raw.subarray(15);
    if (!timingSafeEqual(mac, this.mac(scope, payload)) || payload.readUInt8(0) !== VERSION) return undefined;
    return { seg: payload.readUInt32BE(1), index: payload.readUIntBE(5, 6), page: payload.readUInt32BE(11) };
  }
}

/**
 * A run of candidate records: `length` positions, optionally filtered by `match`. Lists are sequences of segments
 * (e.g. one per invocation, newest first), so a cursor stays valid when other datasets are added.
 */
export interface Segment {
  key: number;
  length: number;
  match?: (index: number) => boolean;
}

/** Thrown when a cursor points at a segment that is not part of the list (a stale or foreign token). */
export class StaleCursorError extends Error {}

/**
 * Collects up to `max` matching positions starting at `from` (default: the start). `next` is where the following
 * page starts, or undefined when no match is left (the scan looks ahead for the next match, so that a page that
 * happens to end exactly at the last match does not promise another page).
 */
export function scanPage(
  segments: readonly Segment[],
  from: Position | undefined,
  max: number,
): { hits: { seg: number; index: number; segIdx: number }[]; next: Position | undefined } {
  const hits: { seg: number; index: number; segIdx: number }[] = [];
  let s = 0;
  let i = 0;
  if (from) {
    s = segments.findIndex((g) => g.key === from.seg);
    if (s < 0) throw new StaleCursorError();
    i = from.index;
  }
  for (; s < segments.length; s++, i = 0) {
    const g = segments[s];
    if (!g) break;
    for (; i < g.length; i++) {
      if (g.match && !g.match(i)) continue;
      if (hits.length === max) return { hits, next: { seg: g.key, index: i } };
      hits.push({ seg: g.key, index: i, segIdx: s });
    }
  }
  return { hits, next: undefined };
}

/** Number of matching positions in the list (for TotalCount). */
export function countMatches(segments: readonly Segment[]): number {
  let n = 0;
  for (const g of segments) {
    if (!g.match) {
      n += g.length;
      continue;
    }
    for (let i = 0; i < g.length; i++) if (g.match(i)) n++;
  }
  return n;
}

/** Position of the `n`-th match (0-based), for legacy PageNumber paging; undefined when past the end. */
export function nthMatch(segments: readonly Segment[], n: number): Position | undefined {
  let left = n;
  for (const g of segments) {
    if (!g.match) {
      if (left < g.length) return { seg: g.key, index: left };
      left -= g.length;
      continue;
    }
    for (let i = 0; i < g.length; i++) {
      if (!g.match(i)) continue;
      if (left === 0) return { seg: g.key, index: i };
      left--;
    }
  }
  return undefined;
}

/** A small LRU for TotalCount of filtered scans, so paging a large filtered list does not rescan it per page. */
export class CountCache {
  private readonly map = new Map<string, number>();
  constructor(private readonly capacity = 256) {}
  get(key: string, compute: () => number): number {
    const hit = this.map.get(key);
    if (hit !== undefined) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit;
    }
    const v = compute();
    this.map.set(key, v);
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    return v;
  }
}
