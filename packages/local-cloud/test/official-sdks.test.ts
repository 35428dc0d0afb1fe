/**
 * The local cloud's RPC endpoint driven by clients no one here wrote: the generated `@alicloud/ecs20140526` 7.x client
 * (on `@alicloud/openapi-core`) and `@alicloud/openapi-client`'s generic `callApi` for OOS 2019-06-01, each with
 * its default signature (V3, ACS3-HMAC-SHA256) and with V1 (`signatureAlgorithm: 'v2'`, HMAC-SHA1), with a long-term
 * AccessKey and an STS key. Every served action is walked to its last page; the refusals (wrong secret, expired
 * date, replayed nonce, tampered body, unsigned header) are the gateway's documented answers.
 *
 * The V3 requests made by hand below are signed by a small signer written in this file from the V3 specification,
 * not by the emulator's own code, so a mistake shared by both sides cannot pass.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import Ecs, * as $Ecs from '@alicloud/ecs20140526';
import { $OpenApiUtil } from '@alicloud/openapi-core';
import OpenApi, * as $OpenApi from '@alicloud/openapi-client';
import OpenApiUtil from '@alicloud/openapi-util';
import * as $Util from '@alicloud/tea-util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_KEY, DEMO_STS_KEY, type DemoKey } from '../src/credentials';
import { startRpcEmulator, type RpcEmulator } from '../src/rpc/server';
import { present } from '../../../test/helpers/present';
import type { Json } from '../../../test/helpers/json';
import { rejection } from '../../../test/helpers/rejection';

const REGION = 'cn-hangzhou';
const OOS = '2019-06-01';
const ECS = '2014-05-26';

type Style = 'v3' | 'v1';
const STYLES: readonly Style[] = ['v3', 'v1'];
const KEYS: readonly [string, DemoKey][] = [
  ['AccessKey', DEMO_KEY],
  ['STS', DEMO_STS_KEY],
];

let emu: RpcEmulator;
let host: string;
/** Added to Date.now() by the emulator's clock (an "expired" client date is a server clock 20 minutes ahead). */
let clockOffset = 0;

beforeAll(async () => {
  emu = await startRpcEmulator({ seed: 7, now: () => Date.now() + clockOffset });
  host = new URL(emu.url).host;
});

afterAll(async () => {
  await emu.close();
});

function config(key: DemoKey, style: Style) {
  return {
    accessKeyId: key.accessKeyId,
    accessKeySecret: key.accessKeySecret,
    securityToken: key.securityToken,
    endpoint: host,
    protocol: 'http',
    regionId: REGION,
    ...(style === 'v1' ? { signatureAlgorithm: 'v2' } : {}),
  };
}

function ecs(key: DemoKey = DEMO_KEY, style: Style = 'v3'): Ecs {
  return new Ecs(new $OpenApiUtil.Config(config(key, style)));
}

