/**
 * One Cloud Assistant task (InvokeId) over many instances, generated lazily: the result of instance `i`, run `r` is a
 * pure function of `(seed, invokeId, i, r)` and, for simulated tasks, of the emulator clock.
 */
import { Rng, combine, hashString } from './prng';
import { resourceGroupIds, type Fleet } from './ids';
import {
  FAILURE_CAUSES,
  drawMix,
  drawOutcome,
  type OutcomeMix,
  failureOutput,
  successOutput,
  type FailureCause,
  type InstanceStatus,
  type OutputMode,
} from './outputs';
import { isoSeconds } from './time';

/** Options of {@link Datasets.addInvocation}. */
export interface InvocationOptions {
  regionId?: string;
  invokeId?: string;
  /** Number of instances the task targets. */
  instances: number;
  /** Share of instances whose run fails, 0..1 (default 0.08). Ignored when `statuses` is given. */
  failureRate?: number;
  /** Explicit per-instance status weights, e.g. `{Success: 1, Terminated: 1}` (for overall-status scenarios). */
  statuses?: Partial<Record<InstanceStatus, number>>;
  /** More than 1 = periodic task (`RepeatMode=Period`): `IncludeHistory=true` returns every run. */
  repeats?: number;
  commandName?: string;
  /** ISO UTC creation time; default: the emulator clock. */
  createdAt?: string;
  outputs?: OutputMode;
  /**
   * Share (0..1) of the failed runs that printed something whose output is long (30–200 KB of progress lines, the
   * error only at the end, as in the `long` mode) whatever `outputs` says; drawn from a stream of its own. @default 0
   */
  longFailureShare?: number;
  /** Page indexes (0-based, counting requests of one query) that come back empty but with a NextToken. */
  emptyPages?: number[];
  /**
   * Legacy PageNumber paging that does not add up, for the collector's checks (the NextToken walk is unaffected):
   * from page `shiftFromPage` on, every page starts one record early (repeating the previous page's last record and
   * pushing the last record past the last page); from page `totalCountFromPage` on, TotalCount is `totalCountDelta`
   * (default 1) off.
   */
  legacyDrift?: LegacyDrift;
  /** The task's tags; default: drawn from the seed (none, or an `owner` tag). */
  tags?: { TagKey: string; TagValue: string }[];
  /** The task's resource group; default: one of the account's groups, drawn from the seed. */
  resourceGroupId?: string;
  /** Default `RunShellScript`. */
  commandType?: CommandType;
  /**
   * RunCommand/InvokeCommand `OssOutputDelivery`: `oss://<bucket>[/<prefix>]`. Each run's complete output is then
   * written to that bucket after the run (see {@link OutputDeliveryOptions} and {@link InvocationDataset.delivery}).
   */
  ossOutputDelivery?: string;
  /** How the delivery goes (delays, failures); default: every output delivered as its run finishes. */
  delivery?: OutputDeliveryOptions;
}

/**
 * How OSS output delivery goes for an invocation. Draws come from a stream of their own (per run), so they leave
 * every other seeded value as it was.
 */
export interface OutputDeliveryOptions {
  /** Share (0..1) of runs whose delivery finishes `delayMs` after the run (InProgress until then). @default 0 */
  delayedShare?: number;
  /** @default 600000 (10 minutes) */
  delayMs?: number;
  /** Share (0..1) of runs whose delivery fails (`OssOutputStatus` Failed). @default 0 */
  failedShare?: number;
}

/** Where a run's output delivery stands (DescribeInvocationResults `OssOutput*`). */
export interface DeliveryState {
  status: '' | 'InProgress' | 'Finished' | 'Failed';
  uri: string;
  errorCode: string;
  errorInfo: string;
  /** When Finished: the object to write (bucket, key) and its text. */
  object?: { bucket: string; key: string; text: () => string };
}

