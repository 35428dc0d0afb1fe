/**
 * The fields of an API record as the code reads them: the API's JSON gives a field as any type, or leaves it out,
 * and every reader wants text or a number. The one home of these readers (the aggregation, the failed children's
 * index, the outputs step, the warehouse's results table and the causes share them).
 */

/**
 * A field as text: a string as it is, a missing field or `null` as `''`, anything else as `String` writes it.
 * @example str(42) // '42'
 */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/**
 * A field as a number, or `null`: a finite number as it is, a string of decimal digits (an optional `-`, spaces
 * around) as its value; anything else (`'12a'`, `1e3` as text, `NaN`, a missing field) is `null`.
 * @example intOrNull(' -3 ') // -3
 */
export function intOrNull(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return null;
}
