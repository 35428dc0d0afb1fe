/**
 * The local cloud's data: OOS executions and Cloud Assistant invocations, seeded, deterministic and lazy (a record is
 * computed when a page asks for it; see prng.ts). The RPC handlers read it; tests and the admin API add to it.
 */
import { Fleet, commandId as makeCommandId, executionId as makeExecutionId, invokeId as makeInvokeId } from './ids';
import { Rng, hashString } from './prng';
import { KNOWN_REGION_IDS, requireRegion } from './regions';
import { ExecutionDataset, type ExecutionInfo, type ExecutionOptions } from './oos';
import { InvocationDataset, type DeliveryPermission, type DeliveryState, type InvocationInfo, type InvocationOptions, type OutputDeliveryOptions, type RunResult } from './ecs';
import type { OutputMode } from './outputs';
import { parseIsoUtc } from './time';

export { ExecutionDataset, InvocationDataset };
export type { ExecutionInfo, ExecutionOptions, InvocationInfo, InvocationOptions };
export type { ResourceStatus, ResourceRow, ExecutionItem, ExecutionMode, ExecutionCategory } from './oos';
export { EXECUTION_MODES, EXECUTION_CATEGORIES } from './oos';
export { COMMAND_TYPES, type CommandType } from './ecs';
export type { InstanceStatus, OutputMode } from './outputs';
export { OUTPUT_LIMIT_BYTES } from './outputs';
export { overallStatus, invokeRecordStatus, legacyInvokeStatus, isFailedClass, isFinalStatus } from './ecs';
export type { RunResult, LegacyDrift, DeliveryPermission, DeliveryState, OutputDeliveryOptions } from './ecs';
export { KNOWN_REGION_IDS, REGIONS, regionInfo } from './regions';
export { isoSeconds, parseIsoUtc } from './time';

/** Options of {@link Datasets.simulateRunCommand}. */
export interface SimulateRunCommandOptions {
  regionId?: string;
  instances: number;
  /** Instances finish at times spread over this many ms from now (the emulator clock). */
  durationMs: number;
  failureRate?: number;
  commandName?: string;
  /** RunCommand `OssOutputDelivery` (see {@link InvocationOptions.ossOutputDelivery}). */
  ossOutputDelivery?: string;
  delivery?: OutputDeliveryOptions;
  outputs?: OutputMode;
  longFailureShare?: number;
}

/** Where OSS output delivery writes, and whether Cloud Assistant may write a bucket (see {@link DeliveryPermission}). */
export interface OutputSink {
  permission: DeliveryPermission;
  write(bucket: string, key: string, text: string): Promise<void>;
}

/** Payload of {@link Datasets.onInstanceFinished}: one instance of a simulated task reached its final state. */
export interface InstanceFinishedEvent {
  regionId: string;
  invokeId: string;
  commandId: string;
  commandName: string;
  instanceId: string;
  invocationStatus: string;
  exitCode: number;
  finishTime: string;
}

/** Ids of the scenarios seeded at start (all in `regionId`, cn-hangzhou). */
export interface DemoIds {
  regionId: string;
  /** OOS execution over 3000 resources with realistic failures. */
  executionId: string;
  /** Cloud Assistant task over 3000 instances with realistic failures. */
  invokeId: string;
  /** Small OOS executions by resource count: keys '0', '1', '49', '50', '51', '100', '101'. */
  executionsBySize: Record<string, string>;
  /** Small invocations by instance count: keys '0', '1', '49', '50', '51', '100', '101'. */
  invocationsBySize: Record<string, string>;
  /** Periodic task (12 instances × 6 runs): IncludeHistory=true returns 72 records, false 12. */
  periodicInvokeId: string;
  /** Every output exactly 24 KB (24576 UTF-8 bytes) with Dropped > 0 (20 instances). */
  largeOutputInvokeId: string;
  /** Chinese / emoji / CRLF outputs (30 instances). */
  unicodeInvokeId: string;
}

export interface DatasetsOptions {
  /** Default 1. The same seed gives the same ids and records. */
  seed?: number;
  /** Emulator clock (ms since epoch). Default Date.now. */
  now?: () => number;
  /** Create the demo scenarios (default true). */
  scenarios?: boolean;
}

type FinishedListener = (e: InstanceFinishedEvent) => void;

interface PendingEvent {
  at: number;
  ds: InvocationDataset;
  local: number;
}

