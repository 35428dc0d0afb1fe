/**
 * CRC-64 as OSS computes `x-oss-hash-crc64ecma`: the ECMA-182 polynomial, reflected, initial value and final XOR all
 * ones (the catalogue's CRC-64/XZ; Go's `crc64.ECMA` table used the way the OSS SDKs do), sent as an unsigned
 * decimal string. Check value: "123456789" → 11051210869376104954 (0x995DC9BBDF1939FA).
 *
 * Thirty lines with a published check value, streaming and resumable (an appendable object continues from the CRC of
 * what it already holds), so no package is added for it. The 64-bit register is two 32-bit halves: no BigInt per
 * byte.
 */
const POLY_HI = 0xc96c5795;
const POLY_LO = 0xd7870f42;
const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let hi = 0;
  let lo = n;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi >>>= 1;
    if (carry) {
      lo = (lo ^ POLY_LO) >>> 0;
      hi = (hi ^ POLY_HI) >>> 0;
    }
  }
  TABLE_HI[n] = hi;
  TABLE_LO[n] = lo;
}

/** A running CRC-64 (ECMA-182, as OSS). */
export class Crc64 {
  private hi: number;
  private lo: number;

  /** Starts fresh, or continues from the decimal CRC of the bytes that come before. */
  constructor(previous = '0') {
    const v = BigInt(previous);
    this.hi = ~Number((v >> 32n) & 0xffffffffn) >>> 0;
    this.lo = ~Number(v & 0xffffffffn) >>> 0;
  }

  update(chunk: Uint8Array): this {
    let { hi, lo } = this;
    for (let i = 0; i < chunk.length; i++) {
      const idx = (lo ^ (chunk[i] ?? 0)) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ (TABLE_LO[idx] ?? 0)) >>> 0;
      hi = ((hi >>> 8) ^ (TABLE_HI[idx] ?? 0)) >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  /** The CRC so far, as OSS writes it (unsigned decimal). */
  digest(): string {
    return ((BigInt(~this.hi >>> 0) << 32n) | BigInt(~this.lo >>> 0)).toString(10);
  }
}

/** The CRC-64 of one buffer. */
export function crc64(data: Uint8Array): string {
  return new Crc64().update(data).digest();
}
