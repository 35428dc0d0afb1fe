/**
 * `npm run bench`: how close collect comes to the physical limit (one round trip per page) and whether its memory
 * stays flat as the record count grows. Runs against the local cloud on loopback; prints figures, asserts nothing.
 *
 *   npm run bench -- --records 20000,100000,300000 --source oos
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startLocalCloud } from '../emulator/local-cloud';
import { runCollect } from '../lib/collect';
import { parseCollectRequest } from '../lib/collect/request';
import { createRuntime } from '../lib/runtime';
import { listResourceExecutionStatus } from '../lib/cloud/oos';
import { describeInvocationResults } from '../lib/cloud/ecs';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '20000,100000,300000' },
    source: { type: 'string', default: 'oos' },
    latency: { type: 'string', default: '0' },
  },
});
const sizes = values.records.split(',').map(Number);
const source = values.source === 'ecs' ? 'ecs' : 'oos';

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'ea-bench-'));
  const cloud = await startLocalCloud({ root: join(dir, 'oss') });
  cloud.rpc.faults.setLatency(Number(values.latency));
  const rows: string[] = [];
  try {
    for (const n of sizes) {
      const id =
        source === 'oos'
          ? cloud.rpc.data.addExecution({ resources: n, failureRate: 0.02 }).executionId
          : cloud.rpc.data.addInvocation({ instances: n, failureRate: 0.02 }).invokeId;
      const env = {
        ...cloud.env(),
        ARCHIVE_URL: pathToFileURL(join(dir, `archive-${n}`)).href,
        LOG_LEVEL: 'error',
        SUMMARIZE_AFTER_COLLECT: 'off',
        API_RATE_LIMIT_PER_SECOND: '0',
      };
      const ctx = { requestId: 'bench', function: { name: 'collect', timeout: 86_400 } };

      // The floor: the same pages walked with nothing but the paginator (no gzip, no store).
      const floorRt = createRuntime(ctx, { env });
      const client = floorRt.rpc(source, 'cn-hangzhou');
      let t0 = performance.now();
      let floorPages = 0;
      const walk = source === 'oos' ? listResourceExecutionStatus(client, { executionId: id }) : describeInvocationResults(client, { invokeId: id });
      for await (const _page of walk) floorPages += 1;
      const floorMs = performance.now() - t0;

      global.gc?.();
      const base = process.memoryUsage();
      let peakHeap = base.heapUsed;
      let peakRss = base.rss;
      const sampler = setInterval(() => {
        const m = process.memoryUsage();
        peakHeap = Math.max(peakHeap, m.heapUsed);
        peakRss = Math.max(peakRss, m.rss);
      }, 20);
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
          `${(floorMs / 1000).toFixed(2)} s`.padStart(9),
          `${(ms / floorMs).toFixed(2)}x`.padStart(7),
          `${((peakHeap - base.heapUsed) / 1048576).toFixed(1)} MB`.padStart(10),
          `${(peakRss / 1048576).toFixed(0)} MB`.padStart(8),
        ].join(' '),
      );
      void floorPages;
    }
  } finally {
    await cloud.close();
    await rm(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `collect ${source}: local cloud on loopback, latency ${values.latency} ms per request\n` +
      '  records  pages  calls      time        rate  page-floor  ratio  heap growth  peak RSS\n' +
      rows.join('\n') +
      '\npage-floor: the same pages fetched through the paginator alone; ratio = collect time / floor time.\n',
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
