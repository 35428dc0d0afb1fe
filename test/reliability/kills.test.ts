/**
 * Kills: the collector process is SIGKILLed at points chosen across the walk — while a page request is in flight,
 * while the execution is described, while a checkpoint, a part or a related object is written, inside multipart
 * uploads (initiate, a part, complete), between the last object and the manifest — then invoked again until the
 * archive is complete. The archive must equal an uninterrupted one byte for byte (the parts' and related objects'
 * sizes and SHA-256), no multipart upload may stay open, and no manifest may ever claim completeness for a partial
 * archive. A kill lands while a request is on the wire: the local cloud holds that request, the process dies, and
 * the held request then completes on the server as it would in the cloud.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OssFaultHandle } from '@execution-archive/local-cloud/oss/faults';
import { manifestKey, relatedKey, type ArchiveRef } from '../../lib/archive/layout';
import type { Manifest } from '../../lib/archive/manifest';
import { readManifest } from '../../lib/archive/reader';
import type { ObjectStore } from '../../lib/archive/store';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { isRetryable } from '../../lib/cloud/retry';
import { fcContext, startTestCloud, type TestCloud } from '../helpers/local-cloud';
import { suiteRuntime } from './collector';
import { addFigures, captureOutput, scanAndClose } from './figures';

const root = join(__dirname, '..', '..');
const HOLD_MS = 1_500;
const PART_ENV = { ARCHIVE_PART_MAX_RECORDS: '1500', API_RATE_LIMIT_PER_SECOND: '0' };

let t: TestCloud;
let restore: () => void;
let executionId = '';
let reference: Manifest;
const payload = () => ({ source: 'oos', regionId: 'cn-hangzhou', executionId });
const ref = (): ArchiveRef => ({ source: 'oos', regionId: 'cn-hangzhou', id: executionId });

beforeAll(async () => {
  restore = captureOutput();
  t = await startTestCloud({ seed: 31 });
  executionId = t.cloud.rpc.data.addExecution({ resources: 4_500, failureRate: 0.15 }).executionId;
  const rt = suiteRuntime(fcContext(), t.env('oss', PART_ENV));
  await runCollect(parseCollectRequest(payload()), rt);
  const m = await readManifest(rt.store, ref());
  if (!m) throw new Error('the reference archive was not written');
  reference = m;
});
afterAll(async () => {
  expect(await scanAndClose(t, restore)).toEqual([]);
});

async function openUploads(): Promise<number> {
  return (await readdir(join(t.dir, 'oss', '.oss-uploads')).catch(() => [] as string[])).length;
}

/** A manifest that exists must describe a whole archive: every object there, with its size. */
async function assertNoFalseCompleteness(store: ObjectStore): Promise<void> {
  const m = await readManifest(store, ref());
  if (!m) return;
  expect(m.complete).toBe(true);
  for (const e of [...m.parts, ...m.related]) expect((await store.head(e.key))?.size, e.key).toBe(e.bytes);
}

type KillPoint =
  | { name: string; api: string; nth: number }
  | { name: string; oss: string; nth: number; keyPrefix?: string };

const KILL_POINTS: KillPoint[] = [
  { name: 'describing the execution', api: 'ListExecutions', nth: 1 },
  ...[1, 2, 8, 15, 23, 30, 38, 44].map((nth) => ({ name: `page request ${nth} in flight`, api: 'ListResourceExecutionStatus', nth })),
  { name: 'listing the failed children', api: 'ListExecutions', nth: 2 },
  { name: 'first object write (the execution)', oss: 'PutObject', nth: 1 },
  { name: 'checkpoint write', oss: 'PutObject', nth: 2 },
  { name: 'a later checkpoint write', oss: 'PutObject', nth: 3 },
  // The failed children are listed beside the records: their object (a multipart upload here) is written while the
  // parts are still coming.
  { name: 'a related object write', oss: 'InitiateMultipartUpload', nth: 1, keyPrefix: 'related/failed-child-executions' },
  { name: 'initiating the first multipart upload', oss: 'InitiateMultipartUpload', nth: 1 },
  { name: 'initiating the third multipart upload', oss: 'InitiateMultipartUpload', nth: 3 },
  { name: 'inside a multipart upload: its first part', oss: 'UploadPart', nth: 1 },
  { name: 'inside a multipart upload: a middle part', oss: 'UploadPart', nth: 2 },
  { name: 'inside a multipart upload: a later part', oss: 'UploadPart', nth: 4 },
  { name: 'completing the first multipart upload', oss: 'CompleteMultipartUpload', nth: 1 },
  { name: 'completing the last multipart upload', oss: 'CompleteMultipartUpload', nth: 3 },
  { name: 'between the last object and the manifest (verifying)', oss: 'HeadObject', nth: 1 },
  { name: 'writing the manifest', oss: 'PutObject', nth: 1, keyPrefix: 'manifest' },
];

