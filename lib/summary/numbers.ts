/**
 * The summary's numbers per record (ECS durations, every record's finish time) and per failed child (OOS durations),
 * kept out of memory: they wait in a temporary file ({@link Float64Spool}, 8 bytes a number on disk, a 64 KiB chunk
 * in memory), and the figures are exact: p50/p90 by selection over the file (a radix selection, four passes of a
 * 16-bit histogram at most; a sorted copy when they are few, {@link SORTED_DURATIONS}), the timeline by one pass
 * once its first and last finish are known.
 */
import { TempFile } from './temp-file';

/** Seconds from start to end of the records (ECS) or failed child executions (OOS). */
export interface DurationStats {
  basis: 'records' | 'failed-child-executions';
  count: number;
  p50: number;
  p90: number;
  max: number;
}

/** Finishes per time bucket; `buckets[i].start` = `start` + i × `bucketSeconds`. */
export interface Timeline {
  bucketSeconds: number;
  /** ISO time of the first bucket's start (aligned to a multiple of the bucket size, UTC). */
  start: string;
  /** ISO time just after the last finish. */
  end: string;
  buckets: { start: string; finished: number; failed: number }[];
}

/** Numbers per chunk in memory (64 KiB). */
const CHUNK_NUMBERS = 8192;

/**
 * Numbers in entries of `width` (1: a duration; 2: a finish time and whether that record failed), in a temporary
 * file once there are more than a chunk of them.
 */
export class Float64Spool {
  private chunk: Float64Array;
  private used = 0;
  private file: TempFile | undefined;
  /** Entries pushed. */
  count = 0;

  constructor(readonly width: 1 | 2) {
    this.chunk = new Float64Array(CHUNK_NUMBERS - (CHUNK_NUMBERS % width));
  }

  push(a: number, b = 0): void {
    if (this.used === this.chunk.length) {
      this.file ??= new TempFile('numbers');
      this.file.appendBytes(new Uint8Array(this.chunk.buffer, 0, this.used * 8));
      this.used = 0;
    }
    this.chunk[this.used++] = a;
    if (this.width === 2) this.chunk[this.used++] = b;
    this.count += 1;
  }

  /** The numbers in the order pushed, a chunk at a time (each valid until the next is asked for). */
  *chunks(): Generator<Float64Array> {
    if (this.file) {
      // Read straight into one aligned array (the chunk size is a multiple of 8: the file's chunks are whole numbers).
      const numbers = new Float64Array(this.chunk.length);
      for (const bytes of this.file.chunks(numbers.byteLength, Buffer.from(numbers.buffer))) yield numbers.subarray(0, bytes.length / 8);
    }
    yield this.chunk.subarray(0, this.used);
  }

  discard(): void {
    this.file?.close();
    this.file = undefined;
    this.used = 0;
    this.count = 0;
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** The nearest-rank index of percentile `p` among `count` sorted values. */
function rank(count: number, p: number): number {
  return Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1));
}

/**
 * p50/p90/max of durations in seconds, or `null` when there are none.
 * @example durationStats(Float64Array.of(1, 2, 3), 'records') // { basis: 'records', count: 3, p50: 2, p90: 3, max: 3 }
 */
export function durationStats(values: Float64Array, basis: DurationStats['basis']): DurationStats | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return statsOf(basis, sorted.length, (k) => sorted[k] ?? 0);
}

/**
 * Numbers up to which {@link spooledDurationStats} sorts a copy (512 KiB) instead of selecting over the spool: the
 * selection's four passes of a 65,536-count histogram, three times, run once per summary, so cold (~20-90 ms at 10,000
 * numbers, against ~1 ms to sort them); beyond, the copy would cost memory that grows with the records.
 */
export const SORTED_DURATIONS = 65_536;

/**
 * {@link durationStats} of the numbers of a spool of width 1, read from its file (exactly the same figures).
 * @param sortUpTo see {@link SORTED_DURATIONS} (0: always select).
 */
export function spooledDurationStats(spool: Float64Spool, basis: DurationStats['basis'], sortUpTo = SORTED_DURATIONS): DurationStats | null {
  if (spool.count === 0) return null;
  if (spool.width === 1 && spool.count <= sortUpTo) {
    const values = new Float64Array(spool.count);
    let at = 0;
    for (const chunk of spool.chunks()) {
      values.set(chunk, at);
      at += chunk.length;
    }
    values.sort();
    return statsOf(basis, values.length, (k) => values[k] ?? 0);
  }
  return statsOf(basis, spool.count, (k) => kthSmallest(spool, k));
}

function statsOf(basis: DurationStats['basis'], count: number, kth: (k: number) => number): DurationStats {
  return { basis, count, p50: round3(kth(rank(count, 50))), p90: round3(kth(rank(count, 90))), max: round3(kth(count - 1)) };
}

/** Where the high and the low 32 bits of a number sit in a Uint32Array over a Float64Array (the platform's byte order). */
const [LOW, HIGH] = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? [0, 1] : [1, 0];