/** OOS has no generated client among the dependencies: the generic callApi with the API's metadata (RPC, POST). */
function oos(key: DemoKey = DEMO_KEY, style: Style = 'v3') {
  const client = new OpenApi(new $OpenApi.Config(config(key, style)));
  return async (action: string, query: Record<string, unknown>): Promise<Record<string, Json>> => {
    const params = new $OpenApi.Params({
      action,
      version: OOS,
      protocol: 'HTTP',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    const r = await client.callApi(params, new $OpenApi.OpenApiRequest({ query: OpenApiUtil.query(query) }), new $Util.RuntimeOptions({}));
    return r.body as Record<string, Json>;
  };
}

interface SdkError {
  code?: string;
  statusCode?: number;
  retryAfter?: number;
  data?: Record<string, Json>;
}

async function expectRefused(p: Promise<unknown>, code: string, status: number): Promise<SdkError> {
  const e = await rejection<SdkError>(p);
  expect({ code: e.code, status: e.statusCode }).toEqual({ code, status });
  return e;
}

/** Every page of a NextToken listing; `page(token)` returns [items, nextToken]. */
async function walk<T>(page: (token: string | undefined) => Promise<[T[], string | undefined]>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let token: string | undefined;
  for (let pages = 1; pages < 10_000; pages++) {
    const [got, next] = await page(token);
    items.push(...got);
    if (!next) return { items, pages };
    token = next;
  }
  throw new Error('the listing did not end');
}

describe.each(STYLES.flatMap((style) => KEYS.map(([name, key]) => [style, name, key] as const)))('%s signature, %s', (style, _name, key) => {
  it('walks DescribeInvocationResults of a 3,000-instance task to the last page', async () => {
    const client = ecs(key, style);
    const { invokeId } = emu.data.demo;
    const { items, pages } = await walk(async (token) => {
      const r = await client.describeInvocationResults(
        new $Ecs.DescribeInvocationResultsRequest({ regionId: REGION, invokeId, maxResults: 50, nextToken: token, contentEncoding: 'PlainText' }),
      );
      const inv = r.body?.invocation;
      return [inv?.invocationResults?.invocationResult ?? [], inv?.nextToken];
    });
    expect(pages).toBe(60);
    expect(new Set(items.map((x) => x.instanceId)).size).toBe(3000);
    expect(items.every((x) => x.invokeId === invokeId && typeof x.output === 'string')).toBe(true);
  });

  it('walks DescribeInvocations (every task of the region) to the last page', async () => {
    const client = ecs(key, style);
    const { items, pages } = await walk(async (token) => {
      const r = await client.describeInvocations(new $Ecs.DescribeInvocationsRequest({ regionId: REGION, maxResults: 5, nextToken: token }));
      return [r.body?.invocations?.invocation ?? [], r.body?.nextToken];
    });
    const ids = items.map((x) => x.invokeId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(emu.data.demo.invokeId);
    expect(ids.length).toBe(emu.data.listInvocations(REGION).length);
    expect(pages).toBe(Math.ceil(ids.length / 5));
  });

  it('walks ListResourceExecutionStatus of a 3,000-resource execution and ListExecutions of its children', async () => {
    const call = oos(key, style);
    const { executionId } = emu.data.demo;
    const rows = await walk(async (token) => {
      const r = await call('ListResourceExecutionStatus', { RegionId: REGION, ExecutionId: executionId, MaxResults: 100, NextToken: token });
      return [r.ResourceExecutionStatus as { ResourceId: string }[], r.NextToken as string];
    });
    expect(rows.pages).toBe(30);
    expect(new Set(rows.items.map((x) => x.ResourceId)).size).toBe(3000);

    const children = await walk(async (token) => {
      const r = await call('ListExecutions', { RegionId: REGION, ParentExecutionId: executionId, MaxResults: 100, NextToken: token });
      return [r.Executions as { ExecutionId: string; ParentExecutionId: string }[], r.NextToken as string];
    });
    expect(children.items.length).toBe(3000);
    expect(children.items.every((x) => x.ParentExecutionId === executionId)).toBe(true);

    const parents = await walk(async (token) => {
      const r = await call('ListExecutions', { RegionId: REGION, MaxResults: 10, NextToken: token });
      return [r.Executions as { ExecutionId: string }[], r.NextToken as string];
    });
    expect(parents.items.map((x) => x.ExecutionId)).toContain(executionId);
    expect(parents.items.length).toBe(emu.data.listExecutions(REGION).length);
  });

  it('is refused with a wrong secret (SignatureDoesNotMatch, 403) on both products', async () => {
    const wrong = { ...key, accessKeySecret: `${key.accessKeySecret}x` };
    await expectRefused(ecs(wrong, style).describeInvocations(new $Ecs.DescribeInvocationsRequest({ regionId: REGION })), 'SignatureDoesNotMatch', 403);
    await expectRefused(oos(wrong, style)('ListExecutions', { RegionId: REGION }), 'SignatureDoesNotMatch', 403);
  });

  it('is refused when its date is 20 minutes off the server clock (InvalidTimeStamp.Expired, 400)', async () => {
    clockOffset = 20 * 60_000;
    try {
      await expectRefused(ecs(key, style).describeInvocations(new $Ecs.DescribeInvocationsRequest({ regionId: REGION })), 'InvalidTimeStamp.Expired', 400);
      await expectRefused(oos(key, style)('ListExecutions', { RegionId: REGION }), 'InvalidTimeStamp.Expired', 400);
    } finally {
      clockOffset = 0;
    }
    clockOffset = -14 * 60_000;
    try {
      const r = await ecs(key, style).describeInvocations(new $Ecs.DescribeInvocationsRequest({ regionId: REGION, maxResults: 1 }));
      expect(r.statusCode).toBe(200);
    } finally {
      clockOffset = 0;
    }
  });
});

describe('STS tokens', () => {
  it.each(STYLES)('%s: a token that is not the key’s is InvalidSecurityToken.Mismatch; an unknown key is not found', async (style) => {
    const other = { ...DEMO_STS_KEY, securityToken: 'CAIS-someone-else' };
    await expectRefused(ecs(other, style).describeInvocations(new $Ecs.DescribeInvocationsRequest({ regionId: REGION })), 'InvalidSecurityToken.Mismatch', 400);
    const unknown = { ...DEMO_KEY, accessKeyId: 'LTAI5tNobodyKnowsMe' };
    await expectRefused(oos(unknown, style)('ListExecutions', { RegionId: REGION }), 'InvalidAccessKeyId.NotFound', 404);
  });
});

/** A V3 request signed from the specification (independent of the emulator's verifier). */
function signV3(opts: {
  action: string;
  version: string;
  query: Record<string, string>;
  body?: string;
  key?: DemoKey;
  date?: string;
  nonce?: string;
  extraHeaders?: Record<string, string>;
  unsigned?: Record<string, string>;
}): { path: string; headers: Record<string, string>; body?: string } {
  const key = opts.key ?? DEMO_KEY;
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const query = Object.keys(opts.query)
    .sort()
    .map((k) => `${enc(k)}=${enc(opts.query[k] ?? '')}`)
    .join('&');
  const body = opts.body ?? '';
  const headers: Record<string, string> = {
    host,
    'x-acs-action': opts.action,
    'x-acs-version': opts.version,
    'x-acs-date': opts.date ?? new Date(Date.now() + clockOffset).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'x-acs-signature-nonce': opts.nonce ?? randomUUID(),
    'x-acs-content-sha256': createHash('sha256').update(body).digest('hex'),
    ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    ...(key.securityToken ? { 'x-acs-security-token': key.securityToken } : {}),
    ...opts.extraHeaders,
  };
  const names = Object.keys(headers).sort();
  const canonical = ['POST', '/', query, names.map((n) => `${n}:${(headers[n] ?? '').trim()}\n`).join(''), names.join(';'), headers['x-acs-content-sha256']].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', key.accessKeySecret).update(toSign).digest('hex');
  return {
    path: `/?${query}`,
    headers: {
      ...headers,
      ...opts.unsigned,
      authorization: `ACS3-HMAC-SHA256 Credential=${key.accessKeyId},SignedHeaders=${names.join(';')},Signature=${signature}`,
    },
    body: body || undefined,
  };
}

async function send(r: { path: string; headers: Record<string, string>; body?: string }, method = 'POST', body = r.body) {
  const { host: _h, ...headers } = r.headers;
  const res = await fetch(`${emu.url}${r.path}`, { method, headers, body });
  return { status: res.status, body: (await res.json()) as Record<string, Json>, headers: res.headers };
}

describe('V3 signature, by hand', () => {
  const describeInvocations = (o: Partial<Parameters<typeof signV3>[0]> = {}) =>
    signV3({ action: 'DescribeInvocations', version: ECS, query: { RegionId: REGION, MaxResults: '1' }, ...o });

  it('accepts the recipe, with parameters in the query or in a form body', async () => {
    expect((await send(describeInvocations())).status).toBe(200);
    const inBody = signV3({ action: 'ListExecutions', version: OOS, query: {}, body: `RegionId=${REGION}&MaxResults=10` });
    const r = await send(inBody);
    expect([r.status, r.body.MaxResults]).toEqual([200, 10]);
  });

  it('rejects a replayed nonce, but only once the signature is valid', async () => {
    const nonce = randomUUID();
    const forged = describeInvocations({ nonce, key: { ...DEMO_KEY, accessKeySecret: 'wrong' } });
    expect((await send(forged)).body.Code).toBe('SignatureDoesNotMatch');
    const signed = describeInvocations({ nonce });
    expect((await send(signed)).status).toBe(200);
    const replay = await send(signed);
    expect([replay.status, replay.body.Code]).toEqual([400, 'SignatureNonceUsed']);
  });

  it('rejects a body that is not the one hashed and signed', async () => {
    const signed = signV3({ action: 'ListExecutions', version: OOS, query: {}, body: `RegionId=${REGION}&MaxResults=10` });
    const r = await send(signed, 'POST', `RegionId=${REGION}&MaxResults=11`);
    expect([r.status, r.body.Code]).toEqual([403, 'SignatureDoesNotMatch']);
  });

  it('names the server string to sign when the signature does not match', async () => {
    const r = await send(describeInvocations({ key: { ...DEMO_KEY, accessKeySecret: 'wrong' } }));
    expect(r.status).toBe(403);
    expect(r.body.Message).toMatch(/server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}$/);
  });

  it('requires every x-acs-* header and host to be signed, and the date, nonce and algorithm to be there', async () => {
    const unsigned = await send(describeInvocations({ unsigned: { 'x-acs-extra': '1' } }));
    expect([unsigned.status, unsigned.body.Code]).toEqual([400, 'IncompleteSignature']);
    const noDate = describeInvocations();
    delete noDate.headers['x-acs-date'];
    noDate.headers.authorization = present(noDate.headers.authorization).replace('x-acs-date;', '');
    expect((await send(noDate)).body).toMatchObject({ Code: 'MissingParameter', Message: expect.stringContaining('x-acs-date') });
    const badDate = await send(describeInvocations({ date: '2026-11-22 10:00:00' }));
    expect([badDate.status, badDate.body.Code]).toEqual([400, 'IllegalTimestamp']);
    const sm3 = describeInvocations();
    sm3.headers.authorization = present(sm3.headers.authorization).replace('ACS3-HMAC-SHA256', 'ACS3-HMAC-SM3');
    expect((await send(sm3)).body).toMatchObject({ Code: 'IncompleteSignature', Message: expect.stringContaining('ACS3-HMAC-SM3') });
    const noNonce = describeInvocations();
    delete noNonce.headers['x-acs-signature-nonce'];
    noNonce.headers.authorization = present(noNonce.headers.authorization).replace('x-acs-signature-nonce;', '');
    expect((await send(noNonce)).body.Code).toBe('MissingParameter');
  });

  it('answers an unsupported HTTP method with the published 403 UnsupportedHTTPMethod', async () => {
    const r = await send(describeInvocations(), 'PUT');
    expect([r.status, r.body.Code]).toEqual([403, 'UnsupportedHTTPMethod']);
  });
});

describe('throttling', () => {
  it('sends no x-acs-retry-after by default; a fault that asks for one gives the SDK its retryAfter', async () => {
    emu.faults.inject({ kind: 'throttling', action: 'DescribeInvocations' });
    const plain = await expectRefused(ecs().describeInvocations(new $Ecs.DescribeInvocationsRequest({ regionId: REGION })), 'Throttling.User', 400);
    expect(plain.retryAfter).toBeUndefined();
    emu.faults.inject({ kind: 'throttling', action: 'DescribeInvocations', retryAfterMs: 1500 });
    const hinted = await expectRefused(ecs().describeInvocations(new $Ecs.DescribeInvocationsRequest({ regionId: REGION })), 'Throttling.User', 400);
    expect(hinted.retryAfter).toBe(1500);
  });
});

describe('IncludeHistory', () => {
  it('needs InvokeId: without it the answer is MissingParameter, with it every run comes back', async () => {
    const client = ecs(DEMO_STS_KEY);
    const e = await expectRefused(
      client.describeInvocationResults(new $Ecs.DescribeInvocationResultsRequest({ regionId: REGION, includeHistory: true })),
      'MissingParameter',
      400,
    );
    expect(e.data?.Message).toContain('InvokeId');
    const { periodicInvokeId } = emu.data.demo;
    const all = await walk(async (token) => {
      const r = await client.describeInvocationResults(
        new $Ecs.DescribeInvocationResultsRequest({ regionId: REGION, invokeId: periodicInvokeId, includeHistory: true, maxResults: 50, nextToken: token }),
      );
      return [r.body?.invocation?.invocationResults?.invocationResult ?? [], r.body?.invocation?.nextToken];
    });
    expect(all.items.length).toBe(72);
  });
});

describe('documented filters select, never pass everything through', () => {
  let groups: string[];
  let prod: string;
  let dev: string;
  let powershell: string;
  let tagged: string;

  beforeAll(() => {
    groups = [...new Set(emu.data.listInvocations(REGION).map((d) => d.resourceGroupId))].sort();
    expect(groups.length).toBeGreaterThan(1);
    prod = emu.data.addInvocation({ instances: 7, tags: [{ TagKey: 'env', TagValue: 'prod' }, { TagKey: 'owner', TagValue: 'ops' }], resourceGroupId: groups[0] }).invokeId;
    dev = emu.data.addInvocation({ instances: 5, tags: [{ TagKey: 'env', TagValue: 'dev' }], resourceGroupId: groups[1] }).invokeId;
    powershell = emu.data.addInvocation({ instances: 3, commandType: 'RunPowerShellScript', repeats: 2 }).invokeId;
    tagged = emu.data.addExecution({ resources: 12, tags: { env: 'prod' }, mode: 'Debug', category: 'TimerTrigger', resourceGroupId: groups[1] }).executionId;
  });

  const results = async (req: Record<string, unknown>) =>
    (
      await walk(async (token) => {
        const r = await ecs().describeInvocationResults(new $Ecs.DescribeInvocationResultsRequest({ regionId: REGION, maxResults: 50, nextToken: token, ...req }));
        return [r.body?.invocation?.invocationResults?.invocationResult ?? [], r.body?.invocation?.nextToken];
      })
    ).items;
  const invocations = async (req: Record<string, unknown>) =>
    (
      await walk(async (token) => {
        const r = await ecs(DEMO_KEY, 'v1').describeInvocations(new $Ecs.DescribeInvocationsRequest({ regionId: REGION, maxResults: 50, nextToken: token, ...req }));
        return [r.body?.invocations?.invocation ?? [], r.body?.nextToken];
      })
    ).items.map((x) => x.invokeId);
  const executions = async (query: Record<string, unknown>) =>
    (
      await walk(async (token) => {
        const r = await oos()('ListExecutions', { RegionId: REGION, MaxResults: 100, NextToken: token, ...query });
        return [r.Executions as Record<string, Json>[], r.NextToken as string];
      })
    ).items;

  it('DescribeInvocationResults: Tag.N.Key/Value (all must match; a key alone matches any value) and ResourceGroupId', async () => {
    const byInvoke = (items: { invokeId?: string }[]) => [...new Set(items.map((x) => x.invokeId))].sort();
    expect(byInvoke(await results({ tag: [{ key: 'env', value: 'prod' }] }))).toEqual([prod]);
    expect((await results({ tag: [{ key: 'env' }] })).length).toBe(12);
    expect((await results({ tag: [{ key: 'env', value: 'prod' }, { key: 'owner', value: 'ops' }] })).length).toBe(7);
    expect(await results({ tag: [{ key: 'env', value: 'prod' }, { key: 'owner', value: 'platform' }] })).toEqual([]);
    expect(byInvoke(await results({ tag: [{ key: 'env' }], resourceGroupId: groups[1] }))).toEqual([dev]);
    const inGroup = emu.data.listInvocations(REGION).filter((d) => d.resourceGroupId === groups[1]);
    const got = await results({ resourceGroupId: groups[1] });
    expect(got.length).toBe(inGroup.reduce((n, d) => n + d.recordCount(false), 0));
    expect(byInvoke(got)).toEqual(inGroup.map((d) => d.invokeId).sort());
  });

  it('DescribeInvocationResults refuses a malformed tag list', async () => {
    await expectRefused(results({ tag: [{ value: 'prod' }] }), 'MissingParameter', 400);
    const tooMany = Array.from({ length: 21 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    await expectRefused(results({ tag: tooMany }), 'InvalidParameter', 400);
  });

  it('DescribeInvocations: CommandType, RepeatMode, Timed, Tag.N.*, ResourceGroupId', async () => {
    const all = emu.data.listInvocations(REGION);
    expect(await invocations({ commandType: 'RunPowerShellScript' })).toEqual([powershell]);
    const periodic = all.filter((d) => d.periodic).map((d) => d.invokeId);
    expect(periodic.length).toBeGreaterThan(1);
    expect(await invocations({ repeatMode: 'Period' })).toEqual(periodic);
    expect(await invocations({ timed: true })).toEqual(periodic);
    expect(await invocations({ timed: false })).toEqual(all.filter((d) => !d.periodic).map((d) => d.invokeId));
    expect(await invocations({ repeatMode: 'EveryReboot' })).toEqual([]);
    expect(await invocations({ tag: [{ key: 'env', value: 'dev' }] })).toEqual([dev]);
    expect(await invocations({ resourceGroupId: groups[0], tag: [{ key: 'env' }] })).toEqual([prod]);
    await expectRefused(invocations({ commandType: 'RunPythonScript' }), 'InvalidParameter', 400);
  });

  it('ListExecutions: Tags, Mode, Category/Categories, ResourceGroupId, ExecutedBy, Description', async () => {
    const parents = emu.data.listExecutions(REGION);
    const ids = (items: Record<string, Json>[]) => items.map((x) => x.ExecutionId as string).sort();
    expect(ids(await executions({ Tags: JSON.stringify({ env: 'prod' }) }))).toEqual([tagged]);
    expect(ids(await executions({ Mode: 'Debug' }))).toEqual([tagged]);
    expect(ids(await executions({ Category: 'TimerTrigger' }))).toEqual([tagged]);
    expect((await executions({ Categories: JSON.stringify(['TimerTrigger', 'Other']) })).length).toBe(parents.length);
    expect(ids(await executions({ ResourceGroupId: groups[1] }))).toEqual(parents.filter((e) => e.resourceGroupId === groups[1]).map((e) => e.executionId).sort());
    expect((await executions({ ExecutedBy: parents[0]?.executedBy })).length).toBe(parents.length);
    expect(await executions({ ExecutedBy: 'someone-else' })).toEqual([]);
    expect(await executions({ Description: 'nightly' })).toEqual([]);
    const [first] = await executions({ ExecutionId: tagged });
    expect(first).toMatchObject({ Tags: { env: 'prod' }, Mode: 'Debug', Category: 'TimerTrigger', ResourceGroupId: groups[1] });
    await expectRefused(executions({ Tags: 'env=prod' }), 'InvalidParameter', 400);
    await expectRefused(executions({ Mode: 'Manual' }), 'InvalidParameter', 400);
  });

  it('ListExecutions: IncludeChildExecution and Depth choose the levels; ResourceId the executions that ran there', async () => {
    const parents = emu.data.listExecutions(REGION);
    const children = parents.reduce((n, e) => n + e.resources, 0);
    const both = await executions({ IncludeChildExecution: true });
    expect(both.length).toBe(parents.length + children);
    const starts = both.map((x) => x.StartDate as string);
    expect(starts).toEqual([...starts].sort().reverse());
    const firstLevel = await executions({ Depth: 'FirstChildDepth', SortOrder: 'Ascending' });
    expect(firstLevel.length).toBe(children);
    expect(firstLevel.every((x) => x.IsParent === false && x.ParentExecutionId !== '')).toBe(true);
    expect((await executions({ Depth: 'RootDepth' })).length).toBe(parents.length);
    expect(await executions({ Depth: 'RootDepth', ParentExecutionId: tagged })).toEqual([]);
    await expectRefused(executions({ Depth: 'RootDepth', IncludeChildExecution: true }), 'InvalidParameter', 400);

    const owner = present(emu.data.getExecution(REGION, tagged));
    const resourceId = owner.resourceId(3);
    const ran = parents.filter((e) => e.indexOfResource(resourceId) !== undefined);
    const hit = await executions({ ResourceId: resourceId, IncludeChildExecution: true });
    expect(hit.map((x) => x.ExecutionId).sort()).toEqual(
      [...ran.map((e) => e.executionId), ...ran.map((e) => e.children.id(present(e.indexOfResource(resourceId))))].sort(),
    );
    const childOfTagged = await executions({ ResourceId: resourceId, ParentExecutionId: tagged });
    expect(childOfTagged.map((x) => x.ExecutionId)).toEqual([owner.children.id(3)]);
  });
});
