/**
 * The local cloud's RPC endpoint (OOS 2019-06-01 + ECS 2014-05-26), driven over real HTTP on 127.0.0.1 by the real,
 * unchanged `@alicloud/pop-core`, plus raw requests for what pop-core cannot produce (replays, missing parameters).
 */
import { randomUUID } from 'node:crypto';
import RPCClient from '@alicloud/pop-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_KEY, DEMO_STS_KEY, type DemoKey } from '../src/credentials';
import type { InstanceFinishedEvent, InstanceStatus } from '../src/datasets';
import { SLICE_ITEMS } from '../src/rpc/json-text';
import { startRpcEmulator, type RpcEmulator } from '../src/rpc/server';
import { canonicalQuery, computeSignature, percentEncode } from '../src/rpc/signature';
import type { Json } from '../../../test/helpers/json';
import { rejection } from '../../../test/helpers/rejection';

const OOS = '2019-06-01';
const ECS = '2014-05-26';
const REGION = 'cn-hangzhou';

/** pop-core's typings are minimal (one-argument constructor, `Object` params); this is what it really does. */
interface Rpc {
  request<T = Record<string, Json>>(action: string, params: object, opts?: object): Promise<T>;
}

interface PopError {
  name: string;
  code?: string;
  message: string;
  data?: Record<string, Json>;
  entry?: { response: { statusCode: number } };
}

let emu: RpcEmulator;
/** Added to Date.now() by the emulator clock; tests that move time put it back. */
let clockOffset = 0;

function client(apiVersion: string, key: DemoKey = DEMO_KEY, verbose = false): Rpc {
  const Ctor = RPCClient as unknown as new (config: object, verbose?: boolean) => Rpc;
  return new Ctor(
    {
      endpoint: emu.url,
      apiVersion,
      accessKeyId: key.accessKeyId,
      accessKeySecret: key.accessKeySecret,
      securityToken: key.securityToken,
    },
    verbose,
  );
}

async function expectError(p: Promise<unknown>, code: string, status: number): Promise<PopError> {
  const err = await rejection<PopError>(p);
  expect({ code: err.code, status: err.entry?.response.statusCode }).toEqual({ code, status });
  return err;
}

const isoNow = (offsetMs = 0) => new Date(Date.now() + clockOffset + offsetMs).toISOString().slice(0, 19) + 'Z';

/**
 * A hand-signed request (same recipe as pop-core). `null` removes a common parameter; `secret` signs with another
 * secret.
 */
async function raw(
  params: Record<string, string | null>,
  opts: { method?: 'GET' | 'POST'; secret?: string; headers?: Record<string, string>; path?: string; onHeaders?: () => void } = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const method = opts.method ?? 'GET';
  const merged: Record<string, string | null> = {
    Format: 'JSON',
    Timestamp: isoNow(),
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: randomUUID(),
    AccessKeyId: DEMO_KEY.accessKeyId,
    ...params,
  };
  const p: Record<string, string> = {};
  for (const [k, v] of Object.entries(merged)) if (v !== null) p[k] = v;
  const query = `${canonicalQuery(p)}&Signature=${percentEncode(computeSignature(opts.secret ?? DEMO_KEY.accessKeySecret, method, p))}`;
  const url = `${emu.url}${opts.path ?? '/'}${method === 'GET' ? `?${query}` : ''}`;
  const res = await fetch(url, {
    method,
    headers: method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers } : opts.headers,
    body: method === 'POST' ? query : undefined,
  });
  opts.onHeaders?.();
  const text = await res.text();
  let body: Json = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (html-502)
  }
  return { status: res.status, body, headers: res.headers };
}

/** Pages through ListResourceExecutionStatus; returns every ResourceId and the page sizes seen. */
async function allResourceIds(executionId: string, maxResults: (page: number) => number | undefined) {
  const oos = client(OOS);
  const ids: string[] = [];
  const sizes: number[] = [];
  let token: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const max = maxResults(page);
    const r = await oos.request(
      'ListResourceExecutionStatus',
      { RegionId: REGION, ExecutionId: executionId, ...(max ? { MaxResults: max } : {}), ...(token ? { NextToken: token } : {}) },
      { method: 'POST' },
    );
    ids.push(...r.ResourceExecutionStatus.map((x: Json) => x.ResourceId));
    sizes.push(r.ResourceExecutionStatus.length);
    expect(typeof r.NextToken).toBe('string');
    if (r.NextToken === '') return { ids, sizes };
    token = r.NextToken;
  }
  throw new Error('did not end');
}

/** Pages through DescribeInvocationResults with NextToken. */
async function allResults(params: Record<string, unknown>, maxResults: (page: number) => number | undefined) {
  const ecs = client(ECS, DEMO_STS_KEY);
  const items: Json[] = [];
  const sizes: number[] = [];
  let token: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const max = maxResults(page);
    const r = await ecs.request('DescribeInvocationResults', {
      RegionId: REGION,
      ...params,
      ...(max ? { MaxResults: max } : {}),
      ...(token ? { NextToken: token } : {}),
    });
    items.push(...r.Invocation.InvocationResults.InvocationResult);
    sizes.push(r.Invocation.InvocationResults.InvocationResult.length);
    if (r.Invocation.NextToken === '') return { items, sizes };
    token = r.Invocation.NextToken;
  }
  throw new Error('did not end');
}

beforeAll(async () => {
  emu = await startRpcEmulator({ seed: 1, now: () => Date.now() + clockOffset });
});

afterAll(async () => {
  await emu?.close();
});