/**
 * The `k`-th smallest (from 0) of a spool's numbers, as `Float64Array.prototype.sort` orders them (-0 before 0): a
 * radix selection over the 16-bit digits of their bits made an unsigned key of the same order, most significant
 * first: one pass over the numbers per digit with a 65,536-count histogram, four passes.
 */
function kthSmallest(spool: Float64Spool, k: number): number {
  const counts = new Uint32Array(65_536);
  // The key's digits fixed so far (its high and low 32 bits), and the rank still to find among the numbers sharing them.
  let hi = 0;
  let lo = 0;
  let rest = k;
  for (let digit = 0; digit < 4; digit++) {
    counts.fill(0);
    for (const chunk of spool.chunks()) {
      const words = new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length * 2);
      for (let i = 0; i < chunk.length; i++) {
        let h = words[2 * i + HIGH] ?? 0;
        let l = words[2 * i + LOW] ?? 0;
        // Negative numbers: all bits flipped; others: the sign bit set. The keys then order as the numbers do.
        if (h & 0x80000000) {
          h = ~h >>> 0;
          l = ~l >>> 0;
        } else {
          h = (h | 0x80000000) >>> 0;
        }
        if (digit >= 1 && h >>> 16 !== hi >>> 16) continue;
        if (digit >= 2 && h !== hi) continue;
        if (digit >= 3 && l >>> 16 !== lo >>> 16) continue;
        const d = digit === 0 ? h >>> 16 : digit === 1 ? h & 0xffff : digit === 2 ? l >>> 16 : l & 0xffff;
        counts[d] = (counts[d] ?? 0) + 1;
      }
    }
    let d = 0;
    while (d < 65_535 && rest >= (counts[d] ?? 0)) rest -= counts[d++] ?? 0;
    if (digit === 0) hi = (d << 16) >>> 0;
    else if (digit === 1) hi = (hi | d) >>> 0;
    else if (digit === 2) lo = (d << 16) >>> 0;
    else lo = (lo | d) >>> 0;
  }
  const words = new Uint32Array(2);
  const negative = (hi & 0x80000000) === 0;
  words[HIGH] = negative ? ~hi >>> 0 : (hi & 0x7fffffff) >>> 0;
  words[LOW] = negative ? ~lo >>> 0 : lo;
  return new Float64Array(words.buffer)[0] ?? 0;
}

/** Bucket sizes a person reads easily, in seconds. */
const NICE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800];
const MAX_BUCKETS = 60;

/**
 * Counts finishes per bucket. The bucket is the smallest nice size (1 s … 7 d) that needs at most 60 buckets,
 * which gives 24–60 buckets for any span over a minute.
 * @example timelineOf(Float64Array.of(0, 30, 3600), Uint8Array.of(0, 1, 0))
 */
export function timelineOf(at: Float64Array, failed: Uint8Array): Timeline | null {
  if (at.length === 0) return null;
  let min = Infinity;
  let max = -Infinity;
  for (const t of at) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return bucketed(min, max, (count) => {
    for (let i = 0; i < at.length; i++) count(at[i] ?? 0, failed[i] ?? 0);
  });
}

/**
 * {@link timelineOf} of a spool of width 2 (finish time, 1 when that record failed), read from its file; `min` and
 * `max` are its first and last finish (kept as the numbers came).
 */
export function spooledTimeline(spool: Float64Spool, min: number, max: number): Timeline | null {
  if (spool.count === 0) return null;
  return bucketed(min, max, (count) => {
    for (const chunk of spool.chunks()) for (let i = 0; i + 1 < chunk.length; i += 2) count(chunk[i] ?? 0, chunk[i + 1] ?? 0);
  });
}

function bucketed(min: number, max: number, each: (count: (at: number, failed: number) => void) => void): Timeline {
  const span = max - min;
  let step = NICE_STEPS.find((s) => Math.floor(max / s) - Math.floor(min / s) + 1 <= MAX_BUCKETS);
  if (step === undefined) step = Math.ceil(span / (MAX_BUCKETS - 1) / 86_400) * 86_400;
  const start = Math.floor(min / step) * step;
  const n = Math.floor((max - start) / step) + 1;
  const finished = new Array<number>(n).fill(0);
  const failedCounts = new Array<number>(n).fill(0);
  const size = step;
  each((at, failed) => {
    const b = Math.floor((at - start) / size);
    finished[b] = (finished[b] ?? 0) + 1;
    if (failed) failedCounts[b] = (failedCounts[b] ?? 0) + 1;
  });
  const iso = (s: number) => new Date(s * 1000).toISOString();
  return {
    bucketSeconds: step,
    start: iso(start),
    end: iso(max + 1),
    buckets: finished.map((count, i) => ({ start: iso(start + i * step), finished: count, failed: failedCounts[i] ?? 0 })),
  };
}
