/**
 * The local FC host with fixture functions (plain CommonJS bundles and their own s.yaml): the HTTP trigger event and
 * response mapping, the timer event and context, EventBridge delivery (filter, duplicates, retries) and timeouts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ID, DEMO_STS_KEY } from '../src/credentials';
import { startLocalCloud, type LocalCloud } from '../src/local-cloud';
import { FunctionError, startLocalHost, type LocalHost } from '../src/host';
import { parseSchedule } from '../src/host/cron';
import { staleReason } from '../src/host/bundles';
import type { Json } from '../../../test/helpers/json';

const S_YAML = `
edition: 3.0.0
name: host-fixture
vars:
  region: cn-hangzhou
  role: acs:ram::${ACCOUNT_ID}:role/fixture
  who: world
resources:
  echo:
    component: fc3
    props:
      region: \${vars.region}
      functionName: fx-echo
      runtime: nodejs20
      code: ./dist/echo
      handler: index.handler
      memorySize: 128
      timeout: 5
      role: \${vars.role}
      environmentVariables:
        GREETING: hello-\${vars.who}
      triggers:
        - triggerName: http
          triggerType: http
          triggerConfig: { authType: anonymous, methods: [GET, POST] }
  tick:
    component: fc3
    props:
      region: \${vars.region}
      functionName: fx-tick
      runtime: nodejs20
      code: ./dist/tick
      handler: index.handler
      memorySize: 128
      timeout: 5
      role: \${vars.role}
      triggers:
        - triggerName: every-minute
          triggerType: timer
          triggerConfig: { cronExpression: '0 * * * * *', enable: true, payload: '{"lookbackHours":1}' }
  events:
    component: fc3
    props:
      region: \${vars.region}
      functionName: fx-events
      runtime: nodejs20
      code: ./dist/events
      handler: index.handler
      memorySize: 128
      timeout: 5
      environmentVariables:
        EVENTS_LOG: \${vars.eventsLog}
      triggers:
        - triggerName: ca
          triggerType: eventbridge
          triggerConfig:
            triggerEnable: true
            asyncInvocationType: false
            eventRuleFilterPattern: '{"source":["acs.ecs"],"type":["ecs:CloudAssistant:TaskCompleted"]}'
            eventSourceConfig: { eventSourceType: Default }
            eventSinkConfig: { deliveryOption: { mode: event-driven, eventSchema: CloudEvents } }
            runOptions: { mode: event-driven, retryStrategy: { PushRetryStrategy: BACKOFF_RETRY, MaximumRetryAttempts: 2 } }
  slow:
    component: fc3
    props:
      region: \${vars.region}
      functionName: fx-slow
      runtime: nodejs20
      code: ./dist/slow
      handler: index.handler
      memorySize: 128
      timeout: 1
`;

const BUNDLES: Record<string, string> = {
  echo: `exports.handler = async (event, context) => {
    const e = JSON.parse(event.toString());
    return { statusCode: 201, headers: { 'x-echo': 'yes', 'content-type': 'application/json' }, isBase64Encoded: false,
      body: JSON.stringify({ event: e, greeting: process.env.GREETING, isBuffer: Buffer.isBuffer(event), fn: context.function }) };
  };`,
  tick: `exports.handler = async (event, context) => ({ event: JSON.parse(event.toString()), context, env: {
    FC_FUNCTION_NAME: process.env.FC_FUNCTION_NAME, GREETING: process.env.GREETING || null, ARCHIVE_URL: process.env.ARCHIVE_URL } });`,
  events: `const fs = require('node:fs');
  exports.handler = async (event, context) => {
    const e = JSON.parse(event.toString());
    const log = process.env.EVENTS_LOG;
    fs.appendFileSync(log, JSON.stringify({ id: e.id, retry: context.retryCount, instanceId: e.data && e.data.instanceId, data: e.data, keys: Object.keys(e) }) + '\\n');
    // The first attempt of the first event of each instance "i-…0" style fails once, to exercise retries.
    if (e.data && e.data.instanceId && e.data.instanceId === process.env.FAIL_INSTANCE && context.retryCount === 0) throw new Error('transient');
    return 'ok';
  };`,
  slow: `exports.handler = async (event) => {
    const { sleepMs } = JSON.parse(event.toString());
    await new Promise((r) => setTimeout(r, sleepMs));
    return { slept: sleepMs };
  };`,
};

let dir: string;
let cloud: LocalCloud;
let host: LocalHost;
let eventsLog: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ea-host-'));
  eventsLog = join(dir, 'events.ndjson');
  writeFileSync(join(dir, 's.yaml'), S_YAML);
  for (const [name, code] of Object.entries(BUNDLES)) {
    mkdirSync(join(dir, 'dist', name), { recursive: true });
    writeFileSync(join(dir, 'dist', name, 'index.js'), code);
  }
  cloud = await startLocalCloud({ root: join(dir, 'oss') });
  host = await startLocalHost({
    cloud,
    sYamlPath: join(dir, 's.yaml'),
    vars: { eventsLog },
    env: { ARCHIVE_URL: 'file:///tmp/fixture-archive' },
    events: { duplicateRate: 1, shuffle: true, maxDelayMs: 50, retryDelayMs: 10 },
    logs: 'silent',
  });
}, 60_000);

afterAll(async () => {
  await host?.close();
  await cloud?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('HTTP trigger', () => {
  it('passes the FC 3.0 HTTP event and maps the response back', async () => {
    const res = await fetch(`${host.httpUrl}/fx-echo/a%20b/c?x=1&x=2&y=z`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-multi': 'one' },
      body: JSON.stringify({ hello: 'fc' }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-echo')).toBe('yes');
    expect(res.headers.get('x-fc-request-id')).toMatch(/^1-[0-9a-f]+-[0-9a-f]{24}$/);
    const out = (await res.json()) as { event: Json; greeting: string; isBuffer: boolean; fn: Json };
    expect(out.isBuffer).toBe(true);
    expect(out.greeting).toBe('hello-world');
    expect(out.fn).toEqual({ name: 'fx-echo', handler: 'index.handler', memory: 128, timeout: 5 });
    const e = out.event;
    expect(e.version).toBe('v1');
    expect(e.rawPath).toBe('/a%20b/c');
    expect(e.requestContext.http.path).toBe('/a b/c');
    expect(e.requestContext.http.method).toBe('POST');
    expect(e.requestContext.http.sourceIp).toBe('127.0.0.1');
    expect(e.queryParameters).toEqual({ x: '1,2', y: 'z' });
    expect(e.isBase64Encoded).toBe(false);
    expect(JSON.parse(e.body)).toEqual({ hello: 'fc' });
    expect(e.headers['x-multi']).toBe('one');
    expect(typeof e.requestContext.timeEpoch).toBe('string');
    expect(e.requestContext.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(e.requestContext.requestId).toBe(res.headers.get('x-fc-request-id'));
    expect(e.requestContext.accountId).toBe(ACCOUNT_ID);
  });

  it('Base64-encodes binary bodies, rejects unlisted methods and unknown functions', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 2]);
    const res = await fetch(`${host.httpUrl}/fx-echo/`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    const e = ((await res.json()) as { event: Json }).event;
    expect(e.isBase64Encoded).toBe(true);
    expect(Buffer.from(e.body, 'base64').equals(bytes)).toBe(true);
    expect(e.rawPath).toBe('/');
    const put = await fetch(`${host.httpUrl}/fx-echo/x`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect((await fetch(`${host.httpUrl}/fx-tick/`)).status).toBe(404);
    const index = (await (await fetch(`${host.httpUrl}/`)).json()) as { functions: { function: string }[] };
    expect(index.functions.map((f) => f.function)).toEqual(['fx-echo']);
  });
});

describe('timer trigger and context', () => {
  it('fires with the FC timer event and an FC 3.0 context carrying the role STS key', async () => {
    const out = (await host.fireTimer('tick')) as { event: Json; context: Json; env: Json };
    expect(out.event).toMatchObject({ triggerName: 'every-minute', payload: '{"lookbackHours":1}' });
    expect(out.event.triggerTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(out.context.credentials).toEqual(DEMO_STS_KEY);
    expect(out.context.function).toEqual({ name: 'fx-tick', handler: 'index.handler', memory: 128, timeout: 5 });
    expect(out.context.region).toBe('cn-hangzhou');
    expect(out.context.accountId).toBe(ACCOUNT_ID);
    expect(out.context.requestId).toMatch(/^1-/);
    // Each function has its own environment: no GREETING here; host overrides apply to all.
    expect(out.env).toEqual({ FC_FUNCTION_NAME: 'fx-tick', GREETING: null, ARCHIVE_URL: 'file:///tmp/fixture-archive' });
    const custom = (await host.fireTimer('fx-tick', { payload: 'x' })) as { event: Json };
    expect(custom.event.payload).toBe('x');
  });

  it('computes 6-field UTC cron schedules', () => {
    const at = Date.parse('2026-03-01T10:15:07Z');
    const next = (expr: string, from = at) => new Date(parseSchedule(expr).next(from) ?? 0).toISOString();
    expect(next('0 0/30 * * * *')).toBe('2026-03-01T10:30:00.000Z');
    expect(next('*/10 * * * * *')).toBe('2026-03-01T10:15:10.000Z');
    expect(next('0 0 4 * * *')).toBe('2026-03-02T04:00:00.000Z');
    expect(next('0 0 0 1 JAN ?')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('0 0 9 ? * MON')).toBe('2026-03-02T09:00:00.000Z');
    expect(next('@every 5m')).toBe('2026-03-01T10:20:00.000Z');
    expect(() => parseSchedule('0 * * * *')).toThrow(/6 fields/);
  });
});