describe('signature and common parameters', () => {
  it('accepts pop-core GET and POST, plain and STS keys, with tricky values', async () => {
    // Prepare: a value with every character the strict encoder treats specially
    const tricky = "a b*c'(~)!ü/+=&%中";
    for (const [version, key] of [
      [OOS, DEMO_KEY],
      [OOS, DEMO_STS_KEY],
      [ECS, DEMO_KEY],
      [ECS, DEMO_STS_KEY],
    ] as const) {
      for (const method of ['GET', 'POST']) {
        // Act
        const r =
          version === OOS
            ? await client(version, key).request('ListExecutions', { RegionId: REGION, TemplateName: tricky }, { method })
            : await client(version, key).request('DescribeInvocations', { RegionId: REGION, CommandName: tricky }, { method });
        // Assess: signed correctly, the filter matched nothing
        expect(r.RequestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
      }
    }
    // A tricky NextToken passes the signature check and fails as a token
    await expectError(
      client(ECS).request('DescribeInvocationResults', { RegionId: REGION, NextToken: tricky }, { method: 'POST' }),
      'InvalidParameter.NextToken',
      400,
    );
  });

  it('rejects a wrong secret with 403 SignatureDoesNotMatch and the documented body', async () => {
    const bad = client(OOS, { accessKeyId: DEMO_KEY.accessKeyId, accessKeySecret: 'wrong' });
    const err = await expectError(
      bad.request('ListExecutions', { RegionId: REGION }, { method: 'POST' }),
      'SignatureDoesNotMatch',
      403,
    );
    expect(err.data?.HostId).toBe('oos.cn-hangzhou.aliyuncs.com');
    expect(err.data?.Recommend).toBe(
      `https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch&product=Oos&requestId=${err.data?.RequestId}`,
    );
    expect(err.data?.Message).toContain('POST&%2F&AccessKeyId');
    const viaRaw = await raw({ Action: 'DescribeInvocations', Version: ECS, RegionId: REGION }, { secret: 'nope' });
    expect(viaRaw.status).toBe(403);
    expect(viaRaw.body.Code).toBe('SignatureDoesNotMatch');
    expect(viaRaw.body.HostId).toBe('ecs.cn-hangzhou.aliyuncs.com');
  });

  it('rejects unknown keys and bad STS tokens', async () => {
    await expectError(
      client(ECS, { accessKeyId: 'LTAI-nobody', accessKeySecret: 'x' }).request('DescribeInvocations', { RegionId: REGION }),
      'InvalidAccessKeyId.NotFound',
      404,
    );
    await expectError(
      client(ECS, { ...DEMO_STS_KEY, securityToken: undefined }).request('DescribeInvocations', { RegionId: REGION }),
      'InvalidSecurityToken.Malformed',
      400,
    );
    await expectError(
      client(ECS, { ...DEMO_STS_KEY, securityToken: 'CAIS-other' }).request('DescribeInvocations', { RegionId: REGION }),
      'InvalidSecurityToken.Mismatch',
      400,
    );
  });

  it('checks Timestamp presence, format and the ±15 min window against the emulator clock', async () => {
    const base = { Action: 'DescribeInvocations', Version: ECS, RegionId: REGION };
    expect((await raw({ ...base, Timestamp: null })).body.Code).toBe('MissingParameter');
    const bad = await raw({ ...base, Timestamp: '2026/11/22 10:00:00' });
    expect([bad.status, bad.body.Code]).toEqual([400, 'IllegalTimestamp']);
    expect((await raw({ ...base, Timestamp: isoNow(-14 * 60_000) })).status).toBe(200);
    // The client's clock is fine, the server's is 20 minutes ahead
    clockOffset = 20 * 60_000;
    try {
      const pop = client(ECS).request('DescribeInvocations', { RegionId: REGION });
      await expectError(pop, 'InvalidTimeStamp.Expired', 400);
    } finally {
      clockOffset = 0;
    }
  });

  it('rejects a replayed SignatureNonce, but only after a valid signature', async () => {
    const params = { Action: 'DescribeInvocations', Version: ECS, RegionId: REGION, SignatureNonce: randomUUID() };
    // A forged request with that nonce does not burn it
    expect((await raw(params, { secret: 'forged' })).body.Code).toBe('SignatureDoesNotMatch');
    expect((await raw(params)).status).toBe(200);
    const again = await raw(params, { method: 'POST' });
    expect([again.status, again.body.Code]).toEqual([400, 'SignatureNonceUsed']);
  });

  it('answers missing/unknown Action, Version and required parameters as documented', async () => {
    const noAction = await raw({ Version: ECS, RegionId: REGION });
    expect([noAction.status, noAction.body.Code]).toEqual([400, 'MissingParameter']);
    const unknownAction = await raw({ Action: 'RunCommand', Version: ECS, RegionId: REGION });
    expect([unknownAction.status, unknownAction.body.Code]).toEqual([400, 'InvalidAction.NotFound']);
    const unknownVersion = await raw({ Action: 'DescribeInvocations', Version: '2099-01-01', RegionId: REGION });
    expect([unknownVersion.status, unknownVersion.body.Code]).toEqual([400, 'NoSuchVersion']);
    // Version from the x-acs-version header when the parameter is absent
    const viaHeader = await raw(
      { Action: 'ListExecutions', RegionId: REGION, Version: null },
      { headers: { 'x-acs-version': OOS } },
    );
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.body.Executions.length).toBeGreaterThan(0);
    const err = await expectError(
      client(OOS).request('ListResourceExecutionStatus', { RegionId: REGION }),
      'MissingParameter',
      400,
    );
    expect(err.data?.Message).toBe(
      'The input parameter "ExecutionId" that is mandatory for processing this request is not supplied.',
    );
    await expectError(client(ECS).request('DescribeInvocationResults', {}), 'MissingParameter', 400);
  });

  it('gives every response a fresh upper-case RequestId', async () => {
    const a = await client(ECS).request('DescribeInvocations', { RegionId: REGION, MaxResults: 1 });
    const b = await client(ECS).request('DescribeInvocations', { RegionId: REGION, MaxResults: 1 });
    expect(a.RequestId).not.toBe(b.RequestId);
    expect(a.RequestId).toBe(a.RequestId.toUpperCase());
  });
});

