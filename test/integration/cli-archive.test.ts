/**
 * `execution-archive summarize | report | verify | sweep | --help` as child processes against the local cloud.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { present } from '../helpers/present';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli, until } from '../helpers/cli';
import { useTestCloud, type TestCloud } from '../helpers/local-cloud';

let t: TestCloud;
let env: NodeJS.ProcessEnv;
let to: string;
const demo = () => t.cloud.rpc.data.demo;

useTestCloud({}, (cloud) => (t = cloud));
beforeAll(async () => {
  env = { ...t.cloud.env(), ALIBABA_CLOUD_REGION: 'cn-hangzhou' };
  to = join(t.dir, 'archive');
  const run = await runCli(['collect', demo().largeOutputInvokeId, present(demo().executionsBySize['100']), '--to', to, '--quiet'], { env });
  expect(run.code).toBe(0);
}, 60_000);

describe('--help', () => {
  it('every command has help with examples; no command is a usage error', async () => {
    // Act: the command lines side by side (each is a process of its own that mostly starts up)
    const commands = ['collect', 'summarize', 'report', 'verify', 'sweep', 'serve'];
    const [top, none, unknown, ...helps] = await Promise.all([
      runCli(['--help'], { env }),
      runCli([], { env }),
      runCli(['colect'], { env }),
      ...commands.map((name) => runCli([name, '--help'], { env })),
    ]);
    // Assess
    expect(top.code).toBe(0);
    for (const name of commands) expect(top.stdout).toMatch(new RegExp(`^  ${name} `, 'm'));
    expect(top.stdout).toContain('Exit codes: 0 ok, 1 failure, 2 usage, 3 partial');
    commands.forEach((name, i) => {
      const help = present(helps[i]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: execution-archive ${name}`);
      expect(help.stdout).toContain(`Examples:\n  $ execution-archive ${name}`);
    });
    expect(none.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'colect'");
    // As the README says to run it: npx finds the package's own bin in the repository.
    const npx = spawnSync('npx', ['--no-install', 'execution-archive', '--help'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, npm_config_update_notifier: 'false' } });
    expect(npx.status).toBe(0);
    expect(npx.stdout).toContain('Usage: execution-archive [options] [command]');
  }, 60_000);
});

describe('summarize, report, verify', () => {
  it('summarize and report show the causes, the truncated outputs and what to re-run', async () => {
    const id = demo().largeOutputInvokeId;
    const sum = await runCli(['summarize', id, '--to', to, '--force', '--json'], { env });
    expect(sum.code).toBe(0);
    const result = JSON.parse(sum.stdout) as { computed: boolean; total: number; truncatedOutputs: number; links: { report: string } };
    expect(result).toMatchObject({ computed: true, total: 20, truncatedOutputs: 20 });

    const report = await runCli(['report', id, '--to', to], { env });
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('20 records, 2 failed (10.0%)');
    expect(report.stdout).toMatch(/^#\s+count\s+share\s+status\s+code\s+exit\s+cause$/m);
    // Both failures are the same cause, found in each output's own lines, not in the tail the 24 KB cut left.
    expect(report.stdout).toMatch(/^\s*1\s+2\s+100\.0%\s+Failed\s+ExitCodeNonzero\s+1\s+Cannot find a valid baseurl for repo: base\/7\/x86_64$/m);
    expect(report.stdout).toContain('20 outputs were cut at 24 KB by the API');
    expect(report.stdout).toContain(`to re-run: 2 (file://${to}/ecs/cn-hangzhou/${id}/retry.txt)`);
  });

  it('report --open hands report.html to $BROWSER', async () => {
    const browser = join(t.dir, 'browser.sh');
    const opened = join(t.dir, 'opened.txt');
    writeFileSync(browser, `#!/bin/sh\necho "$1" > '${opened}'\n`);
    chmodSync(browser, 0o755);
    const id = present(demo().executionsBySize['100']);
    const run = await runCli(['report', id, '--to', to, '--open'], { env: { ...env, BROWSER: browser } });
    expect(run.code).toBe(0);
    const path = join(to, 'oos', 'cn-hangzhou', id, 'report.html');
    expect(run.stdout).toContain(`opened ${path}`);
    // The browser is started detached: wait for it to have written what it was given.
    await until(() => existsSync(opened) && readFileSync(opened, 'utf8').endsWith('\n'), 'the browser stand-in');
    expect(readFileSync(opened, 'utf8').trim()).toBe(path);
  });

  it('verify passes an intact archive, fails (exit 1) on a changed part, and cannot verify (exit 4) what is not there', async () => {
    const id = present(demo().executionsBySize['100']);
    const ok = await runCli(['verify', id, '--to', to], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`oos ${id}: intact: 3 objects, 100 records match the manifest`);
    expect(ok.stdout).toMatch(/^ok {7}oos\/cn-hangzhou\/exec-\w+\/part-00000\.ndjson\.gz \(100 records/m);

    const part = join(to, 'oos', 'cn-hangzhou', id, 'part-00000.ndjson.gz');
    const bytes = readFileSync(part);
    bytes[bytes.length - 12] = present(bytes[bytes.length - 12]) ^ 0xff;
    writeFileSync(part, bytes);
    const bad = await runCli(['verify', id, '--to', to, '--json'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('');
    const report = JSON.parse(bad.stdout) as { verdict: string; objects: Array<{ key: string; ok: boolean; problems: Array<{ kind: string }> }> };
    expect(report.verdict).toBe('damaged');
    expect(report.objects[0]).toMatchObject({ ok: false });
    expect(present(report.objects[0]).problems.map((p) => p.kind)).toContain('sha256-differs');
    expect(report.objects.slice(1).every((o) => o.ok)).toBe(true);

    const missing = await runCli(['verify', present(demo().executionsBySize['49']), '--to', to], { env });
    expect(missing.code).toBe(4);
    expect(missing.stdout).toContain('could not verify: no manifest.json');
    const help = await runCli(['verify', '--help'], { env });
    expect(help.stdout).toContain('Exit codes: 0 intact (warnings allowed), 1 damaged, 4 could not read the archive at all');
  });
});

describe('sweep', () => {
  it('lists what finished in the window without an archive; --collect archives it; --until bounds the window', async () => {
    const hour = 3_600_000;
    const older = t.cloud.rpc.data.addExecution({ resources: 30, startedAt: new Date(Date.now() - 5 * hour).toISOString() }).executionId;
    const recent = t.cloud.rpc.data.addExecution({ resources: 40, startedAt: new Date(Date.now() - 0.5 * hour).toISOString() }).executionId;
    const sweepTo = join(t.dir, 'swept');

    const listed = await runCli(['sweep', '--source', 'oos', '--since', '8h', '--to', sweepTo, '--json'], { env });
    expect(listed.code).toBe(0);
    const ids = (JSON.parse(listed.stdout) as { notArchived: Array<{ id: string }> }).notArchived.map((n) => n.id);
    expect(ids).toEqual(expect.arrayContaining([older, recent]));

    const bounded = await runCli(['sweep', '--source', 'oos', '--since', '8h', '--until', '2h', '--to', sweepTo, '--json'], { env });
    const boundedIds = (JSON.parse(bounded.stdout) as { notArchived: Array<{ id: string }> }).notArchived.map((n) => n.id);
    expect(boundedIds).toContain(older);
    expect(boundedIds).not.toContain(recent);

    const collected = await runCli(['sweep', '--source', 'oos', '--since', '8h', '--to', sweepTo, '--collect'], { env });
    expect(collected.code).toBe(0);
    expect(collected.stdout).toMatch(new RegExp(`collected ${ids.length} of ${ids.length}\\n`));
    expect(existsSync(join(sweepTo, 'oos', 'cn-hangzhou', recent, 'manifest.json'))).toBe(true);

    const again = await runCli(['sweep', '--source', 'oos', '--since', '8h', '--to', sweepTo], { env });
    expect(again.stdout).toMatch(/, 0 not archived\n/);
    expect((await runCli(['sweep', '--since', 'yesterday'], { env })).code).toBe(2);
  }, 90_000);
});