/**
 * The local cloud's OSS as delivery sees it: whether Cloud Assistant may write into a bucket. `undefined` = yes; else
 * the error code and message of the failed delivery (a bucket that does not exist, one the role may not write to).
 */
export type DeliveryPermission = (bucket: string) => { code: string; info: string } | undefined;

/** See {@link InvocationOptions.legacyDrift}. */
export interface LegacyDrift {
  shiftFromPage?: number;
  totalCountFromPage?: number;
  totalCountDelta?: number;
}

/** Cloud Assistant command types (DescribeInvocations `CommandType`). */
export const COMMAND_TYPES = ['RunBatScript', 'RunPowerShellScript', 'RunShellScript'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

/** What {@link Datasets.addInvocation} and {@link Datasets.simulateRunCommand} return (JSON-serialisable). */
export interface InvocationInfo {
  regionId: string;
  invokeId: string;
  commandId: string;
  commandName: string;
  instances: number;
  repeats: number;
  createdAt: string;
  /** Records `DescribeInvocationResults` returns for this InvokeId without / with `IncludeHistory`. */
  records: number;
  historyRecords: number;
  /** Latest status per instance, counted (for simulated tasks: their final statuses). */
  counts: Partial<Record<InstanceStatus, number>>;
  /** For simulated tasks: when the last instance finishes. */
  finishesAt?: string;
  tags: { TagKey: string; TagValue: string }[];
  resourceGroupId: string;
  commandType: CommandType;
}

/** The final state of one run on one instance, before wire formatting (Output is plain text). */
export interface RunResult {
  instanceId: string;
  status: InstanceStatus;
  exitCode: number;
  errorCode: string;
  errorInfo: string;
  output: string;
  dropped: number;
  /** The complete output (what OSS output delivery writes); not enumerable, so results compare as data. */
  readonly full?: () => string;
  startMs?: number;
  finishMs?: number;
  stopMs?: number;
  /** Run number, 1-based. */
  repeats: number;
  updateMs: number;
}

/** Attaches the complete output's builder to a result, not enumerable (see {@link RunResult.full}). */
function withFull(res: RunResult, full: () => string): void {
  Object.defineProperty(res, 'full', { value: full, enumerable: false });
}

const FAILED_CLASS: ReadonlySet<InstanceStatus> = new Set(['Invalid', 'Aborted', 'Failed', 'Timeout', 'Error']);
const FINAL: ReadonlySet<InstanceStatus> = new Set([
  'Success',
  'Failed',
  'Invalid',
  'Aborted',
  'Error',
  'Timeout',
  'Cancelled',
  'Terminated',
]);

export function isFinalStatus(s: InstanceStatus): boolean {
  return FINAL.has(s);
}
export function isFailedClass(s: string): boolean {
  return FAILED_CLASS.has(s as InstanceStatus);
}

/**
 * `InvokeRecordStatus` of one record. Docs only list the values; the mapping (Failed with a non-zero exit stays
 * `Finished`, as in the documented sample; runs that could not complete are `Failed`) is ours.
 */
export function invokeRecordStatus(s: InstanceStatus): string {
  switch (s) {
    case 'Success':
    case 'Failed':
      return 'Finished';
    case 'Invalid':
    case 'Aborted':
    case 'Error':
    case 'Timeout':
      return 'Failed';
    case 'Cancelled':
    case 'Terminated':
      return 'Stopped';
    case 'Stopping':
      return 'Stopping';
    default:
      return 'Running';
  }
}

/**
 * Overall `InvocationStatus` of a task from its instances' statuses (protocols §4.4, TS SDK model of
 * DescribeInvocations): Pending > Scheduled > Running > Stopping if any instance is in that state; then
 * Stopped if all stopped, Success if none failed (and at least one succeeded), Failed if none succeeded,
 * PartialFailed otherwise.
 */
export function overallStatus(counts: Partial<Record<string, number>>): string {
  const has = (s: string) => (counts[s] ?? 0) > 0;
  for (const s of ['Pending', 'Scheduled', 'Running', 'Stopping']) if (has(s)) return s;
  let success = 0;
  let failed = 0;
  for (const [s, n] of Object.entries(counts)) {
    if (!n) continue;
    if (s === 'Success') success += n;
    else if (FAILED_CLASS.has(s as InstanceStatus)) failed += n;
  }
  // All stopped, or (docs silent) no instance records at all (every instance cancelled before dispatch, or aged
  // out): nothing is left to run, so Stopped rather than a Pending that would never change.
  if (success + failed === 0) return 'Stopped';
  if (failed === 0) return 'Success';
  if (success === 0) return 'Failed';
  return 'PartialFailed';
}

/** The deprecated `InvokeStatus` that accompanies the overall status. */
export function legacyInvokeStatus(overall: string): string {
  switch (overall) {
    case 'Success':
      return 'Finished';
    case 'PartialFailed':
      return 'PartialFinished';
    case 'Pending':
    case 'Scheduled':
      return 'Running';
    default:
      return overall;
  }
}

interface Outcome {
  status: InstanceStatus;
  cause?: FailureCause;
  rng: Rng;
}

const PERIOD_MS = 5 * 60_000;
const TIMEOUT_S = 600;

const STATUS_CAUSE: Partial<Record<InstanceStatus, string>> = {
  Timeout: 'execution-timeout',
  Aborted: 'client-not-running',
  Invalid: 'instance-not-running',
};

export interface SimulationSpec {
  startMs: number;
  durationMs: number;
}

/** One invocation (task). Immutable except for the clock-driven state of simulated tasks. */
export class InvocationDataset {
  readonly key: number;
  readonly commandType: CommandType;
  /** Not in any response body (the API has no such field); only the `ResourceGroupId` filter sees it. */
  readonly resourceGroupId: string;
  readonly commandContent: string;
  readonly repeats: number;
  readonly outputs: OutputMode;
  readonly emptyPages: ReadonlySet<number>;
  /** Tests may change it on a live dataset (the next legacy page answers accordingly). */
  readonly legacyDrift: LegacyDrift;
  readonly tags: { TagKey: string; TagValue: string }[];
  /** RunCommand `OssOutputDelivery` ('' = none). */
  readonly ossOutputDelivery: string;
  private readonly deliveryOptions: OutputDeliveryOptions;
  private readonly longFailureShare: number;
  private readonly mix: OutcomeMix<InstanceStatus>;
  private readonly finishOffsets?: Float64Array;
  private cachedCounts?: Partial<Record<InstanceStatus, number>>;

  constructor(
    readonly seq: number,
    seed: number,
    readonly regionId: string,
    readonly invokeId: string,
    readonly commandId: string,
    readonly commandName: string,
    readonly instances: number,
    readonly createdMs: number,
    private readonly fleet: Fleet,
    readonly fleetOffset: number,
    opts: InvocationOptions,
    readonly simulation?: SimulationSpec,
  ) {
    this.key = hashString(invokeId, seed);
    const rng = new Rng(combine(this.key, 0xd5));
    this.mix = drawMix<InstanceStatus>(rng, opts);
    this.repeats = Math.max(1, Math.floor(opts.repeats ?? 1));
    this.outputs = opts.outputs ?? 'realistic';
    this.emptyPages = new Set(opts.emptyPages ?? []);
    this.legacyDrift = { ...opts.legacyDrift };
    for (const [name, v] of Object.entries(this.legacyDrift)) {
      if (v !== undefined && !Number.isInteger(v)) throw new Error(`legacyDrift.${name} must be an integer`);
    }
    const drawnTags = rng.int(3) === 0 ? [] : [{ TagKey: 'owner', TagValue: rng.pick(['ops', 'platform', 'sre-oncall']) }];
    this.tags = opts.tags ? opts.tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })) : drawnTags;
    // Drawn from a stream of their own, so adding them left every other seeded value unchanged.
    const groups = resourceGroupIds(seed);
    this.resourceGroupId = opts.resourceGroupId ?? groups[new Rng(combine(this.key, 0x26e1)).int(groups.length)] ?? '';
    this.commandType = opts.commandType ?? 'RunShellScript';
    this.ossOutputDelivery = opts.ossOutputDelivery ?? '';
    if (this.ossOutputDelivery !== '' && !/^oss:\/\/[a-z0-9][a-z0-9-]{1,61}[a-z0-9](\/.*)?$/.test(this.ossOutputDelivery)) {
      throw new Error(`ossOutputDelivery must be oss://<bucket>[/<prefix>], got ${JSON.stringify(this.ossOutputDelivery)}`);
    }
    this.deliveryOptions = { ...opts.delivery };
    this.longFailureShare = opts.longFailureShare ?? 0;
    if (!COMMAND_TYPES.includes(this.commandType)) throw new Error(`commandType must be one of ${COMMAND_TYPES.join(', ')}`);
    this.commandContent = `#!/bin/bash\n# ${commandName}\nset -e\nyum -y update --security\nsystemctl restart app-worker\necho "done on $(hostname)"\n`;
    if (simulation) {
      // Per-instance finish offsets are drawn once so that events can be scheduled in order.
      this.finishOffsets = new Float64Array(instances);
      for (let i = 0; i < instances; i++) {
        this.finishOffsets[i] = Math.round(new Rng(combine(this.key, i, 0xf1)).next() * simulation.durationMs);
      }
    }
  }

  get periodic(): boolean {
    return this.repeats > 1;
  }

  instanceId(local: number): string {
    return this.fleet.instanceId(this.fleetOffset + local);
  }

  /** Local index of an instance id in this task, or undefined. */
  localIndexOf(instanceId: string): number | undefined {
    const k = this.fleet.indexOf(instanceId);
    if (k === undefined) return undefined;
    const local = k - this.fleetOffset;
    return local >= 0 && local < this.instances ? local : undefined;
  }

  /** For simulated tasks: when instance `local` reaches its final state. */
  finishMsOf(local: number): number | undefined {
    if (!this.simulation || !this.finishOffsets) return undefined;
    return this.simulation.startMs + (this.finishOffsets[local] ?? 0);
  }

  private outcome(local: number, run: number): Outcome {
    const rng = new Rng(combine(this.key, local, run));
    const drawn = drawOutcome(this.mix, rng, {
      // A status given its own cause (Timeout: the timeout's), else Failed: the dataset's first cause that fails so.
      causeOf: (status) => {
        const byStatus = STATUS_CAUSE[status];
        if (byStatus) return FAILURE_CAUSES.find((c) => c.id === byStatus);
        return status === 'Failed' ? (this.mix.causes.find((c) => c.status === 'Failed') ?? FAILURE_CAUSES[0]) : undefined;
      },
      failedAs: (cause) => cause?.status,
    });
    return { ...drawn, rng };
  }

  /** Cheap status of one run (no output generation), for filters and counters. */
  statusOf(local: number, run: number, nowMs: number): InstanceStatus {
    const finish = this.finishMsOf(local);
    if (finish !== undefined && nowMs < finish) return 'Running';
    return this.outcome(local, run).status;
  }

  /** Final (latest-run) status per instance, counted; cached, as it does not depend on the clock. */
  finalCounts(): Partial<Record<InstanceStatus, number>> {
    if (this.cachedCounts) return this.cachedCounts;
    const counts: Partial<Record<InstanceStatus, number>> = {};
    for (let i = 0; i < this.instances; i++) {
      const s = this.outcome(i, this.repeats).status;
      counts[s] = (counts[s] ?? 0) + 1;
    }
    this.cachedCounts = counts;
    return counts;
  }

  /** Latest status per instance at `nowMs` (simulated tasks are Running until each instance's finish time). */
  counts(nowMs: number): Partial<Record<InstanceStatus, number>> {
    if (!this.simulation) return this.finalCounts();
    const counts: Partial<Record<InstanceStatus, number>> = {};
    for (let i = 0; i < this.instances; i++) {
      const s = this.statusOf(i, this.repeats, nowMs);
      counts[s] = (counts[s] ?? 0) + 1;
    }
    return counts;
  }

  /** The full result of run `run` (1-based) on instance `local`. */
  result(local: number, run: number, nowMs: number): RunResult {
    const instanceId = this.instanceId(local);
    const { status: finalStatus, cause, rng } = this.outcome(local, run);
    const runBase = this.createdMs + (run - 1) * PERIOD_MS;
    const finishSim = this.finishMsOf(local);
    const startMs = runBase + rng.range(200, 3000);
    if (finishSim !== undefined && nowMs < finishSim) {
      return {
        instanceId,
        status: 'Running',
        exitCode: 0,
        errorCode: '',
        errorInfo: '',
        output: '',
        dropped: 0,
        startMs: Math.min(startMs, nowMs),
        repeats: run,
        updateMs: Math.max(Math.min(startMs, nowMs), nowMs - 1000),
      };
    }
    const ctx = { instanceId };
    const res: RunResult = {
      instanceId,
      status: finalStatus,
      exitCode: 0,
      errorCode: '',
      errorInfo: '',
      output: '',
      dropped: 0,
      repeats: run,
      updateMs: runBase,
    };
    if (cause) {
      const rendered = cause.render(rng, ctx);
      const long = this.longFailureShare > 0 ? new Rng(combine(combine(this.key, 0x10f6), local, run)) : undefined;
      // A long output draws from its own stream, so the run's other values are the ones it has without it.
      const out = long && long.next() < this.longFailureShare ? failureOutput(rendered, long, 'long', cause) : failureOutput(rendered, rng, this.outputs, cause);
      res.exitCode = rendered.exitCode;
      res.errorCode = cause.errorCode;
      res.errorInfo = cause.errorInfo;
      res.output = out.output;
      res.dropped = out.dropped;
      withFull(res, out.full);
      if (cause.ran) {
        res.startMs = startMs;
        res.finishMs = cause.status === 'Timeout' ? startMs + TIMEOUT_S * 1000 : startMs + rng.range(100, 40_000);
      } else {
        // Never started: it ends when delivery gives up (about a minute for DeliveryTimeout).
        res.finishMs = runBase + (cause.errorCode === 'DeliveryTimeout' ? 60_000 : rng.range(300, 2000));
      }
    } else {
      switch (finalStatus) {
        case 'Success': {
          const out = successOutput(rng, this.outputs, ctx);
          res.output = out.output;
          res.dropped = out.dropped;
          withFull(res, out.full);
          res.startMs = startMs;
          res.finishMs = startMs + rng.range(100, 40_000);
          break;
        }
        case 'Running':
        case 'Stopping':
          res.startMs = startMs;
          break;
        case 'Terminated':
          res.startMs = startMs;
          res.stopMs = startMs + rng.range(1000, 30_000);
          res.finishMs = res.stopMs;
          res.exitCode = -1;
          res.output = 'stopping app-worker...\n';
          break;
        case 'Cancelled':
          res.stopMs = runBase + rng.range(100, 1000);
          break;
        case 'Error':
          res.startMs = startMs;
          res.finishMs = startMs + rng.range(10, 500);
          res.errorCode = 'ExecutionException';
          res.errorInfo = 'The command execution got an exception.';
          break;
        default:
          break;
      }
    }
    if (finishSim !== undefined) {
      res.startMs = res.startMs === undefined ? undefined : Math.min(res.startMs, finishSim - 1);
      res.finishMs = finishSim;
    }
    res.updateMs = res.finishMs ?? res.stopMs ?? res.startMs ?? runBase;
    return res;
  }

  /**
   * The output delivery of one run (OssOutputDelivery): '' when none was asked for or the run never started; then
   * InProgress until its delivery time (the run's end, plus the delay for a delayed one), then Failed (drawn, or the
   * bucket may not be written: `permission`) or Finished with the object's URI. The URI layout,
   * `<prefix>/<InvokeId>/<InstanceId>/<Repeats>/output.txt`, is ours: the docs show only `oss://testBucket/testPrefix/output.txt`,
   * and OssOutputErrorCode values are not documented (the local cloud uses OSS's own codes).
   */
  delivery(r: RunResult, nowMs: number, permission: DeliveryPermission | undefined): DeliveryState {
    const none: DeliveryState = { status: '', uri: '', errorCode: '', errorInfo: '' };
    const target = this.ossOutputDelivery;
    if (!target || r.startMs === undefined) return none;
    const m = /^oss:\/\/([^/]+)\/?(.*)$/.exec(target);
    if (!m) return none;
    const bucket = m[1] ?? '';
    const prefix = (m[2] ?? '').replace(/\/+$/, '');
    const done = r.finishMs ?? r.stopMs;
    const rng = new Rng(combine(combine(this.key, 0xde11), this.localIndexOf(r.instanceId) ?? 0, r.repeats));
    const delayed = rng.next() < (this.deliveryOptions.delayedShare ?? 0);
    const failed = rng.next() < (this.deliveryOptions.failedShare ?? 0);
    if (!isFinalStatus(r.status)) return { ...none, status: 'InProgress' };
    // A run is delivered as it ends; an added (not simulated) task's runs are all over already, whatever their times.
    const end = this.simulation ? (done ?? nowMs) : Math.min(done ?? nowMs, nowMs);
    const at = end + (delayed ? (this.deliveryOptions.delayMs ?? 600_000) : 0);
    if (nowMs < at) return { ...none, status: 'InProgress' };
    const denied = permission?.(bucket);
    if (denied) return { ...none, status: 'Failed', errorCode: denied.code, errorInfo: denied.info };
    if (failed) return { ...none, status: 'Failed', errorCode: 'InternalError', errorInfo: 'The output could not be delivered to OSS; try again.' };
    const key = `${prefix ? `${prefix}/` : ''}${this.invokeId}/${r.instanceId}/${r.repeats}/output.txt`;
    const full = r.full ?? (() => r.output);
    return { ...none, status: 'Finished', uri: `oss://${bucket}/${key}`, object: { bucket, key, text: full } };
  }

  /** Number of records for DescribeInvocationResults. */
  recordCount(includeHistory: boolean): number {
    return includeHistory ? this.instances * this.repeats : this.instances;
  }

  /** Record `r` → (instance, run). History lists each instance's runs newest first. */
  recordAddress(r: number, includeHistory: boolean): { local: number; run: number } {
    if (!includeHistory) return { local: r, run: this.repeats };
    const local = Math.floor(r / this.repeats);
    return { local, run: this.repeats - (r % this.repeats) };
  }

  info(): InvocationInfo {
    const info: InvocationInfo = {
      regionId: this.regionId,
      invokeId: this.invokeId,
      commandId: this.commandId,
      commandName: this.commandName,
      instances: this.instances,
      repeats: this.repeats,
      createdAt: isoSeconds(this.createdMs),
      records: this.recordCount(false),
      historyRecords: this.recordCount(true),
      counts: this.finalCounts(),
      tags: this.tags.map((t) => ({ ...t })),
      resourceGroupId: this.resourceGroupId,
      commandType: this.commandType,
    };
    if (this.simulation && this.finishOffsets) {
      let max = 0;
      for (const v of this.finishOffsets) max = Math.max(max, v);
      info.finishesAt = new Date(this.simulation.startMs + max).toISOString();
    }
    return info;
  }
}
