import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isPlainParsed, parseResponse } from '../../lib/cloud/json-parse';
import { createRpcClient, toPlainJson } from '../../lib/cloud/rpc';

/** What the RPC client returns for a body: the parsed value, converted only when json-bigint had to parse it. */
const asClient = (body: string) => {
  const parsed = parseResponse(Buffer.from(body));
  return isPlainParsed(parsed) ? parsed : toPlainJson(parsed);
};

describe('parseResponse', () => {
  it('parses an ordinary page natively into plain objects that need no copy', () => {
    // Prepare
    const body = JSON.stringify({ RequestId: 'R', Invocation: { NextToken: 'abc', InvocationResults: { InvocationResult: [{ InstanceId: 'i-1', ExitCode: 0, Output: '中文 ✅\n"quoted" 12345678901234567890' }] } } });
    // Act
    const value = parseResponse(Buffer.from(body));
    // Assess
    expect(isPlainParsed(value)).toBe(true);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(value).toEqual(JSON.parse(body));
  });

  it('keeps json-bigint exactness for long number literals, integers and decimals alike', () => {
    const value = asClient('{"Big":12345678901234567890,"Safe":9007199254740991,"Long":0.12345678901234567,"Small":42}');
    expect(value).toEqual({ Big: '12345678901234567890', Safe: 9007199254740991, Long: '0.12345678901234567', Small: 42 });
    expect(isPlainParsed(parseResponse('{"Big":12345678901234567890}'))).toBe(false);
  });

  it('fails as json-bigint fails on a body that is not JSON (so the retry classifier sees the same error)', () => {
    let thrown: unknown;
    try {
      parseResponse(Buffer.from('<html>502 Bad Gateway</html>'));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ name: 'SyntaxError' });
    expect(thrown instanceof Error).toBe(false); // json-bigint's plain-object error
  });

  it('is what pop-core parses with once an RPC client is built', () => {
    createRpcClient({ service: 'oos', regionId: 'cn-hangzhou', credentials: { origin: 'env', get: async () => ({ accessKeyId: 'a', accessKeySecret: 'b' }) } });
    const fromPopCore = createRequire(require.resolve('@alicloud/pop-core/lib/rpc'))('json-bigint') as { parse: unknown };
    expect(fromPopCore.parse).toBe(parseResponse);
  });
});
