/**
 * `npm start` end to end: the demo flow (events → on-cloud-assistant-event → collect → summarize, and the sweep)
 * on the local cloud and host with the real bundles, at test size; and the script itself as a child process.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { present } from '../helpers/present';
import { afterAll, describe, expect, it } from 'vitest';
import { runDemo } from '@execution-archive/local-cloud/demo';

const root = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'ea-start-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm start flow (runDemo)', () => {
  it('archives and summarizes the simulated invocation and the swept OOS execution', async () => {
    const archiveDir = join(dir, 'archive');
    const result = await runDemo({
      root,
      archiveDir,
      ossDir: join(dir, 'oss'),
      instances: 300,
      resources: 300,
      durationMs: 2000,
      timeoutMs: 90_000,
    });
    expect(result.archives.map((a) => a.source)).toEqual(['ecs', 'oos']);
    for (const a of result.archives) {
      expect(a.records).toBe(300);
      expect(a.parts).toBeGreaterThanOrEqual(1);
      expect(a.pages).toBeGreaterThan(0);
      expect(a.apiCalls).toBeGreaterThanOrEqual(a.pages);
      expect(Object.values(a.byStatus).reduce((x, y) => x + y, 0)).toBe(300);
      expect(a.failures).toBeGreaterThan(0);
      expect(a.topGroups.length).toBeGreaterThan(0);
      expect(a.retryCount).toBe(a.failures);
      const manifest = JSON.parse(readFileSync(a.paths.manifest, 'utf8')) as { complete: boolean; records: number };
      expect(manifest).toMatchObject({ complete: true, records: 300 });
      const summary = JSON.parse(readFileSync(a.paths.summary, 'utf8')) as { total: number };
      expect(summary.total).toBe(300);
      expect(existsSync(a.paths.markdown)).toBe(true);
      expect(readFileSync(a.paths.report, 'utf8')).toMatch(/^<!doctype html>/i);
      expect(readFileSync(a.paths.retry, 'utf8').trim().split('\n')).toHaveLength(a.retryCount);
      for (const p of Object.values(a.paths)) expect(result.screen).toContain(p.startsWith(process.cwd()) ? p.slice(process.cwd().length + 1) : p);
      expect(result.screen).toContain(a.id);
    }
    // The RunCommand delivered its outputs to OSS: the long ones the API cut were read into the archive, and their
    // failures are grouped by the error at their end (only in the full output), not by the progress lines the API kept.
    const ecs = present(result.archives[0]);
    expect(ecs.fullOutputs).toBeGreaterThan(0);
    expect(ecs.fullOutputs).toBe(ecs.truncatedOutputs);
    expect(result.screen).toMatch(/full outputs? read from the OSS delivery into the archive, causes mined from them/);
    const ecsSummary = JSON.parse(readFileSync(ecs.paths.summary, 'utf8')) as {
      groups: { title: string; resourceIds: string[] }[];
      fullOutputs: { items: { id: string; state: string; status: string; href?: string }[] };
    };
    const longFailures = ecsSummary.fullOutputs.items.filter((i) => i.status !== 'Success');
    expect(longFailures.length).toBeGreaterThan(0);
    for (const item of longFailures) {
      expect(item).toMatchObject({ state: 'stored', href: `outputs/${item.id}.txt.gz` });
      const group = ecsSummary.groups.find((g) => g.resourceIds.includes(item.id));
      expect(group?.title).toBeDefined();
      expect(group?.title).not.toMatch(/el8\.x86_64|Installing|Updating|Verifying|Cleanup/);
    }
    expect(readFileSync(ecs.paths.report, 'utf8')).toContain(`href="outputs/${present(longFailures[0]).id}.txt.gz"`);
    // The invocation came through the events; the OOS execution through the sweep.
    expect(result.stats.events.published).toBe(300);
    expect(result.stats.events.dropped).toBe(0);
    expect(result.stats.functions['execution-archive-on-cloud-assistant-event']?.invocations).toBeGreaterThanOrEqual(300);
    expect(result.stats.functions['execution-archive-sweep']?.invocations).toBe(2);
    // Plain npm start prints only what works after it exits: no URL of the local host, which is gone by then.
    expect(result.screen).not.toContain(result.httpUrl);
    expect(result.screen).toContain(`npx execution-archive report ${present(result.archives[0]).id}`);
    expect(result.screen).toContain('npm start -- --serve');
    // The digest timer ran over both archives' warehouse objects.
    expect(result.digest?.headline).toMatch(/^7 days: 2 runs of 2 commands, [\d,]+ of 600 records failed/);
    expect(readFileSync(result.digest?.html ?? '', 'utf8')).toContain(result.digest?.headline ?? '?');
  }, 120_000);
});

describe('npm start (child process)', () => {
  it('exits 0 and prints the report', async () => {
    const started = Date.now();
    // In a temporary working folder: the script's .local-cloud goes there, never into the working copy (where a
    // running `npm start -- --serve` keeps its archive).
    const cwd = mkdtempSync(join(dir, 'cwd-'));
    const workingCopy = existsSync(join(root, '.local-cloud')) ? statSync(join(root, '.local-cloud')).mtimeMs : undefined;
    // The default 3,000 instances, finishing over 2 s instead of the demo's 10 s (a wait on real time; the flow is the same).
    const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'scripts', 'start.ts'), '--duration-ms', '2000'], {
      cwd,
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code, `${out}\n${err}`).toBe(0);
    expect(out).toMatch(/2 archives complete and summarized in [\d.]+ s/);
    expect(out).toContain('Cloud Assistant invocation t-');
    expect(out).toContain('OOS execution exec-');
    expect(out).toMatch(/records 3,000/);
    for (const f of ['manifest.json', 'summary.json', 'summary.md', 'report.html', 'retry.txt']) expect(out).toContain(f);
    expect(out).toContain('npx execution-archive report t-');
    // Only lasting commands: no curl command line against the servers that end with it (a cause's title may name curl).
    expect(out).not.toMatch(/^\s*curl -/m);
    // It ends with the digest's headline, digest.html's path and one sql query with its answer.
    expect(out).toMatch(/digest {3}7 days: 2 runs of 2 commands, [\d,]+ of 6,000 records failed/);
    expect(out).toContain(join('.local-cloud', 'archive', 'digests'));
    expect(out).toMatch(/\$ npx execution-archive sql "select cause_key, .*"\n\s+cause_key\s+title\s+instance_runs\s+runs\n/);
    expect(out.trimEnd()).toMatch(/\(5 rows\)$/);
    expect(err).not.toMatch(/^· built the bundles \(/m);
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(existsSync(join(cwd, '.local-cloud', 'archive'))).toBe(true);
    expect(out).toContain(join('.local-cloud', 'archive'));
    expect(existsSync(join(root, '.local-cloud')) ? statSync(join(root, '.local-cloud')).mtimeMs : undefined).toBe(workingCopy);
  }, 150_000);
});
