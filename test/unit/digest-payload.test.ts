/** The digest function's payload: a timer event's configured string or a direct invocation's object, strictly checked. */
import { describe, expect, it } from 'vitest';
import { parseDigestPayload } from '../../lib/digest';
import { InputError } from '../../lib/errors';

describe('parseDigestPayload', () => {
  it('takes a timer event (its triggerTime is the clock), a blank payload, or a direct object', () => {
    expect(parseDigestPayload({ triggerTime: '2026-12-07T01:00:00Z', triggerName: 'daily', payload: '{"days":7,"historyDays":30}' })).toEqual({ days: 7, historyDays: 30, at: new Date('2026-12-07T01:00:00Z') });
    expect(parseDigestPayload({ triggerTime: '2026-12-07T01:00:00Z', triggerName: 'daily', payload: ' ' })).toEqual({ at: new Date('2026-12-07T01:00:00Z') });
    expect(parseDigestPayload({ days: 1 })).toEqual({ days: 1 });
    expect(parseDigestPayload({})).toEqual({});
    // The compaction after the digest: off, or another closed-day horizon.
    expect(parseDigestPayload({ compact: false })).toEqual({ compact: false });
    expect(parseDigestPayload({ compact: true, closedAfterHours: 24 })).toEqual({ compact: { closedAfterHours: 24 } });
    expect(parseDigestPayload({ compact: true })).toEqual({});
  });

  it.each([
    [{ days: 0 }, /"days" must be a whole number of days from 1 to 90/],
    [{ days: 7.5 }, /"days"/],
    [{ days: '7' }, /"days"/],
    [{ historyDays: 400 }, /"historyDays" must be a whole number of days from 1 to 366/],
    [{ dayz: 7 }, /dayz/],
    [{ compact: 'yes' }, /"compact" must be true or false/],
    [{ closedAfterHours: -1 }, /"closedAfterHours" must be a number of hours from 0 to 720/],
    [[], /the digest payload/],
    [{ triggerTime: 'yesterday', triggerName: 'daily', payload: '{}' }, /triggerTime/],
    [{ triggerTime: '2026-12-07T01:00:00Z', triggerName: 'daily', payload: '{days:7}' }, /timer trigger payload/],
  ])('refuses %j with a 400 naming the field', (payload, message) => {
    let error: unknown;
    try {
      parseDigestPayload(payload);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).status).toBe(400);
    expect((error as Error).message).toMatch(message);
  });
});
