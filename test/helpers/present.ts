/**
 * The value, or a test failure that says what was missing: what a test writes instead of a non-null assertion.
 * @example const manifest = present(await readManifest(store, ref), 'the manifest');
 */
export function present<T>(value: T | null | undefined, what = 'the value'): T {
  if (value === undefined || value === null) throw new Error(`expected ${what} to be present`);
  return value;
}