describe('parameter ranges', () => {
  it('OOS: MaxResults 10..100, region, NextToken, unknown execution', async () => {
    const oos = client(OOS);
    const id = emu.data.demo.executionId;
    for (const bad of [0, 9, 101, 'abc', '10.5', '1e2', -10]) {
      await expectError(
        oos.request('ListResourceExecutionStatus', { RegionId: REGION, ExecutionId: id, MaxResults: bad }),
        'InvalidParameter',
        400,
      );
      await expectError(oos.request('ListExecutions', { RegionId: REGION, MaxResults: bad }), 'InvalidParameter', 400);
    }
    for (const ok of [10, 100]) {
      const r = await oos.request('ListResourceExecutionStatus', { RegionId: REGION, ExecutionId: id, MaxResults: ok });
      expect(r.ResourceExecutionStatus).toHaveLength(ok);
      expect(r.MaxResults).toBe(ok);
    }
    const def = await oos.request('ListResourceExecutionStatus', { RegionId: REGION, ExecutionId: id });
    expect([def.MaxResults, def.ResourceExecutionStatus.length]).toEqual([50, 50]);
    await expectError(
      oos.request('ListResourceExecutionStatus', { RegionId: 'cn-atlantis', ExecutionId: id }),
      'InvalidParameter',
      400,
    );
    const missing = await expectError(
      oos.request('ListResourceExecutionStatus', { RegionId: REGION, ExecutionId: 'exec-00000000000000000000' }),
      'EntityNotExists.Execution',
      404,
    );
    expect(missing.data?.Message).toBe('The specified execution does not exist.');
    // Executions are per region
    await expectError(
      oos.request('ListResourceExecutionStatus', { RegionId: 'cn-shanghai', ExecutionId: id }),
      'EntityNotExists.Execution',
      404,
    );
    await expectError(
      oos.request('ListResourceExecutionStatus', { RegionId: REGION, ExecutionId: id, NextToken: 'garbage' }),
      'InvalidParameter',
      400,
    );
    await expectError(oos.request('ListExecutions', { RegionId: REGION, SortField: 'Name' }), 'InvalidParameter', 400);
    await expectError(oos.request('ListExecutions', { RegionId: REGION, SortOrder: 'Down' }), 'InvalidParameter', 400);
    await expectError(oos.request('ListExecutions', { RegionId: REGION, Status: 'Exploded' }), 'InvalidParameter', 400);
    await expectError(
      oos.request('ListExecutions', { RegionId: REGION, StartDateAfter: '2026-11-20 00:00' }),
      'InvalidParameter',
      400,
    );
  });

  it('ECS: MaxResults 1..50, PageNumber, PageSize, ContentEncoding, region', async () => {
    const ecs = client(ECS);
    const invokeId = emu.data.demo.invokeId;
    for (const action of ['DescribeInvocationResults', 'DescribeInvocations']) {
      for (const bad of [0, 51, 'ten', '2.5']) {
        await expectError(ecs.request(action, { RegionId: REGION, MaxResults: bad }), 'InvalidParameter.MaxResults', 400);
      }
      for (const bad of [0, -1, 'x']) {
        await expectError(ecs.request(action, { RegionId: REGION, PageNumber: bad }), 'InvalidParam.PageNumber', 400);
      }
      for (const bad of [0, 51]) {
        await expectError(ecs.request(action, { RegionId: REGION, PageSize: bad }), 'InvalidParam.PageSize', 400);
      }
      for (const bad of ['base64', 'Hex', 'plaintext']) {
        await expectError(ecs.request(action, { RegionId: REGION, ContentEncoding: bad }), 'InvalidParameter', 400);
      }
      await expectError(ecs.request(action, { RegionId: 'cn-atlantis' }), 'InvalidRegionId.NotFound', 404);
      await expectError(ecs.request(action, { RegionId: REGION, NextToken: 'AAAAAdDWBF2' }), 'InvalidParameter.NextToken', 400);
    }
    for (const ok of [1, 50]) {
      const r = await ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: invokeId, MaxResults: ok });
      expect(r.Invocation.InvocationResults.InvocationResult).toHaveLength(ok);
    }
    // Defaults: page 1 of 10, with TotalCount (legacy paging) and a NextToken to go on with
    const def = await ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: invokeId });
    expect(def.Invocation).toMatchObject({ PageSize: 10, PageNumber: 1, TotalCount: 3000 });
    expect(def.Invocation.InvocationResults.InvocationResult).toHaveLength(10);
    // Legacy paging: page 300 of 10 is the last one; page 301 is empty
    const last = await ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: invokeId, PageNumber: 300 });
    expect(last.Invocation.InvocationResults.InvocationResult).toHaveLength(10);
    expect(last.Invocation.NextToken).toBe('');
    const past = await ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: invokeId, PageNumber: 301, PageSize: 50 });
    expect(past.Invocation).toMatchObject({ PageNumber: 301, PageSize: 50, TotalCount: 3000, NextToken: '' });
    // An unknown InvokeId matches nothing: no error
    const none = await ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: 't-hz000000000000' });
    expect(none.Invocation.InvocationResults.InvocationResult).toEqual([]);
    expect(none.Invocation.NextToken).toBe('');
  });
});

