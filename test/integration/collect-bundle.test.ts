/**
 * collect end to end through the built bundle (dist/collect/index.js), as FC runs it: direct payloads, the HTTP
 * trigger, async self-continuation through the FC invoke API, and a hard kill (SIGKILL) mid-walk followed by a resume.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../lib/runtime';
import { checkpointKey, manifestKey, type ArchiveRef } from '../../lib/archive/layout';
import { readManifest } from '../../lib/archive/reader';
import type { FcContext, HttpResponse } from '../../lib/triggers';
import { archivedRecords, fcContext, keysUnder, useTestCloud, type TestCloud } from '../helpers/local-cloud';
import { present } from '../helpers/present';
import { ensureBundles } from '@execution-archive/local-cloud/host/bundles';
import { httpEventBytes } from '../helpers/http-event';

const root = join(__dirname, '..', '..');
const bundle = join(root, 'dist', 'collect', 'index.js');
type Handler = (event: Buffer, context: FcContext) => Promise<unknown>;

let t: TestCloud;
let handler: Handler;
const savedEnv = { ...process.env };

useTestCloud({}, (cloud) => (t = cloud));
beforeAll(async () => {
  // Rebuilt when missing or older than the sources, so the bundle under test is the code under test.
  await ensureBundles({ root });
  handler = (require(bundle) as { handler: Handler }).handler;
});
afterAll(async () => {
  process.env = savedEnv;
});

/** The bundle reads process.env like FC; each test gets a fresh archive location. */
function useEnv(kind: 'file' | 'oss', overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = t.env(kind, overrides);
  process.env = { ...savedEnv, ...env };
  return env;
}

const ev = (payload: unknown) => Buffer.from(JSON.stringify(payload));
const httpEvent = (method: string, path: string, body: string | undefined, headers: Record<string, string> = {}) =>
  httpEventBytes({ method, path, ...(body !== undefined ? { body } : {}), headers: { 'Content-Type': 'application/json', ...headers } });

