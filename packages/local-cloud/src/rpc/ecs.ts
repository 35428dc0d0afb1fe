/**
 * ECS 2014-05-26, Cloud Assistant: DescribeInvocationResults and DescribeInvocations (protocols §4).
 */
import { jsonArrayInSlices } from './json-text';
import {
  COMMAND_TYPES,
  KNOWN_REGION_IDS,
  invokeRecordStatus,
  isFinalStatus,
  isoSeconds,
  legacyInvokeStatus,
  overallStatus,
  type InstanceStatus,
  type InvocationDataset,
  type LegacyDrift,
  type DeliveryState,
  type RunResult,
} from '../datasets';
import type { Handler, HandlerContext } from './context';
import { Errors } from './errors';
import { StaleCursorError, countMatches, nthMatch, scanPage, type Position, type Segment } from './pagination';

/** The ECS API version this module serves. */
export const ECS_VERSION = '2014-05-26';

const RECORD_STATUSES = ['Running', 'Finished', 'Success', 'Failed', 'PartialFailed', 'Stopped', 'Stopping'] as const;
const INVOKE_STATUSES = ['Running', 'Finished', 'Success', 'Failed', 'Stopped', 'Stopping', 'PartialFailed', 'Pending', 'Scheduled'] as const;
const TIMEOUT_S = 600;

function regionOf(ctx: HandlerContext): string {
  const regionId = ctx.params.required('RegionId');
  if (!KNOWN_REGION_IDS.includes(regionId)) throw Errors.regionNotFound();
  return regionId;
}

/** A `Tag.N.Key` / `Tag.N.Value` filter; no value means "any value". */
interface TagFilter {
  key: string;
  value?: string;
}

/** The region and the ids both Cloud Assistant listings filter by: InvokeId, InstanceId and CommandId (each optional). */
function taskIds(ctx: HandlerContext): { regionId: string; invokeId?: string | undefined; instanceId?: string | undefined; commandId?: string | undefined } {
  const regionId = regionOf(ctx);
  return { regionId, invokeId: ctx.params.get('InvokeId'), instanceId: ctx.params.get('InstanceId'), commandId: ctx.params.get('CommandId') };
}

/**
 * The documented tag filter: `Tag.N.Key` / `Tag.N.Value`, N = 1..20. A task matches when it carries every listed tag
 * (with that value, when one is given). The docs are silent on malformed lists; the stricter answers are chosen: N
 * outside 1..20 is InvalidParameter, a value without its key is MissingParameter `Tag.N.Key`.
 */
function tagFilters(ctx: HandlerContext): TagFilter[] {
  const byN = new Map<number, { key?: string; value?: string }>();
  for (const [name, v] of Object.entries(ctx.params.all)) {
    const m = /^Tag\.([^.]*)\.(Key|Value)$/.exec(name);
    if (!m) continue;
    const n = /^\d{1,2}$/.test(m[1] ?? '') ? Number(m[1]) : NaN;
    if (!(n >= 1 && n <= 20)) throw Errors.invalidParameter(name, 'N must be 1 to 20.');
    const t = byN.get(n) ?? {};
    if (v !== '') t[m[2] === 'Key' ? 'key' : 'value'] = v;
    byN.set(n, t);
  }
  const out: TagFilter[] = [];
  for (const [n, t] of [...byN].sort(([a], [b]) => a - b)) {
    if (t.key === undefined) {
      if (t.value !== undefined) throw Errors.missingParameter(`Tag.${n}.Key`);
      continue;
    }
    out.push(t.value === undefined ? { key: t.key } : { key: t.key, value: t.value });
  }
  return out;
}

function matchesTags(ds: InvocationDataset, want: readonly TagFilter[]): boolean {
  return want.every((w) => ds.tags.some((t) => t.TagKey === w.key && (w.value === undefined || t.TagValue === w.value)));
}

/**
 * A NextToken's scope (a token is valid only for the same request): the action, the region, every filter as
 * `Name=value` (`Name=` when absent) and the tag filters, one a line.
 */
function pageScope(action: string, regionId: string, filters: Record<string, string | boolean | undefined>, tags: readonly TagFilter[]): string {
  return [action, regionId, ...Object.entries(filters).map(([name, value]) => `${name}=${value ?? ''}`), `Tags=${JSON.stringify(tags)}`].join('\n');
}

