/**
 * One OOS parent execution over many resources (a loop task such as `ACS-ECS-BulkyRunCommand`), generated lazily.
 * Each resource has a child execution (id encodes the resource index, see {@link ChildIds}); failed children say why in
 * `StatusMessage`.
 */
import { ACCOUNT_ID } from '../credentials';
import { ChildIds, invokeId as makeInvokeId, resourceGroupIds, type Fleet } from './ids';
import { Rng, combine, hashString } from './prng';
import { drawMix, drawOutcome, failureOutput, successOutput, type FailureCause, type OutcomeMix } from './outputs';
import { isoSeconds } from './time';

/** Per-resource statuses the emulator produces (the real list is undocumented; these are the execution statuses). */
export type ResourceStatus = 'Success' | 'Failed' | 'Running' | 'Cancelled' | 'Waiting' | 'Queued' | 'Skipped';

/** Options of {@link Datasets.addExecution}. */
export interface ExecutionOptions {
  regionId?: string;
  executionId?: string;
  /** Number of resources (ECS instances) the execution loops over. */
  resources: number;
  /** Share of failed resources, 0..1 (default 0.08). Ignored when `statuses` is given. */
  failureRate?: number;
  /** Explicit status weights, e.g. `{Success: 9, Failed: 1}`. */
  statuses?: Partial<Record<ResourceStatus, number>>;
  templateName?: string;
  /** ISO UTC start; default: the emulator clock. */
  startedAt?: string;
  /** Page indexes (0-based, counting requests of one query) that come back empty but with a NextToken. */
  emptyPages?: number[];
  /** The execution's tags (its children carry the same); default: drawn from the seed (none, or a `team` tag). */
  tags?: Record<string, string>;
  /** Default `Automatic`. */
  mode?: ExecutionMode;
  /** Default `Other`. */
  category?: ExecutionCategory;
  /** Default: one of the account's resource groups, drawn from the seed. */
  resourceGroupId?: string;
}

export const EXECUTION_MODES = ['Automatic', 'Debug'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];
export const EXECUTION_CATEGORIES = ['Other', 'TimerTrigger', 'EventTrigger', 'AlarmTrigger'] as const;
export type ExecutionCategory = (typeof EXECUTION_CATEGORIES)[number];

/** What {@link Datasets.addExecution} returns (JSON-serialisable). */
export interface ExecutionInfo {
  regionId: string;
  executionId: string;
  templateName: string;
  resources: number;
  status: string;
  startedAt: string;
  endedAt: string;
  counts: Partial<Record<ResourceStatus, number>>;
  tags: Record<string, string>;
  mode: ExecutionMode;
  category: ExecutionCategory;
  resourceGroupId: string;
}

/** A `ResourceExecutionStatus` row as ListResourceExecutionStatus returns it. */
export interface ResourceRow {
  ResourceId: string;
  ExecutionId: string;
  Status: string;
  ExecutionTime: string;
  Outputs: string;
}

/** An `Executions[]` item of ListExecutions. */
export type ExecutionItem = Record<string, unknown> & {
  ExecutionId: string;
  Status: string;
  StartDate: string;
  EndDate: string;
  TemplateName: string;
};

interface RowOutcome {
  status: ResourceStatus;
  cause?: FailureCause;
  rng: Rng;
}

const ACTIVE: ReadonlySet<string> = new Set(['Running', 'Waiting', 'Queued']);

export class ExecutionDataset {
  readonly key: number;
  readonly children: ChildIds;
  readonly templateId: string;
  readonly templateVersion: string;
  readonly emptyPages: ReadonlySet<number>;
  /** Children start over this span, evenly spread (StartDate is monotonic in the resource index). */
  readonly spanMs: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly mode: ExecutionMode;
  readonly category: ExecutionCategory;
  readonly resourceGroupId: string;
  /** `ExecutedBy` of the execution and its children. */
  readonly executedBy = `root(${ACCOUNT_ID})`;
  readonly ramRole = 'OOSServiceRole';
  private readonly mix: OutcomeMix<ResourceStatus>;
  private cachedCounts?: Partial<Record<ResourceStatus, number>>;
  private readonly sortCache = new Map<string, Uint32Array>();

