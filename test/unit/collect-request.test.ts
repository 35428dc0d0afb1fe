import { describe, expect, it } from 'vitest';
import { InputError } from '../../lib/errors';
import { collectPayload, parseCollectRequest } from '../../lib/collect/request';

const oos = { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13' };
const ecs = { source: 'ecs', regionId: 'cn-hangzhou', invokeId: 't-hz0jdfwd9f0abc', includeHistory: true };

function rejection(value: unknown): InputError {
  try {
    parseCollectRequest(value);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('parseCollectRequest', () => {
  it('accepts the documented OOS and ECS payloads', () => {
    expect(parseCollectRequest(oos)).toEqual({
      source: 'oos', regionId: 'cn-hangzhou', id: oos.executionId, includeHistory: false, force: false, async: false, continuation: 0,
    });
    expect(parseCollectRequest({ ...ecs, force: true })).toMatchObject({ source: 'ecs', id: ecs.invokeId, includeHistory: true, force: true });
  });

  it.each([
    [null, 'InvalidPayload'],
    [[], 'InvalidPayload'],
    [{ ...oos, source: 'rds' }, 'InvalidSource'],
    [{ source: 'oos', regionId: 'cn-hangzhou' }, 'MissingParameter'],
    [{ ...oos, regionId: '../etc' }, 'InvalidRegionId'],
    [{ ...oos, executionId: '../../manifest' }, 'InvalidExecutionId'],
    [{ ...oos, executionId: 'exec-abc/../x' }, 'InvalidExecutionId'],
    [{ ...ecs, invokeId: 't-%2e%2e' }, 'InvalidInvokeId'],
    [{ ...ecs, invokeId: 42 }, 'InvalidPayload'],
    [{ ...oos, includeHistory: true }, 'InvalidPayload'],
    [{ ...oos, invokeId: 't-hz0jdfwd9f0abc' }, 'InvalidPayload'],
    [{ ...oos, force: 'yes' }, 'InvalidPayload'],
    [{ ...oos, extra: 1 }, 'InvalidPayload'],
    [{ ...oos, continuation: -1 }, 'InvalidPayload'],
    [{ ...oos, forse: true }, 'InvalidPayload'],
    [{ source: 'oos', regionId: 'cn-hangzhou', id: oos.executionId, executionId: 'exec-000000000000' }, 'InvalidPayload'],
    [{ source: 'oos', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0abc' }, 'InvalidExecutionId'],
  ])('rejects %j with %s', (payload, code) => {
    const err = rejection(payload);
    expect(err.code).toBe(code);
    expect(err.status).toBe(400);
  });

  it('names an unknown field and the one it probably meant', () => {
    expect(rejection({ ...oos, forse: true }).message).toBe(
      'unknown field "forse" in the collect payload (did you mean "force"?); known fields: source, regionId, id, executionId, invokeId, includeHistory, force, async, continuation, rateLimitPerSecond',
    );
  });

  it("takes summarize's form too: id instead of executionId/invokeId", () => {
    expect(parseCollectRequest({ source: 'oos', regionId: 'cn-hangzhou', id: oos.executionId })).toEqual(parseCollectRequest(oos));
    expect(parseCollectRequest({ source: 'ecs', regionId: 'cn-hangzhou', id: ecs.invokeId, invokeId: ecs.invokeId })).toMatchObject({ id: ecs.invokeId });
  });

  it('round-trips through collectPayload', () => {
    const req = parseCollectRequest({ ...ecs, async: true, continuation: 3 });
    expect(parseCollectRequest(collectPayload(req))).toEqual(req);
  });
});
