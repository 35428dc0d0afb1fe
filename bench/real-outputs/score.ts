/**
 * Scores the product's failure grouping on the real-output fixtures (`make.ts`) through the product's own path: each
 * labelled result becomes an ECS DescribeInvocationResults record as the archive stores it (`Output` as plain text,
 * the collector asks for `ContentEncoding=PlainText`), the records of one invocation are fed to the aggregator
 * summarize uses (`createAggregator`), and each record's group is read back from the aggregation's list of every
 * failure and its cause (what summarize writes to `failures.ndjson.gz`; here kept in memory). The same results can
 * also go through the OOS path (an execution's rows and its failed children).
 *
 * Three baselines are computed on the same records: the exact output text, the last non-empty line with digit runs
 * masked, and plain Drain (default settings) on the last non-empty line.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { createAggregator, type Aggregator, type FailureGroup, type ListOutput } from '../../lib/summary/aggregate';
import { spoolChildren } from '../../lib/summary/children';
import { scoreGrouping, type GroupingScore } from '../grouping';
import { PlainDrain } from './drain';
import type { RealOutput } from './catalogue';

export type { RealOutput };

/** The records of a fixture (gzip JSONL). */
export function loadFixture(file: string): RealOutput[] {
  return gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RealOutput);
}

/** Cloud Assistant's `ErrorInfo` for the two error codes the fixtures hold. */
const ERROR_INFO: Record<RealOutput['errorCode'], string> = {
  ExitCodeNonzero: 'The command execution exit code is not zero.',
  ExecutionTimeout: 'The command execution has been timeout.',
};

/** `2026-12-01T00:00:00Z` plus `seconds`, as the API writes times. */
const apiTime = (seconds: number): string => new Date(Date.UTC(2026, 11, 1) + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * A fixture result as the archive stores it: one DescribeInvocationResults `InvocationResult` (plain-text output).
 * `instanceId` must be unique within the invocation: the group is read back by it.
 */
export function toInvocationResult(r: RealOutput, invokeId: string, instanceId: string, at: number): Record<string, unknown> {
  return {
    CommandId: `c-${invokeId.slice(2)}`,
    InvokeId: invokeId,
    InstanceId: instanceId,
    InvocationStatus: r.status,
    InvokeRecordStatus: 'Finished',
    ExitCode: r.exitCode,
    ErrorCode: r.errorCode,
    ErrorInfo: ERROR_INFO[r.errorCode],
    Output: r.output,
    Dropped: r.dropped,
    StartTime: apiTime(at),
    FinishedTime: apiTime(at + 2 + (at % 7)),
    StopTime: '',
    Repeats: 1,
    Username: 'root',
    ContainerId: '',
    ContainerName: '',
    TerminationMode: 'Process',
    Launcher: '',
    OssOutputDelivery: '',
    OssOutputStatus: '',
    OssOutputUri: '',
    Tags: { Tag: [] },
  };
}

/**
 * A fixture result as an OOS execution stores it (ACS-ECS-BulkyRunCommand and the like): the parent's
 * ListResourceExecutionStatus row and the failed child execution it points to, whose `StatusMessage` names the task,
 * the error code and the exit code (as the local cloud writes them).
 */
export function toOosRecords(r: RealOutput, executionId: string, instanceId: string, at: number): { row: Record<string, unknown>; child: Record<string, unknown> } {
  const outputs = JSON.stringify({ invocationOutput: r.output, exitCode: r.exitCode });
  const child = {
    ExecutionId: `${executionId}-${instanceId.slice(2)}`,
    Status: 'Failed',
    StatusMessage: `Task 'runCommand' failed: ${r.errorCode}: ${ERROR_INFO[r.errorCode]} (InstanceId: ${instanceId}, InvokeId: t-${executionId.slice(5)}, ExitCode: ${r.exitCode})`,
    StatusReason: r.errorCode,
    StartDate: apiTime(at),
    EndDate: apiTime(at + 2 + (at % 7)),
    IsParent: false,
    ParentExecutionId: executionId,
    Outputs: outputs,
    Parameters: { regionId: 'cn-hangzhou', instanceId, commandType: 'RunShellScript' },
  };
  return { row: { ResourceId: instanceId, ExecutionId: child.ExecutionId, Status: 'Failed', ExecutionTime: apiTime(at), Outputs: outputs }, child };
}

/** The instance id a result gets in an invocation: unique per index. */
const instanceId = (i: number): string => `i-bench${i.toString(36).padStart(6, '0')}`;

/**
 * Finishes an aggregation, reading each failure's cause key from its list of every failure (`ListOutput.failure`,
 * which summarize writes to `failures.ndjson.gz`; the other lists are dropped) and each key's title.
 */
async function finishAndReadBack(agg: Aggregator, count: number): Promise<{ keys: string[]; titles: Map<string, string> }> {
  let groups: readonly FailureGroup[] = [];
  const keyOf = new Map<string, string>();
  const lists: ListOutput = {
    start: (g) => void (groups = g),
    failure: (id, cause) => void keyOf.set(id, groups[cause]?.key ?? `#${cause}`),
    retry: () => undefined,
    causeId: () => undefined,
    truncated: () => undefined,
    causeList: () => Promise.resolve(''),
    end: () => Promise.resolve({ retry: '' }),
    discard: () => Promise.resolve(),
  };
  await agg.finish(lists);
  const titles = new Map(groups.map((g) => [g.key, g.title]));
  const keys = Array.from({ length: count }, (_, i) => keyOf.get(instanceId(i)));
  const missing = keys.filter((k) => k === undefined).length;
  if (missing > 0) throw new Error(`${missing} of ${count} results are not in the aggregation's list of failures`);
  return { keys: keys as string[], titles };
}

/**
 * One invocation through the product's aggregation: the cause key each result was grouped under (`other` for causes
 * beyond the group limit), and the title of each key. `via: 'oos'` stores the results as one OOS execution's rows
 * and failed children instead of DescribeInvocationResults records.
 */
export async function groupThroughProduct(results: readonly RealOutput[], invokeId: string, via: 'ecs' | 'oos' = 'ecs'): Promise<{ keys: string[]; titles: Map<string, string> }> {
  if (via === 'ecs') {
    const agg = createAggregator({ source: 'ecs' });
    results.forEach((r, i) => agg.add(toInvocationResult(r, invokeId, instanceId(i), i)));
    return finishAndReadBack(agg, results.length);
  }
  const records = results.map((r, i) => toOosRecords(r, `exec-${invokeId.slice(2)}`, instanceId(i), i));
  const agg = createAggregator({ source: 'oos', children: await spoolChildren(records.map((x) => x.child)) });
  for (const { row } of records) agg.add(row);
  return finishAndReadBack(agg, results.length);
}

/** Baseline: results with the same output text are one group. */
export function exactTextBaseline(results: readonly RealOutput[]): string[] {
  return results.map((r) => r.output);
}

/** The last non-empty line of an output, trimmed (`''` when none). */
function lastLine(output: string): string {
  const lines = output.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').trim();
    if (line !== '') return line;
  }
  return '';
}

