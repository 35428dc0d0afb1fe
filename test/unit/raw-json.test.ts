/**
 * The raw-body scan (lib/cloud/raw-json.ts) against JSON.parse and the parsed path (json-bigint + toPlainJson): the
 * same acceptance, the same values, the same stored text once parsed, exact big integers, and a fallback to the
 * ordinary parse for everything it does not take.
 */
import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import jsonBigint from 'json-bigint';
import { isPlainParsed, parseResponse } from '../../lib/cloud/json-parse';
import { lengthOf, RawJsonText, RawSpan, rawTextOf, scanJson } from '../../lib/cloud/raw-json';
import { rawBodyClient, toPlainJson, type RpcClient } from '../../lib/cloud/rpc';

const exact = (token: string) => (toPlainJson(jsonBigint.parse(`[${token}]`)) as Array<number | string>)[0] as number | string;
/** What the parsed path gives for a body: json-bigint's values as plain JSON. */
const parsedPath = (body: string) => toPlainJson(jsonBigint.parse(body));
const textOf = (value: object) => {
  const text = rawTextOf(value);
  expect(text).toBeInstanceOf(RawJsonText);
  return Buffer.concat([...(text as RawJsonText).chunks(7)]).toString('utf8');
};

/** A deterministic generator of JSON values: nesting, escapes, unicode, every number form. */
function randomValue(seed: number) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const strings = ['', 'plain', 'quote " and \\ backslash', 'line\nbreak\ttab', 'unicode é 中文 😀', '\u2028\u2029', 'ctl \u0001', '{"not":"json"}', '12345678901234567890'];
  const numbers = ['0', '-0', '1', '-17', '3.25', '1e3', '1E-7', '-2.5e+10', '12345678901234567890', '-98765432109876543210', '1234567890.123456789', '0.1000000000000000055511', '9007199254740993'];
  const value = (depth: number): string => {
    const r = rnd();
    if (depth > 5 || r < 0.35) {
      const k = Math.floor(rnd() * 4);
      if (k === 0) return JSON.stringify(strings[Math.floor(rnd() * strings.length)]);
      if (k === 1) return numbers[Math.floor(rnd() * numbers.length)] as string;
      return ['true', 'false', 'null'][Math.floor(rnd() * 3)] as string;
    }
    const n = Math.floor(rnd() * 5);
    const sp = rnd() < 0.3 ? ' \n\t' : '';
    if (r < 0.65) return `[${sp}${Array.from({ length: n }, () => value(depth + 1)).join(`,${sp}`)}${sp}]`;
    return `{${sp}${Array.from({ length: n }, (_, i) => `${JSON.stringify(`k${i}${strings[i % strings.length] ?? ''}`)}${sp}:${sp}${value(depth + 1)}`).join(`,${sp}`)}${sp}}`;
  };
  return `{"RequestId":"r","Body":${value(0)},"List":[${value(1)},${value(2)}]}`;
}

