/**
 * `execution-archive serve` as a new user tries it: started on a base port, every printed command is run while it
 * is up (curl-equivalents for the HTTP triggers, the command line with the printed exports, an event delivery, a
 * sweep), a bare `/collect` explains where the trigger is, and Ctrl-C stops it with exit 0.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { present } from '../helpers/present';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli, until } from '../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'ea-serve-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether `port` can be listened on at 127.0.0.1 right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A base port P with P..P+n-1 free, below Linux's ephemeral range (32768 and up), so the random ports that other
 * tests' servers and clients get from the kernel cannot take one of them between this check and serve's listen.
 */
async function freePortBlock(n: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = Array.from({ length: n }, (_, i) => base + i);
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error(`no ${n} consecutive free ports found between 20000 and 32000`);
}

describe('execution-archive serve', () => {
  it('serves the local cloud and the functions on --port P..P+3 and every printed command works while it runs', async () => {
    const base = await freePortBlock(4);
    const archive = join(dir, 'archive');
    // In a temporary cwd: --clean then only clears this test's own .local-cloud, never the repository's.
    const served = startCli(['serve', '--port', String(base), '--to', archive, '--clean'], { env: {}, cwd: dir });
    try {
      let exited = false;
      void served.done.then(() => (exited = true));
      await until(() => exited || served.output().stdout.includes('Ctrl-C to stop.'), 'the banner (it may wait for a bundle build of another test)', 150_000);
      expect(exited, `serve exited early: ${served.output().stderr}`).toBe(false);
      const banner = served.output().stdout;
      const http = `http://127.0.0.1:${base + 3}`;
      for (const port of [base, base + 1, base + 2]) expect(banner).toContain(`http://127.0.0.1:${port}`);
      expect(banner).toContain(`POST ${http}/execution-archive-collect/collect`);
      expect(banner).toContain('LTAI5tLocalCloudDemo01 / localCloudDemoSecret0123456789ab');
      const executionId = present(/OOS execution, 3,000 resources\s+(exec-\w+)/.exec(banner)?.[1]);
      const invokeId = present(/ECS invocation, 3,000 instances\s+(t-\w+)/.exec(banner)?.[1]);

      // The HTTP triggers, as the printed curl lines call them.
      const collected = await fetch(`${http}/execution-archive-collect/collect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source: 'oos', regionId: 'cn-hangzhou', executionId }),
      });
      expect(collected.status).toBe(200);
      expect(await collected.json()).toMatchObject({ status: 'committed', records: 3000 });
      const md = await fetch(`${http}/execution-archive-summarize/summary?source=oos&regionId=cn-hangzhou&id=${executionId}&format=md`);
      expect(md.status).toBe(200);
      expect(await md.text()).toContain(executionId);

      // The path as deployed: a 404 that says where the trigger is here.
      const bare = await fetch(`${http}/collect`, { method: 'POST', body: '{}' });
      expect(bare.status).toBe(404);
      expect(((await bare.json()) as { error: { message: string } }).error.message).toContain(`did you mean POST ${http}/execution-archive-collect/collect?`);

      // The command line with the printed exports.
      const env = Object.fromEntries([...banner.matchAll(/^ {2}export (\w+)=(.*)$/gm)].map((m) => [present(m[1]), present(m[2])]));
      expect(env.ARCHIVE_URL).toBe(`file://${archive}`);
      const cli = await runCli(['collect', invokeId], { env });
      expect(cli.code).toBe(0);
      expect((await runCli(['verify', invokeId], { env })).code).toBe(0);

      // An event delivery: the printed run-command, whose completions become events → collect → summarize.
      const rpc = `http://127.0.0.1:${base}`;
      const body = present(/run-command -d '([^']+)'/.exec(banner)?.[1]);
      const task = (await (await fetch(`${rpc}/__admin/run-command`, { method: 'POST', body })).json()) as { invokeId: string };
      const taskDir = join(archive, 'ecs', 'cn-hangzhou', task.invokeId);
      await until(() => existsSync(join(taskDir, 'summary.json')), 'the event-driven archive and summary', 60_000);
      expect((await runCli(['report', task.invokeId], { env })).stdout).toContain('50 records');

      // A sweep, fired over the printed route.
      const sweep = await fetch(`${http}/__timers/execution-archive-sweep`, { method: 'POST', body: '{"lookbackHours":720}' });
      expect(sweep.status).toBe(200);
      expect(await sweep.json()).toMatchObject({ failed: [], incomplete: false });
      const listed = await runCli(['sweep', '--since', '30d', '--json'], { env });
      expect(listed.code).toBe(0);
    } finally {
      served.child.kill('SIGINT');
    }
    const end = await served.done;
    expect(end.code).toBe(0);
    expect(end.stderr).toContain('stopped.');
  }, 260_000);
});
