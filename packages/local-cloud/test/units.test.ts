/**
 * In-process checks of the local cloud's RPC building blocks: the signature recipe against the documented vectors,
 * NextToken binding, the nonce store's bound, and the lazy datasets (determinism, realism, speed).
 */
import { describe, expect, it } from 'vitest';
import { Datasets, OUTPUT_LIMIT_BYTES, overallStatus } from '../src/datasets';
import { FaultInjector } from '../src/faults';
import { TokenCodec } from '../src/rpc/pagination';
import { NonceStore } from '../src/nonces';
import { jsonArrayInSlices, JsonText, nextTurn, stringifyAnswer } from '../src/rpc/json-text';
import { computeSignature, parseUrlEncoded, percentEncode, stringToSign } from '../src/rpc/signature';

describe('RPC signature (protocols §1.4 vectors)', () => {
  const describeRegions = {
    AccessKeyId: 'testid',
    Action: 'DescribeRegions',
    Format: 'XML',
    SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
    SignatureVersion: '1.0',
    Timestamp: '2016-02-23T12:46:24Z',
    Version: '2014-05-26',
  };

  it('reproduces the documented DescribeRegions string to sign and signatures', () => {
    expect(stringToSign('GET', describeRegions)).toBe(
      'GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26',
    );
    expect(computeSignature('testsecret', 'GET', describeRegions)).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
    const { Timestamp, ...rest } = describeRegions;
    expect(computeSignature('testsecret', 'GET', { ...rest, TimeStamp: Timestamp })).toBe('CT9X0VtwR86fNWSnsc6v8YGOjuE=');
    expect(computeSignature('testsecret', 'POST', describeRegions)).toBe('MxbnVAM4w6sft9xjVpe/GCKueuk=');
    // Signature itself is never part of the string to sign
    expect(computeSignature('testsecret', 'GET', { ...describeRegions, Signature: 'x' })).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('reproduces the OOS vector with an STS token containing / + =', () => {
    const params = {
      AccessKeyId: 'testid',
      Action: 'ListResourceExecutionStatus',
      ExecutionId: 'exec-abc',
      Format: 'JSON',
      MaxResults: '50',
      RegionId: 'cn-hangzhou',
      SecurityToken: 'tok/en+=',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '123456789',
      SignatureVersion: '1.0',
      Timestamp: '2024-01-01T00:00:00Z',
      Version: '2019-06-01',
    };
    expect(computeSignature('testsecret', 'GET', params)).toBe('5FUDd2NDnfgBPj4lKQNEIhIJ8lE=');
  });

  it('encodes strictly and decodes forms (+ is a space, %2B a plus)', () => {
    expect(percentEncode("a b*c'(~)!ü")).toBe('a%20b%2Ac%27%28~%29%21%C3%BC');
    expect(parseUrlEncoded('A=a+b&B=a%2Bb&C=&D')).toEqual([
      ['A', 'a b'],
      ['B', 'a+b'],
      ['C', ''],
      ['D', ''],
    ]);
    expect(() => parseUrlEncoded('A=%E0%A4%A')).toThrow();
  });
});

describe('NextToken codec', () => {
  it('round-trips and is bound to the scope and the seed', () => {
    const codec = new TokenCodec(1);
    const t = codec.encode('scope-a', { seg: 7, index: 123_456_789, page: 3 });
    expect(t).toMatch(/^[A-Za-z0-9_-]{36}$/);
    expect(codec.decode('scope-a', t)).toEqual({ seg: 7, index: 123_456_789, page: 3 });
    expect(codec.decode('scope-b', t)).toBeUndefined();
    expect(new TokenCodec(1).decode('scope-a', t)).toEqual({ seg: 7, index: 123_456_789, page: 3 });
    expect(new TokenCodec(2).decode('scope-a', t)).toBeUndefined();
  });
});

describe('NonceStore', () => {
  it('rejects a replay within the window, forgets after it, and stays bounded', () => {
    const store = new NonceStore(1000);
    expect(store.use('k', 'n1', 10_000, 0)).toBe(true);
    expect(store.use('k', 'n1', 10_000, 5_000)).toBe(false);
    expect(store.use('other', 'n1', 10_000, 5_000)).toBe(true);
    expect(store.use('k', 'n1', 30_000, 20_000)).toBe(true);
    for (let i = 0; i < 5000; i++) store.use('k', `x${i}`, 1e12, 20_000);
    expect(store.size('k')).toBeLessThanOrEqual(1000);
  });
});

describe('FaultInjector', () => {
  it('fires in order, honours action/afterRequests/times, and validates', () => {
    const f = new FaultInjector();
    f.inject({ kind: 'throttling', action: 'A', afterRequests: 1 });
    f.inject({ kind: 'reset', times: 2 });
    expect(f.take('B')?.kind).toBe('reset');
    expect(f.take('A')).toBeUndefined(); // skipped by afterRequests
    expect(f.take('A')?.kind).toBe('throttling');
    expect(f.take('A')?.kind).toBe('reset');
    expect(f.take('A')).toBeUndefined();
    expect(f.pending()).toEqual([]);
    expect(() => f.inject({ kind: 'slow', delayMs: -1 })).toThrow();
  });
});

describe('datasets', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Datasets({ seed: 7 });
    const b = new Datasets({ seed: 7 });
    const c = new Datasets({ seed: 8 });
    expect(a.demo).toEqual(b.demo);
    expect(a.demo.invokeId).not.toBe(c.demo.invokeId);
    const ra = a.getInvocation('cn-hangzhou', a.demo.invokeId)?.result(1234, 1, 0);
    const rb = b.getInvocation('cn-hangzhou', b.demo.invokeId)?.result(1234, 1, 0);
    expect(ra).toEqual(rb);
    expect(a.getExecution('cn-hangzhou', a.demo.executionId)?.row(42)).toEqual(
      b.getExecution('cn-hangzhou', b.demo.executionId)?.row(42),
    );
    for (const d of [a, b, c]) d.close();
  });

  it('has realistic ids, a few failure causes and a 85–95 % success fleet', () => {
    const d = new Datasets({ seed: 1 });
    const ds = d.getInvocation('cn-hangzhou', d.demo.invokeId);
    if (!ds) throw new Error('no demo');
    expect(ds.invokeId).toMatch(/^t-hz[a-z0-9]{12}$/);
    expect(ds.commandId).toMatch(/^c-hz[a-z0-9]{12}$/);
    expect(d.demo.executionId).toMatch(/^exec-[0-9a-f]{20}$/);
    const ids = new Set<string>();
    const errorCodes = new Set<string>();
    let success = 0;
    for (let i = 0; i < ds.instances; i++) {
      const r = ds.result(i, 1, 0);
      expect(r.instanceId).toMatch(/^i-bp1[a-z0-9]{17}$/);
      ids.add(r.instanceId);
      if (r.status === 'Success') success++;
      else errorCodes.add(r.errorCode);
      expect(ds.localIndexOf(r.instanceId)).toBe(i);
    }
    expect(ids.size).toBe(ds.instances);
    expect(success / ds.instances).toBeGreaterThanOrEqual(0.85);
    expect(success / ds.instances).toBeLessThanOrEqual(0.95);
    expect(errorCodes.size).toBeGreaterThanOrEqual(1);
    expect(errorCodes.size).toBeLessThanOrEqual(4);
    expect(ds.localIndexOf('i-bp1aaaaaaaaaaaaaaaaa')).toBeUndefined();
    // Child execution ids decode back to their parent and index
    const exe = d.getExecution('cn-hangzhou', d.demo.executionId);
    if (!exe) throw new Error('no demo execution');
    const found = d.findExecution('cn-hangzhou', exe.children.id(2999));
    expect(found?.child).toBe(2999);
    expect(d.findExecution('cn-hangzhou', exe.children.id(3000))).toBeUndefined();
    d.close();
  });

  it('cuts large outputs at exactly 24 KB on a character boundary', () => {
    const d = new Datasets({ seed: 3 });
    const info = d.addInvocation({ instances: 200, outputs: 'large', failureRate: 0.2 });
    const ds = d.getInvocation('cn-hangzhou', info.invokeId);
    if (!ds) throw new Error('missing');
    for (let i = 0; i < ds.instances; i++) {
      const r = ds.result(i, 1, 0);
      if (r.startMs === undefined) continue; // never ran: no output
      const bytes = Buffer.from(r.output, 'utf8');
      expect(bytes.length).toBe(OUTPUT_LIMIT_BYTES);
      expect(bytes.toString('utf8')).toBe(r.output); // no U+FFFD from a split character
      expect(r.dropped).toBeGreaterThan(0);
    }
    d.close();
  });

  it('generates records fast enough to page a million of them', () => {
    const d = new Datasets({ seed: 1, scenarios: false });
    const info = d.addInvocation({ instances: 1_000_000 });
    const ds = d.getInvocation('cn-hangzhou', info.invokeId);
    if (!ds) throw new Error('missing');
    const n = 200_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) ds.result(i * 5, 1, 0);
    const perRecordUs = ((performance.now() - t0) * 1000) / n;
    // Target < 5 µs; the bound is loose for slow CI machines
    expect(perRecordUs).toBeLessThan(25);
    d.close();
  });

  it('computes the overall status by the documented precedence', () => {
    expect(overallStatus({ Success: 3 })).toBe('Success');
    expect(overallStatus({ Success: 1, Failed: 1, Cancelled: 1 })).toBe('PartialFailed');
    expect(overallStatus({ Aborted: 1, Terminated: 1 })).toBe('Failed');
    expect(overallStatus({ Cancelled: 2 })).toBe('Stopped');
    expect(overallStatus({ Running: 1, Scheduled: 1 })).toBe('Scheduled');
    expect(overallStatus({ Stopping: 1, Failed: 1 })).toBe('Stopping');
  });
});

