/**
 * Cloud Assistant's OSS output delivery in the local cloud, over the wire (pop-core for the RPC side, the OSS
 * folder for what was written): Output cut at 24 KB with Dropped the bytes cut off, the complete output written after
 * the run, and the OssOutput* fields through InProgress, Finished and Failed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import RPCClient from '@alicloud/pop-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_KEY } from '../src/credentials';
import { OUTPUT_LIMIT_BYTES } from '../src/datasets';
import { startLocalCloud, type LocalCloud } from '../src/local-cloud';

interface Result {
  InstanceId: string;
  InvocationStatus: string;
  Output: string;
  Dropped: number;
  Repeats: number;
  OssOutputDelivery: string;
  OssOutputStatus: string;
  OssOutputUri: string;
  OssOutputErrorCode: string;
  OssOutputErrorInfo: string;
}

let cloud: LocalCloud;
let dir: string;
let clock = Date.now();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lc-delivery-'));
  cloud = await startLocalCloud({ root: join(dir, 'oss'), seed: 3, now: () => clock, deliveryBuckets: ['cloud-assistant-outputs', 'locked'] });
  cloud.denyDelivery('locked');
});
afterAll(async () => {
  await cloud?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function results(invokeId: string): Promise<Result[]> {
  const Ctor = RPCClient as unknown as new (config: object) => { request<T>(action: string, params: object, opts?: object): Promise<T> };
  const ecs = new Ctor({ endpoint: cloud.rpc.url, apiVersion: '2014-05-26', accessKeyId: DEMO_KEY.accessKeyId, accessKeySecret: DEMO_KEY.accessKeySecret });
  const out: Result[] = [];
  let token: string | undefined;
  do {
    const page = await ecs.request<{ Invocation: { NextToken?: string; InvocationResults: { InvocationResult: Result[] } } }>(
      'DescribeInvocationResults',
      { RegionId: 'cn-hangzhou', InvokeId: invokeId, ContentEncoding: 'PlainText', MaxResults: 50, ...(token ? { NextToken: token } : {}) },
      { method: 'POST' },
    );
    out.push(...page.Invocation.InvocationResults.InvocationResult);
    token = page.Invocation.NextToken || undefined;
  } while (token);
  return out;
}

async function object(uri: string): Promise<Buffer> {
  const m = /^oss:\/\/([^/]+)\/(.+)$/.exec(uri);
  return readFile(cloud.oss.objectPath(m?.[1] ?? '', m?.[2] ?? ''));
}

describe('OSS output delivery', () => {
  it('cuts Output at 24 KB (keeping the start), counts the rest in Dropped, and delivers the whole output', async () => {
    const info = cloud.rpc.data.addInvocation({ instances: 30, outputs: 'long', failureRate: 0.5, ossOutputDelivery: 'oss://cloud-assistant-outputs/ca' });
    const rows = await results(info.invokeId);
    const cut = rows.filter((r) => r.Dropped > 0);
    expect(cut.length).toBeGreaterThan(5);
    for (const r of rows) {
      expect(r.OssOutputDelivery).toBe('oss://cloud-assistant-outputs/ca');
      if (r.OssOutputStatus === '') continue; // never started: nothing to deliver
      expect(r).toMatchObject({ OssOutputStatus: 'Finished', OssOutputErrorCode: '', OssOutputErrorInfo: '' });
      expect(r.OssOutputUri).toBe(`oss://cloud-assistant-outputs/ca/${info.invokeId}/${r.InstanceId}/${r.Repeats}/output.txt`);
      const full = await object(r.OssOutputUri);
      const kept = Buffer.byteLength(r.Output);
      expect(kept).toBeLessThanOrEqual(OUTPUT_LIMIT_BYTES);
      expect(full.subarray(0, kept).toString('utf8')).toBe(r.Output);
      expect(full.length - kept).toBe(r.Dropped);
    }
    for (const r of cut) expect(Buffer.byteLength(r.Output)).toBeGreaterThan(OUTPUT_LIMIT_BYTES - 4);
  });

  it('reports InProgress (no URI) until a delayed delivery is done, then Finished', async () => {
    const info = cloud.rpc.data.addInvocation({ instances: 10, outputs: 'long', failureRate: 0.5, ossOutputDelivery: 'oss://cloud-assistant-outputs/ca', delivery: { delayedShare: 1, delayMs: 120_000 } });
    const before = (await results(info.invokeId)).filter((r) => r.OssOutputStatus !== '');
    expect(before.length).toBeGreaterThan(0);
    for (const r of before) expect(r).toMatchObject({ OssOutputStatus: 'InProgress', OssOutputUri: '' });
    clock += 180_000;
    const after = (await results(info.invokeId)).filter((r) => r.OssOutputStatus !== '');
    for (const r of after) {
      expect(r.OssOutputStatus).toBe('Finished');
      expect((await object(r.OssOutputUri)).length).toBe(Buffer.byteLength(r.Output) + r.Dropped);
    }
  });

  it.each([
    [{ ossOutputDelivery: 'oss://cloud-assistant-outputs/ca', delivery: { failedShare: 1 } }, 'InternalError'],
    [{ ossOutputDelivery: 'oss://locked/ca' }, 'AccessDenied'],
    [{ ossOutputDelivery: 'oss://no-such-bucket/ca' }, 'NoSuchBucket'],
  ])('fails deliveries with their code and message (%j)', async (options, code) => {
    const info = cloud.rpc.data.addInvocation({ instances: 10, outputs: 'long', failureRate: 0.5, ...options });
    const delivered = (await results(info.invokeId)).filter((r) => r.OssOutputStatus !== '');
    expect(delivered.length).toBeGreaterThan(0);
    for (const r of delivered) {
      expect(r).toMatchObject({ OssOutputStatus: 'Failed', OssOutputUri: '', OssOutputErrorCode: code });
      expect(r.OssOutputErrorInfo).not.toBe('');
    }
  });

  it('delivers nothing when OssOutputDelivery is empty', async () => {
    const info = cloud.rpc.data.addInvocation({ instances: 10, outputs: 'long', failureRate: 0.5 });
    for (const r of await results(info.invokeId)) expect(r).toMatchObject({ OssOutputDelivery: '', OssOutputStatus: '', OssOutputUri: '' });
  });
});
