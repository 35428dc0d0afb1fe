/**
 * TaskCompleted envelope parsing: single and batched deliveries, foreign events rejected with a reason (never
 * thrown), malformed payloads thrown as InputError, missing data fields, unknown extra fields tolerated.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTaskCompletedDelivery, parseTaskCompletedEvent } from '../../lib/events/cloud-events';
import { InputError } from '../../lib/errors';
import { decodeEvent } from '../../lib/triggers';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/events', name));
const opts = { defaultRegionId: 'cn-beijing' };
const parse = (name: string) => parseTaskCompletedDelivery(decodeEvent(fixture(name)), opts);

describe('TaskCompleted deliveries', () => {
  it('accepts a single event as EventBridge sends it (§5 sample plus invokeId/regionId)', () => {
    const r = parse('task-completed.json');
    expect(r.events).toBe(1);
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toEqual([
      {
        id: '45ef4dewdwe1-7c35-447a-bd93-fab0d2e1c001',
        regionId: 'cn-hangzhou',
        instanceId: 'i-bp114abcdefghij0123',
        invokeId: 't-hz0jdfwd9f0a1b',
        commandId: 'c-hz045abcdef0123',
        finishTime: '2023-12-14T07:39:48Z',
        finishTimeMs: Date.parse('2023-12-14T07:39:48Z'),
        invocationStatus: 'Success',
      },
    ]);
  });

  it('accepts the batched array form and rejects the foreign element with a reason', () => {
    const r = parse('batch.json');
    expect(r.events).toBe(3);
    expect(r.accepted.map((e) => [e.id, e.regionId, e.invokeId])).toEqual([
      ['b1-0001', 'cn-shanghai', 't-sh0jdfwd9f0a1b'],
      ['b1-0002', 'cn-shanghai', undefined],
    ]);
    expect(r.accepted[1]).toMatchObject({ commandId: 'c-sh045abcdef0123', finishTimeMs: Date.parse('2023-12-14T07:39:50Z') });
    expect(r.rejected).toEqual([{ id: 'b1-0003', reason: expect.stringMatching(/foreign source "acs\.oss"/) }]);
  });

  it('rejects a foreign acs.oss event without throwing', () => {
    const r = parse('foreign-oss.json');
    expect(r).toMatchObject({ events: 1, accepted: [] });
    expect(r.rejected).toEqual([{ id: 'a5f1c6f5-4b44-4d8e-9a2e-9b4a1e7c0f01', reason: expect.stringContaining('foreign source') }]);
  });

  it('rejects another ECS event type with a reason', () => {
    const e = JSON.parse(fixture('task-completed.json').toString());
    const r = parseTaskCompletedDelivery({ ...e, type: 'ecs:CloudAssistant:FirstHeartbeat' }, opts);
    expect(r.rejected).toEqual([{ id: e.id, reason: expect.stringContaining('unsupported type "ecs:CloudAssistant:FirstHeartbeat"') }]);
  });

  it('throws InputError for malformed JSON and for payloads that are not events', () => {
    expect(() => parse('malformed.json')).toThrow(InputError);
    expect(() => parse('malformed.json')).toThrow(/not valid JSON/);
    expect(() => parseTaskCompletedDelivery('text', opts)).toThrow(InputError);
    expect(() => parseTaskCompletedDelivery(42, opts)).toThrow(/CloudEvents/);
    expect(() => decodeEvent(Buffer.alloc(0))).toThrow(InputError);
  });

  it('rejects events with missing or bad data fields, each with its own reason', () => {
    const r = parse('missing-fields.json');
    expect(r.accepted).toEqual([]);
    expect(r.rejected).toEqual([
      { id: 'mf-1', reason: '"data" is missing or not an object' },
      { id: 'mf-2', reason: expect.stringContaining('"data.instanceId" nothing') },
      { id: 'mf-3', reason: expect.stringContaining('neither "invokeId" nor "commandId"') },
      { id: 'mf-4', reason: expect.stringContaining('no "finishTime"') },
      { id: '#4', reason: 'missing or invalid "id"' },
      { id: 'mf-6', reason: expect.stringContaining('no specversion') },
      { id: 'mf-7', reason: expect.stringContaining('is not an instance id') },
      { id: 'mf-8', reason: expect.stringContaining('"Hangzhou!" is not a region id') },
      { id: '#8', reason: 'not a JSON object' },
    ]);
  });

  it('tolerates unknown extra fields in the envelope and in data, and data sent as JSON text', () => {
    const e = JSON.parse(fixture('task-completed.json').toString());
    const extra = { ...e, traceparent: '00-abc', aliyunnew: { x: 1 }, data: { ...e.data, startTime: '2023-12-14T07:39:40Z', repeats: 1, output: 'aGk=' } };
    expect(parseTaskCompletedEvent(extra, 0, opts)).toMatchObject({ invokeId: 't-hz0jdfwd9f0a1b', instanceId: 'i-bp114abcdefghij0123' });
    expect(parseTaskCompletedEvent({ ...e, data: JSON.stringify(e.data) }, 0, opts)).toMatchObject({ invokeId: 't-hz0jdfwd9f0a1b' });
  });

  it('takes the region from data.regionId or aliyunregionid (which must agree), then the configured region', () => {
    const e = JSON.parse(fixture('task-completed.json').toString());
    const { regionId: _r, ...data } = e.data;
    expect(parseTaskCompletedEvent({ ...e, data: { ...data, regionId: 'cn-shenzhen' } }, 0, opts)).toEqual({
      id: e.id,
      reason: '"data.regionId" "cn-shenzhen" contradicts "aliyunregionid" "cn-hangzhou"',
    });
    expect(parseTaskCompletedEvent({ ...e, data }, 0, opts)).toMatchObject({ regionId: 'cn-hangzhou' });
    const { aliyunregionid: _a, ...bare } = e;
    expect(parseTaskCompletedEvent({ ...bare, data: { ...data, regionId: 'cn-shenzhen' } }, 0, opts)).toMatchObject({ regionId: 'cn-shenzhen' });
    expect(parseTaskCompletedEvent({ ...bare, data }, 0, opts)).toMatchObject({ regionId: 'cn-beijing' });
  });

  it('with the function\'s account known, rejects events of another account or of none', () => {
    const e = JSON.parse(fixture('task-completed.json').toString());
    const mine = { ...opts, accountId: '1234567890981234' };
    expect(parseTaskCompletedEvent(e, 0, mine)).toMatchObject({ invokeId: 't-hz0jdfwd9f0a1b' });
    expect(parseTaskCompletedEvent(e, 0, { ...opts, accountId: '1111111111111111' })).toMatchObject({ reason: expect.stringMatching(/not this function's account/) });
    const { aliyunaccountid: _x, ...anonymous } = e;
    expect(parseTaskCompletedEvent(anonymous, 0, mine)).toMatchObject({ reason: expect.stringMatching(/no "aliyunaccountid"/) });
  });

  it('accepts an empty batch as zero events', () => {
    expect(parseTaskCompletedDelivery([], opts)).toEqual({ events: 0, accepted: [], rejected: [] });
  });
});

describe('pickInvocation (events without invokeId)', () => {
  const at = (s: string) => Date.parse(s);
  const candidates = [
    { invokeId: 't-hz000000000003', creationMs: at('2026-11-23T10:00:00Z'), instanceFinishMs: NaN },
    { invokeId: 't-hz000000000002', creationMs: at('2026-11-23T09:00:00Z'), instanceFinishMs: at('2026-11-23T09:05:07Z') },
    { invokeId: 't-hz000000000001', creationMs: at('2026-11-23T08:00:00Z'), instanceFinishMs: at('2026-11-23T08:01:00Z') },
  ];
  it('prefers the invocation whose instance finished exactly at finishTime (to the second)', async () => {
    const { pickInvocation } = await import('../../lib/events/resolve');
    expect(pickInvocation(candidates, at('2026-11-23T09:05:07.800Z'))).toBe('t-hz000000000002');
    expect(pickInvocation(candidates, at('2026-11-23T08:01:00Z'))).toBe('t-hz000000000001');
  });
  it('else takes the newest created at or before finishTime, else none', async () => {
    const { pickInvocation } = await import('../../lib/events/resolve');
    expect(pickInvocation(candidates, at('2026-11-23T10:30:00Z'))).toBe('t-hz000000000003');
    expect(pickInvocation(candidates, at('2026-11-23T09:30:00Z'))).toBe('t-hz000000000002');
    expect(pickInvocation(candidates, at('2026-11-23T07:00:00Z'))).toBeUndefined();
  });
});
