/**
 * Which delivered outputs collect may read (OUTPUT_DELIVERY_ALLOW and the URIs from API data), and how items of a
 * later look merge into the manifest's.
 */
import { describe, expect, it } from 'vitest';
import { checkDeliveredUri, parseDeliveryAllowList } from '../../lib/cloud/delivery';
import { loadConfig } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { mergeOutputs, wantsFullOutput } from '../../lib/collect/outputs';
import type { OutputItem } from '../../lib/archive/manifest';

describe('OUTPUT_DELIVERY_ALLOW', () => {
  it('parses buckets, prefixes (as whole segments) and regions', () => {
    expect(parseDeliveryAllowList(' oss://ops-logs/cloud-assistant/, cn-shanghai=oss://dr-logs\n oss://a1b/x/y ')).toEqual([
      { bucket: 'ops-logs', prefix: 'cloud-assistant/', regionId: undefined },
      { bucket: 'dr-logs', prefix: '', regionId: 'cn-shanghai' },
      { bucket: 'a1b', prefix: 'x/y/', regionId: undefined },
    ]);
  });

  it.each([
    ['s3://bucket/prefix', /not an oss:\/\/ URL/],
    ['oss://Bucket/prefix', /bad bucket name/],
    ['oss://b/prefix', /bad bucket name/],
    ['oss://ops-logs/a/../b', /".." path segment/],
    ['oss://ops-logs/a//b', /empty path segment/],
    ['oss://ops-logs/a?x=1', /\? and #/],
    ['Shanghai=oss://ops-logs', /not a region id/],
  ])('refuses %s', (entry, why) => {
    expect(() => parseDeliveryAllowList(entry)).toThrow(ConfigError);
    expect(() => parseDeliveryAllowList(entry)).toThrow(why);
  });

  it('is read by loadConfig: off when unset, with the size limit and the failed-results switch', () => {
    expect(loadConfig({}).outputDelivery).toBeUndefined();
    expect(loadConfig({ OUTPUT_DELIVERY_MAX_KB: '64' }).outputDelivery).toBeUndefined();
    const on = loadConfig({ OUTPUT_DELIVERY_ALLOW: 'oss://ops-logs/ca', OUTPUT_DELIVERY_MAX_KB: '64', OUTPUT_DELIVERY_FAILED: 'yes' }).outputDelivery;
    expect(on).toEqual({ allow: [{ bucket: 'ops-logs', prefix: 'ca/', regionId: undefined }], maxBytes: 64 * 1024, failedResults: true });
    expect(loadConfig({ OUTPUT_DELIVERY_ALLOW: 'oss://ops-logs' }).outputDelivery?.maxBytes).toBe(8192 * 1024);
    expect(() => loadConfig({ OUTPUT_DELIVERY_ALLOW: 'oss://ops-logs', OUTPUT_DELIVERY_MAX_KB: '16' })).toThrow(/OUTPUT_DELIVERY_MAX_KB must be between 32/);
    expect(() => loadConfig({ OUTPUT_DELIVERY_ALLOW: 'http://ops-logs' })).toThrow(/OUTPUT_DELIVERY_ALLOW: entry "http:\/\/ops-logs"/);
  });
});

describe('checkDeliveredUri: an OssOutputUri is untrusted', () => {
  const allow = parseDeliveryAllowList('oss://ops-logs/ca, cn-shanghai=oss://dr-logs');

  it('allows a key under an allowed prefix, read in the region the entry names (else the invocation\'s)', () => {
    expect(checkDeliveredUri('oss://ops-logs/ca/t-1/i-1/1/output.txt', allow, 'cn-hangzhou')).toEqual({
      object: { bucket: 'ops-logs', key: 'ca/t-1/i-1/1/output.txt', regionId: 'cn-hangzhou' },
    });
    expect(checkDeliveredUri('oss://dr-logs/anything/output.txt', allow, 'cn-hangzhou')).toEqual({
      object: { bucket: 'dr-logs', key: 'anything/output.txt', regionId: 'cn-shanghai' },
    });
  });

  it.each([
    ['oss://other/ca/output.txt', /bucket other is not in OUTPUT_DELIVERY_ALLOW/],
    ['oss://ops-logs/cache/output.txt', /outside the allowed prefixes/],
    ['oss://ops-logs/ca-old/output.txt', /outside the allowed prefixes/],
    ['oss://ops-logs/output.txt', /outside the allowed prefixes/],
    ['oss://ops-logs/ca/../secrets/key.pem', /".." path segment/],
    ['oss://ops-logs/ca/./x', /"\." path segment/],
    ['oss://ops-logs/ca/x\\..\\y', /backslash/],
    ['oss://ops-logs/ca/x?acl', /\? and #/],
    ['oss://ops-logs/ca/x\u0000y', /control characters/],
    ['oss://ops-logs.evil.com/ca/x', /bad bucket name/],
    ['oss://ops-logs', /not an oss:\/\/<bucket>\/<key> URI/],
    ['https://ops-logs.oss-cn-hangzhou.aliyuncs.com/ca/x', /not an oss:\/\/<bucket>\/<key> URI/],
    ['', /not an oss/],
  ])('refuses %j', (uri, why) => {
    const result = checkDeliveredUri(uri, allow, 'cn-hangzhou');
    expect(result).toEqual({ refused: expect.stringMatching(why) });
  });
});

describe('the results whose full output is looked for', () => {
  it('are the cut ones, and with OUTPUT_DELIVERY_FAILED the failed ones', () => {
    const cut = { InstanceId: 'i-1', InvocationStatus: 'Success', Dropped: 10 };
    const failed = { InstanceId: 'i-2', InvocationStatus: 'Failed', Dropped: 0 };
    const fine = { InstanceId: 'i-3', InvocationStatus: 'Success', Dropped: '0' };
    expect([cut, failed, fine].map((r) => wantsFullOutput(r, { failedResults: false }))).toEqual([true, false, false]);
    expect([cut, failed, fine].map((r) => wantsFullOutput(r, { failedResults: true }))).toEqual([true, true, false]);
  });
});

describe('mergeOutputs', () => {
  const item = (id: string, state: OutputItem['state']): OutputItem => ({ instanceId: id, repeats: 1, dropped: 5, status: 'Failed', state, uri: '' });

  it('replaces pending items by what a later look found, and never sets a settled one back to pending', () => {
    const section = { updatedAt: '2026-01-01T00:00:00.000Z', items: [item('i-1', 'pending'), item('i-2', 'stored'), item('i-3', 'pending')] };
    const merged = mergeOutputs(section, [item('i-1', 'stored'), item('i-2', 'pending'), item('i-9', 'stored')], new Date('2026-01-02T00:00:00Z'));
    expect(merged.updatedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(merged.items.map((i) => `${i.instanceId}:${i.state}`)).toEqual(['i-1:stored', 'i-2:stored', 'i-3:pending']);
  });
});
