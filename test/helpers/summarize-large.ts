/**
 * Builds an archive of `records` ECS records with `failed` of them failing (eight causes, each message with its own
 * ids, addresses, paths and numbers) in a file store under `dir`, and summarizes it; prints one JSON line with the
 * summary's figures and the process's peak heap. Run by test/integration/summary-scale.test.ts in a node process with
 * a capped heap (`--max-old-space-size`), so the test sees whether the summary fits in it.
 *   node --max-old-space-size=256 --import tsx test/helpers/summarize-large.ts <dir> <records> <failed share>
 */
import { getHeapStatistics } from 'node:v8';
import type { ArchiveRef } from '../../lib/archive/layout';
import { createFileStore } from '../../lib/archive/file';
import { silentLogger } from '../../lib/log';
import { summarizeArchive } from '../../lib/summary/index';
import { ecsRecord, instanceId, writeArchive } from './archive-fixture';

const [dir = '', recordsArg = '1000000', shareArg = '0.3'] = process.argv.slice(2);
const records = Number(recordsArg);
const share = Number(shareArg);
const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwdlarge01' };

/** The failures' messages: eight causes, every message with the instance's own details. */
const CAUSES: ((n: number) => { exit: number; output: string })[] = [
  (n) => ({ exit: 1, output: `write /var/lib/app/releases/${n}/bundle.js: no space left on device` }),
  (n) => ({ exit: 7, output: `curl: (7) Failed to connect to 10.${n % 256}.${(n >> 8) % 256}.4 port 8443: Connection refused` }),
  (n) => ({ exit: 2, output: `E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process ${1000 + (n % 30000)} (apt-get)` }),
  (n) => ({ exit: 127, output: `/tmp/run-${n.toString(36)}.sh: line 3: kubectl: command not found` }),
  (n) => ({ exit: 1, output: `Error: certificate for web-${n}.prod.internal expired at 2024-04-${String(1 + (n % 28)).padStart(2, '0')}T00:00:00Z` }),
  (n) => ({ exit: 137, output: `java invoked oom-killer: gfp_mask=0x${(n * 7919).toString(16)}, order=0, oom_score_adj=0` }),
  (n) => ({ exit: 1, output: `yum: Cannot find a valid baseurl for repo: base/7/x86_64 (mirror ${n % 40})` }),
  (n) => ({ exit: 255, output: `ssh: connect to host 172.16.${n % 256}.${(n * 13) % 256} port 22: Connection timed out` }),
];

function* generate(): Generator<Record<string, unknown>> {
  for (let n = 0; n < records; n++) {
    const fails = n % 100 < share * 100;
    if (!fails) {
      yield ecsRecord({ InstanceId: instanceId(n), StartTime: '2024-05-01T10:00:00Z', FinishedTime: '2024-05-01T10:00:05Z', Output: 'ok\n' });
      continue;
    }
    const cause = CAUSES[(n >> 3) % CAUSES.length]?.(n) ?? { exit: 1, output: '' };
    yield ecsRecord({
      InstanceId: instanceId(n),
      InvocationStatus: 'Failed',
      ExitCode: cause.exit,
      ErrorCode: 'ExitCodeNonzero',
      ErrorInfo: 'The command execution exit code is not zero.',
      Output: `starting step ${n % 9}\n${cause.output}\n`,
      StartTime: '2024-05-01T10:00:00Z',
      FinishedTime: '2024-05-01T10:00:09Z',
      Dropped: n % 1000 === 0 ? 512 : 0,
    });
  }
}

(async () => {
  const store = createFileStore(dir);
  await writeArchive(store, { ref, records: generate(), recordsPerPart: 50_000, gzipLevel: 1 });
  let peakHeap = 0;
  const sample = setInterval(() => (peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size)), 20);
  const started = Date.now();
  const cpu = process.cpuUsage();
  const { summary, keys } = await summarizeArchive({ store, ref, logger: silentLogger });
  const used = process.cpuUsage(cpu);
  clearInterval(sample);
  const size = async (key: string) => (await store.head(key))?.size ?? 0;
  process.stdout.write(
    `${JSON.stringify({
      ref,
      keys,
      ms: Date.now() - started,
      cpuMs: (used.user + used.system) / 1000,
      peakHeapMb: Math.max(peakHeap, getHeapStatistics().used_heap_size) / 2 ** 20,
      heapLimitMb: getHeapStatistics().heap_size_limit / 2 ** 20,
      summaryBytes: await size(keys.summary),
      reportBytes: await size(keys.report),
      failures: summary.failures,
      total: summary.total,
    })}\n`,
  );
})().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
