/**
 * Realistic, *invertible* resource ids.
 *
 * Filters such as `InstanceId=i-bp1…` or `ExecutionId=<child exec>` must be answered without a reverse index over
 * millions of lazily generated records, so the record index is encoded in the id through a bijection (an affine map),
 * and the rest of the id is a keyed hash that is re-checked on decode (so a typo'd id matches nothing).
 */
import { Rng, combine, hashString } from './prng';
import type { RegionInfo } from './regions';

const B36 = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** 36^6: the index space of one region's fleet (about 2.2 billion instances). */
const FLEET_SPACE = 36 ** 6;
/** Multiplier of the fleet bijection; coprime to 36 (neither even nor a multiple of 3), below 2^22. */
const FLEET_MUL = 3_141_593;
const FLEET_MUL_INV = modInverse(BigInt(FLEET_MUL), BigInt(FLEET_SPACE));

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

function toB36(n: number, width: number): string {
  let out = '';
  for (let i = 0; i < width; i++) {
    out = B36[n % 36] + out;
    n = Math.floor(n / 36);
  }
  return out;
}

function fromB36(s: string): number | undefined {
  let n = 0;
  for (const ch of s) {
    const d = B36.indexOf(ch);
    if (d < 0) return undefined;
    n = n * 36 + d;
  }
  return n;
}

/**
 * The ECS instances of one region: fleet index `k` ↔ `i-<prefix><17 lower-alnum>` (e.g. `i-bp1…` in Hangzhou).
 * Datasets take contiguous slices of the fleet, so the same machines show up in several tasks, as in real life.
 */
export class Fleet {
  private readonly key: number;
  private readonly offset: number;
  private readonly head: string;
  constructor(
    seed: number,
    readonly region: RegionInfo,
  ) {
    this.key = hashString(`fleet:${region.regionId}`, seed);
    this.offset = this.key % FLEET_SPACE;
    this.head = `i-${region.instancePrefix}`;
  }

  instanceId(k: number): string {
    // (a*k + b) mod 36^6 stays below 2^53 because a < 2^22 and k < 2^31. The keyed-hash part comes first so that
    // neighbouring instances do not share a visible prefix.
    const permuted = (FLEET_MUL * k + this.offset) % FLEET_SPACE;
    return this.head + new Rng(combine(this.key, k)).alnum(11) + toB36(permuted, 6);
  }

  /** Fleet index of an instance id of this region, or undefined when the id was not issued by this fleet. */
  indexOf(instanceId: string): number | undefined {
    if (instanceId.length !== this.head.length + 17 || !instanceId.startsWith(this.head)) return undefined;
    const permuted = fromB36(instanceId.slice(this.head.length + 11));
    if (permuted === undefined) return undefined;
    const k = Number(
      ((((BigInt(permuted) - BigInt(this.offset)) % BigInt(FLEET_SPACE)) + BigInt(FLEET_SPACE)) * FLEET_MUL_INV) %
        BigInt(FLEET_SPACE),
    );
    return this.instanceId(k) === instanceId ? k : undefined;
  }
}

/** Multiplicative inverse of an odd number modulo 2^32 (Newton iteration). */
function inverseOdd32(a: number): number {
  let x = a;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(a, x));
  return x >>> 0;
}

const CHILD_MUL = 0x2c1b3c6d | 1;
const CHILD_MUL_INV = inverseOdd32(CHILD_MUL);

/**
 * Child executions of an OOS parent: `exec-` + 12 hex (from the parent) + 8 hex (a bijection of the resource index),
 * so `ListExecutions ExecutionId=<child>` finds the parent and the index in O(1).
 */
export class ChildIds {
  readonly prefix: string;
  private readonly add: number;
  constructor(parentKey: number) {
    const rng = new Rng(combine(parentKey, 0xc41d));
    this.prefix = rng.hex(12);
    this.add = rng.u32();
  }
  id(i: number): string {
    const v = (Math.imul(i, CHILD_MUL) + this.add) >>> 0;
    return `exec-${this.prefix}${v.toString(16).padStart(8, '0')}`;
  }
  /** Index encoded in a child id whose prefix already matched. */
  indexOf(childId: string): number | undefined {
    const hex = childId.slice(5 + 12);
    if (!/^[0-9a-f]{8}$/.test(hex)) return undefined;
    return Math.imul((parseInt(hex, 16) - this.add) >>> 0, CHILD_MUL_INV) >>> 0;
  }
}

/** `exec-` + 20 lower-case hex, as OOS prints them (`exec-6be6d6ff805349d9ac13`). */
export function executionId(rng: Rng): string {
  return `exec-${rng.hex(20)}`;
}

/** Cloud Assistant task id: `t-` + region short code + 12 lower-alnum (`t-hz0jdfwd9f…`). */
export function invokeId(rng: Rng, region: RegionInfo): string {
  return `t-${region.short}${rng.alnum(12)}`;
}

/** Cloud Assistant command id: `c-` + region short code + 12 lower-alnum (`c-hz0jdfwcsr…`). */
export function commandId(rng: Rng, region: RegionInfo): string {
  return `c-${region.short}${rng.alnum(12)}`;
}

/**
 * The resource groups of the local cloud's account, derived from the seed: the default group first, then two more.
 * Every seeded execution and invocation belongs to one of them (drawn from its own key), so `ResourceGroupId` filters
 * have something to select.
 */
export function resourceGroupIds(seed: number): readonly string[] {
  const rng = new Rng(combine(seed >>> 0, 0x26e0));
  return [0, 1, 2].map(() => `rg-acfm${rng.alnum(11)}`);
}