/** `Base64` (default) or `PlainText`, case-sensitive as documented. */
function base64Wanted(ctx: HandlerContext): boolean {
  return ctx.params.oneOf('ContentEncoding', ['PlainText', 'Base64'] as const, 'Base64') === 'Base64';
}

function encodeText(text: string, base64: boolean): string {
  return base64 ? Buffer.from(text, 'utf8').toString('base64') : text;
}

const iso = (ms: number | undefined) => (ms === undefined ? '' : isoSeconds(ms));

interface Paging {
  /** 'token': MaxResults/NextToken given (PageNumber/PageSize ignored, TotalCount not computed). */
  mode: 'token' | 'legacy';
  size: number;
  pageNumber: number;
}

/**
 * Every paging parameter is range-checked even when it is ignored (stricter than documented): MaxResults 1–50
 * (`InvalidParameter.MaxResults`), PageNumber ≥ 1 (`InvalidParam.PageNumber`), PageSize 1–50 (`InvalidParam.PageSize`).
 */
function pagingOf(ctx: HandlerContext): Paging {
  const p = ctx.params;
  const max = p.int('MaxResults', { min: 1, max: 50, def: 10 }, Errors.ecsMaxResults);
  const pageNumber = p.int('PageNumber', { min: 1, max: 1e15, def: 1 }, Errors.ecsPageNumber);
  const pageSize = p.int('PageSize', { min: 1, max: 50, def: 10 }, Errors.ecsPageSize);
  if (p.has('MaxResults') || p.has('NextToken')) return { mode: 'token', size: max, pageNumber: 1 };
  return { mode: 'legacy', size: pageSize, pageNumber };
}

interface PageOut {
  hits: { seg: number; index: number }[];
  nextToken: string;
  pageSize: number;
  pageNumber: number;
  totalCount: number;
}

/**
 * One page in either mode. Token mode answers `TotalCount: 0` (the docs say it is not valid then; 0 makes a client
 * that relies on it visibly wrong). Without any paging parameter it is legacy page 1 of 10, which also carries a
 * NextToken, so either style can continue from the first answer.
 *
 * Legacy mode, where the docs are silent (they call PageNumber/PageSize "about to be deprecated" and say only that
 * PageNumber starts at 1 and PageSize is at most 50): records come in the same order as in token mode, page N holds
 * records (N−1)·PageSize onwards, every page carries the TotalCount of the query, and a PageNumber past the last page
 * is an empty page with that TotalCount and `NextToken: ""` (as the other ECS Describe calls answer), not an error.
 * The stricter choice is in the ranges: PageNumber and PageSize are range-checked even when MaxResults/NextToken make
 * them ignored. `legacyDrift` (tests only) makes the legacy pages disagree with themselves.
 */
function paginate(
  ctx: HandlerContext,
  scope: string,
  segments: Segment[],
  emptyPages: ReadonlySet<number>,
  cacheable: boolean,
  drift: Readonly<LegacyDrift> = {},
): PageOut {
  const paging = pagingOf(ctx);
  const token = ctx.params.get('NextToken');
  try {
    if (paging.mode === 'token') {
      let from: Position | undefined;
      let pageNo = 0;
      if (token !== undefined) {
        const c = ctx.tokens.decode(scope, token);
        if (!c) throw Errors.ecsNextToken();
        from = c;
        pageNo = c.page;
      }
      if (emptyPages.has(pageNo)) {
        const at = from ?? { seg: segments[0]?.key ?? 0, index: 0 };
        return {
          hits: [],
          nextToken: ctx.tokens.encode(scope, { ...at, page: pageNo + 1 }),
          pageSize: paging.size,
          pageNumber: 1,
          totalCount: 0,
        };
      }
      const { hits, next } = scanPage(segments, from && segments.length ? from : undefined, paging.size);
      return {
        hits,
        nextToken: next ? ctx.tokens.encode(scope, { ...next, page: pageNo + 1 }) : '',
        pageSize: paging.size,
        pageNumber: 1,
        totalCount: 0,
      };
    }
    const count = () => countMatches(segments);
    const counted = cacheable ? ctx.counts.get(`${scope}\n${segments.map((s) => s.key).join(',')}`, count) : count();
    const after = (from: number | undefined) => from !== undefined && paging.pageNumber >= from;
    const totalCount = counted + (after(drift.totalCountFromPage) ? (drift.totalCountDelta ?? 1) : 0);
    const start = nthMatch(segments, Math.max(0, (paging.pageNumber - 1) * paging.size - (after(drift.shiftFromPage) ? 1 : 0)));
    const { hits, next } = start ? scanPage(segments, start, paging.size) : { hits: [], next: undefined };
    return {
      hits,
      nextToken: next ? ctx.tokens.encode(scope, { ...next, page: paging.pageNumber }) : '',
      pageSize: paging.size,
      pageNumber: paging.pageNumber,
      totalCount,
    };
  } catch (e) {
    if (e instanceof StaleCursorError) throw Errors.ecsNextToken();
    throw e;
  }
}