  constructor(
    readonly seq: number,
    seed: number,
    readonly regionId: string,
    readonly executionId: string,
    readonly templateName: string,
    readonly resources: number,
    readonly startMs: number,
    private readonly fleet: Fleet,
    readonly fleetOffset: number,
    opts: ExecutionOptions,
  ) {
    this.key = hashString(executionId, seed);
    this.children = new ChildIds(this.key);
    const rng = new Rng(combine(this.key, 0x7e));
    this.templateId = `t-${rng.hex(20)}`;
    this.templateVersion = `v${rng.range(1, 12)}`;
    this.mix = drawMix<ResourceStatus>(rng, opts);
    this.emptyPages = new Set(opts.emptyPages ?? []);
    this.spanMs = Math.min(resources * 200, 3_600_000);
    // Drawn from a stream of their own, so adding them left every other seeded value unchanged.
    const extra = new Rng(combine(this.key, 0x26e2));
    const drawnTags: Record<string, string> = extra.int(3) === 0 ? {} : { team: extra.pick(['ops', 'platform', 'data']) };
    this.tags = { ...(opts.tags ?? drawnTags) };
    const groups = resourceGroupIds(seed);
    this.resourceGroupId = opts.resourceGroupId ?? groups[extra.int(groups.length)] ?? '';
    this.mode = opts.mode ?? 'Automatic';
    this.category = opts.category ?? 'Other';
    if (!EXECUTION_MODES.includes(this.mode)) throw new Error(`mode must be one of ${EXECUTION_MODES.join(', ')}`);
    if (!EXECUTION_CATEGORIES.includes(this.category)) throw new Error(`category must be one of ${EXECUTION_CATEGORIES.join(', ')}`);
    if (Object.values(this.tags).some((v) => typeof v !== 'string')) throw new Error('tags must map names to strings');
  }

  /** Index of the resource with this id among the execution's resources, or undefined. */
  indexOfResource(resourceId: string): number | undefined {
    const k = this.fleet.indexOf(resourceId);
    if (k === undefined) return undefined;
    const i = k - this.fleetOffset;
    return i >= 0 && i < this.resources ? i : undefined;
  }

  resourceId(i: number): string {
    return this.fleet.instanceId(this.fleetOffset + i);
  }

  private outcome(i: number): RowOutcome {
    const rng = new Rng(combine(this.key, i, 0x00));
    const drawn = drawOutcome(this.mix, rng, {
      // Only Failed shows a cause, one of the dataset's by its weight; every failure is Failed.
      causeOf: (status, r) => (status === 'Failed' ? (this.mix.causes[r.weighted(this.mix.causeWeights)] ?? this.mix.causes[0]) : undefined),
      failedAs: () => 'Failed',
    });
    return { ...drawn, rng };
  }

  /** Cheap status of resource `i`. */
  statusOf(i: number): ResourceStatus {
    return this.outcome(i).status;
  }

  childStartMs(i: number): number {
    return this.startMs + Math.floor((i * this.spanMs) / Math.max(1, this.resources));
  }

  /** End of child `i`; undefined while it is still active. */
  childEndMs(i: number): number | undefined {
    const status = this.statusOf(i);
    if (ACTIVE.has(status)) return undefined;
    return this.childStartMs(i) + 2000 + (combine(this.key, i, 0xe0) % 58_000);
  }

  counts(): Partial<Record<ResourceStatus, number>> {
    if (this.cachedCounts) return this.cachedCounts;
    const counts: Partial<Record<ResourceStatus, number>> = {};
    for (let i = 0; i < this.resources; i++) {
      const s = this.statusOf(i);
      counts[s] = (counts[s] ?? 0) + 1;
    }
    return (this.cachedCounts = counts);
  }

  /** The parent's status: Running while any resource is active, Failed if any failed, else Success/Cancelled. */
  status(): string {
    const c = this.counts();
    if ((c.Running ?? 0) + (c.Waiting ?? 0) + (c.Queued ?? 0) > 0) return 'Running';
    if ((c.Failed ?? 0) > 0) return 'Failed';
    if ((c.Success ?? 0) === 0 && (c.Cancelled ?? 0) > 0) return 'Cancelled';
    return 'Success';
  }

  endMs(): number | undefined {
    return this.status() === 'Running' ? undefined : this.startMs + this.spanMs + 61_000;
  }

  private rendered(i: number) {
    const { status, cause, rng } = this.outcome(i);
    const resourceId = this.resourceId(i);
    const invokeId = makeInvokeId(rng, this.fleet.region);
    if (cause) {
      const r = cause.render(rng, { instanceId: resourceId });
      const out = failureOutput(r, rng, 'realistic', cause);
      return { status, cause, resourceId, invokeId, output: out.output, exitCode: r.exitCode, reason: r.reason };
    }
    if (status === 'Success') {
      const out = successOutput(rng, 'realistic', { instanceId: resourceId });
      return { status, resourceId, invokeId, output: out.output, exitCode: 0, reason: '' };
    }
    return { status, resourceId, invokeId, output: '', exitCode: 0, reason: '' };
  }

  /** Row `i` of ListResourceExecutionStatus. */
  row(i: number): ResourceRow {
    const r = this.rendered(i);
    const outputs = ACTIVE.has(r.status) ? '{}' : JSON.stringify({ invocationOutput: r.output, exitCode: r.exitCode });
    return {
      ResourceId: r.resourceId,
      ExecutionId: this.children.id(i),
      Status: r.status,
      ExecutionTime: isoSeconds(this.childStartMs(i)),
      Outputs: outputs,
    };
  }