describe('scanJson', () => {
  it('builds the same values as the parsed path for generated bodies, and each built object stores the same values', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const body = randomValue(seed);
      const scanned = scanJson(Buffer.from(body), 64, exact);
      expect(scanned, body).toEqual(parsedPath(body));
      // The stored text of every built object parses to the parsed path's values.
      expect(JSON.parse(textOf(scanned as object))).toEqual(parsedPath(body));
      const inner = (scanned as { Body: unknown }).Body;
      if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) expect(JSON.parse(textOf(inner))).toEqual((parsedPath(body) as { Body: unknown }).Body);
    }
  });

  it('keeps big integers exact: the value the parsed path stores (a string when a number cannot hold it)', () => {
    const body = '{"a": {"Big": 12345678901234567890, "Neg": -12345678901234567891, "Fits": 1234567890123456, "Float": 0.10000000000000000555}}';
    const scanned = scanJson(Buffer.from(body), 8, exact) as { a: object };
    expect(scanned.a).toEqual({ Big: '12345678901234567890', Neg: '-12345678901234567891', Fits: 1234567890123456, Float: '0.10000000000000000555' });
    expect(textOf(scanned.a)).toBe('{"Big":"12345678901234567890","Neg":"-12345678901234567891","Fits":1234567890123456,"Float":"0.10000000000000000555"}');
    expect(JSON.parse(textOf(scanned.a))).toEqual((parsedPath(body) as { a: unknown }).a);
  });

  it('counts the containers it does not build, and stores a minified body byte for byte', () => {
    const body = '{"Invocations":{"Invocation":[{"InvokeId":"t-1","InvokeInstances":{"InvokeInstance":[{"InstanceId":"i-1"},{"InstanceId":"i-2"},{"InstanceId":"i-3"}]}}]}}';
    const scanned = scanJson(Buffer.from(body), 5, exact) as { Invocations: { Invocation: Array<{ InvokeInstances: { InvokeInstance: unknown } }> } };
    const invocation = scanned.Invocations.Invocation[0];
    expect(invocation?.InvokeInstances.InvokeInstance).toEqual(new RawSpan('array', 3));
    expect(lengthOf(invocation?.InvokeInstances.InvokeInstance)).toBe(3);
    expect(lengthOf([1, 2])).toBe(2);
    expect(lengthOf(new RawSpan('object', 2))).toBeUndefined();
    expect(textOf(invocation as object)).toBe(body.slice(body.indexOf('[{') + 1, -3));
    expect(rawTextOf({})).toBeUndefined();
  });

  it.each([
    ['trailing comma in an object', '{"a":1,}'],
    ['trailing comma in a list', '{"a":[1,]}'],
    ['a missing value', '{"a":}'],
    ['a missing colon', '{"a" 1}'],
    ['single quotes', "{'a':1}"],
    ['a raw line break in a string', '{"a":"x\ny"}'],
    ['a raw control character in a string', '{"a":"x\u0001y"}'],
    ['a bad escape', '{"a":"\\x41"}'],
    ['a short unicode escape', '{"a":"\\u12"}'],
    ['a leading zero', '{"a":012}'],
    ['a bare minus', '{"a":-}'],
    ['a dot without digits', '{"a":1.}'],
    ['an exponent without digits', '{"a":1e}'],
    ['a number JSON.parse makes Infinity', '{"a":1e999}'],
    ['NaN', '{"a":NaN}'],
    ['a misspelt literal', '{"a":tru}'],
    ['an unclosed object', '{"a":1'],
    ['an unclosed string', '{"a":"1'],
    ['trailing text', '{"a":1} x'],
    ['two values', '{"a":1}{"b":2}'],
    ['a list body', '[1,2]'],
    ['a string body', '"x"'],
    ['an empty body', ''],
    ['an error body (pop-core must see its Code)', '{"Code":"Throttling","Message":"slow down"}'],
  ])('refuses %s (the caller parses it as before)', (_what, body) => {
    expect(scanJson(Buffer.from(body), 8, exact)).toBeUndefined();
  });

  it('refuses bytes that are not UTF-8', () => {
    expect(scanJson(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), 8, exact)).toBeUndefined();
  });

  it('accepts what JSON.parse accepts among single-byte mutations of a body, and refuses the rest', () => {
    const base = '{"a":[1,-2.5e3,"x\\"y",true,null,{"b":{}}],"c":"é"}';
    const bytes = Buffer.from(base);
    const alphabet = Buffer.from('{}[]:,"\\ -+.eE0123456789tfnu\n');
    for (let at = 0; at < bytes.length; at++) {
      for (const b of alphabet) {
        const mutated = Buffer.from(bytes);
        mutated[at] = b;
        let native: unknown;
        try {
          native = JSON.parse(mutated.toString('utf8'));
        } catch {
          native = undefined;
        }
        // Bytes that are not UTF-8 are refused even where JSON.parse of their decoded text would succeed.
        const nativeTakes = isUtf8(mutated) && typeof native === 'object' && native !== null && !Array.isArray(native) && !('Code' in native);
        const scanned = scanJson(mutated, 8, exact);
        expect(scanned !== undefined, mutated.toString('utf8')).toBe(nativeTakes);
        if (scanned) expect(scanned).toEqual(native);
      }
    }
  });
});

