/**
 * Small, fast, deterministic randomness for the lazy datasets.
 *
 * Record `i` of a dataset is computed from `(seed, dataset id, i)` alone, so nothing is kept per record: a
 * million-record dataset costs a few numbers of memory, and page N can be generated without pages 0..N-1.
 */

/** 32-bit finaliser (murmur3 fmix32): spreads every input bit over the whole word. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** FNV-1a over UTF-16 code units, finalised with {@link mix32}; `seed` keys the hash. */
export function hashString(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return mix32(h);
}

/** Combines a key with up to two integers into a new 32-bit seed. */
export function combine(key: number, a: number, b = 0): number {
  return mix32((key ^ mix32(Math.imul(a, 0x9e3779b1) ^ 0x7f4a7c15) ^ Math.imul(b + 1, 0x85ebca77)) >>> 0);
}

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

/** mulberry32: one 32-bit state word, good enough statistically for test data and very cheap. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Next 32-bit unsigned integer. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('Rng.pick on an empty list');
    return item;
  }
  /** Picks an index by weight (weights need not sum to 1). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i] ?? 0;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
  hex(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += HEX[this.u32() & 15];
    return out;
  }
  alnum(n: number): string {
    let out = '';
    for (let i = 0; i < n; i++) out += LOWER_ALNUM[this.u32() % 36];
    return out;
  }
}