/** Does a record with per-instance status `s` match the `InvokeRecordStatus` filter? */
function matchesRecordStatus(s: InstanceStatus, want: string): boolean {
  if (want === 'Success') return s === 'Success';
  if (want === 'Failed') return s === 'Failed' || invokeRecordStatus(s) === 'Failed';
  return invokeRecordStatus(s) === want;
}

function resultItem(ds: InvocationDataset, r: RunResult, base64: boolean, delivery: DeliveryState): Record<string, unknown> {
  return {
    CommandId: ds.commandId,
    InvokeId: ds.invokeId,
    InstanceId: r.instanceId,
    InvocationStatus: r.status,
    InvokeRecordStatus: invokeRecordStatus(r.status),
    ExitCode: r.exitCode,
    ErrorCode: r.errorCode,
    ErrorInfo: r.errorInfo,
    Output: encodeText(r.output, base64),
    Dropped: r.dropped,
    StartTime: iso(r.startMs),
    FinishedTime: iso(r.finishMs),
    StopTime: iso(r.stopMs),
    Repeats: r.repeats,
    Username: 'root',
    ContainerId: '',
    ContainerName: '',
    TerminationMode: 'Process',
    Launcher: '',
    OssOutputDelivery: ds.ossOutputDelivery,
    OssOutputStatus: delivery.status,
    OssOutputUri: delivery.uri,
    OssOutputErrorCode: delivery.errorCode,
    OssOutputErrorInfo: delivery.errorInfo,
    Tags: { Tag: ds.tags },
  };
}

const describeInvocationResults: Handler = (ctx) => {
  const { regionId, invokeId, instanceId, commandId } = taskIds(ctx);
  const p = ctx.params;
  const recordStatus = p.oneOf('InvokeRecordStatus', RECORD_STATUSES);
  const tags = tagFilters(ctx);
  const resourceGroupId = p.get('ResourceGroupId');
  // The API reference and the SDK models say IncludeHistory=true needs InvokeId, and are silent on what happens
  // without it; the stricter answer is chosen: 400 MissingParameter "InvokeId" rather than ignoring the flag.
  const history = p.bool('IncludeHistory', false);
  if (history && invokeId === undefined) throw Errors.includeHistoryNeedsInvokeId();
  const base64 = base64Wanted(ctx);

  let datasets: InvocationDataset[];
  if (invokeId !== undefined) {
    // An unknown InvokeId is a filter that matches nothing: an empty list, not an error.
    const ds = ctx.data.getInvocation(regionId, invokeId);
    datasets = ds ? [ds] : [];
  } else {
    datasets = ctx.data.listInvocations(regionId);
  }
  // Tags and resource group belong to the task: they select whole tasks, never single records.
  datasets = datasets.filter(
    (d) =>
      (commandId === undefined || d.commandId === commandId) &&
      (resourceGroupId === undefined || d.resourceGroupId === resourceGroupId) &&
      matchesTags(d, tags),
  );

  const bases = new Map<number, { ds: InvocationDataset; base: number }>();
  const segments: Segment[] = [];
  for (const ds of datasets) {
    let base = 0;
    let length = ds.recordCount(history);
    if (instanceId !== undefined) {
      const local = ds.localIndexOf(instanceId);
      if (local === undefined) continue;
      base = history ? local * ds.repeats : local;
      length = history ? ds.repeats : 1;
    }
    bases.set(ds.seq, { ds, base });
    const match =
      recordStatus === undefined
        ? undefined
        : (i: number) => {
            const a = ds.recordAddress(base + i, history);
            return matchesRecordStatus(ds.statusOf(a.local, a.run, ctx.now), recordStatus);
          };
    segments.push({ key: ds.seq, length, match });
  }

  const scope = pageScope('DescribeInvocationResults', regionId, {
    InvokeId: invokeId,
    InstanceId: instanceId,
    CommandId: commandId,
    InvokeRecordStatus: recordStatus,
    IncludeHistory: history,
    ResourceGroupId: resourceGroupId,
  }, tags);
  const single = invokeId !== undefined && datasets[0] ? datasets[0] : undefined;
  const out = paginate(
    ctx,
    scope,
    segments,
    single?.emptyPages ?? new Set(),
    datasets.every((d) => !d.simulation),
    single?.legacyDrift,
  );
  const items = out.hits.map((h) => {
    const b = bases.get(h.seg);
    if (!b) throw new Error('segment without dataset');
    const a = b.ds.recordAddress(b.base + h.index, history);
    const r = b.ds.result(a.local, a.run, ctx.now);
    return resultItem(b.ds, r, base64, ctx.data.deliveryOf(b.ds, r, ctx.now));
  });
  return {
    Invocation: {
      PageSize: out.pageSize,
      PageNumber: out.pageNumber,
      TotalCount: out.totalCount,
      NextToken: out.nextToken,
      InvocationResults: { InvocationResult: items },
    },
  };
};