describe('EventBridge delivery', () => {
  it('delivers each simulated completion as a TaskCompleted CloudEvent, with duplicates, reordering and retries', async () => {
    const info = cloud.rpc.data.simulateRunCommand({ instances: 6, durationMs: 100, failureRate: 0.5 });
    await new Promise((r) => setTimeout(r, 300));
    await host.idle();
    const lines = readFileSync(eventsLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; retry: number; instanceId: string; data: Json; keys: string[] });
    const ids = new Set(lines.map((l) => l.id));
    expect(ids.size).toBe(6);
    // duplicateRate 1: every event arrives twice with the same id.
    for (const id of ids) expect(lines.filter((l) => l.id === id && l.retry === 0).length).toBe(2);
    const first = lines[0];
    expect(first?.keys).toEqual(expect.arrayContaining(['id', 'source', 'specversion', 'subject', 'time', 'type', 'aliyunaccountid', 'aliyunpublishtime', 'aliyuneventbusname', 'aliyunregionid', 'data']));
    expect(first?.data).toMatchObject({ invokeId: info.invokeId, regionId: 'cn-hangzhou', commandId: expect.stringMatching(/^c-/) });
    expect(typeof first?.data.exitCode).toBe('string');
    expect(['Success', 'Failed', 'Timeout', 'Aborted', 'Invalid', 'Cancelled', 'Terminated']).toContain(first?.data.invocationStatus);
    expect(host.stats.events).toMatchObject({ published: 6, duplicates: 6, delivered: 12, dropped: 0 });

    // A foreign event matches no trigger.
    host.publish({ id: 'x', source: 'acs.oss', type: 'oss:ObjectCreated:PutObject', data: {} });
    expect(host.stats.events.unmatched).toBe(1);
  }, 20_000);

  it('retries a failing delivery with backoff', async () => {
    writeFileSync(eventsLog, '');
    const h2 = await startLocalHost({
      cloud,
      sYamlPath: join(dir, 's.yaml'),
      vars: { eventsLog },
      env: { FAIL_INSTANCE: 'i-fail' },
      events: { retryDelayMs: 10 },
      logs: 'silent',
    });
    try {
      h2.publish({ id: 'evt-1', source: 'acs.ecs', type: 'ecs:CloudAssistant:TaskCompleted', data: { instanceId: 'i-fail' } });
      await h2.idle();
      const lines = readFileSync(eventsLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; retry: number });
      // publish() puts the event on this host's bus only: it failed once, then succeeded on retry 1.
      expect(lines.filter((l) => l.id === 'evt-1').map((l) => l.retry)).toEqual([0, 1]);
      expect(h2.stats.events).toMatchObject({ retries: 1, delivered: 1, dropped: 0 });
    } finally {
      await h2.close();
    }
  });
});

