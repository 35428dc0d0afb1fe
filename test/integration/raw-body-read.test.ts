/**
 * The raw-body read (lib/cloud/json-parse.ts `readAnnounced`): a raw-body call's large answer is read into one
 * buffer of its Content-Length through the real pop-core, with httpx's read timeout still in force, and bodies that
 * end early or stall are failures the retry policy retries; calls outside the scope are read by httpx as always.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveCredentials } from '../../lib/cloud/credentials';
import { lengthOf, rawTextOf } from '../../lib/cloud/raw-json';
import { createRpcClient, rawBodyClient } from '../../lib/cloud/rpc';
import { ApiError } from '../../lib/errors';
import { type ScriptedServer, json, startScriptedServer } from '../helpers/scripted-server';

const context = { credentials: { accessKeyId: 'LTAI5tRawBodyTest01', accessKeySecret: 'rawBodySecret0123456789', securityToken: undefined } };
const FAST = { baseDelayMs: 1, maxDelayMs: 5, minAttemptMs: 0 };

/** A DescribeInvocations answer over `n` instances (~120 bytes each). */
function answer(n: number) {
  const instances = Array.from({ length: n }, (_, i) => ({ InstanceId: `i-raw${String(i).padStart(12, '0')}`, InvocationStatus: i % 7 === 0 ? 'Failed' : 'Success', ExitCode: i % 7 === 0 ? 1 : 0 }));
  return { RequestId: 'R-1', TotalCount: 1, Invocations: { Invocation: [{ InvokeId: 't-raw1', InvocationStatus: 'Failed', CommandName: 'patch.sh', InvokeInstances: { InvokeInstance: instances } }] } };
}
type Answer = ReturnType<typeof answer>;

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => server.reset());

const client = (maxAttempts: number) =>
  createRpcClient({ service: 'ecs', regionId: 'cn-hangzhou', credentials: resolveCredentials({ context }), endpoint: server.url, timeoutMs: 400, retry: { ...FAST, maxAttempts } });
const raw = (maxAttempts: number) => rawBodyClient(client(maxAttempts), { depth: 5, minBytes: 1024 });
const describeCall = (c: ReturnType<typeof client>) => c.request<Answer>('DescribeInvocations', { InvokeId: 't-raw1' });
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e);

describe('the raw-body read', () => {
  it('reads a large answer whole, and the keep-alive connection stays usable past the read timeout', async () => {
    const body = answer(5_000); // ~600 KB: many socket reads
    server.enqueue(json(200, body), json(200, body));
    const first = await describeCall(raw(1));
    const invocation = first.Invocations.Invocation[0] as Answer['Invocations']['Invocation'][number];
    expect(lengthOf(invocation.InvokeInstances.InvokeInstance)).toBe(5_000);
    const text = rawTextOf(invocation);
    expect(JSON.parse(Buffer.concat([...(text?.chunks() ?? [])]).toString('utf8'))).toEqual(body.Invocations.Invocation[0]);
    // Longer than the timeout: a read timer left running would have torn the reused connection down.
    await new Promise((r) => setTimeout(r, 600));
    const second = await describeCall(raw(1));
    expect(lengthOf(second.Invocations.Invocation[0]?.InvokeInstances.InvokeInstance)).toBe(5_000);
  });

  it('fails a body that ends before its Content-Length, and the retry reads it whole', async () => {
    const body = answer(3_000);
    server.enqueue({ kind: 'partial', body, sendBytes: 100_000, then: 'close' }, json(200, body));
    const c = raw(2);
    const page = await describeCall(c);
    expect(lengthOf(page.Invocations.Invocation[0]?.InvokeInstances.InvokeInstance)).toBe(3_000);
    expect(c.stats).toMatchObject({ apiCalls: 2, retries: 1 });
    // The same cut, one attempt: the error says how much of the body came (this read's message, not httpx's).
    server.enqueue({ kind: 'partial', body, sendBytes: 100_000, then: 'close' });
    const err = await failure(describeCall(raw(1)));
    expect(err).toBeInstanceOf(ApiError);
    expect(String((err as ApiError).cause)).toMatch(/of \d+ bytes/);
  });

  it('keeps httpx read timeout for a body that stalls', async () => {
    server.enqueue({ kind: 'partial', body: answer(3_000), sendBytes: 50_000, then: 'stall' });
    const started = Date.now();
    const err = await failure(describeCall(raw(1)));
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'RequestTimeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('leaves calls outside the raw-body scope to httpx', async () => {
    server.enqueue({ kind: 'partial', body: answer(3_000), sendBytes: 100_000, then: 'close' });
    const err = await failure(describeCall(client(1)));
    expect(err).toBeInstanceOf(ApiError);
    expect(String((err as ApiError).cause)).not.toMatch(/of \d+ bytes/);
  });

  it('is installed on the httpx pop-core reads with, by the client and not by an import', () => {
    // A fresh process: importing json-parse changes neither module; building an RPC client installs both hooks, once.
    const script = [
      "require('tsx/cjs');",
      "const httpx = require('httpx'); const jsonBigint = require('json-bigint');",
      "const popHttpx = require('module').createRequire(require.resolve('@alicloud/pop-core/lib/rpc'))('httpx');",
      "const before = [httpx.read, jsonBigint.parse];",
      "require('./lib/cloud/json-parse');",
      "const afterImport = httpx.read === before[0] && jsonBigint.parse === before[1];",
      "const { createRpcClient } = require('./lib/cloud/rpc');",
      "const make = () => createRpcClient({ service: 'ecs', regionId: 'cn-hangzhou', credentials: { origin: 'env', get: async () => ({ accessKeyId: 'a', accessKeySecret: 'b' }) } });",
      'make(); const installed = [httpx.read, jsonBigint.parse]; make();',
      "console.log(JSON.stringify({ afterImport, same: popHttpx === httpx, read: String(httpx.read).includes('readAnnounced'), parse: jsonBigint.parse.name, once: httpx.read === installed[0] && jsonBigint.parse === installed[1] }));",
    ].join('\n');
    const run = spawnSync(process.execPath, ['-e', script], { cwd: resolve(__dirname, '../..'), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ afterImport: true, same: true, read: true, parse: 'parseResponse', once: true });
  });
});
