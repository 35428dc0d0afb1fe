/**
 * Full outputs from Cloud Assistant's OSS output delivery, against the local cloud: a collect reads the delivered
 * outputs of the results the API cut into the archive and the summary mines their causes from them; pending
 * deliveries are filled in by a later collect (once); failed, refused, unreadable and oversize ones are said; a
 * collect cut short in the outputs step resumes to the same archive; verify covers the outputs.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '@execution-archive/local-cloud';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime, type Runtime } from '../../lib/runtime';
import type { ArchiveRef } from '../../lib/archive/layout';
import type { Manifest, OutputItem } from '../../lib/archive/manifest';
import { readManifest } from '../../lib/archive/reader';
import { loadSummary } from '../../lib/summary';
import type { Deadline } from '../../lib/deadline';
import { apiRecords } from '../helpers/api-records';
import { archivedRecords, fcContext } from '../helpers/local-cloud';
import { deadlineAfter } from '../helpers/deadline';
import { runCli } from '../helpers/cli';

const BUCKET = 'cloud-assistant-outputs';
const DELIVERY = `oss://${BUCKET}/ca`;
const REGION = 'cn-hangzhou';

let cloud: LocalCloud;
let dir: string;
let clock = Date.now();
let archives = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ea-outputs-'));
  cloud = await startLocalCloud({ root: join(dir, 'oss'), seed: 7, now: () => clock, deliveryBuckets: [BUCKET, 'other-outputs', 'locked-outputs'] });
  cloud.denyDelivery('locked-outputs');
});
afterAll(async () => {
  await cloud?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function env(overrides: Record<string, string> = {}): NodeJS.ProcessEnv {
  archives += 1;
  return {
    ...cloud.env(),
    ARCHIVE_URL: pathToFileURL(join(dir, `archive-${archives}`)).href,
    LOG_LEVEL: 'error',
    SUMMARIZE_AFTER_COLLECT: 'inline',
    OUTPUT_DELIVERY_ALLOW: DELIVERY,
    ...overrides,
  };
}

function runtime(vars: NodeJS.ProcessEnv, deadline?: Deadline): Runtime {
  const rt = createRuntime(fcContext(), { env: vars });
  return deadline ? { ...rt, deadline } : rt;
}

async function collect(rt: Runtime, invokeId: string) {
  const req = parseCollectRequest({ source: 'ecs', regionId: REGION, invokeId });
  const result = await runCollect(req, rt);
  const ref: ArchiveRef = { source: 'ecs', regionId: REGION, id: invokeId };
  const manifest = (await readManifest(rt.store, ref)) as Manifest;
  return { result, ref, manifest };
}

/** The object Cloud Assistant delivered (read from the local cloud's OSS folder, not through the collector). */
async function delivered(uri: string): Promise<Buffer> {
  const m = /^oss:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m?.[1] || !m[2]) throw new Error(`not an oss URI: ${uri}`);
  return readFile(cloud.oss.objectPath(m[1], m[2]));
}

async function storedText(rt: Runtime, item: OutputItem): Promise<Buffer> {
  const body = await rt.store.get(item.object?.key ?? '');
  if (!body) throw new Error(`missing ${item.object?.key}`);
  return gunzipSync(body);
}

