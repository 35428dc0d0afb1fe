/**
 * The hostile input catalogue: what a careless or malicious caller can send to the HTTP triggers, the direct
 * payloads, the timer payload and the event consumer. Every case must get a clear 4xx (HTTP) or a typed InputError
 * (direct, timer) whose message names the field at fault, or, for events, a rejection whose reason names it; nothing
 * may be written, no collect dispatched, and no stack trace shown. Against the local cloud with the real SDKs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ID } from '@execution-archive/local-cloud/credentials';
import { handleCollectEvent } from '../../lib/collect';
import { InputError } from '../../lib/errors';
import { eventConsumerDeps, handleCloudAssistantEvents } from '../../lib/events';
import type { AsyncInvoker } from '../../lib/fanout';
import { createRuntime, type Runtime } from '../../lib/runtime';
import { handleSummarizeEvent } from '../../lib/summary/http';
import { runSweep, sweepDeps } from '../../lib/sweep';
import { decodeEvent, type HttpResponse } from '../../lib/triggers';
import { fcContext, keysUnder, startTestCloud, type TestCloud } from '../helpers/local-cloud';
import { httpEventBytes, type HttpEventOptions } from '../helpers/http-event';
import { captureOutput, rememberOutput, scanAndClose } from './figures';

let t: TestCloud;
let rt: Runtime;
let restore: () => void;
const dispatched: unknown[] = [];
const invoker: AsyncInvoker = {
  invokeAsync: (functionName, payload) => {
    dispatched.push({ functionName, payload });
    return Promise.resolve({ requestId: 'never' });
  },
};
let cases = 0;

beforeAll(async () => {
  restore = captureOutput();
  t = await startTestCloud({ seed: 5 });
  rt = createRuntime(fcContext({ function: { name: 'execution-archive-collect', timeout: 60 } }), { env: t.env('oss', { API_MAX_ATTEMPTS: '2' }) });
});
afterAll(async () => {
  expect(await scanAndClose(t, restore, { hostileCases: cases })).toEqual([]);
  expect(cases).toBeGreaterThanOrEqual(80);
});

const EXEC = () => t.cloud.rpc.data.demo.executionId;
const INVOKE = () => t.cloud.rpc.data.demo.invokeId;
const STACK = /\n\s+at |\bat (?:async )?[\w.<>]+ \(|node:internal|\.ts:\d+/;

async function assertNothingWritten(): Promise<void> {
  expect(await keysUnder(rt.store, '')).toEqual([]);
  expect(dispatched).toEqual([]);
}

/** An HTTP case: the status range, and what the message must name. */
async function http(fn: 'collect' | 'summary', opts: HttpEventOptions, status: number | [number, number], names: RegExp): Promise<void> {
  cases++;
  const bytes = httpEventBytes({ path: fn === 'collect' ? '/collect' : '/summary', method: fn === 'collect' ? 'POST' : 'GET', ...opts });
  const res = (fn === 'collect'
    ? await handleCollectEvent(decodeEvent(bytes), rt, { invoker })
    : await handleSummarizeEvent(decodeEvent(bytes), { store: rt.store, logger: rt.logger }, 'req-h')) as HttpResponse;
  rememberOutput(res.body);
  const [lo, hi] = Array.isArray(status) ? status : [status, status];
  expect(res.statusCode, res.body).toBeGreaterThanOrEqual(lo);
  expect(res.statusCode, res.body).toBeLessThanOrEqual(hi);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(body.error.message).toMatch(names);
  expect(res.body).not.toMatch(STACK);
  await assertNothingWritten();
}

