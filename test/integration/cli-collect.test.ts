/**
 * `execution-archive collect` as a user runs it: a child process against the local cloud (real SDKs, real HTTP),
 * under a pseudo-terminal for the live display, and interrupted with SIGINT, then resumed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliInPty, startCli, until } from '../helpers/cli';
import { useTestCloud, type TestCloud } from '../helpers/local-cloud';
import { DEMO_KEY } from '@execution-archive/local-cloud/credentials';
import { present } from '../helpers/present';

let t: TestCloud;
let env: NodeJS.ProcessEnv;

useTestCloud({}, (cloud) => (t = cloud));
beforeAll(async () => {
  env = { ...t.cloud.env(), ALIBABA_CLOUD_REGION: t.cloud.rpc.data.demo.regionId };
});

const archive = (name: string) => join(t.dir, name);
const demo = () => t.cloud.rpc.data.demo;

describe('execution-archive collect', () => {
  it('archives one execution into a folder and says where (exit 0)', async () => {
    const id = present(demo().executionsBySize['101']);
    const run = await runCli(['collect', id, '--to', archive('one')], { env });
    expect(run.stderr).toContain(`oos ${id}: started`);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`oos ${id}: committed 101 records in 1 part`);
    const manifest = JSON.parse(readFileSync(join(archive('one'), 'oos', 'cn-hangzhou', id, 'manifest.json'), 'utf8')) as { records: number; complete: boolean };
    expect(manifest).toMatchObject({ records: 101, complete: true });
    // The same summary the function writes after a commit.
    expect(existsSync(join(archive('one'), 'oos', 'cn-hangzhou', id, 'report.html'))).toBe(true);

    const again = await runCli(['collect', '--execution-id', id, '--to', archive('one'), '--json'], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'already-complete', records: 101, source: 'oos', id });
  });

  it('collects many ids from stdin with bounded concurrency; one unknown id makes it partial (exit 3)', async () => {
    const ids = [present(demo().invocationsBySize['50']), present(demo().executionsBySize['49']), 'exec-000000000000ffffffff', present(demo().invocationsBySize['1'])];
    const run = await runCli(['collect', '--ids', '-', '--concurrency', '2', '--to', archive('many'), '--json', '--quiet'], {
      env,
      input: `# backfill\n${ids.join('\n')}\n\n`,
    });
    expect(run.code).toBe(3);
    const out = JSON.parse(run.stdout) as { total: number; archived: number; failed: number; results: Array<Record<string, unknown>> };
    expect(out).toMatchObject({ total: 4, archived: 3, failed: 1 });
    expect(out.results[2]).toMatchObject({ ok: false, id: 'exec-000000000000ffffffff', error: { code: 'ExecutionNotFound' } });
    expect(out.results.filter((r) => r.status === 'committed').map((r) => r.records)).toEqual([50, 49, 1]);
    expect(run.stderr).toBe('');
  });

  it('--include-history keeps every run of a periodic task, and an archive with other parameters is refused', async () => {
    const id = demo().periodicInvokeId;
    const all = await runCli(['collect', '--invoke-id', id, '--include-history', '--to', archive('history'), '--json', '--quiet'], { env });
    expect(all.code).toBe(0);
    const withHistory = JSON.parse(all.stdout) as { records: number };
    const latest = await runCli(['collect', id, '--to', archive('latest'), '--json', '--quiet'], { env });
    expect(withHistory.records).toBeGreaterThan((JSON.parse(latest.stdout) as { records: number }).records);
    const conflict = await runCli(['collect', id, '--to', archive('history'), '--quiet'], { env });
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('ArchiveConflict');
  });

  it('refuses bad command lines with exit 2 and a reason', async () => {
    const bad = await runCli(['collect', 'i-123456789', '--to', archive('bad')], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('neither an OOS execution id');
    expect((await runCli(['collect', '--frobnicate'], { env })).code).toBe(2);
    expect((await runCli(['collect'], { env })).stderr).toContain('name what to collect');
    const mixed = await runCli(['collect', '--source', 'oos', '--invoke-id', demo().invokeId], { env });
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain('--invoke-id belongs to --source ecs');
  });

  it('fails with exit 1 when the API refuses the credentials', async () => {
    const run = await runCli(['collect', present(demo().executionsBySize['1']), '--to', archive('denied')], {
      env: { ...env, ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret' },
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/error: \w+/);
    expect(existsSync(join(archive('denied'), 'oos'))).toBe(false);
  });

  it('takes credentials from a profile of ~/.alibabacloud/credentials or ~/.aliyun/config.json with --profile', async () => {
    const home = join(t.dir, 'home');
    mkdirSync(join(home, '.alibabacloud'), { recursive: true });
    mkdirSync(join(home, '.aliyun'), { recursive: true });
    const { accessKeyId, accessKeySecret } = DEMO_KEY;
    writeFileSync(join(home, '.alibabacloud', 'credentials'), `[default]\ntype = access_key\naccess_key_id = LTAI5tNotTheDemoKey01\naccess_key_secret = wrong\n\n[backfill]\ntype = access_key\naccess_key_id = ${accessKeyId}\naccess_key_secret = ${accessKeySecret}\n`);
    writeFileSync(
      join(home, '.aliyun', 'config.json'),
      JSON.stringify({ current: 'other', profiles: [{ name: 'ops', mode: 'AK', access_key_id: accessKeyId, access_key_secret: accessKeySecret, region_id: 'cn-hangzhou' }] }),
    );
    const { ALIBABA_CLOUD_ACCESS_KEY_ID: _id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: _secret, ...keyless } = env;
    for (const profile of ['backfill', 'ops']) {
      const run = await runCli(['collect', present(demo().executionsBySize['1']), '--profile', profile, '--to', archive(`profile-${profile}`), '--quiet'], { env: { ...keyless, HOME: home } });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    }
    const denied = await runCli(['collect', present(demo().executionsBySize['1']), '--to', archive('profile-default'), '--quiet'], { env: { ...keyless, HOME: home } });
    expect(denied.code).toBe(1);
  });

  it('draws a live progress display on a terminal', async () => {
    // 60 pages of 50, each answered after 20 ms: long enough for the display to be drawn while records come in.
    const id = demo().invokeId;
    t.cloud.rpc.faults.setLatency(20);
    const run = await runCliInPty(['collect', id, '--to', archive('tty')], { env }).finally(() => t.cloud.rpc.faults.setLatency(0));
    expect(run.code).toBe(0);
    // A bar with the counts, the rate, retries, throttles and an ETA (the total is known from DescribeInvocations).
    expect(run.stdout).toMatch(/ecs t-\w+ +[█░]+ records [\d,]+\/3,000 · pages \d+ · [\d,]+ records\/s · retries 0 · throttled 0 · ETA /);
    expect(run.stdout).toContain('\u001b['); // redrawn in place
    expect(run.stdout).toContain(`ecs ${id}: committed 3,000 records`);
  });
});

describe('Ctrl-C', () => {
  it('checkpoints (exit 3); the same command resumes into an archive byte-identical to an uninterrupted one', async () => {
    const { executionId: id } = t.cloud.rpc.data.addExecution({ resources: 20_000, failureRate: 0.1, startedAt: new Date(Date.now() - 3_600_000).toISOString() });
    const small = { ...env, ARCHIVE_PART_MAX_RECORDS: '1000' };
    const dir = (name: string) => join(archive(name), 'oos', 'cn-hangzhou', id);

    // Slow pages, so the walk is well under way, and far from over, when Ctrl-C comes.
    t.cloud.rpc.faults.setLatency(25);
    const first = startCli(['collect', id, '--to', archive('interrupted')], { env: small });
    await until(() => existsSync(join(dir('interrupted'), 'part-00001.ndjson.gz')), 'the second part');
    first.child.kill('SIGINT');
    const stopped = await first.done;
    t.cloud.rpc.faults.setLatency(0);
    expect(stopped.code).toBe(3);
    expect(stopped.stderr).toContain('SIGINT: stopping; a running collection checkpoints at its next page boundary');
    expect(stopped.stdout).toMatch(/checkpointed after [\d,]+ records/);
    expect(existsSync(join(dir('interrupted'), '_checkpoint.json'))).toBe(true);
    expect(existsSync(join(dir('interrupted'), 'manifest.json'))).toBe(false);

    const resumed = await runCli(['collect', id, '--to', archive('interrupted')], { env: small });
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('resumed');
    const straight = await runCli(['collect', id, '--to', archive('straight'), '--quiet'], { env: small });
    expect(straight.code).toBe(0);

    const manifest = (name: string) => JSON.parse(readFileSync(join(dir(name), 'manifest.json'), 'utf8')) as { invocations: number; records: number; parts: unknown[]; related: unknown[] };
    expect(manifest('interrupted').invocations).toBe(2);
    expect(manifest('straight').invocations).toBe(1);
    expect(manifest('interrupted').records).toBe(20_000);
    expect(manifest('interrupted').parts).toEqual(manifest('straight').parts);
    expect(manifest('interrupted').related).toEqual(manifest('straight').related);
    const objects = (name: string) => [...readdirSync(dir(name)).filter((f) => f.startsWith('part-')), ...readdirSync(join(dir(name), 'related')).map((f) => `related/${f}`)].sort();
    expect(objects('interrupted')).toEqual(objects('straight'));
    expect(objects('straight').length).toBeGreaterThanOrEqual(20 + 2);
    for (const f of objects('straight')) expect(readFileSync(join(dir('interrupted'), f)).equals(readFileSync(join(dir('straight'), f)))).toBe(true);
    expect(readdirSync(dir('interrupted')).filter((f) => f.startsWith('_'))).toEqual([]);
  }, 120_000);
});