describe('dist/collect/index.js', () => {
  it('collects an OOS execution from a direct invocation', async () => {
    const env = useEnv('oss');
    const id = present(t.cloud.rpc.data.demo.executionsBySize['101']);
    const result = (await handler(ev({ source: 'oos', regionId: 'cn-hangzhou', executionId: id }), fcContext())) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'committed', complete: true, records: 101, pages: 2, parts: 1 });
    expect(String(result.location)).toMatch(/^oss:\/\/execution-archive\/archive-\d+\/oos\/cn-hangzhou\/exec-.*\/manifest\.json$/);
    const rt = createRuntime(fcContext(), { env });
    const manifest = await readManifest(rt.store, { source: 'oos', regionId: 'cn-hangzhou', id });
    expect(manifest?.collector.name).toBe('execution-archive');
  });

  it('answers POST /collect with the result, and bad requests with 4xx and nothing written', async () => {
    const env = useEnv('file');
    const id = present(t.cloud.rpc.data.demo.invocationsBySize['51']);
    const ok = (await handler(httpEvent('POST', '/collect', JSON.stringify({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: id })), fcContext())) as HttpResponse;
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ status: 'committed', records: 51 });

    const cases: [Buffer, number, string][] = [
      [httpEvent('POST', '/collect', '{"source":'), 400, 'MalformedJson'],
      [httpEvent('POST', '/collect', JSON.stringify({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: '../../etc/passwd' })), 400, 'InvalidInvokeId'],
      [httpEvent('POST', '/collect', JSON.stringify({ source: 'nope' })), 400, 'InvalidSource'],
      [httpEvent('POST', '/collect', JSON.stringify({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: 't-hz00000000000000' })), 404, 'InvocationNotFound'],
      [httpEvent('POST', '/collect', JSON.stringify({ source: 'oos', regionId: 'cn-hangzhou', executionId: 'exec-00000000000000000000' })), 404, 'ExecutionNotFound'],
      [httpEvent('POST', '/collect', 'x'.repeat(70_000)), 413, 'PayloadTooLarge'],
      [httpEvent('POST', '/collect', 'a=b', { 'Content-Type': 'application/x-www-form-urlencoded' }), 415, 'UnsupportedMediaType'],
      [httpEvent('GET', '/collect', undefined), 405, 'MethodNotAllowed'],
      [httpEvent('POST', '/elsewhere', '{}'), 404, 'NotFound'],
    ];
    const rt = createRuntime(fcContext(), { env });
    const before = await keysUnder(rt.store, '');
    for (const [event, status, code] of cases) {
      const res = (await handler(event, fcContext())) as HttpResponse;
      expect({ status: res.statusCode, code: JSON.parse(res.body).error.code }).toEqual({ status, code });
      expect(JSON.parse(res.body).error.message.length).toBeGreaterThan(5);
    }
    expect(await keysUnder(rt.store, '')).toEqual(before);
  });

  it('throws a typed error for a bad direct invocation', async () => {
    useEnv('file');
    await expect(handler(Buffer.from('not json'), fcContext())).rejects.toMatchObject({ name: 'InputError', code: 'MalformedJson' });
    await expect(handler(ev({ source: 'oos', regionId: 'cn-hangzhou' }), fcContext())).rejects.toMatchObject({ code: 'MissingParameter', status: 400 });
  });

  it('an async invocation that runs out of time schedules its own continuation until the archive is complete', async () => {
    const env = useEnv('file', { ARCHIVE_PART_MAX_RECORDS: '200' });
    const id = t.cloud.rpc.data.addInvocation({ instances: 900, failureRate: 0.2 }).invokeId;
    t.cloud.rpc.faults.setLatency(120);
    const name = 'execution-archive-collect';
    // A 3 s FC timeout leaves ~1 s of budget per invocation: a few pages each.
    t.cloud.fc.register(name, async (payload) => {
      const out = await handler(payload, fcContext({}, 3));
      return JSON.stringify(out);
    }, { asyncTask: true });
    try {
      const first = (await handler(ev({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: id, async: true }), fcContext({}, 3))) as Record<string, unknown>;
      expect(first).toMatchObject({ status: 'checkpointed', complete: false, continuation: { scheduled: true } });
      for (let i = 0; i < 100; i++) {
        await t.cloud.fc.idle();
        if (!t.cloud.fc.invocations.some((r) => r.status === 'running' || r.status === 'queued')) break;
      }
    } finally {
      t.cloud.rpc.faults.setLatency(0);
      t.cloud.fc.unregister(name);
    }
    const rt = createRuntime(fcContext(), { env });
    const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id };
    const manifest = present(await readManifest(rt.store, ref));
    expect(manifest.complete).toBe(true);
    expect(manifest.records).toBe(900);
    expect(manifest.invocations).toBeGreaterThan(2);
    expect(new Set((await archivedRecords(rt.store, manifest)).map((r) => r.InstanceId)).size).toBe(900);
    expect(await rt.store.head(checkpointKey(ref))).toBeUndefined();
  });

  it('a collector killed with SIGKILL mid-walk resumes to the same archive as an uninterrupted run', async () => {
    const partEnv = { ARCHIVE_PART_MAX_RECORDS: '300' };
    const id = t.cloud.rpc.data.addExecution({ resources: 2_400, failureRate: 0.1 }).executionId;
    const ref: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id };
    const payload = { source: 'oos', regionId: 'cn-hangzhou', executionId: id };

    const wholeEnv = useEnv('oss', partEnv);
    await handler(ev(payload), fcContext());
    const wholeRt = createRuntime(fcContext(), { env: wholeEnv });
    const whole = present(await readManifest(wholeRt.store, ref));

    const env = t.env('oss', partEnv);
    const rt = createRuntime(fcContext(), { env });
    t.cloud.rpc.faults.setLatency(60);
    const child = spawn(
      process.execPath,
      ['-e', `require(${JSON.stringify(bundle)}).handler(Buffer.from(process.argv[1]), JSON.parse(process.argv[2])).then(() => process.exit(0))`, JSON.stringify(payload), JSON.stringify(fcContext())],
      { env: { ...savedEnv, ...env }, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Kill once at least two parts are checkpointed, mid-way through the third.
    for (let i = 0; i < 400; i++) {
      const body = await rt.store.get(checkpointKey(ref));
      if (body && (JSON.parse(body.toString()) as { parts: unknown[] }).parts.length >= 2) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    expect(await exited).toBeNull();
    t.cloud.rpc.faults.setLatency(0);
    expect(await rt.store.head(manifestKey(ref))).toBeUndefined();

    process.env = { ...savedEnv, ...env };
    const resumed = (await handler(ev(payload), fcContext())) as Record<string, unknown>;
    expect(resumed).toMatchObject({ status: 'committed', records: 2_400, invocations: 2 });
    const manifest = present(await readManifest(rt.store, ref));
    expect(manifest.parts).toEqual(whole.parts);
    expect(manifest.related).toEqual(whole.related);
    expect(await archivedRecords(rt.store, manifest)).toEqual(await archivedRecords(wholeRt.store, whole));
  });
});