/** A direct (or timer) case: a typed InputError naming the field. */
async function direct(run: () => Promise<unknown>, names: RegExp): Promise<void> {
  cases++;
  const err = await Promise.resolve().then(run).then(
    (v) => new Error(`expected an InputError, got ${JSON.stringify(v)}`),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  const e = err as InputError;
  rememberOutput(e.message);
  expect(e.status).toBeGreaterThanOrEqual(400);
  expect(e.status).toBeLessThan(500);
  expect(e.message).toMatch(names);
  expect(e.message).not.toMatch(STACK);
  await assertNothingWritten();
}

const JSON_TYPE = { 'content-type': 'application/json' };
const collectBody = (body: unknown) => ({ body: typeof body === 'string' ? body : JSON.stringify(body), headers: JSON_TYPE });

describe('HTTP POST /collect', () => {
  const malformed: [string, string, RegExp][] = [
    ['empty body', '', /empty/],
    ['truncated object', '{"source":"oos",', /not valid JSON/],
    ['an array', '[1,2]', /JSON object/],
    ['a string', '"collect"', /JSON object/],
    ['null', 'null', /JSON object/],
    ['a number', '42', /JSON object/],
    ['single quotes', "{'source':'oos'}", /not valid JSON/],
    ['trailing comma', '{"source":"oos",}', /not valid JSON/],
    ['NaN', '{"source":NaN}', /not valid JSON/],
    ['comment', '{"source":"oos" /* x */}', /not valid JSON/],
    ['a UTF-8 BOM', '\ufeff{"source":"oos"}', /byte order mark/],
    ['30,000 levels of nesting', '['.repeat(30_000) + ']'.repeat(30_000), /deeper than/],
    ['NUL bytes', '\u0000\u0000', /not valid JSON/],
    ['JSON in base64 without the flag', Buffer.from('{"source":"oos"}').toString('base64'), /not valid JSON/],
  ];
  it.each(malformed)('%s → 400', async (_what, body, names) => {
    await http('collect', collectBody(body), 400, names);
  });

  it('bytes that are not UTF-8 → 400', async () => {
    await http('collect', { body: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), headers: JSON_TYPE }, 400, /UTF-8/);
  });
  it('a body over 64 KB → 413', async () => {
    await http('collect', collectBody({ source: 'oos', regionId: 'cn-hangzhou', executionId: 'x'.repeat(70_000) }), 413, /limit/);
  });

  const fields: [string, Record<string, unknown>, RegExp][] = [
    ['no source', { regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13' }, /"source"/],
    ['source of another service', { source: 'rds', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13' }, /"source"/],
    ['source as a number', { source: 1, regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13' }, /"source"/],
    ['source in capitals', { source: 'OOS', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13' }, /"source"/],
    ['regionId as an array', { source: 'oos', regionId: ['cn-hangzhou'], executionId: 'exec-6be6d6ff805349d9ac13' }, /"regionId"/],
    ['regionId with traversal', { source: 'oos', regionId: '../../etc', executionId: 'exec-6be6d6ff805349d9ac13' }, /"regionId"/],
    ['regionId with a slash', { source: 'oos', regionId: 'cn-hangzhou/x', executionId: 'exec-6be6d6ff805349d9ac13' }, /"regionId"/],
    ['regionId in capitals', { source: 'oos', regionId: 'CN-HANGZHOU', executionId: 'exec-6be6d6ff805349d9ac13' }, /"regionId"/],
    ['regionId with NUL', { source: 'oos', regionId: 'cn-hangzhou\u0000', executionId: 'exec-6be6d6ff805349d9ac13' }, /"regionId"/],
    ['regionId with a Cyrillic homoglyph', { source: 'oos', regionId: 'cn-hаngzhou', executionId: 'exec-6be6d6ff805349d9ac13' }, /"regionId"/],
    ['regionId with spaces', { source: 'oos', regionId: ' cn-hangzhou ', executionId: 'exec-6be6d6ff805349d9ac13' }, /"regionId"/],
    ['executionId with traversal', { source: 'oos', regionId: 'cn-hangzhou', executionId: '../../../etc/passwd' }, /"executionId"/],
    ['executionId with a slash', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff/805349d9ac13' }, /"executionId"/],
    ['executionId with NUL', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13\u0000' }, /"executionId"/],
    ['executionId with a homoglyph', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'ехес-6be6d6ff805349d9ac13' }, /"executionId"/],
    ['executionId with a right-to-left override', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff\u202e805349d9ac13' }, /"executionId"/],
    ['executionId of 10,000 characters', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-' + 'a'.repeat(10_000) }, /"executionId"/],
    ['executionId as an object', { source: 'oos', regionId: 'cn-hangzhou', executionId: { $ne: null } }, /"executionId"/],
    ['executionId as an emoji', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-🔥' }, /"executionId"/],
    ['invokeId with traversal', { source: 'ecs', regionId: 'cn-hangzhou', invokeId: 't-../../x' }, /"invokeId"/],
    ['invokeId with a newline', { source: 'ecs', regionId: 'cn-hangzhou', invokeId: 't-hz0jdfwd9f0a1b\n' }, /"invokeId"/],
    ['an OOS id for ECS', { source: 'ecs', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13' }, /"executionId"/],
    ['includeHistory as a string', { source: 'ecs', regionId: 'cn-hangzhou', invokeId: 't-hz0jdfwd9f0a1b', includeHistory: 'yes' }, /"includeHistory"/],
    ['includeHistory for OOS', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13', includeHistory: true }, /"includeHistory"/],
    ['force as a string', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13', force: 'true' }, /"force"/],
    ['force as 1', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13', force: 1 }, /"force"/],
    ['a negative continuation', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13', continuation: -1 }, /"continuation"/],
    ['a misspelt field', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13', forse: true }, /"forse"/],
    ['an unknown field', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13', bucket: 'other' }, /"bucket"/],
    ['id and executionId disagreeing', { source: 'oos', regionId: 'cn-hangzhou', id: 'exec-6be6d6ff805349d9ac14', executionId: 'exec-6be6d6ff805349d9ac13' }, /"id"/],
  ];
  it.each(fields)('%s → 400 naming the field', async (_what, body, names) => {
    await http('collect', collectBody(body), 400, names);
  });

  it('__proto__ cannot supply a missing field', async () => {
    await http('collect', collectBody('{"__proto__":{"source":"oos"},"regionId":"cn-hangzhou","executionId":"exec-6be6d6ff805349d9ac13"}'), 400, /"source"/);
  });
  it('constructor.prototype cannot supply a missing field', async () => {
    await http('collect', collectBody('{"constructor":{"prototype":{"source":"oos"}},"regionId":"cn-hangzhou","executionId":"exec-6be6d6ff805349d9ac13"}'), 400, /"source"/);
  });
  it('a duplicate key → 400 naming it (neither value is taken)', async () => {
    await http('collect', collectBody('{"source":"oos","regionId":"cn-hangzhou","executionId":"exec-6be6d6ff805349d9ac13","executionId":"../x"}'), 400, /"executionId" twice/);
  });
  it('a duplicate key spelled with an escape → 400 naming it', async () => {
    await http('collect', collectBody('{"source":"oos","regionId":"cn-hangzhou","executionId":"exec-6be6d6ff805349d9ac13","\\u0073ource":"ecs"}'), 400, /"source" twice/);
  });
  it('a region the API does not know → the API\'s 4xx', async () => {
    await http('collect', collectBody({ source: 'ecs', regionId: 'zzzz-a', invokeId: 't-hz0jdfwd9f0a1b' }), [400, 404], /RegionId/);
  });
  it('an execution that does not exist → 404', async () => {
    await http('collect', collectBody({ source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-00000000000000000000' }), 404, /exec-00000000000000000000/);
  });
  it('a forged region for a real invocation → 404', async () => {
    await http('collect', collectBody({ source: 'ecs', regionId: 'cn-beijing', invokeId: INVOKE() }), 404, /cn-beijing/);
  });

  it.each(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'])('%s → 405', async (method) => {
    await http('collect', { method, ...collectBody({ source: 'oos', regionId: 'cn-hangzhou', executionId: EXEC() }) }, 405, new RegExp(`POST.*${method}`));
  });
  it.each([
    ['text/plain'],
    ['multipart/form-data; boundary=x'],
    ['application/x-www-form-urlencoded'],
    ['application/json-seq'],
    ['application/json; charset=utf-16'],
    ['application/json, text/plain'],
    ['application/jsonp'],
  ])('Content-Type %s → 415', async (type) => {
    await http('collect', { body: JSON.stringify({ source: 'oos', regionId: 'cn-hangzhou', executionId: EXEC() }), headers: { 'content-type': type } }, 415, /Content-Type/);
  });
  it('no Content-Type → 415', async () => {
    await http('collect', { body: JSON.stringify({ source: 'oos', regionId: 'cn-hangzhou', executionId: EXEC() }) }, 415, /Content-Type/);
  });
  it.each(['/collect/../summary', '/a/b/collect', '/collect/x', '/%2e%2e/collect', '/collect\u0000'])('path %s → 404', async (path) => {
    await http('collect', { path, ...collectBody({ source: 'oos', regionId: 'cn-hangzhou', executionId: EXEC() }) }, 404, /route/);
  });
});

describe('HTTP GET /summary', () => {
  const q = (extra: Record<string, string>) => ({ source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b', ...extra });
  it.each<[string, Record<string, string>, number, RegExp]>([
    ['no parameters', {}, 400, /"source"/],
    ['an id with traversal', q({ id: '../../manifest' }), 400, /"id"/],
    ['a region with traversal', q({ regionId: '..' }), 400, /"regionId"/],
    ['an unknown format', q({ format: 'xml' }), 400, /format/],
    ['refresh on a GET', q({ refresh: '1' }), 400, /refresh/],
    ['force on a GET', q({ force: 'true' }), 400, /force/],
    ['an unknown parameter', q({ callback: 'x' }), 400, /"callback"/],
    ['an archive that does not exist', q({}), 404, /no archive/],
  ])('%s → %i', async (_what, query, status, names) => {
    await http('summary', { query }, status, names);
  });
  it.each(['DELETE', 'PUT', 'PATCH'])('%s → 405', async (method) => {
    await http('summary', { method, query: q({}) }, 405, new RegExp(method));
  });
  it.each(['/anything/summary', '/summary/x'])('path %s → 404', async (path) => {
    await http('summary', { path, query: q({}) }, 404, /path/);
  });
  it('POST with a body of the wrong type → 415', async () => {
    await http('summary', { method: 'POST', query: {}, body: 'source=ecs', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, /Content-Type/);
  });
});

describe('direct collect payloads', () => {
  const run = (payload: unknown) => () => handleCollectEvent(decodeEvent(Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload))), rt, { invoker });
  it.each<[string, unknown, RegExp]>([
    ['not JSON', '{source:oos}', /not valid JSON/],
    ['empty', ' ', /empty/],
    ['an array', '[]', /JSON object/],
    ['a BOM', '\ufeff{}', /byte order mark/],
    ['deep nesting', '{"a":'.repeat(1_000) + '1' + '}'.repeat(1_000), /deeper than/],
    ['no id', { source: 'oos', regionId: 'cn-hangzhou' }, /executionId|"id"/],
    ['an id with traversal', { source: 'oos', regionId: 'cn-hangzhou', id: 'exec-../../x' }, /"id"|executionId/],
    ['continuation as a string', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13', continuation: '3' }, /"continuation"/],
    ['async as a string', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13', async: 'yes' }, /"async"/],
    ['an unknown field', { source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-6be6d6ff805349d9ac13', archiveUrl: 'oss://other/x' }, /"archiveUrl"/],
  ])('%s → InputError', async (_what, payload, names) => {
    await direct(run(payload), names);
  });
});

describe('direct summarize payloads', () => {
  const run = (payload: unknown) => () => handleSummarizeEvent(decodeEvent(Buffer.from(JSON.stringify(payload))), { store: rt.store, logger: rt.logger }, 'req-d');
  it.each<[string, unknown, RegExp]>([
    ['a string', 'summarize', /JSON object/],
    ['no source', { regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b' }, /"source"/],
    ['a bad region', { source: 'ecs', regionId: 'cn hangzhou', id: 't-hz0jdfwd9f0a1b' }, /"regionId"/],
    ['force as a string', { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b', force: 'yes' }, /"force"/],
    ['an unknown field', { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b', notify: 'http://x' }, /"notify"/],
    ['an archive that does not exist', { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b' }, /no archive/],
  ])('%s → InputError', async (_what, payload, names) => {
    await direct(run(payload), names);
  });
});

describe('timer payloads', () => {
  const timer = (payload: unknown) => () =>
    runSweep({ triggerTime: '2026-12-01T00:00:00Z', triggerName: 'sweep', payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }, sweepDeps(rt, invoker));
  it.each<[string, unknown, RegExp]>([
    ['not JSON', '{lookbackHours:1}', /not valid JSON/],
    ['an array', '[1]', /JSON object/],
    ['regions as a string', { regions: 'cn-hangzhou' }, /"regions"/],
    ['a region with traversal', { regions: ['../x'] }, /"regions"/],
    ['an empty region list', { regions: [] }, /"regions"/],
    ['an unknown source', { sources: ['rds'] }, /"sources"/],
    ['a negative lookback', { lookbackHours: -1 }, /lookbackHours/],
    ['a huge concurrency', { concurrency: 1_000_000 }, /concurrency/],
    ['warnDays over retentionDays', { retentionDays: 3, warnDays: 5 }, /warnDays/],
    ['dryRun as a string', { dryRun: 'yes' }, /"dryRun"/],
    ['a misspelt field', { lookbakHours: 3 }, /"lookbakHours"/],
  ])('%s → InputError', async (_what, payload, names) => {
    await direct(timer(payload), names);
  });
  it('a triggerTime that is not a time → InputError', async () => {
    await direct(() => runSweep({ triggerTime: 'yesterday', triggerName: 'sweep', payload: '{}' }, sweepDeps(rt, invoker)), /triggerTime/);
  });
});

describe('events', () => {
  const base = () => ({
    id: `evt-hostile-${Math.random().toString(16).slice(2)}`,
    source: 'acs.ecs',
    specversion: '1.0',
    type: 'ecs:CloudAssistant:TaskCompleted',
    aliyunaccountid: ACCOUNT_ID,
    aliyunregionid: 'cn-hangzhou',
    data: { instanceId: 'i-bp1000000000000001', invokeId: INVOKE(), regionId: 'cn-hangzhou', finishTime: '2026-11-30T00:00:00Z', invocationStatus: 'Success' },
  });
  const events: [string, () => unknown, RegExp][] = [
    ['a forged account', () => ({ ...base(), aliyunaccountid: '9999999999999999' }), /aliyunaccountid/],
    ['no account', () => ({ ...base(), aliyunaccountid: undefined }), /aliyunaccountid/],
    ['a forged region', () => ({ ...base(), aliyunregionid: 'cn-beijing' }), /regionId/],
    ['a region with traversal', () => ({ ...base(), aliyunregionid: undefined, data: { ...base().data, regionId: '../..' } }), /region/],
    ['an invokeId with traversal', () => ({ ...base(), data: { ...base().data, invokeId: 't-../../x' } }), /"data.invokeId"/],
    ['an instanceId that is not one', () => ({ ...base(), data: { ...base().data, instanceId: 'i-<script>' } }), /"data.instanceId"/],
    ['no data', () => ({ ...base(), data: undefined }), /"data"/],
    ['data as an array', () => ({ ...base(), data: [1] }), /"data"/],
    ['data as text that is not JSON', () => ({ ...base(), data: '{oops' }), /"data"/],
    ['a truncated envelope', () => ({ id: 'evt-x', source: 'acs.ecs' }), /specversion/],
    ['another specversion', () => ({ ...base(), specversion: '2.0' }), /specversion/],
    ['a foreign source', () => ({ ...base(), source: 'acs.oss' }), /source/],
    ['another type', () => ({ ...base(), type: 'ecs:Instance:StateChange' }), /type/],
    ['an id of 10,000 characters', () => ({ ...base(), id: 'e'.repeat(10_000) }), /"id"/],
    ['a finishTime that is not a time', () => ({ ...base(), data: { ...base().data, invokeId: undefined, commandId: 'c-hz0000000000000a', finishTime: 'soon' } }), /"data.finishTime"/],
    ['neither invokeId nor commandId', () => ({ ...base(), data: { ...base().data, invokeId: undefined } }), /invokeId/],
    ['a region the API does not know', () => ({ ...base(), aliyunregionid: 'zzzz-a', data: { ...base().data, regionId: 'zzzz-a' } }), /RegionId/],
  ];
  it.each(events)('%s → rejected with a reason naming it', async (_what, make, names) => {
    cases++;
    const d = { ...eventConsumerDeps(createRuntime(fcContext({ function: { name: 'on-cloud-assistant-event', timeout: 60 } }), { env: t.env('oss') }), invoker), store: rt.store };
    const r = await handleCloudAssistantEvents(make(), d);
    rememberOutput(JSON.stringify(r));
    expect(r.rejected).toHaveLength(1);
    expect(r.rejected[0]?.reason).toMatch(names);
    expect(r.rejected[0]?.reason).not.toMatch(STACK);
    expect(r.invocations.filter((i) => i.outcome !== 'rejected')).toEqual([]);
    await assertNothingWritten();
  });
  it('an envelope that is not JSON → InputError', async () => {
    await direct(() => Promise.resolve(decodeEvent(Buffer.from('{"specversion":'))), /not valid JSON/);
  });
});