describe('legacy PageNumber paging', () => {
  it('ECS: page N holds records (N-1)*PageSize on in NextToken order, every page says TotalCount, past the end is empty; legacyDrift makes pages disagree', async () => {
    // Prepare
    const ecs = client(ECS);
    const plain = emu.data.addInvocation({ instances: 120 }).invokeId;
    const drifting = emu.data.addInvocation({ instances: 120, legacyDrift: { shiftFromPage: 2, totalCountFromPage: 3, totalCountDelta: -5 } }).invokeId;
    const page = async (invokeId: string, n: number) =>
      (await ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: invokeId, PageNumber: n, PageSize: 50 })).Invocation;
    const ids = (p: { InvocationResults: { InvocationResult: Array<{ InstanceId: string }> } }) => p.InvocationResults.InvocationResult.map((r) => r.InstanceId);
    const byToken: string[] = [];
    let token: string | undefined;
    do {
      const r = await ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: plain, MaxResults: 50, ...(token ? { NextToken: token } : {}) });
      byToken.push(...ids(r.Invocation));
      token = r.Invocation.NextToken || undefined;
    } while (token);
    // Act
    const pages = [await page(plain, 1), await page(plain, 2), await page(plain, 3), await page(plain, 4)];
    const drift = [await page(drifting, 1), await page(drifting, 2), await page(drifting, 3)];
    // Assess
    expect(pages.flatMap(ids)).toEqual(byToken);
    expect(pages.map((p) => [p.PageNumber, p.TotalCount, ids(p).length])).toEqual([[1, 120, 50], [2, 120, 50], [3, 120, 20], [4, 120, 0]]);
    expect(pages[3]?.NextToken).toBe('');
    expect(ids(drift[1] ?? pages[0])[0]).toBe(ids(drift[0] ?? pages[0])[49]);
    expect(drift.map((p) => p.TotalCount)).toEqual([120, 120, 115]);
    expect(ids(drift[2] ?? pages[0])).toHaveLength(21);
    expect(() => emu.data.addInvocation({ instances: 1, legacyDrift: { shiftFromPage: 1.5 } })).toThrow(/legacyDrift.shiftFromPage must be an integer/);
  });
});