/** Runs the collector in its own process and SIGKILLs it while the request of `point` is on the wire. */
function spoolDir(): string {
  const dir = join(t.dir, 'tmp');
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function killAt(point: KillPoint, env: NodeJS.ProcessEnv, body: Record<string, unknown>, archive: ArchiveRef = ref()): Promise<void> {
  const archivePrefix = new URL(env.ARCHIVE_URL ?? '').pathname.replace(/^\//, '');
  let ossFault: OssFaultHandle | undefined;
  if ('api' in point) {
    t.cloud.rpc.faults.inject({ kind: 'slow', action: point.api, afterRequests: point.nth - 1, times: 1, delayMs: HOLD_MS });
  } else {
    const keyPrefix =
      point.keyPrefix === 'manifest'
        ? `${archivePrefix}/${manifestKey(archive)}`
        : point.keyPrefix?.startsWith('related/')
          ? `${archivePrefix}/${relatedKey(archive, point.keyPrefix.slice('related/'.length))}`
          : archivePrefix;
    ossFault = t.cloud.oss.faults.inject({ kind: 'slow', method: point.oss, keyPrefix, afterRequests: point.nth - 1, times: 1, delayMs: HOLD_MS });
  }
  // One process (tsx as a loader, not its CLI, which would run the collector in a grandchild the kill misses).
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'child-collect.ts'), JSON.stringify(body), JSON.stringify(fcContext())], {
    cwd: root,
    // Its temporary folder is the test cloud's (removed with it): a kill between opening a part's spool file and
    // unlinking it leaves that empty file behind, which must not pile up in the machine's /tmp.
    env: { ...process.env, ...env, TMPDIR: spoolDir() },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const fired = () => (ossFault ? ossFault.fired > 0 : t.cloud.rpc.faults.pending().length === 0);
  let finishedFirst = false;
  void exited.then(() => (finishedFirst = true));
  while (!fired() && !finishedFirst) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGKILL');
  const code = await exited;
  t.cloud.rpc.faults.clear();
  ossFault?.remove();
  expect(code, `the collector finished before the kill point (${stderr})`).toBeNull();
  // The held request completes on the server, as one on the wire would.
  await new Promise((r) => setTimeout(r, HOLD_MS + 300));
}

async function collectUntilComplete(env: NodeJS.ProcessEnv, body: Record<string, unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await runCollect(parseCollectRequest(body), suiteRuntime(fcContext(), env));
      if (res.complete) return;
    } catch (err) {
      if (!isRetryable(err) || attempt >= 4) throw err;
    }
  }
}

describe(`${KILL_POINTS.length} kill points`, () => {
  let killed = 0;
  afterAll(async () => {
    addFigures({ killPoints: killed, orphanedUploads: await openUploads() });
  });

  it.each(KILL_POINTS)('killed at: $name → resumes to the same bytes, no upload left open', async (point) => {
    const env = t.env('oss', PART_ENV);
    const rt = suiteRuntime(fcContext(), env);
    await killAt(point, env, payload());
    killed++;
    await assertNoFalseCompleteness(rt.store);
    await collectUntilComplete(env, payload());
    const manifest = await readManifest(rt.store, ref());
    expect(manifest?.complete).toBe(true);
    expect(manifest?.parts).toEqual(reference.parts);
    expect(manifest?.related).toEqual(reference.related);
    expect(manifest?.records).toBe(reference.records);
    expect(await openUploads()).toBe(0);
  });
});

