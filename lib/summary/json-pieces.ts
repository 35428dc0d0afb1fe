/**
 * `JSON.stringify(value, null, 2)` as a sequence of pieces (one per member and element of the outer levels), so a
 * document is written out without ever being one string. The pieces joined are byte for byte the one string.
 */

/** Levels below which a value is written as one piece (its members are small: a group's fields, a bucket). */
const SPLIT_DEPTH = 3;

/**
 * The pieces of `JSON.stringify(value, null, 2)`.
 * @example [...jsonPieces({ a: [1, 2] })].join('') === JSON.stringify({ a: [1, 2] }, null, 2) // true
 */
export function* jsonPieces(value: unknown, indent = '', depth = 0): Generator<string> {
  const json = value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function' ? (value as { toJSON(): unknown }).toJSON() : value;
  if (depth >= SPLIT_DEPTH || json === null || typeof json !== 'object') {
    yield (JSON.stringify(json, null, 2) ?? 'null').replace(/\n/g, `\n${indent}`);
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(json)) {
    if (json.length === 0) {
      yield '[]';
      return;
    }
    yield '[\n';
    for (let i = 0; i < json.length; i++) {
      const item: unknown = json[i];
      yield inner;
      if (item === undefined || typeof item === 'function' || typeof item === 'symbol') yield 'null';
      else yield* jsonPieces(item, inner, depth + 1);
      yield i < json.length - 1 ? ',\n' : '\n';
    }
    yield `${indent}]`;
    return;
  }
  const entries = Object.entries(json as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol');
  if (entries.length === 0) {
    yield '{}';
    return;
  }
  yield '{\n';
  for (let i = 0; i < entries.length; i++) {
    const [key, item] = entries[i] as [string, unknown];
    yield `${inner}${JSON.stringify(key)}: `;
    yield* jsonPieces(item, inner, depth + 1);
    yield i < entries.length - 1 ? ',\n' : '\n';
  }
  yield `${indent}}`;
}