describe('answers built in slices (json-text)', () => {
  const item = (i: number) => ({ InstanceId: `i-${i}`, ErrorInfo: i % 3 === 0 ? 'exit 1: 部署失败 "quoted" \\ \u0000json-text:x:0' : '', ExitCode: i, Skipped: undefined, Nested: { Tag: [i, null] } });
  const whole = (n: number) => Array.from({ length: n }, (_, i) => item(i));

  it('is byte for byte JSON.stringify of the whole answer, at 0, 1, a slice, a slice and one, several slices', async () => {
    for (const n of [0, 1, 4, 5, 13]) {
      const list = await jsonArrayInSlices(n, item, 4);
      const body = { RequestId: 'R', Invocations: { Invocation: [{ InvokeId: 't-1', InvokeInstances: { InvokeInstance: list } }, { Other: '"\u0000' }] } };
      const expected = JSON.stringify({ RequestId: 'R', Invocations: { Invocation: [{ InvokeId: 't-1', InvokeInstances: { InvokeInstance: whole(n) } }, { Other: '"\u0000' }] } });
      expect([n, stringifyAnswer(body).join('')]).toEqual([n, expected]);
      // Serialized any other way, it is the value itself.
      expect(JSON.parse(JSON.stringify(body))).toEqual(JSON.parse(expected));
    }
    expect(stringifyAnswer({ a: 1 })).toEqual(['{"a":1}']);
    expect(stringifyAnswer({ a: new JsonText(['[1', ',2]']), b: new JsonText(['[]']) }).join('')).toBe('{"a":[1,2],"b":[]}');
  });

  it('builds each item once, in order, and lets the event loop turn between slices', async () => {
    const built: number[] = [];
    let turns = 0;
    let counting = true;
    const count = async () => {
      while (counting) {
        await nextTurn();
        turns += 1;
      }
    };
    const counted = count();
    await jsonArrayInSlices(10, (i) => (built.push(i), i), 3);
    counting = false;
    await counted;
    expect(built).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // Four slices: at least three turns of the event loop while they were built.
    expect(turns).toBeGreaterThanOrEqual(3);
  });
});
