/**
 * Builds an archive of `records` ECS or OOS records with `failed` of them failing (eight causes, each message with
 * its own ids, addresses, paths and numbers; OOS: each failed record's failed child execution, its `StatusMessage`
 * naming the cause and its parameters the resource) in a file store under `dir`, and summarizes it; prints one JSON
 * line with the summary's figures and the process's peak heap. Run by test/integration/summary-scale.test.ts in a node
 * process with a capped heap (`--max-old-space-size`), so the test sees whether the summary fits in it. `phase`:
 * `build` only builds the archive, `summarize` only summarizes the one built (the cap then applies to the summary
 * alone), `all` both.
 *   node --max-old-space-size=256 --import tsx test/helpers/summarize-large.ts <dir> <records> <failed share> [ecs|oos] [all|build|summarize]
 */
import { getHeapStatistics } from 'node:v8';
import type { ArchiveRef } from '../../lib/archive/layout';
import { createFileStore } from '../../lib/archive/file';
import { silentLogger } from '../../lib/log';
import { summarizeArchive } from '../../lib/summary/index';
import { ecsRecord, instanceId, oosChild, oosRecord, writeArchive } from './archive-fixture';

const [dir = '', recordsArg = '1000000', shareArg = '0.3', source = 'ecs', phase = 'all'] = process.argv.slice(2);
const records = Number(recordsArg);
const share = Number(shareArg);
const ref: ArchiveRef = source === 'oos' ? { source: 'oos', regionId: 'cn-hangzhou', id: 'exec-0123456789large01' } : { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwdlarge01' };

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
    if (!fails(n)) {
      yield ecsRecord({ InstanceId: instanceId(n), StartTime: '2024-05-01T10:00:00Z', FinishedTime: '2024-05-01T10:00:05Z', Output: 'ok\n' });
      continue;
    }
    const cause = causeOf(n);
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

/** Whether record `n` fails, and its cause. */
const fails = (n: number) => n % 100 < share * 100;
const causeOf = (n: number) => CAUSES[(n >> 3) % CAUSES.length]?.(n) ?? { exit: 1, output: '' };
const oosTime = (n: number) => new Date(Date.parse('2024-05-01T10:00:00Z') + Math.floor(n / 100) * 1000).toISOString().replace('.000Z', 'Z');

/** OOS: a row per resource; a failed one's output is the cause's, and its failed child says the same. */
function* generateOos(): Generator<Record<string, unknown>> {
  for (let n = 0; n < records; n++) {
    if (!fails(n)) {
      yield oosRecord({ ResourceId: instanceId(n), ExecutionId: childId(n), ExecutionTime: oosTime(n), Outputs: JSON.stringify({ invocationOutput: 'ok\n', exitCode: 0 }) });
      continue;
    }
    const cause = causeOf(n);
    yield oosRecord({ ResourceId: instanceId(n), ExecutionId: childId(n), Status: 'Failed', ExecutionTime: oosTime(n), Outputs: JSON.stringify({ invocationOutput: `starting step ${n % 9}\n${cause.output}\n`, exitCode: cause.exit }) });
  }
}

function childId(n: number): string {
  return `exec-${n.toString(16).padStart(20, '0')}`;
}

/** OOS: the failed child execution of each failed row, listed newest first (as ListExecutions sorts them). */
function* failedChildren(): Generator<Record<string, unknown>> {
  for (let n = records - 1; n >= 0; n--) {
    if (!fails(n)) continue;
    const cause = causeOf(n);
    yield oosChild({
      ExecutionId: childId(n),
      ParentExecutionId: ref.id,
      StatusMessage: `Task 'runCommand' failed: ExitCodeNonzero: ${cause.output} (InstanceId: ${instanceId(n)}, InvokeId: t-hz${n.toString(36).padStart(12, '0')}, ExitCode: ${cause.exit})`,
      Parameters: { regionId: ref.regionId, instanceId: instanceId(n), commandType: 'RunShellScript' },
      Outputs: JSON.stringify({ invocationOutput: `starting step ${n % 9}\n${cause.output}\n`, exitCode: cause.exit }),
      StartDate: oosTime(n),
      EndDate: oosTime(n + 100 * (1 + (n % 50))),
    });
  }
}

(async () => {
  const store = createFileStore(dir);
  if (phase !== 'summarize') {
    if (source === 'oos') {
      await writeArchive(store, { ref, records: generateOos(), recordsPerPart: 50_000, gzipLevel: 1, related: { execution: [{ ExecutionId: ref.id, TemplateName: 'ACS-ECS-BulkyRunCommand', Status: 'Failed' }], 'failed-child-executions': failedChildren() } });
    } else {
      await writeArchive(store, { ref, records: generate(), recordsPerPart: 50_000, gzipLevel: 1 });
    }
  }
  if (phase === 'build') return;
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
