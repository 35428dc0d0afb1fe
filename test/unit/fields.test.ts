import { describe, expect, it } from 'vitest';
import { intOrNull, jsonObject, str } from '../../lib/fields';

describe('a record field read as text, a number, or a JSON object', () => {
  it('reads text and numbers as every reader of records wants them', () => {
    // Prepare: the field types the API's JSON gives
    const values: unknown[] = ['a', 42, null, undefined, ' -3 ', '12a', '1e3', Number.NaN];
    // Act
    const texts = values.map(str);
    const numbers = values.map(intOrNull);
    // Assess
    expect(texts).toEqual(['a', '42', '', '', ' -3 ', '12a', '1e3', 'NaN']);
    expect(numbers).toEqual([null, 42, null, null, -3, null, null, null]);
  });

  it('parses a text that holds one JSON object, and nothing else', () => {
    // Prepare: an object with spaces around, an array, scalars, a cut object, plain text, a brace that is no JSON
    const texts = [' {"exitCode":1,"out":"x"}\n', '[{"a":1}]', '42', '"{}"', '{"exitCode":1', 'failed: {x}', '{not json}', ''];
    // Act
    const read = texts.map(jsonObject);
    // Assess
    expect(read).toEqual([{ exitCode: 1, out: 'x' }, undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});
