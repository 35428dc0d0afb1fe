/**
 * Storms and races: two simulated RunCommands whose 5,000 per-instance TaskCompleted events arrive shuffled, with
 * duplicates (some late) and up to 48 concurrent deliveries, while sweeps fire concurrently and direct collects race
 * on the same ids. Each invocation must end with one archive (equal to the API's records), one committed walk, one
 * summary and one notification. Against the local cloud (RPC, OSS, FC invoke) with the real SDKs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_ID, DEMO_KEY } from '@execution-archive/local-cloud/credentials';
import { cloudAssistantEvent } from '@execution-archive/local-cloud/host/events';
import { summaryKey, type ArchiveRef } from '../../lib/archive/layout';
import { readManifest } from '../../lib/archive/reader';
import { runCollect, type CollectResponse } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createFunctionInvoker, type FunctionInvoker } from '../../lib/cloud/invoke';
import { describeInvocationResults } from '../../lib/cloud/ecs';
import { eventConsumerDeps, handleCloudAssistantEvents } from '../../lib/events';
import { createRuntime } from '../../lib/runtime';
import { runSweep, sweepDeps } from '../../lib/sweep';
import { pLimit } from '../../lib/limit';
import { decodeEvent } from '../../lib/triggers';
import { archivedRecords, fcContext, registerCollect, startTestCloud, type TestCloud } from '../helpers/local-cloud';
import { SteppedClock, stormOnSteppedClock } from '../helpers/event-storm';
import { addFigures, captureOutput, rememberOutput, scanAndClose, size } from './figures';

const SIZES = [size(3_000, 3_000), size(2_000, 2_000)];

let t: TestCloud;
let invoker: FunctionInvoker;
const clock = new SteppedClock();
let webhook: Server;
const notifications: Array<{ text: string }> = [];
let restore: () => void;

beforeAll(async () => {
  restore = captureOutput();
  t = await startTestCloud({ seed: 23, now: clock.now });
  invoker = createFunctionInvoker({ accountId: ACCOUNT_ID, regionId: 'cn-hangzhou', endpoint: t.cloud.fc.url, credentials: () => Promise.resolve(DEMO_KEY) });
  webhook = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      notifications.push({ text: body });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise<void>((r) => webhook.close(() => r()));
  expect(await scanAndClose(t, restore)).toEqual([]);
});

describe('event storm with racing sweeps and direct collects', () => {
  it(`${SIZES.reduce((a, b) => a + b, 0).toLocaleString('en-US')} per-instance events → one archive, one summary, one notification per invocation`, async () => {
    const env = t.env('oss', {
      API_RATE_LIMIT_PER_SECOND: '0',
      SUMMARIZE_AFTER_COLLECT: 'inline',
      NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`,
      NOTIFY_MIN_FAILURES: '1',
    });
    const collected = registerCollect(t, invoker, env);
    const consumer = () => eventConsumerDeps(createRuntime(fcContext({ function: { name: 'on-cloud-assistant-event', timeout: 60 } }), { env }), invoker);
    const fcLimit = pLimit(48);
    const sweeps: Promise<unknown>[] = [];
    const sweep = () =>
      sweeps.push(
        runSweep({ triggerTime: new Date().toISOString(), triggerName: 'sweep', payload: '{"lookbackHours":1,"sources":["ecs"]}' }, sweepDeps(createRuntime(fcContext({ function: { name: 'execution-archive-sweep', timeout: 600 } }), { env }), invoker)),
      );
    let infos: ReturnType<typeof t.cloud.rpc.data.simulateRunCommand>[] = [];
    let direct: Promise<CollectResponse>[] = [];
    const total = SIZES.reduce((a, b) => a + b, 0);
    // Instances finish over 4 s of the local cloud's clock, moved in steps of 250 ms; deliveries come up to 400 ms
    // after their instance finished, 10% again 300 ms to 3.3 s later; sweeps fire at 1, 2.5 and 4.25 s.
    const { results, duplicates } = await stormOnSteppedClock({
      data: t.cloud.rpc.data,
      clock,
      seed: 23,
      stepMs: 250,
      jitterMs: 400,
      duplicateShare: 0.1,
      lateMs: [300, 3_300],
      start: () => {
        infos = SIZES.map((instances, k) => t.cloud.rpc.data.simulateRunCommand({ instances, durationMs: 4_000, failureRate: 0.1, commandName: `storm-${k}.sh` }));
        const ids = new Set(infos.map((i) => i.invokeId));
        return { total, accept: (e) => ids.has(e.invokeId) };
      },
      envelope: (e) => cloudAssistantEvent(e, ACCOUNT_ID),
      deliver: (event) => fcLimit(() => handleCloudAssistantEvents(decodeEvent(Buffer.from(JSON.stringify(event))), consumer())),
      onStep: (ms) => {
        if (ms === 1_000 || ms === 2_500 || ms === 4_250) sweep();
      },
      // Once every instance has finished: direct collects race the event-driven ones, and another sweep fires.
      onAllFinished: () => {
        direct = infos.flatMap((i) =>
          [0, 1].map(() => runCollect(parseCollectRequest({ source: 'ecs', regionId: i.regionId, invokeId: i.invokeId }), createRuntime(fcContext(), { env }))),
        );
        sweep();
      },
    });
    const directResults = await Promise.all(direct);
    await Promise.all(sweeps);
    await t.cloud.fc.idle();
    for (const r of results) rememberOutput(JSON.stringify(r));

    expect(results).toHaveLength(total + duplicates);
    expect(results.every((r) => r.rejected.length === 0)).toBe(true);
    const rt = createRuntime(fcContext(), { env });
    for (const info of infos) {
      const ref: ArchiveRef = { source: 'ecs', regionId: info.regionId, id: info.invokeId };
      const committed = [...collected, ...directResults].filter((c) => c.id === info.invokeId && c.status === 'committed');
      expect(committed, `committed walks of ${info.invokeId}`).toHaveLength(1);
      const manifest = await readManifest(rt.store, ref);
      if (!manifest?.complete) throw new Error(`no complete archive of ${info.invokeId}`);
      const api: unknown[] = [];
      for await (const page of describeInvocationResults(rt.rpc('ecs', info.regionId), { invokeId: info.invokeId })) api.push(...page.records);
      const records = await archivedRecords(rt.store, manifest);
      expect(records).toEqual(JSON.parse(JSON.stringify(api)));
      expect(await rt.store.head(summaryKey(ref))).toBeDefined();
      expect(notifications.filter((n) => n.text.includes(info.invokeId)), `notifications of ${info.invokeId}`).toHaveLength(1);
    }
    expect(notifications).toHaveLength(infos.length);
    addFigures({ stormEvents: total + duplicates });
  }, 240_000);
});