/** Per-instance status as DescribeInvocations shows it: a periodic task's finished instances wait for their next run. */
function instanceStatus(ds: InvocationDataset, s: InstanceStatus): InstanceStatus {
  return ds.periodic && isFinalStatus(s) ? 'Scheduled' : s;
}

/** The deprecated per-instance `InstanceInvokeStatus`: the same coarse states as a record's InvokeRecordStatus. */
const instanceInvokeStatus = invokeRecordStatus;

function overallOf(ds: InvocationDataset, now: number, onlyLocal?: number): string {
  if (onlyLocal !== undefined) {
    return overallStatus({ [instanceStatus(ds, ds.statusOf(onlyLocal, ds.repeats, now))]: 1 });
  }
  const counts = ds.counts(now);
  if (!ds.periodic) return overallStatus(counts);
  const mapped: Record<string, number> = {};
  for (const [s, n] of Object.entries(counts)) {
    const k = instanceStatus(ds, s as InstanceStatus);
    mapped[k] = (mapped[k] ?? 0) + (n ?? 0);
  }
  return overallStatus(mapped);
}

/** The seeded tasks run once or periodically (`rate(5m)`); none is a reboot task. */
const REPEAT_MODES = ['Once', 'Period', 'NextRebootOnly', 'EveryReboot'] as const;
const repeatModeOf = (ds: InvocationDataset) => (ds.periodic ? 'Period' : 'Once');

const FINISHED_OVERALL: ReadonlySet<string> = new Set(['Success', 'Failed', 'PartialFailed', 'Stopped']);

/**
 * DescribeInvocations. An invocation is described with every instance (an invocation over 100,000 instances is one
 * answer of ~45 MB): its instances are built and serialized a slice at a time (json-text.ts), so the requests that
 * come in meanwhile (the same invocation's result pages, as a collector reads them beside this call) are served
 * between the slices and not after the whole answer. The time and the run reported are fixed as the request comes in.
 */