const FORCED_POINTS: KillPoint[] = [
  { name: 'a forced re-collect, mid-walk', api: 'ListResourceExecutionStatus', nth: 20 },
  { name: 'a forced re-collect, inside a multipart upload', oss: 'UploadPart', nth: 2 },
  { name: 'a forced re-collect, writing its manifest (the switch)', oss: 'PutObject', nth: 1, keyPrefix: 'manifest' },
];

describe(`${FORCED_POINTS.length} kill points inside a forced re-collect`, () => {
  let killed = 0;
  afterAll(() => {
    addFigures({ killPoints: killed });
  });
  const strip = (es: { key: string }[]) => es.map(({ key, ...rest }) => ({ ...rest, name: key.split('/').pop() }));

  it.each(FORCED_POINTS)('killed at: $name → one trusted archive throughout, the same bytes after', async (point) => {
    const env = t.env('oss', PART_ENV);
    const rt = suiteRuntime(fcContext(), env);
    await collectUntilComplete(env, payload());
    await killAt(point, env, { ...payload(), force: true });
    killed++;
    // Whatever the kill interrupted, a reader trusts one whole archive: the old one, or the new one if it switched.
    await assertNoFalseCompleteness(rt.store);
    const during = await readManifest(rt.store, ref());
    expect(during?.records).toBe(reference.records);
    await collectUntilComplete(env, { ...payload(), force: true });
    const manifest = await readManifest(rt.store, ref());
    if (!manifest) throw new Error('no manifest after the forced re-collect');
    expect(strip(manifest.parts)).toEqual(strip(reference.parts));
    expect(strip(manifest.related)).toEqual(strip(reference.related));
    expect(await openUploads()).toBe(0);
  });
});

/**
 * The parallel page-number walk of a finished invocation (ECS_PAGE_CONCURRENCY=8): killed with several page requests
 * in flight, or while a checkpoint naming the next page number is written, it resumes by page number to the bytes
 * of the sequential NextToken walk.
 */
const PAGE_POINTS: KillPoint[] = [
  ...[2, 9, 30].map((nth) => ({ name: `parallel pages: page request ${nth} in flight`, api: 'DescribeInvocationResults', nth })),
  { name: 'parallel pages: a checkpoint write (next page number)', oss: 'PutObject', nth: 3 },
];

describe(`${PAGE_POINTS.length} kill points inside a parallel page-number walk`, () => {
  let killed = 0;
  let invokeId = '';
  let sequential: Manifest;
  const ecsRef = (): ArchiveRef => ({ source: 'ecs', regionId: 'cn-hangzhou', id: invokeId });
  const ecsPayload = () => ({ source: 'ecs', regionId: 'cn-hangzhou', invokeId });
  beforeAll(async () => {
    invokeId = t.cloud.rpc.data.addInvocation({ instances: 2_000, failureRate: 0.15 }).invokeId;
    const rt = suiteRuntime(fcContext(), t.env('oss', { ...PART_ENV, ARCHIVE_PART_MAX_RECORDS: '500' }));
    await runCollect(parseCollectRequest(ecsPayload()), rt);
    const m = await readManifest(rt.store, ecsRef());
    if (!m) throw new Error('the sequential reference archive was not written');
    sequential = m;
  });
  afterAll(() => {
    addFigures({ killPoints: killed });
  });

  it.each(PAGE_POINTS)('killed at: $name → resumes to the sequential walk\'s bytes', async (point) => {
    const env = t.env('oss', { ...PART_ENV, ARCHIVE_PART_MAX_RECORDS: '500', ECS_PAGE_CONCURRENCY: '8' });
    const rt = suiteRuntime(fcContext(), env);
    await killAt(point, env, ecsPayload(), ecsRef());
    killed++;
    const m = await readManifest(rt.store, ecsRef());
    expect(m).toBeUndefined();
    await collectUntilComplete(env, ecsPayload());
    const manifest = await readManifest(rt.store, ecsRef());
    expect(manifest?.complete).toBe(true);
    expect(manifest?.parts).toEqual(sequential.parts);
    expect(manifest?.related).toEqual(sequential.related);
    expect(manifest?.records).toBe(2_000);
    expect(await openUploads()).toBe(0);
  });
});
