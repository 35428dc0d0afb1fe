/**
 * Faults: for each seed, a random mix of throttling, 5xx JSON, Code-less 5xx, 502 HTML, resets, timeouts and latency
 * spikes on the OOS/ECS API, and 5xx, resets and stalls on OSS (puts, multipart initiate/parts/complete, gets, heads),
 * while the collector archives an execution or invocation. A failure that survives the retry policy is retried the
 * way FC retries an async invocation. Each run must end with an archive whose records equal the local cloud's ground
 * truth as a multiset: lost and duplicated records are counted (and must be 0).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRecords } from '../helpers/api-records';
import { FAULT_KINDS, type FaultKind } from '@execution-archive/local-cloud/faults';
import type { OssFaultHandle, OssFaultKind } from '@execution-archive/local-cloud/oss/faults';
import { readManifest } from '../../lib/archive/reader';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { isRetryable } from '../../lib/cloud/retry';
import { archivedRecords, fcContext, startTestCloud, type TestCloud } from '../helpers/local-cloud';
import { suiteRuntime } from './collector';
import { addFigures, captureOutput, scanAndClose, size } from './figures';

const SEEDS = size(50, 200);

let t: TestCloud;
let restore: () => void;
beforeAll(async () => {
  restore = captureOutput();
  t = await startTestCloud({ seed: 42 });
});
afterAll(async () => {
  expect(await scanAndClose(t, restore)).toEqual([]);
});

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The API's records, read with raw pop-core before any fault is injected (see the helper). */
function groundTruth(source: 'oos' | 'ecs', id: string): Promise<unknown[]> {
  return apiRecords(t.cloud.rpc.url, source, id, { pageSize: source === 'oos' ? 100 : 50 });
}

/** Records missing from `archived` and records in it more often than in `truth`, as multisets. */
function compare(truth: unknown[], archived: unknown[]): { lost: number; duplicated: number } {
  const counts = new Map<string, number>();
  for (const r of truth) counts.set(JSON.stringify(r), (counts.get(JSON.stringify(r)) ?? 0) + 1);
  let duplicated = 0;
  for (const r of archived) {
    const k = JSON.stringify(r);
    const c = counts.get(k) ?? 0;
    if (c > 0) counts.set(k, c - 1);
    else duplicated++;
  }
  const lost = [...counts.values()].reduce((a, b) => a + b, 0);
  return { lost, duplicated };
}

const API_KINDS: readonly FaultKind[] = FAULT_KINDS;
const OSS_KINDS: readonly OssFaultKind[] = ['internal-error', 'service-unavailable', 'reset', 'slow'];
const OSS_OPS = ['PutObject', 'InitiateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'GetObject', 'HeadObject'];

async function openUploads(): Promise<number> {
  return (await readdir(join(t.dir, 'oss', '.oss-uploads')).catch(() => [] as string[])).length;
}

describe(`${SEEDS} fault seeds`, () => {
  let injected = 0;
  let lostTotal = 0;
  let duplicatedTotal = 0;

  afterAll(async () => {
    const orphaned = await openUploads();
    addFigures({ seeds: SEEDS, faults: injected, lost: lostTotal, duplicated: duplicatedTotal, orphanedUploads: orphaned });
    expect(orphaned).toBe(0);
  });

  it.each(Array.from({ length: SEEDS }, (_, i) => i + 1))('seed %i ends with an exact archive', async (seed) => {
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const source = rnd() < 0.5 ? 'oos' : 'ecs';
    const count = 120 + Math.floor(rnd() * 380);
    const data = t.cloud.rpc.data;
    const id = source === 'oos' ? data.addExecution({ resources: count, failureRate: 0.2 }).executionId : data.addInvocation({ instances: count, failureRate: 0.2 }).invokeId;
    const truth = await groundTruth(source, id);

    const actions = source === 'oos' ? ['ListResourceExecutionStatus', 'ListExecutions'] : ['DescribeInvocationResults', 'DescribeInvocations'];
    let apiTimes = 0;
    for (let k = 1 + Math.floor(rnd() * 6); k > 0; k--) {
      const kind = pick(API_KINDS);
      const times = 1 + Math.floor(rnd() * 2);
      t.cloud.rpc.faults.inject({ kind, action: pick(actions), times, afterRequests: Math.floor(rnd() * 5), delayMs: 700 + Math.floor(rnd() * 400) });
      apiTimes += times;
    }
    const handles: OssFaultHandle[] = [];
    for (let k = Math.floor(rnd() * 5); k > 0; k--) {
      handles.push(
        t.cloud.oss.faults.inject({ kind: pick(OSS_KINDS), method: pick(OSS_OPS), times: 1 + Math.floor(rnd() * 2), afterRequests: Math.floor(rnd() * 6), delayMs: 200 + Math.floor(rnd() * 300) }),
      );
    }

    const env = t.env('oss', { API_TIMEOUT_MS: '500', ARCHIVE_PART_MAX_RECORDS: String(60 + Math.floor(rnd() * 120)), API_RATE_LIMIT_PER_SECOND: '0' });
    // ECS: half the seeds walk by parallel legacy pages, and a third of those get legacy pages that do not add up
    // (drawn last, so every earlier draw of a seed is what it was before).
    if (source === 'ecs' && rnd() < 0.5) {
      env.ECS_PAGE_CONCURRENCY = '4';
      const ds = data.getInvocation('cn-hangzhou', id);
      if (ds && rnd() < 0.34) Object.assign(ds.legacyDrift, { shiftFromPage: 1 + Math.floor(rnd() * Math.ceil(count / 50)) });
    }
    const payload = source === 'oos' ? { source, regionId: 'cn-hangzhou', executionId: id } : { source, regionId: 'cn-hangzhou', invokeId: id };
    let rt = suiteRuntime(fcContext(), env);
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        const res = await runCollect(parseCollectRequest(payload), rt);
        if (res.complete) break;
      } catch (err) {
        // What FC's async retry would do with a failure that outlived the retry policy: run again.
        if (!isRetryable(err) || attempts >= 8) throw err;
      }
      rt = suiteRuntime(fcContext(), env);
    }
    const remaining = t.cloud.rpc.faults.pending().reduce((n, f) => n + f.times, 0);
    t.cloud.rpc.faults.clear();
    for (const h of handles) h.remove();
    injected += apiTimes - remaining + handles.reduce((n, h) => n + h.fired, 0);

    const manifest = await readManifest(rt.store, { source, regionId: 'cn-hangzhou', id });
    if (!manifest?.complete) throw new Error(`seed ${seed}: no complete manifest`);
    const archived = await archivedRecords(rt.store, manifest);
    const { lost, duplicated } = compare(truth, archived);
    lostTotal += lost;
    duplicatedTotal += duplicated;
    expect({ lost, duplicated }).toEqual({ lost: 0, duplicated: 0 });
    expect(archived).toEqual(truth);
  });
});
