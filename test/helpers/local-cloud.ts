/**
 * Test helpers around the local cloud: start it in a temp folder, build the environment and FC context the
 * functions see, and read an archive back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll } from 'vitest';
import { startLocalCloud, type LocalCloud } from '@execution-archive/local-cloud';
import { ACCOUNT_ID } from '@execution-archive/local-cloud/credentials';
import { handleCollectEvent, type CollectResponse } from '../../lib/collect';
import type { AsyncInvoker } from '../../lib/fanout';
import { createRuntime } from '../../lib/runtime';
import type { FcContext } from '../../lib/triggers';
import type { ObjectStore } from '../../lib/archive/store';
import type { Manifest } from '../../lib/archive/manifest';

export type StoreKind = 'file' | 'oss';

export interface TestCloud {
  cloud: LocalCloud;
  dir: string;
  /** Environment for production code with the archive in a fresh place of the given kind. */
  env(kind: StoreKind, overrides?: Record<string, string>): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

let counter = 0;

/**
 * One local cloud for a test file: started before its tests ({@link startTestCloud}) and handed to `use`, closed after
 * them. `let t: TestCloud; useTestCloud({ seed: 23 }, (cloud) => (t = cloud));`
 */
export function useTestCloud(options: Parameters<typeof startTestCloud>[0], use: (cloud: TestCloud) => void): void {
  let cloud: TestCloud | undefined;
  beforeAll(async () => {
    cloud = await startTestCloud(options);
    use(cloud);
  });
  afterAll(async () => {
    await cloud?.close();
  });
}

/** `now`: the local cloud's clock (simulated tasks finish on it), e.g. test/helpers/event-storm.ts SteppedClock; default the real time. */
export async function startTestCloud(options: { seed?: number; now?: () => number } = {}): Promise<TestCloud> {
  const dir = await mkdtemp(join(tmpdir(), 'ea-test-'));
  const cloud = await startLocalCloud({ root: join(dir, 'oss'), seed: options.seed ?? 1, ...(options.now ? { now: options.now } : {}) });
  return {
    cloud,
    dir,
    env(kind, overrides = {}) {
      counter += 1;
      const archiveUrl =
        kind === 'file' ? pathToFileURL(join(dir, `archive-${counter}`)).href : `oss://${cloud.bucket}/archive-${counter}`;
      return { ...cloud.env(), ARCHIVE_URL: archiveUrl, LOG_LEVEL: 'error', SUMMARIZE_AFTER_COLLECT: 'off', ...overrides };
    },
    async close() {
      await cloud.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An FC 3.0 context as the runtime passes it (no role: `credentials: {}`). */
export function fcContext(overrides: Partial<FcContext> = {}, timeoutSeconds = 600): FcContext {
  return {
    requestId: `req-${Math.random().toString(16).slice(2, 10)}`,
    credentials: {},
    function: { name: 'execution-archive-collect', handler: 'index.handler', memory: 512, timeout: timeoutSeconds },
    region: 'cn-hangzhou',
    accountId: ACCOUNT_ID,
    ...overrides,
  };
}

/** Every record of an archive's parts, in order, read back independently of lib/archive/reader. */
export async function archivedRecords(store: ObjectStore, manifest: Manifest): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const part of manifest.parts) {
    const body = await store.get(part.key);
    if (!body) throw new Error(`missing part ${part.key}`);
    const text = gunzipSync(body).toString('utf8');
    for (const line of text.split('\n')) if (line) out.push(JSON.parse(line));
  }
  return out;
}

/** All keys under an archive directory. */
export async function keysUnder(store: ObjectStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

/**
 * Registers `execution-archive-collect` in the local FC: the real collect service, a fresh runtime from `env` per
 * invocation (as FC starts one); every answer is pushed to `results` (returned).
 */
export function registerCollect(t: TestCloud, invoker: AsyncInvoker, env: NodeJS.ProcessEnv, results: CollectResponse[] = []): CollectResponse[] {
  const name = 'execution-archive-collect';
  t.cloud.fc.register(name, async (payload, meta) => {
    const rt = createRuntime(fcContext({ requestId: meta.requestId, function: { name, timeout: 600 } }), { env });
    const res = (await handleCollectEvent(JSON.parse(payload.toString('utf8')), rt, { invoker })) as CollectResponse;
    results.push(res);
    return JSON.stringify(res);
  }, { asyncTask: true });
  return results;
}
