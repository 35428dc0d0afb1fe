/**
 * Archive lines copied from a page's own bytes (lib/cloud/raw-json.ts `canonicalSpans`, lib/cloud/json-parse.ts
 * `verbatimSpans`, lib/archive/writer.ts): a span is used only where the body's bytes are exactly what JSON.stringify
 * writes of the parsed element, so a part is byte for byte what stringifying every record made, whatever the body.
 */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseResponse, verbatimSpans } from '../../lib/cloud/json-parse';
import { canonicalSpans } from '../../lib/cloud/raw-json';
import type { SpooledBody } from '../../lib/archive/store';
import { NdjsonGzipBuffer } from '../../lib/archive/writer';

/**
 * The spans of a generated body's list against its elements' own texts: given exactly when every element's text is
 * JSON.stringify's of its parsed value, and then each span is that text. Returns whether they were given.
 */
function checkSpans({ body, elements }: { body: string; elements: string[] }): boolean {
  const bytes = Buffer.from(body, 'utf8');
  const spans = new Int32Array(2 * elements.length);
  const given = canonicalSpans(bytes, ['Records'], elements.length, spans);
  // The scan refuses a little more than it must: every \u escape but a control character's (a lone surrogate's, \ud800,
  // is JSON.stringify's own too) and every all-digit key (one already in V8's order comes out the same). Refusing is
  // always safe (the page is stringified), so a body with either may go either way; any other must be exact.
  const canonical = elements.every((text) => JSON.stringify(JSON.parse(text)) === text);
  if (!elements.some((text) => /\\ud[89a-f]|"\d+":/i.test(text))) expect(given, body).toBe(canonical);
  else if (given) expect(canonical, body).toBe(true);
  if (given) elements.forEach((text, k) => expect(bytes.toString('utf8', spans[2 * k], spans[2 * k + 1]), body).toBe(text));
  return given;
}

/** A deterministic generator of list elements in every form: canonical ones and each way of not being canonical. */
function randomBody(seed: number): { body: string; elements: string[] } {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)] as T;
  const strings = ['""', '"plain"', '"q \\" b \\\\ s"', '"\\n\\t\\r\\b\\f"', '"\\u0001\\u001f"', '"\\u001F"', '"\\u000a"', '"\\u0041"', '"\\/"', '"/"', '"é 中文 😀"', '"\\ud83d\\ude00"', '"\\ud800"', '"\u2028"', '"\u007f"'];
  const numbers = ['0', '-0', '1', '-17', '3.25', '1e3', '1E-7', '-2.5e+10', '0.5', '1.0', '100', '123456789012345', '1.5e300', '5e-324'];
  const keys = ['"a"', '"b"', '"ResourceId"', '"0"', '"12"', '"-1"', '"1.5"', '"__proto__"', '"é"', '"a\\u0062"', '"k\\n"'];
  const value = (depth: number): string => {
    const r = rnd();
    if (depth > 4 || r < 0.4) {
      const k = Math.floor(rnd() * 3);
      if (k === 0) return pick(strings);
      if (k === 1) return pick(numbers);
      return pick(['true', 'false', 'null']);
    }
    const n = Math.floor(rnd() * 4);
    const sp = rnd() < 0.15 ? pick([' ', '\n', '\t', '\r\n  ']) : '';
    if (r < 0.6) return `[${sp}${Array.from({ length: n }, () => value(depth + 1)).join(`,${sp}`)}${sp}]`;
    return `{${sp}${Array.from({ length: n }, () => `${pick(keys)}${sp}:${sp}${value(depth + 1)}`).join(`,${sp}`)}${sp}}`;
  };
  const n = 1 + Math.floor(rnd() * 3);
  const between = rnd() < 0.3 ? ' ' : '';
  const elements = Array.from({ length: n }, () => `{"Id":${pick(strings)},"V":${value(1)}}`);
  return { body: `{"RequestId":"r","NextToken":"t","Records":[${between}${elements.join(`,${between}`)}${between}],"MaxResults":${n}}`, elements };
}