/** Seeded scenarios are dated from here (fixed, so that a seed reproduces byte-identical responses). */
const SCENARIO_EPOCH = Date.UTC(2026, 10, 20, 2, 0, 0);
const SIZES = [0, 1, 49, 50, 51, 100, 101] as const;

/** All datasets of the local cloud, per region. */
export class Datasets {
  readonly seed: number;
  readonly now: () => number;
  /** Ids of the seeded scenarios (see {@link DemoIds}); empty strings when created with `scenarios: false`. */
  readonly demo: DemoIds;
  private seq = 0;
  private readonly fleets = new Map<string, Fleet>();
  private readonly executions = new Map<string, Map<string, ExecutionDataset>>();
  private readonly childPrefixes = new Map<string, ExecutionDataset>();
  private readonly invocations = new Map<string, Map<string, InvocationDataset>>();
  private readonly listeners = new Set<FinishedListener>();
  private pending: PendingEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /**
   * Where OSS output delivery writes (the local cloud wires its OSS in, see local-cloud.ts); without it no object is
   * written and every bucket counts as writable.
   */
  outputSink: OutputSink | undefined;
  /** Objects delivered so far (bucket + key), each written once; and the writes under way. */
  private readonly delivered = new Set<string>();
  private writes = new Set<Promise<void>>();

  constructor(opts: DatasetsOptions = {}) {
    this.seed = opts.seed ?? 1;
    this.now = opts.now ?? Date.now;
    this.demo = {
      regionId: 'cn-hangzhou',
      executionId: '',
      invokeId: '',
      executionsBySize: {},
      invocationsBySize: {},
      periodicInvokeId: '',
      largeOutputInvokeId: '',
      unicodeInvokeId: '',
    };
    if (opts.scenarios !== false) this.seedScenarios();
  }

  private seedScenarios(): void {
    const at = (minutes: number) => new Date(SCENARIO_EPOCH + minutes * 60_000).toISOString();
    const d = this.demo;
    d.executionId = this.addExecution({ resources: 3000, failureRate: 0.09, startedAt: at(0) }).executionId;
    d.invokeId = this.addInvocation({ instances: 3000, failureRate: 0.1, commandName: 'security-patch.sh', createdAt: at(5) }).invokeId;
    SIZES.forEach((n, k) => {
      d.executionsBySize[String(n)] = this.addExecution({ resources: n, startedAt: at(10 + k) }).executionId;
      d.invocationsBySize[String(n)] = this.addInvocation({ instances: n, createdAt: at(20 + k) }).invokeId;
    });
    d.periodicInvokeId = this.addInvocation({
      instances: 12,
      repeats: 6,
      commandName: 'disk-usage-probe.sh',
      createdAt: at(30),
    }).invokeId;
    d.largeOutputInvokeId = this.addInvocation({
      instances: 20,
      outputs: 'large',
      commandName: 'dump-logs.sh',
      createdAt: at(40),
    }).invokeId;
    d.unicodeInvokeId = this.addInvocation({
      instances: 30,
      outputs: 'unicode',
      commandName: '部署-nginx.sh',
      createdAt: at(45),
    }).invokeId;
  }

  /** The ECS fleet of a region (instance ids ↔ fleet indexes). */
  fleet(regionId: string): Fleet {
    let f = this.fleets.get(regionId);
    if (!f) {
      f = new Fleet(this.seed, requireRegion(regionId));
      this.fleets.set(regionId, f);
    }
    return f;
  }

  private nextRng(kind: string): { seq: number; rng: Rng } {
    const seq = ++this.seq;
    return { seq, rng: new Rng(hashString(`${kind}:${seq}`, this.seed)) };
  }

  private timeOption(value: string | undefined, what: string): number {
    if (value === undefined) return this.now();
    const ms = parseIsoUtc(value);
    if (ms === undefined) throw new Error(`${what} must be an ISO-8601 UTC timestamp, got ${JSON.stringify(value)}`);
    return ms;
  }

