/**
 * `npm run bench`: how close collect comes to the physical limit (one round trip per page) and whether its memory
 * stays flat as the record count grows. The local cloud runs in its own process (so its memory is not counted);
 * this process only collects. Prints figures, asserts nothing.
 *
 *   npm run bench -- --records 20000,100000,300000 --source oos --latency 0
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runCollect } from '../lib/collect';
import { parseCollectRequest } from '../lib/collect/request';
import { createRuntime } from '../lib/runtime';
import { listResourceExecutionStatus } from '../lib/cloud/oos';
import { describeInvocationResults } from '../lib/cloud/ecs';
import { DEMO_KEY } from '../emulator/credentials';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '20000,100000,300000' },
    source: { type: 'string', default: 'oos' },
    latency: { type: 'string', default: '0' },
    port: { type: 'string', default: '8897' },
  },
});
const sizes = values.records.split(',').map(Number);
const source = values.source === 'ecs' ? 'ecs' : 'oos';
const port = Number(values.port);
const rpcUrl = `http://127.0.0.1:${port}`;

async function startCloud(root: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'emulator', 'cli.ts'), '--port', String(port), '--root', root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ctrl-C')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the local cloud exited with ${code}`)));
  });
  return child;
}

async function admin<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(`${rpcUrl}/__admin/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`admin ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'ea-bench-'));
  const cloud = await startCloud(join(dir, 'oss'));
  const rows: string[] = [];
  try {
    await admin('latency', { ms: Number(values.latency) });
    for (const n of sizes) {
      const id =
        source === 'oos'
          ? (await admin<{ executionId: string }>('executions', { resources: n, failureRate: 0.02 })).executionId
          : (await admin<{ invokeId: string }>('invocations', { instances: n, failureRate: 0.02 })).invokeId;
      const env = {
        ALIBABA_CLOUD_OOS_ENDPOINT: rpcUrl,
        ALIBABA_CLOUD_ECS_ENDPOINT: rpcUrl,
        ALIBABA_CLOUD_ACCESS_KEY_ID: DEMO_KEY.accessKeyId,
        ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEMO_KEY.accessKeySecret,
        ARCHIVE_URL: pathToFileURL(join(dir, `archive-${n}`)).href,
        LOG_LEVEL: 'error',
        SUMMARIZE_AFTER_COLLECT: 'off',
        API_RATE_LIMIT_PER_SECOND: '0',
      };
      const ctx = { requestId: 'bench', function: { name: 'collect', timeout: 86_400 } };

      // The floor: the same pages walked with nothing but the paginator (no gzip, no store).
      const client = createRuntime(ctx, { env }).rpc(source, 'cn-hangzhou');
      let t0 = performance.now();
      const walk = source === 'oos' ? listResourceExecutionStatus(client, { executionId: id }) : describeInvocationResults(client, { invokeId: id });
      for await (const _page of walk) void _page;
      const floorMs = performance.now() - t0;

      global.gc?.();
      const base = process.memoryUsage();
      let peakHeap = base.heapUsed;
      let peakRss = base.rss;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakRss = Math.max(peakRss, m.rss);
      }, 10);
      const payload = source === 'oos' ? { source, regionId: 'cn-hangzhou', executionId: id } : { source, regionId: 'cn-hangzhou', invokeId: id };
      t0 = performance.now();
      const result = await runCollect(parseCollectRequest(payload), createRuntime(ctx, { env }));
      const ms = performance.now() - t0;
      clearInterval(sampler);
      rows.push(
        [
          n.toLocaleString('en-US').padStart(9),
          String(result.pages).padStart(6),
          String(result.apiCalls).padStart(6),
          `${(ms / 1000).toFixed(2)} s`.padStart(9),
          `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`.padStart(11),
          `${(floorMs / 1000).toFixed(2)} s`.padStart(10),
          `${(ms / floorMs).toFixed(2)}x`.padStart(6),
          `${(peakHeap / 1048576).toFixed(0)} MB`.padStart(10),
          `${(peakRss / 1048576).toFixed(0)} MB`.padStart(9),
        ].join(' '),
      );
    }
  } finally {
    cloud.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `collect ${source}: local cloud in another process on loopback, ${values.latency} ms added per request\n` +
      '  records  pages  calls      time        rate  page floor  ratio  peak heap  peak RSS\n' +
      rows.join('\n') +
      '\npage floor: the same pages fetched through the paginator alone; ratio = collect time / floor time.\n' +
      'peak heap / RSS: this process only (the collector), sampled every 10 ms.\n',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