  /** The child execution of resource `i`, as a ListExecutions item. */
  child(i: number): ExecutionItem {
    const r = this.rendered(i);
    const start = isoSeconds(this.childStartMs(i));
    const endMs = this.childEndMs(i);
    const end = endMs === undefined ? '' : isoSeconds(endMs);
    const statusMessage = r.cause
      ? `Task 'runCommand' failed: ${r.cause.errorCode}: ${r.reason} (InstanceId: ${r.resourceId}, InvokeId: ${r.invokeId}, ExitCode: ${r.exitCode})`
      : '';
    const done = r.status === 'Success' || r.status === 'Failed' ? 1 : 0;
    return {
      ExecutionId: this.children.id(i),
      TemplateName: this.templateName,
      TemplateVersion: this.templateVersion,
      TemplateId: this.templateId,
      Status: r.status,
      StatusMessage: statusMessage,
      StatusReason: r.cause ? r.cause.errorCode : '',
      ...this.itemFields(start, end, this.executionId),
      Outputs: ACTIVE.has(r.status) ? '{}' : JSON.stringify({ invocationOutput: r.output, exitCode: r.exitCode }),
      Parameters: { regionId: this.regionId, instanceId: r.resourceId, commandType: 'RunShellScript' },
      Counters: { Total: 1, Success: r.status === 'Success' ? 1 : 0, Failed: r.status === 'Failed' ? 1 : 0 },
      ResourceStatus: JSON.stringify(done ? { [r.status]: 1 } : {}),
      Tags: { ...this.tags },
      ResourceGroupId: this.resourceGroupId,
      Description: '',
    };
  }

  /** The fields the parent's and its children's ListExecutions items share (`parentId` '' for the parent). */
  private itemFields(start: string, end: string, parentId: string) {
    return {
      Mode: this.mode,
      Category: this.category,
      ParentExecutionId: parentId,
      IsParent: parentId === '',
      StartDate: start,
      EndDate: end,
      CreateDate: start,
      UpdateDate: end || start,
      ExecutedBy: this.executedBy,
      RamRole: this.ramRole,
    };
  }

  /** The parent execution as a ListExecutions item. */
  parent(): ExecutionItem {
    const c = this.counts();
    const status = this.status();
    const start = isoSeconds(this.startMs);
    const endMs = this.endMs();
    const end = endMs === undefined ? '' : isoSeconds(endMs);
    const failed = c.Failed ?? 0;
    return {
      ExecutionId: this.executionId,
      TemplateName: this.templateName,
      TemplateVersion: this.templateVersion,
      TemplateId: this.templateId,
      Status: status,
      StatusMessage: failed > 0 ? `${failed} of ${this.resources} child executions failed.` : '',
      StatusReason: failed > 0 ? 'ChildExecutionFailed' : '',
      ...this.itemFields(start, end, ''),
      Outputs: JSON.stringify({ resourceCount: this.resources, failedCount: failed }),
      Parameters: {
        regionId: this.regionId,
        targets: { Type: 'ResourceIds', RegionId: this.regionId },
        commandType: 'RunShellScript',
        rateControl: { Mode: 'Concurrency', MaxErrors: '100%', Concurrency: 20 },
      },
      Counters: { Total: this.resources, ...c },
      ResourceStatus: JSON.stringify(c),
      Tags: { ...this.tags },
      ResourceGroupId: this.resourceGroupId,
      Description: '',
    };
  }

  /**
   * Child indexes ordered by EndDate or Status (StartDate order is the index order and needs no table). Built on
   * demand and cached: 4 bytes per resource, only for the sort orders somebody asked for.
   */
  sortedChildren(field: 'EndDate' | 'Status'): Uint32Array {
    const cached = this.sortCache.get(field);
    if (cached) return cached;
    const idx = new Uint32Array(this.resources);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    if (field === 'EndDate') {
      // Active children have no EndDate: they sort as the latest.
      const ends = new Float64Array(this.resources);
      for (let i = 0; i < ends.length; i++) ends[i] = this.childEndMs(i) ?? Number.MAX_SAFE_INTEGER;
      idx.sort((a, b) => (ends[a] ?? 0) - (ends[b] ?? 0) || a - b);
    } else {
      const st = Array.from({ length: this.resources }, (_, i) => this.statusOf(i));
      idx.sort((a, b) => ((st[a] ?? '') < (st[b] ?? '') ? -1 : (st[a] ?? '') > (st[b] ?? '') ? 1 : a - b));
    }
    this.sortCache.set(field, idx);
    return idx;
  }

  info(): ExecutionInfo {
    const endMs = this.endMs();
    return {
      regionId: this.regionId,
      executionId: this.executionId,
      templateName: this.templateName,
      resources: this.resources,
      status: this.status(),
      startedAt: isoSeconds(this.startMs),
      endedAt: endMs === undefined ? '' : isoSeconds(endMs),
      counts: { ...this.counts() },
      tags: { ...this.tags },
      mode: this.mode,
      category: this.category,
      resourceGroupId: this.resourceGroupId,
    };
  }
}
