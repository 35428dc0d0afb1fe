/** parseJson refuses an object that names one key twice, wherever it sits, and nothing else. */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../lib/errors';
import { parseJson } from '../../lib/triggers';

describe('parseJson: duplicate keys', () => {
  it.each([
    ['top level', '{"a":1,"a":2}', 'a'],
    ['nested object', '{"x":{"b":1,"c":2,"b":3}}', 'b'],
    ['object inside an array', '[{"k":1},{"k":2,"k":3}]', 'k'],
    ['after a nested object closes', '{"a":{"a":1},"b":[1,{"c":2}],"a":3}', 'a'],
    ['same key through an escape', '{"source":"oos","\\u0073ource":"ecs"}', 'source'],
  ])('refuses a duplicate (%s)', (_case, text, key) => {
    // Prepare / Act
    const attempt = (): unknown => parseJson(text, 'the body');
    // Assess
    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(`the body has the key ${JSON.stringify(key)} twice in one object`);
  });

  it.each([
    ['the same key in sibling objects', '[{"k":1},{"k":2}]', [{ k: 1 }, { k: 2 }]],
    ['a key in a parent and a child', '{"a":{"a":1}}', { a: { a: 1 } }],
    ['key-like text inside values', '{"a":"\\"a\\":1,","b":["a","a"]}', { a: '"a":1,', b: ['a', 'a'] }],
    ['an empty object and array', '{"e":{},"f":[]}', { e: {}, f: [] }],
  ])('accepts %s', (_case, text, expected) => {
    // Prepare / Act
    const value = parseJson(text);
    // Assess
    expect(value).toEqual(expected);
  });
});