describe('canonicalSpans', () => {
  it('gives the spans exactly when every element is written as JSON.stringify writes it, for generated bodies', () => {
    let given = 0;
    let refused = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      if (checkSpans(randomBody(seed))) given++;
      else refused++;
    }
    // Both kinds occur (a test that could not fail on either side would prove nothing).
    expect(given).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });

  it('refuses each form JSON.stringify does not write, and takes the canonical ones', () => {
    const one = (element: string) => {
      const body = `{"L":[${element}]}`;
      const spans = new Int32Array(2);
      return canonicalSpans(Buffer.from(body), ['L'], 1, spans);
    };
    for (const refused of ['{"a":1,"a":2}', '{"a":{"b":1,"b":1}}', '{"1":"x"}', '{"a" :1}', '{ "a":1}', '[1, 2]', '"\\/"', '"\\u0041"', '"\\u001F"', '"\\u000a"', '"\\ud83d\\ude00"', '-0', '1.0', '1E3', '1e3', '0.50', '{"a":-0}']) {
      expect(one(refused), refused).toBe(false);
    }
    for (const taken of ['{"a":1,"b":{"a":2}}', '{"a":{"b":1},"c":{"b":2}}', '{"-1":1,"1.5":2,"__proto__":3}', '"\\u001f\\u0000\\n\\"\\\\"', '"é 😀 \u2028"', '0', '-17', '3.25', '1e+21', '5e-324', '[]', '{}', 'true', 'null', '[[[]]]']) {
      expect(one(taken), taken).toBe(true);
    }
  });

  it('follows the path through objects and gives up where the list is not found exactly once', () => {
    const spans = new Int32Array(4);
    expect(canonicalSpans(Buffer.from('{"I":{"R":{"L":[1,2]}},"N":"x"}'), ['I', 'R', 'L'], 2, spans)).toBe(true);
    expect([...spans]).toEqual([16, 17, 18, 19]);
    expect(canonicalSpans(Buffer.from('{"L":[1],"L":[1]}'), ['L'], 1, spans)).toBe(false);
    expect(canonicalSpans(Buffer.from('{"\\u004c":[9],"L":[1]}'), ['L'], 1, spans)).toBe(false);
    expect(canonicalSpans(Buffer.from('{"L":[1,2]}'), ['L'], 1, spans)).toBe(false);
    expect(canonicalSpans(Buffer.from('{"L":{"a":1}}'), ['L'], 1, spans)).toBe(false);
    expect(canonicalSpans(Buffer.from('{"M":[1]}'), ['L'], 1, spans)).toBe(false);
  });

  it('only skips elements nested deeper than it reads (refused, never a stack overflow)', () => {
    const spans = new Int32Array(4);
    expect(canonicalSpans(Buffer.from(`{"L":[${'['.repeat(5000)}${']'.repeat(5000)},1]}`), ['L'], 2, spans)).toBe(false);
    expect(canonicalSpans(Buffer.from(`{"L":[${'['.repeat(60)}${']'.repeat(60)},1]}`), ['L'], 2, spans)).toBe(true);
  });

  it('reads long strings natively and still finds every escape in them', () => {
    const long = 'x'.repeat(5000);
    const spans = new Int32Array(6);
    expect(canonicalSpans(Buffer.from(`{"L":["${long}\\n${long}\\"${long}","${long}",1]}`), ['L'], 3, spans)).toBe(true);
    expect((spans[1] as number) - (spans[0] as number)).toBe(15006);
    expect((spans[3] as number) - (spans[2] as number)).toBe(5002);
    for (const odd of ['\\/', '\\u0041', '\\u000A']) {
      expect(canonicalSpans(Buffer.from(`{"L":["${long}","${long}${odd}${long}"]}`), ['L'], 2, spans), odd).toBe(false);
    }
  });
});

describe('archive lines from the page bytes', () => {
  it('writes the same part, byte for byte, as stringifying every record, for generated pages', async () => {
    for (let seed = 1; seed <= 200; seed++) {
      // Prepare: a page as the RPC client parses it (a Buffer through the response hook), and the same records as plain objects.
      const { body } = randomBody(seed);
      const page = parseResponse(Buffer.from(body)) as { Records: unknown[] };
      const plain = (JSON.parse(body) as { Records: unknown[] }).Records;
      // Act
      const viaBytes = new NdjsonGzipBuffer();
      await viaBytes.write(page.Records);
      const viaStringify = new NdjsonGzipBuffer();
      await viaStringify.write(plain);
      const [a, b] = [await viaBytes.finish(), await viaStringify.finish()];
      // Assess
      const read = async (body: SpooledBody) => {
        const chunks: Buffer[] = [];
        for await (const chunk of body.read() as AsyncIterable<Buffer>) chunks.push(chunk);
        return gunzipSync(Buffer.concat(chunks)).toString('utf8');
      };
      expect(await read(a.body)).toBe(plain.map((r) => `${JSON.stringify(r)}\n`).join(''));
      expect(a.sha256).toBe(b.sha256);
      expect(a.records).toBe(plain.length);
      await viaBytes.discard();
      await viaStringify.discard();
    }
  });

  it('uses the bytes of a parsed page once, and never for a list that was not parsed from bytes', () => {
    const page = parseResponse(Buffer.from('{"Records":[{"a":1},{"b":"x"}]}')) as { Records: unknown[] };
    const first = verbatimSpans(page.Records);
    expect(first && [...first.spans]).toEqual([12, 19, 20, 29]);
    expect(verbatimSpans(page.Records)).toBeUndefined();
    expect(verbatimSpans((parseResponse('{"Records":[{"a":1}]}') as { Records: unknown[] }).Records)).toBeUndefined();
    expect(verbatimSpans([{ a: 1 }])).toBeUndefined();
    // Bytes that are not UTF-8 (JSON.parse read them with replacement characters): stringified.
    const bad = parseResponse(Buffer.from([...Buffer.from('{"Records":["'), 0xff, ...Buffer.from('"]}')])) as { Records: unknown[] };
    expect(verbatimSpans(bad.Records)).toBeUndefined();
  });
});