describe('pagination', () => {
  it('OOS: every resource exactly once at 0, 1, 49, 50, 51, 100, 101 records and several page sizes', async () => {
    for (const [size, id] of Object.entries(emu.data.demo.executionsBySize)) {
      const ds = emu.data.getExecution(REGION, id);
      if (!ds) throw new Error(`no dataset ${id}`);
      const expected = Array.from({ length: ds.resources }, (_, i) => ds.resourceId(i));
      for (const max of [undefined, 10, 50, 100]) {
        const { ids, sizes } = await allResourceIds(id, () => max);
        expect(ids).toEqual(expected);
        expect(new Set(ids).size).toBe(Number(size));
        // No empty trailing page: the last page has items unless the whole set is empty
        if (Number(size) > 0) expect(sizes.at(-1)).toBeGreaterThan(0);
      }
    }
  });

  it('ECS: every instance exactly once at 0, 1, 49, 50, 51, 100, 101 records and several page sizes', async () => {
    for (const [size, invokeId] of Object.entries(emu.data.demo.invocationsBySize)) {
      const ds = emu.data.getInvocation(REGION, invokeId);
      if (!ds) throw new Error(`no dataset ${invokeId}`);
      const expected = Array.from({ length: ds.instances }, (_, i) => ds.instanceId(i));
      for (const max of [undefined, 1, 10, 50]) {
        if (max === 1 && Number(size) > 51) continue;
        const { items } = await allResults({ InvokeId: invokeId }, () => max);
        expect(items.map((x) => x.InstanceId)).toEqual(expected);
        expect(new Set(items.map((x) => x.InstanceId)).size).toBe(Number(size));
      }
    }
  });

  it('10,000 records with MaxResults changing between pages: each exactly once', async () => {
    // Prepare
    const inv = emu.data.addInvocation({ instances: 10_000, failureRate: 0.1 });
    const exe = emu.data.addExecution({ resources: 10_000, failureRate: 0.1 });
    // Act: tokens are not bound to MaxResults, so it may change on every page
    const ecsPages = await allResults({ InvokeId: inv.invokeId }, (p) => [50, 37, 50, 1][p % 4]);
    const oosPages = await allResourceIds(exe.executionId, (p) => [100, 10, 73][p % 3]);
    // Assess
    const ecsIds = ecsPages.items.map((x) => x.InstanceId);
    expect(ecsIds).toHaveLength(10_000);
    expect(new Set(ecsIds).size).toBe(10_000);
    expect(oosPages.ids).toHaveLength(10_000);
    expect(new Set(oosPages.ids).size).toBe(10_000);
    const failed = ecsPages.items.filter((x) => x.InvocationStatus !== 'Success').length;
    expect(failed / 10_000).toBeGreaterThan(0.05);
    expect(failed / 10_000).toBeLessThan(0.15);
  });

  it('empty pages with a NextToken do not lose or repeat records', async () => {
    const inv = emu.data.addInvocation({ instances: 30, emptyPages: [0, 2] });
    const { items, sizes } = await allResults({ InvokeId: inv.invokeId }, () => 10);
    expect(sizes).toEqual([0, 10, 0, 10, 10]);
    expect(new Set(items.map((x) => x.InstanceId)).size).toBe(30);
    const exe = emu.data.addExecution({ resources: 25, emptyPages: [1] });
    const oos = await allResourceIds(exe.executionId, () => 10);
    expect(oos.sizes).toEqual([10, 0, 10, 5]);
    expect(new Set(oos.ids).size).toBe(25);
  });

  it('filters by InstanceId and InvokeRecordStatus across pages', async () => {
    const ds = emu.data.getInvocation(REGION, emu.data.demo.invokeId);
    if (!ds) throw new Error('no demo invocation');
    const failedExpected = Object.entries(ds.finalCounts())
      .filter(([s]) => s !== 'Success')
      .reduce((n, [, c]) => n + (c ?? 0), 0);
    const { items } = await allResults({ InvokeId: ds.invokeId, InvokeRecordStatus: 'Failed' }, () => 50);
    expect(items.length).toBe(failedExpected);
    expect(items.every((x) => x.InvocationStatus !== 'Success')).toBe(true);
    const one = await allResults({ InstanceId: ds.instanceId(1234) }, () => 10);
    expect(one.items.map((x) => x.InvokeId)).toContain(ds.invokeId);
    expect(one.items.every((x) => x.InstanceId === ds.instanceId(1234))).toBe(true);
  });

  it('binds tokens to the query: another id, a tampered or made-up token is InvalidParameter.NextToken', async () => {
    const ecs = client(ECS);
    const { invocationsBySize } = emu.data.demo;
    const first = await ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: invocationsBySize['101'], MaxResults: 10 });
    const token: string = first.Invocation.NextToken;
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    await expectError(
      ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: invocationsBySize['100'], NextToken: token }),
      'InvalidParameter.NextToken',
      400,
    );
    await expectError(
      ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: invocationsBySize['101'], InvokeRecordStatus: 'Failed', NextToken: token }),
      'InvalidParameter.NextToken',
      400,
    );
    // Change one character: in the cursor (pos 10) and in the MAC (pos 30)
    const flip = (pos: number) => token.slice(0, pos) + (token[pos] === 'A' ? 'B' : 'A') + token.slice(pos + 1);
    for (const t of [flip(10), flip(30), `${token}x`, 'AAAAAdDWBF2']) {
      expect(t).not.toBe(token);
      await expectError(
        ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: invocationsBySize['101'], NextToken: t }),
        'InvalidParameter.NextToken',
        400,
      );
    }
    // Same query, another MaxResults: fine
    const next = await ecs.request('DescribeInvocationResults', { RegionId: REGION, InvokeId: invocationsBySize['101'], NextToken: token, MaxResults: 50 });
    expect(next.Invocation.InvocationResults.InvocationResult).toHaveLength(50);
    // OOS: a token of one execution does not work for another
    const oos = client(OOS);
    const { executionsBySize } = emu.data.demo;
    const o1 = await oos.request('ListResourceExecutionStatus', { RegionId: REGION, ExecutionId: executionsBySize['101'], MaxResults: 10 });
    await expectError(
      oos.request('ListResourceExecutionStatus', { RegionId: REGION, ExecutionId: executionsBySize['100'], NextToken: o1.NextToken }),
      'InvalidParameter',
      400,
    );
  });
});