describe('full outputs from OSS delivery', () => {
  it('reads every cut output into the archive, keeps the records as the API gave them, and mines the causes from the full text', async () => {
    // Long outputs whose error is only in their last lines (the API keeps the first 24 KB).
    const info = cloud.rpc.data.addInvocation({ instances: 60, outputs: 'long', failureRate: 0.7, ossOutputDelivery: DELIVERY });
    const rt = runtime(env());
    const { result, ref, manifest } = await collect(rt, info.invokeId);

    const records = await archivedRecords(rt.store, manifest);
    expect(records).toEqual(await apiRecords(cloud.rpc.url, 'ecs', info.invokeId));
    const cut = records.filter((r) => Number(r.Dropped) > 0);
    expect(cut.length).toBeGreaterThan(5);
    expect(result.status).toBe('committed');
    expect(result.outputs).toMatchObject({ stored: cut.length, pending: 0, failed: 0, refused: 0, unreadable: 0 });
    const items = manifest.outputs?.items ?? [];
    expect(items.map((i) => i.instanceId)).toEqual(cut.map((r) => r.InstanceId));
    for (const [i, item] of items.entries()) {
      const record = cut[i] as Record<string, unknown>;
      expect(item).toMatchObject({ state: 'stored', uri: record.OssOutputUri, dropped: record.Dropped, repeats: record.Repeats });
      expect(item.object?.key).toBe(`ecs/${REGION}/${info.invokeId}/outputs/${String(record.InstanceId)}.txt.gz`);
      const full = await storedText(rt, item);
      // Whole, byte for byte, and it starts with what the API kept; Dropped counts the rest.
      expect(full.equals(await delivered(item.uri))).toBe(true);
      expect(full.subarray(0, Buffer.byteLength(String(record.Output))).toString('utf8')).toBe(record.Output);
      expect(full.length - Buffer.byteLength(String(record.Output))).toBe(record.Dropped);
      expect(item.object?.textBytes).toBe(full.length);
    }

    // The summary's causes come from the full outputs: each group's error line is the last line of a delivered
    // output of that group, which the API's cut text does not contain.
    const { summary } = await loadSummary({ store: rt.store, ref, logger: rt.logger });
    const failedCut = items.filter((i) => i.status !== 'Success');
    expect(failedCut.length).toBeGreaterThan(5);
    const withFull = summary.groups.filter((g) => g.resourceIds.some((id) => failedCut.some((i) => i.instanceId === id)));
    expect(withFull.length).toBeGreaterThan(0);
    let examples = 0;
    for (const g of withFull) {
      expect(g.title).not.toMatch(/el8\.x86_64|Installing|Updating|Verifying/);
      const item = failedCut.find((i) => i.instanceId === g.example.id);
      if (!item) continue;
      const full = (await storedText(rt, item)).toString('utf8');
      const record = cut.find((r) => r.InstanceId === item.instanceId) as Record<string, unknown>;
      const tailLines = full.trimEnd().split('\n').slice(-6).join('\n');
      expect(g.example.text).toContain(tailLines.split('\n').at(-1));
      expect(String(record.Output)).not.toContain(tailLines.split('\n').at(-1));
      examples += 1;
    }
    expect(examples).toBeGreaterThan(0);
    expect(summary.fullOutputs?.counts.stored).toBe(cut.length);
    expect(summary.fullOutputs?.items[0]?.href).toMatch(/^outputs\/i-[0-9a-z]+\.txt\.gz$/);

    // The same invocation summarized from the cut outputs alone groups by the progress lines the API kept.
    const plain = runtime(env({ OUTPUT_DELIVERY_ALLOW: '' }));
    await collect(plain, info.invokeId);
    const { summary: cutSummary } = await loadSummary({ store: plain.store, ref, logger: plain.logger });
    expect(cutSummary.fullOutputs).toBeUndefined();
    // Mined from the cut text, the same failures get other causes (the progress lines the API kept, masked).
    const titleOf = (groups: typeof summary.groups, id: string) => groups.find((g) => g.resourceIds.includes(id))?.title;
    for (const item of failedCut) {
      expect(titleOf(summary.groups, item.instanceId)).toBeDefined();
      expect(titleOf(cutSummary.groups, item.instanceId)).not.toBe(titleOf(summary.groups, item.instanceId));
    }

    // The report links each cut instance to its full output; verify checks the outputs too.
    const html = (await rt.store.get(`ecs/${REGION}/${info.invokeId}/report.html`))?.toString('utf8') ?? '';
    for (const item of items.slice(0, 5)) expect(html).toContain(`href="outputs/${item.instanceId}.txt.gz"`);
    const verified = await runCli(['verify', info.invokeId, '--region', REGION, '--to', String(rt.config.archiveUrl), '--json'], { env: { ...cloud.env() } });
    expect(verified.code).toBe(0);
    const report = JSON.parse(verified.stdout) as { verdict: string; objects: Array<{ key: string; ok: boolean }>; unlisted?: unknown[] };
    expect(report.verdict).toBe('intact');
    const outputs = report.objects.filter((o) => o.key.includes('/outputs/'));
    expect(outputs).toHaveLength(cut.length);
    expect(outputs.every((o) => o.ok)).toBe(true);
    expect(report.unlisted ?? []).toEqual([]);
    // A damaged full output is found.
    const first = items[0]?.object?.key ?? '';
    await rt.store.put(first, Buffer.from('not the output'));
    const damaged = await runCli(['verify', info.invokeId, '--region', REGION, '--to', String(rt.config.archiveUrl), '--json'], { env: { ...cloud.env() } });
    expect(damaged.code).toBe(1);
    expect((JSON.parse(damaged.stdout) as { verdict: string }).verdict).toBe('damaged');
  });

  it('says which deliveries are pending, and a later collect fills them in once', async () => {
    const info = cloud.rpc.data.addInvocation({ instances: 30, outputs: 'long', failureRate: 0.4, ossOutputDelivery: DELIVERY, delivery: { delayedShare: 1, delayMs: 5 * 60_000 } });
    const vars = env();
    const rt = runtime(vars);
    const first = await collect(rt, info.invokeId);
    const cut = first.manifest.outputs?.items ?? [];
    expect(cut.length).toBeGreaterThan(5);
    expect(first.result.outputs).toMatchObject({ stored: 0, pending: cut.length });
    expect(cut.every((i) => i.state === 'pending' && i.uri === '' && !i.object)).toBe(true);
    const { summary: before } = await loadSummary({ store: rt.store, ref: first.ref, logger: rt.logger });
    expect(before.fullOutputs?.counts.pending).toBe(cut.length);
    expect(before.fullOutputs?.items[0]?.reason).toMatch(/still delivering/);

    // Nothing changes until the deliveries are done.
    const again = await collect(runtime(vars), info.invokeId);
    expect(again.result).toMatchObject({ status: 'already-complete' });
    expect(again.result.outputsFilled).toBeUndefined();

    clock += 6 * 60_000;
    const filled = await collect(runtime(vars), info.invokeId);
    expect(filled.result).toMatchObject({ status: 'already-complete', outputsFilled: cut.length, outputs: { stored: cut.length, pending: 0 } });
    expect(filled.manifest.records).toBe(first.manifest.records);
    expect(filled.manifest.parts).toEqual(first.manifest.parts);
    const items = filled.manifest.outputs?.items ?? [];
    expect(items.map((i) => i.instanceId)).toEqual(cut.map((i) => i.instanceId));
    for (const item of items) expect((await storedText(rt, item)).equals(await delivered(item.uri))).toBe(true);
    // The summary was made again from the full outputs.
    const { summary: after, computed } = await loadSummary({ store: rt.store, ref: first.ref, logger: rt.logger });
    expect(computed).toBe(false);
    expect(after.fullOutputs?.counts.stored).toBe(cut.length);

    // Exactly once: a further collect reads nothing and writes nothing.
    const keys = await listKeys(rt, first.ref);
    const third = await collect(runtime(vars), info.invokeId);
    expect(third.result.outputsFilled).toBeUndefined();
    expect(third.manifest).toEqual(filled.manifest);
    expect(await listKeys(rt, first.ref)).toEqual(keys);
  });

  it('keeps the code and message of failed deliveries, including buckets Cloud Assistant may not write', async () => {
    const failing = cloud.rpc.data.addInvocation({ instances: 20, outputs: 'long', failureRate: 0.5, ossOutputDelivery: DELIVERY, delivery: { failedShare: 1 } });
    const locked = cloud.rpc.data.addInvocation({ instances: 20, outputs: 'long', failureRate: 0.5, ossOutputDelivery: 'oss://locked-outputs/ca' });
    const missing = cloud.rpc.data.addInvocation({ instances: 20, outputs: 'long', failureRate: 0.5, ossOutputDelivery: 'oss://no-such-bucket/ca' });
    const cases: Array<[string, string, RegExp]> = [
      [failing.invokeId, 'InternalError', /could not be delivered/],
      [locked.invokeId, 'AccessDenied', /no right/],
      [missing.invokeId, 'NoSuchBucket', /does not exist/],
    ];
    for (const [invokeId, code, info] of cases) {
      const rt = runtime(env({ OUTPUT_DELIVERY_ALLOW: `${DELIVERY} oss://locked-outputs oss://no-such-bucket` }));
      const { result, manifest, ref } = await collect(rt, invokeId);
      expect(result.status).toBe('committed');
      const items = manifest.outputs?.items ?? [];
      expect(items.length).toBeGreaterThan(3);
      for (const item of items) {
        expect(item).toMatchObject({ state: 'failed', errorCode: code, uri: '' });
        expect(item.errorInfo).toMatch(info);
      }
      const { summary } = await loadSummary({ store: rt.store, ref, logger: rt.logger });
      expect(summary.fullOutputs?.counts.failed).toBe(items.length);
      expect(summary.fullOutputs?.items[0]?.reason).toContain(code);
      const md = (await rt.store.get(`ecs/${REGION}/${invokeId}/summary.md`))?.toString('utf8') ?? '';
      expect(md).toContain(code);
    }
  });

  it('never reads outside the allowed buckets, prefixes and regions, and says why in the report', async () => {
    const info = cloud.rpc.data.addInvocation({ instances: 20, outputs: 'long', failureRate: 0.5, ossOutputDelivery: DELIVERY });
    const before = cloud.oss.stats.byOperation.GetObject ?? 0;
    const refusals: Array<[string, RegExp]> = [
      ['oss://other-outputs', /bucket cloud-assistant-outputs is not in OUTPUT_DELIVERY_ALLOW/],
      [`oss://${BUCKET}/c`, /outside the allowed prefixes/],
      [`oss://${BUCKET}/ca-old`, /outside the allowed prefixes/],
    ];
    for (const [allow, why] of refusals) {
      const rt = runtime(env({ OUTPUT_DELIVERY_ALLOW: allow }));
      const { result, manifest, ref } = await collect(rt, info.invokeId);
      expect(result.status).toBe('committed');
      const items = manifest.outputs?.items ?? [];
      expect(items.length).toBeGreaterThan(3);
      for (const item of items) expect(item).toMatchObject({ state: 'refused', errorCode: 'NotAllowed', errorInfo: expect.stringMatching(why) });
      const { summary } = await loadSummary({ store: rt.store, ref, logger: rt.logger });
      expect(summary.fullOutputs?.items[0]?.reason).toMatch(/outside OUTPUT_DELIVERY_ALLOW/);
    }
    expect(cloud.oss.stats.byOperation.GetObject ?? 0).toBe(before);

    // A bucket in another region is read only from the region the operator named, never from where OSS points.
    cloud.oss.setBucketPolicy(BUCKET, { region: REGION });
    try {
      const elsewhere = runtime(env({ OUTPUT_DELIVERY_ALLOW: `cn-shanghai=${DELIVERY}` }));
      const { result, manifest } = await collect(elsewhere, info.invokeId);
      expect(result.status).toBe('committed');
      for (const item of manifest.outputs?.items ?? []) {
        expect(item).toMatchObject({ state: 'unreadable', errorCode: 'AccessDenied' });
        expect(item.errorInfo).toMatch(/must be addressed using the specified endpoint/);
      }
      const home = runtime(env());
      expect((await collect(home, info.invokeId)).result.outputs?.stored).toBeGreaterThan(3);
    } finally {
      cloud.oss.setBucketPolicy(BUCKET, { region: undefined });
    }

    // The collector's role may not read the bucket: a note per output, the archive is complete.
    cloud.oss.setBucketPolicy(BUCKET, { denyRead: true });
    try {
      const rt = runtime(env());
      const { result, manifest } = await collect(rt, info.invokeId);
      expect(result.status).toBe('committed');
      for (const item of manifest.outputs?.items ?? []) expect(item).toMatchObject({ state: 'unreadable', errorCode: 'AccessDenied' });
    } finally {
      cloud.oss.setBucketPolicy(BUCKET, { denyRead: false });
    }
  });

  it('keeps at most OUTPUT_DELIVERY_MAX_KB of an output: its end, from a whole line, and counts the rest', async () => {
    const info = cloud.rpc.data.addInvocation({ instances: 30, outputs: 'long', failureRate: 0.6, ossOutputDelivery: DELIVERY });
    const rt = runtime(env({ OUTPUT_DELIVERY_MAX_KB: '32' }));
    const { manifest, ref } = await collect(rt, info.invokeId);
    const items = manifest.outputs?.items ?? [];
    const over = items.filter((i) => (i.sourceBytes ?? 0) > 32 * 1024);
    expect(over.length).toBeGreaterThan(5);
    for (const item of items) {
      const source = await delivered(item.uri);
      const kept = await storedText(rt, item);
      expect(kept.length).toBeLessThanOrEqual(32 * 1024);
      expect(item.sourceBytes).toBe(source.length);
      expect((item.omittedBytes ?? 0) + kept.length).toBe(source.length);
      expect(source.subarray(source.length - kept.length).equals(kept)).toBe(true);
      if (item.omittedBytes) expect(source[item.omittedBytes - 1]).toBe(0x0a);
    }
    const { summary } = await loadSummary({ store: rt.store, ref, logger: rt.logger });
    for (const g of summary.groups) expect(g.title).not.toMatch(/el8\.x86_64|Installing|Updating|Verifying/);
    expect(summary.fullOutputs?.items.find((i) => i.omittedBytes)?.href).toBeDefined();
  });

  it('resumes an outputs step cut short by the deadline to the archive an uninterrupted collect writes', async () => {
    const info = cloud.rpc.data.addInvocation({ instances: 45, outputs: 'long', failureRate: 0.5, ossOutputDelivery: DELIVERY });
    const whole = runtime(env());
    const reference = await collect(whole, info.invokeId);
    const vars = env();
    let runs = 0;
    let result;
    do {
      runs += 1;
      // The deadline looks come from the outputs step only (one page of records): stop after every batch.
      result = (await collect(runtime(vars, deadlineAfter(1)), info.invokeId)).result;
    } while (result.status === 'checkpointed' && runs < 20);
    expect(runs).toBeGreaterThan(2);
    expect(result.status).toBe('committed');
    const resumed = runtime(vars);
    const manifest = (await readManifest(resumed.store, reference.ref)) as Manifest;
    const strip = (m: Manifest) => (m.outputs?.items ?? []).map(({ object, ...rest }) => ({ ...rest, object: object && { ...object, key: object.key } }));
    expect(strip(manifest)).toEqual(strip(reference.manifest));
    expect(manifest.invocations).toBe(runs);
  });
});

async function listKeys(rt: Runtime, ref: ArchiveRef): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of rt.store.list(`${ref.source}/${ref.regionId}/${ref.id}/`)) keys.push(`${o.key}:${o.size}`);
  return keys;
}
