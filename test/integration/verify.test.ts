/**
 * `execution-archive verify` and lib/archive/verify.ts on every kind of damage, on the local file store and through
 * the local cloud's OSS: archives collected by the real collector from the local cloud, then damaged as time, a
 * careless hand or a bad copy would (a flipped bit, a cut object, a deleted one, objects left beside it, an edited
 * manifest, a part swapped in from another archive with a manifest entry that matches it). Each object is judged on
 * its own line, the verdict and the exit code follow, and nothing throws.
 */
import { createHash } from 'node:crypto';
import { Writable, Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { archiveDir, manifestKey, pendingKey, type ArchiveRef } from '../../lib/archive/layout';
import type { Manifest } from '../../lib/archive/manifest';
import type { ObjectStore } from '../../lib/archive/store';
import { verifyArchive, type VerifyReport } from '../../lib/archive/verify';
import { runCli } from '../../lib/cli/index';
import { runCollect } from '../../lib/collect';
import { parseCollectRequest } from '../../lib/collect/request';
import { createRuntime } from '../../lib/runtime';
import { handleSummaryInvocation, summarizeDeps } from '../../lib/summary/invocation';
import { fcContext, keysUnder, useTestCloud, type StoreKind, type TestCloud } from '../helpers/local-cloud';
import { present } from '../helpers/present';

let t: TestCloud;
useTestCloud({ seed: 22 }, (cloud) => (t = cloud));

interface Collected {
  ref: ArchiveRef;
  store: ObjectStore;
  env: NodeJS.ProcessEnv;
  manifest: Manifest;
}

/** A complete archive of a new invocation (3 parts of 100 records, and its related invocation object). */
async function collected(kind: StoreKind, env = t.env(kind, { ARCHIVE_PART_MAX_RECORDS: '100', ALIBABA_CLOUD_REGION: 'cn-hangzhou' })): Promise<Collected> {
  const invokeId = t.cloud.rpc.data.addInvocation({ instances: 300, failureRate: 0.1 }).invokeId;
  const rt = createRuntime(fcContext(), { env });
  const result = await runCollect(parseCollectRequest({ source: 'ecs', regionId: 'cn-hangzhou', invokeId }), rt);
  expect(result.status).toBe('committed');
  const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: invokeId };
  const manifest = JSON.parse(present(await rt.store.get(manifestKey(ref))).toString('utf8')) as Manifest;
  expect(manifest.parts.length).toBe(3);
  return { ref, store: rt.store, env, manifest };
}

/** Runs `execution-archive verify` in this process, as the bin does, and returns its exit code and output. */
async function verifyCommand(c: Collected, json: boolean): Promise<{ code: number; stdout: string; stderr: string; report?: VerifyReport }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) => new Writable({ write(chunk: Buffer, _enc, cb) { append(chunk.toString('utf8')); cb(); } });
  const code = await runCli(['verify', c.ref.id, ...(json ? ['--json'] : [])], {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    stdin: Readable.from([]),
    env: c.env,
    cwd: t.dir,
    isTTY: false,
    interrupt: new AbortController().signal,
  });
  return { code, stdout, stderr, ...(json ? { report: JSON.parse(stdout) as VerifyReport } : {}) };
}

/** Both faces: the lines and the exit code, and the JSON document with the same exit code. */
async function verifyBoth(c: Collected) {
  const text = await verifyCommand(c, false);
  const json = await verifyCommand(c, true);
  expect(json.code).toBe(text.code);
  return { text, json, report: present(json.report) };
}

const lineOf = (stdout: string, key: string) => stdout.split('\n').find((l) => l.includes(key)) ?? '';
const kinds = (report: VerifyReport, key: string) => present(report.objects.find((o) => o.key === key)).problems.map((p) => p.kind);