describe('ECS content', () => {
  async function both(action: string, params: Record<string, unknown>) {
    const ecs = client(ECS);
    const plain = await ecs.request(action, { RegionId: REGION, ...params, ContentEncoding: 'PlainText' });
    const b64 = await ecs.request(action, { RegionId: REGION, ...params });
    return { plain, b64 };
  }

  it('Base64 (the default) decodes byte-exactly to PlainText, for unicode, CRLF and 24 KB outputs', async () => {
    const { unicodeInvokeId, largeOutputInvokeId } = emu.data.demo;
    for (const invokeId of [unicodeInvokeId, largeOutputInvokeId]) {
      const { plain, b64 } = await both('DescribeInvocationResults', { InvokeId: invokeId, MaxResults: 50 });
      const p = plain.Invocation.InvocationResults.InvocationResult;
      const b = b64.Invocation.InvocationResults.InvocationResult;
      expect(p.length).toBeGreaterThan(0);
      expect(b.map((x: Json) => Buffer.from(x.Output, 'base64').toString('utf8'))).toEqual(p.map((x: Json) => x.Output));
      if (invokeId === largeOutputInvokeId) {
        for (const x of p.filter((r: Json) => r.StartTime !== '')) {
          expect(Buffer.byteLength(x.Output, 'utf8')).toBe(24 * 1024);
          expect(x.Dropped).toBeGreaterThan(0);
        }
      } else {
        expect(p.some((x: Json) => /[\u4e00-\u9fff]/.test(x.Output))).toBe(true);
        expect(p.some((x: Json) => /\p{Extended_Pictographic}/u.test(x.Output))).toBe(true);
        expect(p.some((x: Json) => x.Output.includes('\r\n'))).toBe(true);
      }
    }
    const { plain, b64 } = await both('DescribeInvocations', { InvokeId: unicodeInvokeId, IncludeOutput: true });
    const pi = plain.Invocations.Invocation[0];
    const bi = b64.Invocations.Invocation[0];
    expect(Buffer.from(bi.CommandContent, 'base64').toString('utf8')).toBe(pi.CommandContent);
    expect(pi.CommandContent).toContain('部署-nginx.sh');
    expect(bi.InvokeInstances.InvokeInstance.map((x: Json) => Buffer.from(x.Output, 'base64').toString('utf8'))).toEqual(
      pi.InvokeInstances.InvokeInstance.map((x: Json) => x.Output),
    );
  });

  it('IncludeHistory returns every run of a periodic task; without it only the latest per instance', async () => {
    const invokeId = emu.data.demo.periodicInvokeId;
    const latest = await allResults({ InvokeId: invokeId }, () => 50);
    expect(latest.items).toHaveLength(12);
    expect(latest.items.every((x) => x.Repeats === 6)).toBe(true);
    const history = await allResults({ InvokeId: invokeId, IncludeHistory: true }, () => 50);
    expect(history.items).toHaveLength(72);
    const runs = new Map<string, number[]>();
    for (const x of history.items) runs.set(x.InstanceId, [...(runs.get(x.InstanceId) ?? []), x.Repeats]);
    expect(runs.size).toBe(12);
    for (const r of runs.values()) expect([...r].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    const inv = await client(ECS).request('DescribeInvocations', { RegionId: REGION, InvokeId: invokeId });
    expect(inv.Invocations.Invocation[0]).toMatchObject({ RepeatMode: 'Period', Timed: true, InvocationStatus: 'Scheduled' });
  });

  it('DescribeInvocations computes the overall status per the documented rules', async () => {
    const cases: [Partial<Record<InstanceStatus, number>>, string][] = [
      [{ Success: 1 }, 'Success'],
      [{ Failed: 1 }, 'Failed'],
      [{ Timeout: 1, Aborted: 1, Invalid: 1 }, 'Failed'],
      [{ Success: 1, Failed: 1 }, 'PartialFailed'],
      [{ Success: 1, Failed: 1, Terminated: 1 }, 'PartialFailed'],
      [{ Success: 1, Cancelled: 1 }, 'Success'],
      [{ Failed: 1, Terminated: 1 }, 'Failed'],
      [{ Terminated: 1, Cancelled: 1 }, 'Stopped'],
      [{ Success: 1, Running: 1 }, 'Running'],
      [{ Running: 1, Pending: 1 }, 'Pending'],
      [{ Success: 1, Stopping: 1 }, 'Stopping'],
    ];
    const ecs = client(ECS);
    for (const [statuses, expected] of cases) {
      const info = emu.data.addInvocation({ instances: 60, statuses });
      // Each weighted status really occurs among 60 instances
      expect(Object.keys(info.counts).sort()).toEqual(Object.keys(statuses).sort());
      const r = await ecs.request('DescribeInvocations', { RegionId: REGION, InvokeId: info.invokeId });
      const inv = r.Invocations.Invocation[0];
      expect([statuses, inv.InvocationStatus]).toEqual([statuses, expected]);
      expect(inv.InvokeInstances.InvokeInstance).toHaveLength(60);
      expect(inv.InvokeInstances.InvokeInstance.every((x: Json) => x.Output === '')).toBe(true);
    }
    // InvokeStatus filter: Finished matches every final overall status
    const finished = await ecs.request('DescribeInvocations', { RegionId: REGION, InvokeStatus: 'Finished', MaxResults: 50 });
    expect(
      finished.Invocations.Invocation.every((x: Json) => ['Success', 'Failed', 'PartialFailed', 'Stopped'].includes(x.InvocationStatus)),
    ).toBe(true);
    // Newest CreationTime first
    const all = await ecs.request('DescribeInvocations', { RegionId: REGION, MaxResults: 50 });
    const times = all.Invocations.Invocation.map((x: Json) => x.CreationTime);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('DescribeInvocations over many instances is built in slices: a result page asked for meanwhile is answered first, and the answer is whole', async () => {
    const n = 40 * SLICE_ITEMS;
    const info = emu.data.addInvocation({ instances: n, failureRate: 0.1 });
    // The order in which the answers' heads came back.
    const answered: string[] = [];
    const before = emu.stats.byAction.DescribeInvocations ?? 0;
    const described = raw(
      { Action: 'DescribeInvocations', Version: ECS, RegionId: REGION, InvokeId: info.invokeId, ContentEncoding: 'PlainText' },
      { onHeaders: () => answered.push('DescribeInvocations') },
    );
    // Once the emulator has taken the request, its answer is being built.
    while ((emu.stats.byAction.DescribeInvocations ?? 0) === before) await new Promise((resolve) => setImmediate(resolve));
    const page = await raw(
      { Action: 'DescribeInvocationResults', Version: ECS, RegionId: REGION, InvokeId: info.invokeId, MaxResults: '1' },
      { onHeaders: () => answered.push('DescribeInvocationResults') },
    );
    const r = await described;
    expect([r.status, page.status]).toEqual([200, 200]);
    expect(answered).toEqual(['DescribeInvocationResults', 'DescribeInvocations']);
    const instances = r.body.Invocations.Invocation[0].InvokeInstances.InvokeInstance as Json[];
    const results = await allResults({ InvokeId: info.invokeId, ContentEncoding: 'PlainText' }, () => 50);
    expect(instances.map((x) => x.InstanceId).sort()).toEqual(results.items.map((x) => x.InstanceId).sort());
    const failed = (xs: Json[]) => xs.filter((x) => x.ExitCode !== 0).map((x) => `${x.InstanceId} ${x.ErrorInfo}`).sort();
    expect(failed(instances)).toEqual(failed(results.items));
    expect(new Set(instances.map((x) => x.InstanceId)).size).toBe(n);
  });

  it('simulateRunCommand: Running until each finish time, then final, with one event per instance', async () => {
    const events: InstanceFinishedEvent[] = [];
    const off = emu.data.onInstanceFinished((e) => events.push(e));
    try {
      const info = emu.data.simulateRunCommand({ instances: 20, durationMs: 60_000, failureRate: 0.3 });
      const ecs = client(ECS);
      const before = await ecs.request('DescribeInvocations', { RegionId: REGION, InvokeId: info.invokeId });
      expect(before.Invocations.Invocation[0].InvocationStatus).toBe('Running');
      const running = await allResults({ InvokeId: info.invokeId }, () => 50);
      expect(running.items.every((x) => x.InvocationStatus === 'Running' && x.FinishedTime === '')).toBe(true);
      // Move the emulator clock past every finish time; the next request fires the due events
      clockOffset = 61_000 + 1000;
      const after = await ecs.request('DescribeInvocations', { RegionId: REGION, InvokeId: info.invokeId });
      expect(['Success', 'PartialFailed', 'Failed']).toContain(after.Invocations.Invocation[0].InvocationStatus);
      const mine = events.filter((e) => e.invokeId === info.invokeId);
      expect(mine).toHaveLength(20);
      expect(new Set(mine.map((e) => e.instanceId)).size).toBe(20);
      const final = await allResults({ InvokeId: info.invokeId }, () => 50);
      const byId = new Map(final.items.map((x) => [x.InstanceId, x]));
      for (const e of mine) {
        expect(byId.get(e.instanceId)).toMatchObject({ InvocationStatus: e.invocationStatus, ExitCode: e.exitCode, FinishedTime: e.finishTime });
      }
    } finally {
      clockOffset = 0;
      off();
    }
  });
});

describe('OOS ListExecutions', () => {
  it('lists failed child executions of a parent, each saying why, and finds a child by id', async () => {
    const oos = client(OOS);
    const parent = emu.data.getExecution(REGION, emu.data.demo.executionId);
    if (!parent) throw new Error('no demo execution');
    const failed = parent.counts().Failed ?? 0;
    expect(failed / parent.resources).toBeGreaterThan(0.05);
    const seen: Json[] = [];
    let token: string | undefined;
    do {
      const r = await oos.request('ListExecutions', {
        RegionId: REGION,
        ParentExecutionId: parent.executionId,
        Status: 'Failed',
        MaxResults: 100,
        ...(token ? { NextToken: token } : {}),
      });
      expect(r.TotalCount).toBe(failed);
      seen.push(...r.Executions);
      token = r.NextToken;
    } while (token);
    expect(seen).toHaveLength(failed);
    expect(new Set(seen.map((e) => e.ExecutionId)).size).toBe(failed);
    for (const e of seen) {
      expect(e).toMatchObject({ Status: 'Failed', ParentExecutionId: parent.executionId, IsParent: false });
      expect(e.StatusMessage).toMatch(/failed: /);
      expect(typeof e.Outputs).toBe('string');
      expect(JSON.parse(e.Outputs).exitCode).toEqual(expect.any(Number));
    }
    // Default sort: StartDate descending; Ascending reverses it
    const desc = await oos.request('ListExecutions', { RegionId: REGION, ParentExecutionId: parent.executionId, MaxResults: 10 });
    const asc = await oos.request('ListExecutions', { RegionId: REGION, ParentExecutionId: parent.executionId, MaxResults: 10, SortOrder: 'Ascending' });
    expect(desc.Executions[0].StartDate >= asc.Executions[0].StartDate).toBe(true);
    expect(asc.Executions[0].ExecutionId).toBe(parent.children.id(0));
    // A child by id, and its resource row points to it
    const child = await oos.request('ListExecutions', { RegionId: REGION, ExecutionId: seen[0].ExecutionId });
    expect(child.Executions).toHaveLength(1);
    expect(child.TotalCount).toBe(1);
    // The parent at top level, with its counters
    const top = await oos.request('ListExecutions', { RegionId: REGION, ExecutionId: parent.executionId });
    expect(top.Executions[0]).toMatchObject({ IsParent: true, Status: 'Failed', Counters: { Total: 3000, Failed: failed } });
    expect(JSON.parse(top.Executions[0].ResourceStatus).Failed).toBe(failed);
    // Date filters: nothing started after 2100
    const none = await oos.request('ListExecutions', { RegionId: REGION, StartDateAfter: '2100-01-01T00:00:00Z' });
    expect([none.Executions.length, none.TotalCount, none.NextToken]).toEqual([0, 0, '']);
  });

  it('ListResourceExecutionStatus rows carry Outputs as a JSON string with the exit code', async () => {
    const r = await client(OOS).request('ListResourceExecutionStatus', {
      RegionId: REGION,
      ExecutionId: emu.data.demo.executionId,
      MaxResults: 100,
    });
    for (const row of r.ResourceExecutionStatus) {
      expect(Object.keys(row).sort()).toEqual(['ExecutionId', 'ExecutionTime', 'Outputs', 'ResourceId', 'Status']);
      expect(row.ResourceId).toMatch(/^i-bp1[a-z0-9]{17}$/);
      expect(row.ExecutionId).toMatch(/^exec-[0-9a-f]{20}$/);
      expect(row.ExecutionTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const out = JSON.parse(row.Outputs);
      if (row.Status === 'Success') expect(out.exitCode).toBe(0);
      // A failed resource either ran and exited non-zero, or never ran (e.g. ClientNotRunning): no output
      else expect(out.exitCode !== 0 || out.invocationOutput === '').toBe(true);
    }
  });
});

describe('faults, stats and admin', () => {
  const list = () => client(ECS).request('DescribeInvocations', { RegionId: REGION, MaxResults: 1 });

  it('each fault kind is observable once, then service is normal', async () => {
    const verbose = client(ECS, DEMO_KEY, true);
    emu.faults.inject({ kind: 'throttling' });
    const t = await expectError(list(), 'Throttling.User', 400);
    expect(t.data?.Message).toBe('Request was denied due to user flow control.');
    expect((await list()).RequestId).toBeTruthy();

    emu.faults.inject({ kind: 'internal-error' });
    await expectError(list(), 'InternalError', 500);
    emu.faults.inject({ kind: 'service-unavailable' });
    await expectError(list(), 'ServiceUnavailable', 503);

    emu.faults.inject({ kind: 'empty-5xx' });
    const [body, entry] = await verbose.request<[Json, Json]>('DescribeInvocations', { RegionId: REGION });
    expect(entry.response.statusCode).toBe(500);
    expect(Object.keys(body)).toEqual(['RequestId']);

    emu.faults.inject({ kind: 'html-502' });
    const html = await rejection<PopError>(list());
    expect(html.name).toBe('SyntaxError');
    const h = await (async () => {
      emu.faults.inject({ kind: 'html-502' });
      return raw({ Action: 'DescribeInvocations', Version: ECS, RegionId: REGION });
    })();
    expect(h.status).toBe(502);
    expect(h.headers.get('content-type')).toContain('text/html');

    emu.faults.inject({ kind: 'reset' });
    const reset = await rejection<PopError>(list());
    expect(`${reset.code} ${reset.message}`).toMatch(/ECONNRESET|socket hang up/);

    emu.faults.inject({ kind: 'slow', delayMs: 800 });
    const slow = await rejection<PopError>(client(ECS).request('DescribeInvocations', { RegionId: REGION }, { timeout: 200 }));
    expect(slow.name).toBe('RequestTimeoutError');
    emu.faults.inject({ kind: 'slow', delayMs: 150 });
    const started = Date.now();
    expect((await list()).Invocations).toBeTruthy();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    expect(emu.faults.pending()).toEqual([]);
    expect((await list()).Invocations).toBeTruthy();
  });

  it('targets an action, skips afterRequests, repeats times; the per-request header works too', async () => {
    const oos = client(OOS);
    emu.faults.inject({ kind: 'throttling', action: 'ListExecutions', afterRequests: 1, times: 2 });
    await list(); // another action: untouched
    await oos.request('ListExecutions', { RegionId: REGION }); // skipped once
    await expectError(oos.request('ListExecutions', { RegionId: REGION }), 'Throttling.User', 400);
    await expectError(oos.request('ListExecutions', { RegionId: REGION }), 'Throttling.User', 400);
    await oos.request('ListExecutions', { RegionId: REGION });
    const viaHeader = await raw(
      { Action: 'DescribeInvocations', Version: ECS, RegionId: REGION },
      { headers: { 'x-local-cloud-fault': 'service-unavailable' } },
    );
    expect([viaHeader.status, viaHeader.body.Code]).toEqual([503, 'ServiceUnavailable']);
    expect(() => emu.faults.inject({ kind: 'meteor' as never })).toThrow(/unknown fault kind/);
  });

  it('counts requests per action and resets', async () => {
    emu.stats.reset();
    await list();
    await list();
    await client(OOS).request('ListExecutions', { RegionId: REGION });
    expect(emu.stats.requests).toBe(3);
    expect(emu.stats.byAction).toEqual({ DescribeInvocations: 2, ListExecutions: 1 });
    const viaAdmin = await (await fetch(`${emu.url}/__admin/stats`)).json();
    expect(viaAdmin).toEqual({ requests: 3, byAction: { DescribeInvocations: 2, ListExecutions: 1 } });
  });

  it('admin API injects faults and adds datasets without signatures', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${emu.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    expect((await post('/__admin/faults', { kind: 'internal-error' })).status).toBe(201);
    await expectError(list(), 'InternalError', 500);
    expect((await post('/__admin/faults', { kind: 'throttling', times: 5 })).status).toBe(201);
    expect((await fetch(`${emu.url}/__admin/faults`, { method: 'DELETE' })).status).toBe(200);
    expect(emu.faults.pending()).toEqual([]);
    const inv = (await (await post('/__admin/invocations', { instances: 7, commandName: 'admin.sh' })).json()) as Json;
    expect(inv).toMatchObject({ instances: 7, commandName: 'admin.sh', regionId: REGION });
    const r = await allResults({ InvokeId: inv.invokeId }, () => 5);
    expect(r.items).toHaveLength(7);
    const exe = (await (await post('/__admin/executions', { resources: 3, regionId: 'cn-shanghai' })).json()) as Json;
    const rows = await client(OOS).request('ListResourceExecutionStatus', { RegionId: 'cn-shanghai', ExecutionId: exe.executionId });
    const resourceIds: string[] = rows.ResourceExecutionStatus.map((x: Json) => x.ResourceId);
    expect(resourceIds).toHaveLength(3);
    for (const id of resourceIds) expect(id).toMatch(/^i-uf6[a-z0-9]{17}$/);
    expect((await post('/__admin/invocations', { instances: -1 })).status).toBe(400);
  });
});