  private static count(n: unknown, what: string, max: number): number {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
      throw new Error(`${what} must be an integer in 0..${max}, got ${JSON.stringify(n)}`);
    }
    return n;
  }

  /** Adds an OOS parent execution over `resources` resources. Throws on bad options or a duplicate id. */
  addExecution(opts: ExecutionOptions): ExecutionInfo {
    const regionId = opts.regionId ?? 'cn-hangzhou';
    const fleet = this.fleet(regionId);
    const resources = Datasets.count(opts.resources, 'resources', 100_000_000);
    const { seq, rng } = this.nextRng('exec');
    const executionId = opts.executionId ?? makeExecutionId(rng);
    if (!/^exec-[0-9a-zA-Z]+$/.test(executionId)) throw new Error(`bad executionId ${JSON.stringify(executionId)}`);
    const region = this.executions.get(regionId) ?? new Map<string, ExecutionDataset>();
    if (region.has(executionId)) throw new Error(`execution ${executionId} already exists in ${regionId}`);
    const ds = new ExecutionDataset(
      seq,
      this.seed,
      regionId,
      executionId,
      opts.templateName ?? 'ACS-ECS-BulkyRunCommand',
      resources,
      this.timeOption(opts.startedAt, 'startedAt'),
      fleet,
      rng.int(5000),
      opts,
    );
    region.set(executionId, ds);
    this.executions.set(regionId, region);
    this.childPrefixes.set(`${regionId}/${ds.children.prefix}`, ds);
    return ds.info();
  }

  private buildInvocation(opts: InvocationOptions, simulation?: { startMs: number; durationMs: number }): InvocationDataset {
    const regionId = opts.regionId ?? 'cn-hangzhou';
    const fleet = this.fleet(regionId);
    const instances = Datasets.count(opts.instances, 'instances', 100_000_000);
    const { seq, rng } = this.nextRng('invoke');
    const region = fleet.region;
    const invokeId = opts.invokeId ?? makeInvokeId(rng, region);
    const commandId = makeCommandId(rng, region);
    if (!/^t-[0-9a-zA-Z]+$/.test(invokeId)) throw new Error(`bad invokeId ${JSON.stringify(invokeId)}`);
    const map = this.invocations.get(regionId) ?? new Map<string, InvocationDataset>();
    if (map.has(invokeId)) throw new Error(`invocation ${invokeId} already exists in ${regionId}`);
    const ds = new InvocationDataset(
      seq,
      this.seed,
      regionId,
      invokeId,
      commandId,
      opts.commandName ?? rng.pick(['security-patch.sh', 'rotate-logs.sh', 'restart-app.sh', 'collect-diagnostics.sh']),
      instances,
      simulation ? simulation.startMs : this.timeOption(opts.createdAt, 'createdAt'),
      fleet,
      rng.int(5000),
      opts,
      simulation,
    );
    map.set(invokeId, ds);
    this.invocations.set(regionId, map);
    return ds;
  }

  /** Adds a Cloud Assistant task over `instances` instances (all runs already final). */
  addInvocation(opts: InvocationOptions): InvocationInfo {
    return this.buildInvocation(opts).info();
  }

  /**
   * Starts a RunCommand-like task now: each instance is Running until its own finish time (spread over `durationMs`
   * on the emulator clock), then final; {@link onInstanceFinished} listeners hear about each instance as it finishes.
   */
  simulateRunCommand(opts: SimulateRunCommandOptions): InvocationInfo {
    const durationMs = Datasets.count(opts.durationMs, 'durationMs', 86_400_000);
    const ds = this.buildInvocation(
      {
        regionId: opts.regionId,
        instances: opts.instances,
        failureRate: opts.failureRate,
        commandName: opts.commandName,
        ossOutputDelivery: opts.ossOutputDelivery,
        delivery: opts.delivery,
        outputs: opts.outputs,
        longFailureShare: opts.longFailureShare,
      },
      { startMs: this.now(), durationMs },
    );
    for (let i = 0; i < ds.instances; i++) this.pending.push({ at: ds.finishMsOf(i) ?? 0, ds, local: i });
    this.pending.sort((a, b) => a.at - b.at);
    this.schedule();
    return ds.info();
  }

  /**
   * The delivery of a run as the API reports it now; a Finished one's object is written into the local cloud's OSS
   * (once; the write is waited for by {@link settleDeliveries} before the answer that reports it is sent).
   */
  deliveryOf(ds: InvocationDataset, r: RunResult, nowMs: number): DeliveryState {
    const state = ds.delivery(r, nowMs, this.outputSink?.permission);
    const object = state.object;
    const sink = this.outputSink;
    if (object && sink) {
      const id = `${object.bucket}/${object.key}`;
      if (!this.delivered.has(id)) {
        this.delivered.add(id);
        const write = sink.write(object.bucket, object.key, object.text()).catch((err: unknown) => {
          this.delivered.delete(id);
          throw err;
        });
        this.writes.add(write);
        // A write that went through is forgotten; a failed one waits for an answer to report it (settleDeliveries).
        write.then(
          () => this.writes.delete(write),
          () => undefined,
        );
      }
    }
    return state;
  }

  /**
   * Waits for the delivery writes of the answers computed so far, those another answer waits for too (an answer may
   * be computed in slices while others are answered: each waits for every write under way when it is sent).
   * @throws the first failed write (reported once, then forgotten).
   */
  async settleDeliveries(): Promise<void> {
    const writes = [...this.writes];
    const settled = await Promise.allSettled(writes);
    let failure: PromiseRejectedResult | undefined;
    settled.forEach((r, i) => {
      if (r.status !== 'rejected') return;
      const write = writes[i];
      // Reported by the first answer that waited for it.
      if (write && this.writes.delete(write)) failure ??= r;
    });
    if (failure) throw failure.reason;
  }

  /** Subscribes to instance completions of simulated tasks; returns the unsubscribe function. */
  onInstanceFinished(listener: FinishedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Fires the events that are due on the emulator clock. Called by a timer and on every request. */
  tick(): void {
    const now = this.now();
    let n = 0;
    while (n < this.pending.length && (this.pending[n]?.at ?? Infinity) <= now) n++;
    if (n === 0) return;
    const due = this.pending.splice(0, n);
    for (const { ds, local } of due) {
      const r = ds.result(local, ds.repeats, now);
      const event: InstanceFinishedEvent = {
        regionId: ds.regionId,
        invokeId: ds.invokeId,
        commandId: ds.commandId,
        commandName: ds.commandName,
        instanceId: r.instanceId,
        invocationStatus: r.status,
        exitCode: r.exitCode,
        finishTime: new Date(r.finishMs ?? now).toISOString().slice(0, 19) + 'Z',
      };
      for (const l of this.listeners) {
        try {
          l(event);
        } catch {
          // A listener's failure must not stop the other listeners or the clock.
        }
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.pending[0];
    if (!next) return;
    // The emulator clock may be fake; the real timer only polls it, the clock decides what is due.
    const delay = Math.min(Math.max(next.at - this.now(), 5), 60_000);
    this.timer = setTimeout(() => {
      this.tick();
      this.schedule();
    }, delay);
    this.timer.unref();
  }

  /** A parent execution by id. */
  getExecution(regionId: string, executionId: string): ExecutionDataset | undefined {
    return this.executions.get(regionId)?.get(executionId);
  }

  /** A parent execution, or the parent and resource index of a child execution id. */
  findExecution(regionId: string, executionId: string): { parent: ExecutionDataset; child?: number } | undefined {
    const parent = this.getExecution(regionId, executionId);
    if (parent) return { parent };
    if (executionId.length !== 25) return undefined;
    const owner = this.childPrefixes.get(`${regionId}/${executionId.slice(5, 17)}`);
    if (!owner) return undefined;
    const i = owner.children.indexOf(executionId);
    return i !== undefined && i < owner.resources ? { parent: owner, child: i } : undefined;
  }

  /** Parent executions of a region, in creation order. */
  listExecutions(regionId: string): ExecutionDataset[] {
    return [...(this.executions.get(regionId)?.values() ?? [])];
  }

  getInvocation(regionId: string, invokeId: string): InvocationDataset | undefined {
    return this.invocations.get(regionId)?.get(invokeId);
  }

  /** Invocations of a region, newest CreationTime first (ties: latest added first). */
  listInvocations(regionId: string): InvocationDataset[] {
    return [...(this.invocations.get(regionId)?.values() ?? [])].sort(
      (a, b) => b.createdMs - a.createdMs || b.seq - a.seq,
    );
  }

  /** An invocation by its creation sequence number (for pagination cursors). */
  invocationBySeq(regionId: string, seq: number): InvocationDataset | undefined {
    for (const ds of this.invocations.get(regionId)?.values() ?? []) if (ds.seq === seq) return ds;
    return undefined;
  }

  /** Regions with data (all known regions are valid, most are empty). */
  get regions(): readonly string[] {
    return KNOWN_REGION_IDS;
  }

  /** Stops the event timer. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
