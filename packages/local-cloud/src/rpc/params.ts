/** Typed, validating access to the request parameters of one RPC call. */
import { Errors, type RpcError } from './errors';

export class Params {
  constructor(readonly all: Readonly<Record<string, string>>) {}

  /** The value, or undefined when absent. An empty value counts as absent (pop-core sends `NextToken=` for ''). */
  get(name: string): string | undefined {
    const v = this.all[name];
    return v === undefined || v === '' ? undefined : v;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  required(name: string): string {
    const v = this.get(name);
    if (v === undefined) throw Errors.missingParameter(name);
    return v;
  }

  /** A decimal integer within [min, max]; anything else (fractions, `1e2`, spaces) raises `err()`. */
  int(name: string, range: { min: number; max: number; def: number }, err: () => RpcError = () => Errors.invalidParameter(name)): number {
    const v = this.get(name);
    if (v === undefined) return range.def;
    if (!/^-?\d{1,15}$/.test(v)) throw err();
    const n = Number(v);
    if (n < range.min || n > range.max) throw err();
    return n;
  }

  /** `true`/`false` (case-insensitive, as the gateways' boolean binding); anything else is InvalidParameter. */
  bool(name: string, def: boolean): boolean {
    const v = this.get(name);
    if (v === undefined) return def;
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    throw Errors.invalidParameter(name);
  }

  /** One of `values` (case-sensitive, as documented); anything else is InvalidParameter. */
  oneOf<T extends string>(name: string, values: readonly T[], def?: T): T | undefined {
    const v = this.get(name);
    if (v === undefined) return def;
    if (!(values as readonly string[]).includes(v)) throw Errors.invalidParameter(name);
    return v as T;
  }
}