const describeInvocations: Handler = async (ctx) => {
  const { regionId, invokeId, instanceId, commandId } = taskIds(ctx);
  const p = ctx.params;
  const commandName = p.get('CommandName');
  const invokeStatus = p.oneOf('InvokeStatus', INVOKE_STATUSES);
  const commandType = p.oneOf('CommandType', COMMAND_TYPES);
  const repeatMode = p.oneOf('RepeatMode', REPEAT_MODES);
  const timed = p.has('Timed') ? p.bool('Timed', false) : undefined;
  const resourceGroupId = p.get('ResourceGroupId');
  const tags = tagFilters(ctx);
  // Docs: IncludeOutput needs InvokeId or InstanceId; without either it is ignored (no Output), not an error.
  const includeOutput = p.bool('IncludeOutput', false) && (invokeId !== undefined || instanceId !== undefined);
  const base64 = base64Wanted(ctx);

  const candidates = invokeId !== undefined ? [ctx.data.getInvocation(regionId, invokeId)] : ctx.data.listInvocations(regionId);
  const rows: { ds: InvocationDataset; local?: number; overall: string }[] = [];
  for (const ds of candidates) {
    if (!ds) continue;
    if (commandId !== undefined && ds.commandId !== commandId) continue;
    if (commandName !== undefined && ds.commandName !== commandName) continue;
    if (commandType !== undefined && ds.commandType !== commandType) continue;
    if (repeatMode !== undefined && repeatModeOf(ds) !== repeatMode) continue;
    if (timed !== undefined && ds.periodic !== timed) continue;
    if (resourceGroupId !== undefined && ds.resourceGroupId !== resourceGroupId) continue;
    if (!matchesTags(ds, tags)) continue;
    let local: number | undefined;
    if (instanceId !== undefined) {
      local = ds.localIndexOf(instanceId);
      if (local === undefined) continue;
    }
    const overall = overallOf(ds, ctx.now, local);
    if (invokeStatus !== undefined) {
      const ok = invokeStatus === 'Finished' ? FINISHED_OVERALL.has(overall) : overall === invokeStatus;
      if (!ok) continue;
    }
    rows.push({ ds, local, overall });
  }

  const scope = pageScope('DescribeInvocations', regionId, {
    InvokeId: invokeId,
    InstanceId: instanceId,
    CommandId: commandId,
    CommandName: commandName,
    InvokeStatus: invokeStatus,
    CommandType: commandType,
    RepeatMode: repeatMode,
    Timed: timed,
    ResourceGroupId: resourceGroupId,
  }, tags);
  // One segment over the (newest-first) task list; the key is fixed, the index is the position in that list.
  const out = paginate(ctx, scope, [{ key: 1, length: rows.length }], new Set(), false);
  const invocations: Record<string, unknown>[] = [];
  for (const h of out.hits) {
    const row = rows[h.index];
    if (!row) throw new Error('page index out of range');
    const { ds, local, overall } = row;
    const run = ds.repeats;
    const instance = (i: number) => {
      const r = ds.result(i, run, ctx.now);
      const status = instanceStatus(ds, r.status);
      const delivery = ctx.data.deliveryOf(ds, r, ctx.now);
      return {
        InstanceId: r.instanceId,
        InvocationStatus: status,
        InstanceInvokeStatus: instanceInvokeStatus(r.status),
        ExitCode: r.exitCode,
        ErrorCode: r.errorCode,
        ErrorInfo: r.errorInfo,
        Output: includeOutput ? encodeText(r.output, base64) : '',
        Dropped: r.dropped,
        Repeats: r.repeats,
        CreationTime: isoSeconds(ds.createdMs),
        StartTime: iso(r.startMs),
        FinishTime: iso(r.finishMs),
        StopTime: iso(r.stopMs),
        UpdateTime: iso(r.updateMs),
        Timed: ds.periodic,
        OssOutputStatus: delivery.status,
        OssOutputUri: delivery.uri,
        OssOutputErrorCode: delivery.errorCode,
        OssOutputErrorInfo: delivery.errorInfo,
      };
    };
    const instances = await jsonArrayInSlices(local !== undefined ? 1 : ds.instances, (i) => instance(local ?? i));
    invocations.push({
      InvokeId: ds.invokeId,
      CommandId: ds.commandId,
      CommandName: ds.commandName,
      CommandType: ds.commandType,
      CommandContent: encodeText(ds.commandContent, base64),
      CommandDescription: '',
      Parameters: '{}',
      OssOutputDelivery: ds.ossOutputDelivery,
      InvocationStatus: overall,
      InvokeStatus: legacyInvokeStatus(overall),
      RepeatMode: repeatModeOf(ds),
      Timed: ds.periodic,
      Frequency: ds.periodic ? 'rate(5m)' : '',
      Timeout: TIMEOUT_S,
      CreationTime: isoSeconds(ds.createdMs),
      Username: 'root',
      WorkingDir: '/root',
      ContainerId: '',
      ContainerName: '',
      Launcher: '',
      TerminationMode: 'Process',
      Tags: { Tag: ds.tags },
      InvokeInstances: { InvokeInstance: instances },
    });
  }
  return {
    PageSize: out.pageSize,
    PageNumber: out.pageNumber,
    TotalCount: out.totalCount,
    NextToken: out.nextToken,
    Invocations: { Invocation: invocations },
  };
};

/** Action name → handler. */
export const ECS_HANDLERS: Readonly<Record<string, Handler>> = {
  DescribeInvocationResults: describeInvocationResults,
  DescribeInvocations: describeInvocations,
};