describe('timeouts', () => {
  it('rejects an invocation past the function timeout and replaces the instance', async () => {
    const started = Date.now();
    const err = await host.invoke('fx-slow', { sleepMs: 5000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FunctionError);
    expect((err as FunctionError).timedOut).toBe(true);
    expect((err as FunctionError).errorMessage).toMatch(/timed out after 1 seconds/);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await host.invoke('slow', { sleepMs: 10 })).toEqual({ slept: 10 });
    expect(host.stats.functions['fx-slow']).toMatchObject({ timeouts: 1, coldStarts: 2 });
  });

  it('reports a handler error as a FunctionError', async () => {
    const err = await host.invoke('fx-echo', 'not json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FunctionError);
    expect((err as FunctionError).errorType).toBe('SyntaxError');
    expect(existsSync(dir)).toBe(true);
  });
});

describe('staleReason (whether dist/ needs a build)', () => {
  it('asks for a build when a file a bundle requires beside it is missing, not only its index.js', () => {
    // Prepare: a project of one function whose bundle requires causes.js on first use and imports an SDK file
    const root = mkdtempSync(join(tmpdir(), 'stale-'));
    try {
      mkdirSync(join(root, 'functions', 'collect'), { recursive: true });
      mkdirSync(join(root, 'lib'), { recursive: true });
      mkdirSync(join(root, 'dist', 'collect'), { recursive: true });
      writeFileSync(join(root, 'functions', 'collect', 'index.ts'), 'export {};\n');
      writeFileSync(join(root, 'dist', 'collect', 'index.js'), 'var a;const b=()=>(a??=require("./causes.js")).x;const c=()=>import("./fc-sdk.js");\n');
      writeFileSync(join(root, 'dist', 'collect', 'fc-sdk.js'), '\n');
      // Act: without causes.js, then with it
      const without = staleReason(root);
      writeFileSync(join(root, 'dist', 'collect', 'causes.js'), '\n');
      const withIt = staleReason(root);
      // Assess
      expect(without).toBe('dist/collect/causes.js is missing');
      expect(withIt).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