describe.each<StoreKind>(['file', 'oss'])('verify (%s store)', (kind) => {
  it('an intact archive: every object ok on its own line, the verdict, exit 0', async () => {
    const c = await collected(kind);
    const { text, report } = await verifyBoth(c);
    expect(text.code).toBe(0);
    const keys = [...c.manifest.parts, ...c.manifest.related].map((e) => e.key);
    for (const key of keys) expect(lineOf(text.stdout, key)).toMatch(/^ok {7}\S+ \([\d,]+ records, [\d,]+ bytes\)$/);
    expect(text.stdout.trim().split('\n').at(-1)).toBe(`ecs ${c.ref.id}: intact: 4 objects, 300 records match the manifest`);
    expect(report).toMatchObject({ verdict: 'intact', records: 300, manifestProblems: [], unlisted: [] });
    expect(report.objects.map((o) => o.key)).toEqual(keys);
    expect(report.objects.map((o) => o.kind)).toEqual(['parts', 'parts', 'parts', 'related']);
  });

  it('a flipped bit: that part is damaged (sha256 differs, does not decompress), the others are still checked, exit 1', async () => {
    const c = await collected(kind);
    const key = present(c.manifest.parts[1]).key;
    const bytes = present(await c.store.get(key));
    const at = Math.floor(bytes.length / 2);
    bytes[at] = present(bytes[at]) ^ 0x10;
    await c.store.put(key, bytes);
    const { text, report } = await verifyBoth(c);
    expect(text.code).toBe(1);
    expect(lineOf(text.stdout, key)).toMatch(/^DAMAGED  \S+: sha256 differs \(\w{12}…, manifest says \w{12}…\); does not decompress \(.+\)$/);
    expect(kinds(report, key)).toEqual(['sha256-differs', 'does-not-decompress']);
    expect(report.objects.filter((o) => o.ok)).toHaveLength(3);
    expect(report.verdict).toBe('damaged');
    expect(text.stdout.trim().split('\n').at(-1)).toBe(`ecs ${c.ref.id}: damaged: 1 of 4 objects differ from the manifest`);
  });

  it('a truncated part and a missing one: size and sha256 differ, does not decompress; missing; every other object ok', async () => {
    const c = await collected(kind);
    const cut = present(c.manifest.parts[0]);
    const gone = present(c.manifest.related[0]);
    await c.store.put(cut.key, present(await c.store.get(cut.key)).subarray(0, Math.floor(cut.bytes / 2)));
    await c.store.delete(gone.key);
    const { text, report } = await verifyBoth(c);
    expect(text.code).toBe(1);
    expect(kinds(report, cut.key)).toEqual(['size-differs', 'sha256-differs', 'does-not-decompress']);
    expect(lineOf(text.stdout, cut.key)).toContain(`size differs (${Math.floor(cut.bytes / 2).toLocaleString('en-US')} bytes, manifest says ${cut.bytes.toLocaleString('en-US')})`);
    expect(kinds(report, gone.key)).toEqual(['missing']);
    expect(lineOf(text.stdout, gone.key)).toBe(`DAMAGED  ${gone.key}: missing`);
    expect(report.objects.filter((o) => o.ok).map((o) => o.key)).toEqual([present(c.manifest.parts[1]).key, present(c.manifest.parts[2]).key]);
  });

  it('objects the manifest does not list are warnings (leftover generation, pending objects, stray files); the archive stays intact, exit 0', async () => {
    const c = await collected(kind);
    const dir = archiveDir(c.ref);
    const part = present(await c.store.get(present(c.manifest.parts[0]).key));
    await c.store.put(`${dir}/g-20260101T000000-deadbeef/part-00000.ndjson.gz`, part);
    await c.store.put(`${dir}/g-20260101T000000-deadbeef/related/invocation.ndjson.gz`, part);
    await c.store.put(pendingKey(c.ref), part);
    await c.store.put(`${dir}/copy of part-00000.ndjson.gz`, part);
    const { text, report } = await verifyBoth(c);
    expect(text.code).toBe(0);
    expect(report.verdict).toBe('intact');
    expect(report.unlisted).toEqual([
      { key: `${dir}/_pending.ndjson.gz`, kind: 'pending', objects: 1, bytes: part.length, message: "an unfinished collection's pending records" },
      { key: `${dir}/copy of part-00000.ndjson.gz`, kind: 'stray', objects: 1, bytes: part.length, message: 'not listed in the manifest' },
      { key: `${dir}/g-20260101T000000-deadbeef/`, kind: 'leftover-generation', objects: 2, bytes: 2 * part.length, message: expect.stringMatching(/^a generation no manifest names \(2 objects, [\d,]+ bytes\)$/) },
    ]);
    expect(text.stdout).toContain(`warning  ${dir}/g-20260101T000000-deadbeef/: leftover generation: a generation no manifest names (2 objects`);
    expect(text.stdout).toContain(`warning  ${dir}/copy of part-00000.ndjson.gz: not listed in the manifest`);
    expect(text.stdout.trim().split('\n').at(-1)).toBe(`ecs ${c.ref.id}: intact: 4 objects, 300 records match the manifest; 3 warnings (objects the manifest does not list)`);
  });

  it('an edited manifest: a record count, a total, a renamed key, then a manifest that is not JSON at all', async () => {
    const c = await collected(kind);
    const edited = structuredClone(c.manifest);
    const [p0, p1] = [present(edited.parts[0]), present(edited.parts[1])];
    const realKey = p1.key;
    p0.records += 1;
    p1.key = p1.key.replace('part-00001', 'part-00009');
    await c.store.put(manifestKey(c.ref), JSON.stringify(edited));
    const { text, report } = await verifyBoth(c);
    expect(text.code).toBe(1);
    expect(report.manifestProblems).toEqual([`manifest.json is malformed: records is 300 but the parts hold 301`]);
    expect(kinds(report, p0.key)).toEqual(['record-count-differs']);
    expect(lineOf(text.stdout, p0.key)).toBe(`DAMAGED  ${p0.key}: record count differs (100, manifest says 101)`);
    expect(kinds(report, p1.key)).toEqual(['missing']);
    expect(report.unlisted).toEqual([expect.objectContaining({ key: realKey, kind: 'stray' })]);
    expect(text.stdout.trim().split('\n').at(-1)).toBe(
      `ecs ${c.ref.id}: damaged: the manifest is damaged (1 problem), 2 of 4 objects differ from the manifest; 1 warning (objects the manifest does not list)`,
    );

    await c.store.put(manifestKey(c.ref), JSON.stringify(c.manifest).slice(0, 200));
    const broken = await verifyBoth(c);
    expect(broken.text.code).toBe(1);
    expect(broken.report).toMatchObject({ verdict: 'damaged', objects: [], manifestProblems: [expect.stringMatching(/^manifest\.json is not valid JSON/)] });
  });

  it("a part replaced by another archive's part: caught by its sha256, and by its records when the manifest entry was made to match", async () => {
    const c = await collected(kind);
    const other = await collected(kind, c.env);
    const mine = present(c.manifest.parts[2]);
    const theirs = present(other.manifest.parts[2]);
    await c.store.put(mine.key, present(await c.store.get(theirs.key)));
    const swapped = await verifyBoth(c);
    expect(swapped.text.code).toBe(1);
    expect(kinds(swapped.report, mine.key)).toEqual(expect.arrayContaining(['sha256-differs', 'foreign-records']));

    // Its own valid checksum: the entry now describes the foreign bytes exactly, so only the records tell.
    const edited = structuredClone(c.manifest);
    Object.assign(present(edited.parts[2]), { bytes: theirs.bytes, sha256: theirs.sha256, records: theirs.records });
    edited.records = edited.parts.reduce((n, p) => n + p.records, 0);
    await c.store.put(manifestKey(c.ref), JSON.stringify(edited));
    const { text, report } = await verifyBoth(c);
    expect(text.code).toBe(1);
    expect(report.manifestProblems).toEqual([]);
    expect(kinds(report, mine.key)).toEqual(['foreign-records']);
    expect(lineOf(text.stdout, mine.key)).toBe(`DAMAGED  ${mine.key}: holds another archive's records (record 1 and ${theirs.records - 1} more: InvokeId "${other.ref.id}")`);
  });

  it('a line that is not JSON, in a part whose manifest entry matches its bytes: not valid NDJSON at that line', async () => {
    const c = await collected(kind);
    const entry = present(c.manifest.parts[1]);
    const lines = gunzipSync(present(await c.store.get(entry.key))).toString('utf8').split('\n');
    lines[6] = '{"InvokeId": "' + c.ref.id + '", "Output": "cut';
    const body = gzipSync(lines.join('\n'));
    await c.store.put(entry.key, body);
    const edited = structuredClone(c.manifest);
    Object.assign(present(edited.parts[1]), { bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    await c.store.put(manifestKey(c.ref), JSON.stringify(edited));
    const { text, report } = await verifyBoth(c);
    expect(text.code).toBe(1);
    expect(lineOf(text.stdout, entry.key)).toBe(`DAMAGED  ${entry.key}: not valid NDJSON at line 7 (is not valid JSON)`);
    expect(present(report.objects.find((o) => o.key === entry.key)).problems).toEqual([{ kind: 'not-ndjson', line: 7, message: 'not valid NDJSON at line 7 (is not valid JSON)' }]);
  });

  it('objects of other kinds the manifest lists (gzip text, bytes) are checked by their kind', async () => {
    const c = await collected(kind);
    const dir = archiveDir(c.ref);
    const text = gzipSync('line one\nline two\n');
    const bytes = Buffer.from('PAR1 not really parquet PAR1');
    const entry = (key: string, body: Buffer) => ({ key, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
    const edited = { ...c.manifest, outputs: [entry(`${dir}/outputs/i-1.txt.gz`, text), entry(`${dir}/outputs/i-2.txt.gz`, text)], warehouse: { files: [entry(`${dir}/w/a.parquet`, bytes)] } };
    await c.store.put(`${dir}/outputs/i-1.txt.gz`, text);
    await c.store.put(`${dir}/outputs/i-2.txt.gz`, text.subarray(0, text.length - 4));
    await c.store.put(`${dir}/w/a.parquet`, Buffer.from('PAR1 not really parquet PAR2'));
    await c.store.put(manifestKey(c.ref), JSON.stringify(edited));
    const { text: out, report } = await verifyBoth(c);
    expect(out.code).toBe(1);
    expect(report.objects.slice(4).map((o) => [o.kind, o.format, o.problems.map((p) => p.kind)])).toEqual([
      ['outputs', 'gzip', []],
      ['outputs', 'gzip', ['size-differs', 'sha256-differs', 'does-not-decompress']],
      ['warehouse.files', 'bytes', ['sha256-differs']],
    ]);
    expect(lineOf(out.stdout, 'i-1.txt.gz')).toBe(`ok       ${dir}/outputs/i-1.txt.gz (${text.length} bytes)`);
  });

  it("summarize's verify option: the same verdict; a damaged archive is refused with what is damaged", async () => {
    const c = await collected(kind);
    const deps = summarizeDeps(createRuntime(fcContext(), { env: c.env }));
    const payload = { source: 'ecs', regionId: 'cn-hangzhou', invokeId: c.ref.id, verify: true };
    const ok = await handleSummaryInvocation(payload, deps);
    expect(ok.verification).toEqual({ verdict: 'intact', summary: `ecs ${c.ref.id}: intact: 4 objects, 300 records match the manifest`, warnings: 0 });
    // What summarize wrote beside the archive (summary.json, report.html, failures.ndjson.gz, …) is expected, not a warning.
    const written = (await keysUnder(c.store, `${archiveDir(c.ref)}/`)).filter((k) => !k.includes('part-') && !k.includes('related/') && !k.endsWith('manifest.json'));
    expect(written.length).toBeGreaterThanOrEqual(4);
    expect((await verifyArchive(c.store, c.ref)).unlisted).toEqual([]);
    const key = present(c.manifest.parts[2]).key;
    await c.store.delete(key);
    await expect(handleSummaryInvocation(payload, deps)).rejects.toMatchObject({
      code: 'ArchiveDamaged',
      message: `ecs ${c.ref.id}: damaged: 1 of 4 objects differ from the manifest: ${key}: missing`,
    });
  });

  it('no manifest: could not verify, its own exit code (4), nothing thrown', async () => {
    const c = await collected(kind);
    await c.store.delete(manifestKey(c.ref));
    const { text, report } = await verifyBoth(c);
    expect(text.code).toBe(4);
    expect(report).toMatchObject({ verdict: 'unreadable', objects: [], reason: expect.stringContaining('no manifest.json') });
    expect(text.stdout.trim()).toBe(`ecs ${c.ref.id}: could not verify: ${report.reason}`);
  });
});

describe('verifyArchive', () => {
  it('storage that cannot be reached is "unreadable", not an exception', async () => {
    const ref: ArchiveRef = { source: 'oos', regionId: 'cn-hangzhou', id: 'exec-0123456789abcdef' };
    const down: ObjectStore = {
      url: 'oss://down/archive',
      put: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
      get: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
      getStream: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
      head: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
      delete: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')),
      list: () => ({ [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1')) }) }),
      locate: (key) => `oss://down/archive/${key}`,
    };
    const report = await verifyArchive(down, ref);
    expect(report).toMatchObject({ verdict: 'unreadable', reason: expect.stringContaining('ECONNREFUSED') });
    expect(report.summary).toBe(`oos ${ref.id}: could not verify: ${report.reason}`);
  });
});
