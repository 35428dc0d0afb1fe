/** The sweep payload: timer trigger string, direct object, defaults, bounds, and clear errors. */
import { describe, expect, it } from 'vitest';
import { parseSweepPayload, sweepStamp, sweepTaskId } from '../../lib/sweep';
import { pLimit } from '../../lib/limit';
import { FC_TASK_ID } from '../../lib/fanout';
import { InputError } from '../../lib/errors';

const timer = (payload?: string) => ({ triggerTime: '2026-11-23T04:05:00Z', triggerName: 'sweep-timer', ...(payload === undefined ? {} : { payload }) });

describe('parseSweepPayload', () => {
  it('applies the defaults to an empty object and to a timer without payload', () => {
    const defaults = { regions: ['cn-hangzhou'], sources: ['oos', 'ecs'], lookbackHours: 72, concurrency: 16, retentionDays: 28, warnDays: 3, dryRun: false };
    expect(parseSweepPayload({}, 'cn-hangzhou')).toEqual({ ...defaults, triggerTimeMs: undefined });
    expect(parseSweepPayload(timer(), 'cn-hangzhou')).toEqual({ ...defaults, triggerTimeMs: Date.parse('2026-11-23T04:05:00Z') });
    expect(parseSweepPayload(timer('  '), 'cn-hangzhou')).toMatchObject(defaults);
  });

  it('reads the timer trigger payload string as JSON, and the same object directly', () => {
    const body = { regions: ['cn-shanghai', 'cn-beijing', 'cn-shanghai'], sources: ['ecs'], lookbackHours: 24, concurrency: 32, retentionDays: 30, warnDays: 5, dryRun: true };
    const fromTimer = parseSweepPayload(timer(JSON.stringify(body)), 'cn-hangzhou');
    const direct = parseSweepPayload(body, 'cn-hangzhou');
    expect(fromTimer).toEqual({ ...direct, triggerTimeMs: Date.parse('2026-11-23T04:05:00Z') });
    expect(direct).toMatchObject({ regions: ['cn-shanghai', 'cn-beijing'], sources: ['ecs'], lookbackHours: 24, concurrency: 32, dryRun: true });
  });

  it.each([
    [{ regions: 'cn-hangzhou' }, /"regions" must be a non-empty array/],
    [{ regions: [] }, /"regions" must be a non-empty array/],
    [{ regions: ['cn-hangzhou', '../x'] }, /"\.\.\/x", which is not a region id/],
    [{ sources: ['oss'] }, /"sources" holds "oss"/],
    [{ sources: [] }, /"sources" must be a non-empty array/],
    [{ lookbackHours: 0 }, /"lookbackHours" must be a number from 0.01 to 720/],
    [{ lookbackHours: 721 }, /"lookbackHours"/],
    [{ lookbackHours: '72' }, /"lookbackHours"/],
    [{ concurrency: 65 }, /"concurrency" must be an integer from 1 to 64/],
    [{ concurrency: 2.5 }, /"concurrency" must be an integer/],
    [{ retentionDays: 2, warnDays: 2 }, /"warnDays" \(2\) must be smaller than "retentionDays" \(2\)/],
    [{ dryRun: 'yes' }, /"dryRun" must be true or false/],
    [{ lookback: 24 }, /unknown field "lookback" in the sweep payload; known fields: regions/],
    [{ dryrun: true }, /unknown field "dryrun" in the sweep payload \(did you mean "dryRun"\?\)/],
    [[1, 2], /must be a JSON object/],
    [null, /must be a JSON object/],
  ])('rejects %j', (payload, message) => {
    let err: unknown;
    try {
      parseSweepPayload(payload, 'cn-hangzhou');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(err).toMatchObject({ code: 'InvalidPayload', status: 400 });
    expect((err as Error).message).toMatch(message);
  });

  it('rejects a timer payload that is not JSON, and a bad triggerTime', () => {
    expect(() => parseSweepPayload(timer('{regions:'), 'cn-hangzhou')).toThrow(/timer trigger payload is not valid JSON/);
    expect(() => parseSweepPayload(timer('"text"'), 'cn-hangzhou')).toThrow(/must be a JSON object/);
    expect(() => parseSweepPayload({ triggerTime: 'soon', triggerName: 'x' }, 'cn-hangzhou')).toThrow(/triggerTime "soon"/);
  });
});

describe('sweep task ids', () => {
  it('are collect-<source>-<id>-sweep-<yyyymmddhhmm> and valid FC task ids', () => {
    const at = Date.parse('2026-11-23T04:05:59.999Z');
    expect(sweepStamp(at)).toBe('202611230405');
    const id = sweepTaskId('oos', `exec-${'a'.repeat(64)}`, at);
    expect(id).toBe(`collect-oos-exec-${'a'.repeat(64)}-sweep-202611230405`);
    expect(id).toMatch(FC_TASK_ID);
    expect(sweepTaskId('ecs', 't-hz0jdfwd9f0a1b', at)).toMatch(FC_TASK_ID);
  });
});

describe('pLimit', () => {
  it('never runs more than the limit at once, runs everything, and propagates results and errors', async () => {
    const limit = pLimit(3);
    let running = 0;
    let max = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        limit(async () => {
          running++;
          max = Math.max(max, running);
          await new Promise((r) => setTimeout(r, 1 + (i % 4)));
          running--;
          if (i === 7) throw new Error('seven');
          return i;
        }),
      ),
    );
    expect(max).toBe(3);
    expect(limit.maxActive).toBe(3);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(19);
    expect(results[7]).toMatchObject({ status: 'rejected', reason: new Error('seven') });
    expect(limit.activeCount + limit.pendingCount).toBe(0);
    expect(() => pLimit(0)).toThrow(RangeError);
  });
});
