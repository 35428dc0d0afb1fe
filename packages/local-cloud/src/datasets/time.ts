/** Alibaba Cloud APIs print UTC timestamps without milliseconds: `2019-12-20T06:15:55Z`. */
export function isoSeconds(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.slice(0, 19) + 'Z';
}

/** Parses an ISO-8601 UTC timestamp (`Z` suffix, optional milliseconds); undefined if malformed. */
export function parseIsoUtc(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}