/** Baseline: the last non-empty output line with every run of digits replaced by `0`. */
export function lastLineBaseline(results: readonly RealOutput[]): string[] {
  return results.map((r) => lastLine(r.output).replace(/\d+/g, '0'));
}

/** Baseline: plain Drain (default settings) over the last non-empty line of each output, in order. */
export function drainLastLineBaseline(results: readonly RealOutput[]): number[] {
  const drain = new PlainDrain();
  return results.map((r) => drain.add(lastLine(r.output)));
}

/** The scores of one way of grouping on one invocation (or the mean over several). */
export interface Scored {
  product: GroupingScore;
  exact: GroupingScore;
  lastLine: GroupingScore;
  drain: GroupingScore;
}

/**
 * The true group of a result: its cause (same fix), and its status and exit code, which the cause key holds by design
 * (issue 18: status, error code, exit code and the error template). Within one set's cause they are one value, except
 * where a wrapper ends with its own exit code (a makefile's `Error 2`): the same error behind two exit codes is two
 * keys by design, and is not counted as a split.
 */
export const trueGroup = (r: RealOutput): string => `${r.cause}/${r.status}/${r.exitCode}`;

/** Product and baselines on one invocation's results. */
export async function scoreInvocation(results: readonly RealOutput[], invokeId: string, via: 'ecs' | 'oos' = 'ecs'): Promise<Scored & { titles: Map<string, string>; keys: string[] }> {
  const truth = results.map(trueGroup);
  const { keys, titles } = await groupThroughProduct(results, invokeId, via);
  return { product: scoreGrouping(keys, truth), exact: scoreGrouping(exactTextBaseline(results), truth), lastLine: scoreGrouping(lastLineBaseline(results), truth), drain: scoreGrouping(drainLastLineBaseline(results), truth), titles, keys };
}

/** The results grouped by a key, in first-seen order. */
/**
 * A probe's report for one invocation: its GA, groups against the truth, mixed and split causes, and each split
 * cause's groups with their titles (the probes print it per shape and across shapes).
 */
export async function printProbeScore(label: string, list: readonly RealOutput[], invokeId: string): Promise<void> {
  const s = await scoreInvocation(list, invokeId);
  console.log(`${label}: GA ${s.product.ga.toFixed(3)} groups ${s.product.groups} truth ${s.product.truth} mixed ${s.product.mixed} split ${s.product.split}`);
  const byCause = new Map<string, Map<string, number>>();
  list.forEach((r, i) => {
    const m = byCause.get(r.cause) ?? new Map<string, number>();
    const k = s.keys[i] ?? '';
    m.set(k, (m.get(k) ?? 0) + 1);
    byCause.set(r.cause, m);
  });
  for (const [c, m] of byCause) if (m.size > 1) console.log(`   split ${c}: ${[...m].map(([k, v]) => `${v}× ${JSON.stringify(s.titles.get(k))}`).join(' | ')}`);
}

export function partition<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * Outputs of about `bytes` each for the throughput figure: each result's output, cut to its last `bytes` or led by
 * progress lines (varying numbers, as real progress is) until it is that long. `count` results, cycling the fixture.
 */
export function sizedOutputs(results: readonly RealOutput[], bytes: number, count: number): RealOutput[] {
  const out: RealOutput[] = [];
  for (let i = 0; i < count; i++) {
    const r = results[i % results.length];
    if (!r) break;
    let text = r.output;
    let n = i;
    while (Buffer.byteLength(text) < bytes) {
      n = (n * 1_103_515_245 + 12_345) % 2_147_483_648;
      text = `Downloading layer ${(n % 4096).toString(16)} ${n % 100}% of ${n % 977} MB (${n % 53} MB/s)\n${text}`;
    }
    if (text.length > bytes) text = text.slice(text.length - bytes);
    out.push({ ...r, output: text });
  }
  return out;
}
