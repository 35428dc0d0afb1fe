/**
 * The fields of an API record as the code reads them: the API's JSON gives a field as any type, or leaves it out,
 * and every reader wants text or a number. The one home of these readers (the aggregation, the failed children's
 * index, the outputs step, the warehouse's results table and the causes share them), and the reader of a text field
 * that holds a JSON object.
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

/**
 * A text that holds one JSON object (spaces around it allowed), parsed; `undefined` for any other text (not JSON, an
 * array, a scalar): an OOS `Outputs` string, a structured log line.
 * @example jsonObject(' {"exitCode":1} ') // { exitCode: 1 }
 */
export function jsonObject(text: string): Record<string, unknown> | undefined {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined;
  try {
    return JSON.parse(t) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
