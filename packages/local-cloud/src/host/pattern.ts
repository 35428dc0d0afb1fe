/**
 * EventBridge event pattern matching (https://help.aliyun.com/document_detail/181432.html), the subset the local
 * host needs: a pattern is an object whose keys mirror the event; a leaf is an array of alternatives, each a literal
 * (string, number, boolean, null) or a matcher `{prefix}`, `{suffix}`, `{"anything-but": x | [..] | {prefix}}`,
 * `{exists: bool}`, `{numeric: [">", 0, "<=", 5]}`, `{cidr}` is not supported. `{}` matches every event.
 */

type Matcher = Record<string, unknown>;

function matchesNumeric(value: unknown, spec: unknown): boolean {
  if (typeof value !== 'number' || !Array.isArray(spec)) return false;
  for (let i = 0; i + 1 < spec.length; i += 2) {
    const op = spec[i];
    const n = spec[i + 1] as number;
    const ok = op === '>' ? value > n : op === '>=' ? value >= n : op === '<' ? value < n : op === '<=' ? value <= n : op === '=' ? value === n : false;
    if (!ok) return false;
  }
  return true;
}

function matchesOne(value: unknown, present: boolean, alt: unknown): boolean {
  if (alt === null || typeof alt !== 'object') return present && value === alt;
  const m = alt as Matcher;
  if ('exists' in m) return m.exists === present;
  if (!present) return false;
  if (typeof m.prefix === 'string') return typeof value === 'string' && value.startsWith(m.prefix);
  if (typeof m.suffix === 'string') return typeof value === 'string' && value.endsWith(m.suffix);
  if ('numeric' in m) return matchesNumeric(value, m.numeric);
  if ('anything-but' in m) {
    const but = m['anything-but'];
    if (Array.isArray(but)) return !but.includes(value);
    if (but && typeof but === 'object') return !matchesOne(value, present, but);
    return value !== but;
  }
  throw new Error(`unsupported EventBridge pattern matcher ${JSON.stringify(alt)}`);
}

function matchesValue(value: unknown, present: boolean, pattern: unknown): boolean {
  if (Array.isArray(pattern)) {
    // An array-valued field matches when any of its elements matches any alternative.
    if (Array.isArray(value)) return value.some((v) => pattern.some((alt) => matchesOne(v, true, alt)));
    return pattern.some((alt) => matchesOne(value, present, alt));
  }
  if (pattern && typeof pattern === 'object') {
    if (!present || !value || typeof value !== 'object') {
      // Only `exists: false` leaves can match inside a missing object.
      return Object.values(pattern).every((p) => Array.isArray(p) && p.some((alt) => alt && typeof alt === 'object' && (alt as Matcher).exists === false));
    }
    return matchesPattern(value as Record<string, unknown>, pattern as Record<string, unknown>);
  }
  throw new Error(`an EventBridge pattern leaf must be an array, got ${JSON.stringify(pattern)}`);
}

/**
 * True when `event` matches `pattern`.
 * @example matchesPattern({ source: 'acs.ecs', type: 'ecs:CloudAssistant:TaskCompleted' }, { source: ['acs.ecs'] }) // true
 */
export function matchesPattern(event: Record<string, unknown>, pattern: Record<string, unknown>): boolean {
  for (const [key, p] of Object.entries(pattern)) {
    if (!matchesValue(event[key], Object.prototype.hasOwnProperty.call(event, key), p)) return false;
  }
  return true;
}