describe('raw bodies through parseResponse', () => {
  /** A client whose request parses `body` the way pop-core does (inside whatever context the call runs in). */
  const fakeClient = (body: string): RpcClient => ({
    service: 'ecs',
    regionId: 'cn-hangzhou',
    stats: { apiCalls: 0, retries: 0, throttles: 0 },
    request: async <T>() => parseResponse(Buffer.from(body)) as T,
  });

  it('scans a large body of a raw-body call, and only of that call', async () => {
    const body = JSON.stringify({ RequestId: 'r', Invocations: { Invocation: [{ InvokeId: 't-1', InvokeInstances: { InvokeInstance: [{ InstanceId: 'i-1' }, { InstanceId: 'i-2' }] } }] } });
    const raw = await rawBodyClient(fakeClient(body), { depth: 5, minBytes: 0 }).request<{ Invocations: { Invocation: Array<Record<string, unknown>> } }>('DescribeInvocations', {});
    const invocation = raw.Invocations.Invocation[0] as { InvokeInstances: { InvokeInstance: unknown } };
    expect(isPlainParsed(raw)).toBe(true);
    expect(lengthOf(invocation.InvokeInstances.InvokeInstance)).toBe(2);
    expect(JSON.parse(textOf(invocation))).toEqual(JSON.parse(body).Invocations.Invocation[0]);
    // The same client outside the raw-body context: parsed as always, nothing kept as text.
    const plain = await fakeClient(body).request<{ Invocations: { Invocation: Array<Record<string, unknown>> } }>('DescribeInvocations', {});
    expect(plain).toEqual(JSON.parse(body));
    expect(rawTextOf(plain.Invocations.Invocation[0] as object)).toBeUndefined();
  });

  it('keeps the raw-body scope of a call in flight when another raw-body call ends first (the scope is switched off only when none is in flight)', async () => {
    const body = JSON.stringify({ RequestId: 'r', Invocations: { Invocation: [{ InvokeId: 't-1', InvokeInstances: { InvokeInstance: [{ InstanceId: 'i-1' }] } }] } });
    type Answer = { Invocations: { Invocation: Array<Record<string, unknown>> } };
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: RpcClient = { ...fakeClient(body), request: async <T>() => (await gate, parseResponse(Buffer.from(body)) as T) };
    const late = rawBodyClient(slow, { depth: 5, minBytes: 0 }).request<Answer>('DescribeInvocations', {});
    const early = await rawBodyClient(fakeClient(body), { depth: 5, minBytes: 0 }).request<Answer>('DescribeInvocations', {});
    expect(rawTextOf(early.Invocations.Invocation[0] as object)).toBeInstanceOf(RawJsonText);
    release();
    expect(rawTextOf((await late).Invocations.Invocation[0] as object)).toBeInstanceOf(RawJsonText);
    // Once none is in flight, a call outside the scope is parsed as always.
    const plain = await fakeClient(body).request<Answer>('DescribeInvocations', {});
    expect(rawTextOf(plain.Invocations.Invocation[0] as object)).toBeUndefined();
  });

  it('parses small bodies and error bodies the ordinary way', async () => {
    const small = await rawBodyClient(fakeClient('{"a":{"b":[1]}}'), { depth: 1 }).request<{ a: unknown }>('X', {});
    expect(small).toEqual({ a: { b: [1] } });
    const error = await rawBodyClient(fakeClient('{"Code":"Throttling","Message":"m"}'), { depth: 1, minBytes: 0 }).request<{ Code: string }>('X', {});
    expect(error).toEqual({ Code: 'Throttling', Message: 'm' });
    expect(rawTextOf(error)).toBeUndefined();
  });
});
