/**
 * OOS 2019-06-01: ListResourceExecutionStatus and ListExecutions (protocols §3.2, §3.3).
 */
import { KNOWN_REGION_IDS, parseIsoUtc, type ExecutionDataset, type ExecutionItem } from '../datasets';
import type { Handler, HandlerContext } from './context';
import { Errors } from './errors';
import { StaleCursorError, countMatches, scanPage, type Cursor, type Segment } from './pagination';

/** The OOS API version this module serves. */
export const OOS_VERSION = '2019-06-01';

const EXECUTION_STATUSES = ['Running', 'Started', 'Success', 'Failed', 'Waiting', 'Cancelled', 'Pending', 'Skipped', 'Queued'] as const;

function regionOf(ctx: HandlerContext): string {
  const regionId = ctx.params.required('RegionId');
  // The OOS docs do not list a region error; be strict with the generic InvalidParameter.
  if (!KNOWN_REGION_IDS.includes(regionId)) throw Errors.invalidParameter('RegionId');
  return regionId;
}

/** OOS page size: 10–100, default 50; anything else (0, 5, 101, 'abc', 2.5) is InvalidParameter. */
function maxResults(ctx: HandlerContext): number {
  return ctx.params.int('MaxResults', { min: 10, max: 100, def: 50 });
}

function cursorOf(ctx: HandlerContext, scope: string): Cursor | undefined {
  const token = ctx.params.get('NextToken');
  if (token === undefined) return undefined;
  const c = ctx.tokens.decode(scope, token);
  if (!c) throw Errors.invalidParameter('NextToken');
  return c;
}

function page(
  ctx: HandlerContext,
  scope: string,
  segments: Segment[],
  max: number,
  emptyPages: ReadonlySet<number>,
): { hits: { seg: number; index: number }[]; nextToken: string } {
  const cursor = cursorOf(ctx, scope);
  const pageNo = cursor?.page ?? 0;
  if (emptyPages.has(pageNo)) {
    // Real services sometimes answer a page with no items but a NextToken; the client must keep going.
    const at = cursor ?? { seg: segments[0]?.key ?? 0, index: 0 };
    return { hits: [], nextToken: ctx.tokens.encode(scope, { seg: at.seg, index: at.index, page: pageNo + 1 }) };
  }
  try {
    const { hits, next } = scanPage(segments, cursor && segments.length ? cursor : undefined, max);
    return { hits, nextToken: next ? ctx.tokens.encode(scope, { ...next, page: pageNo + 1 }) : '' };
  } catch (e) {
    if (e instanceof StaleCursorError) throw Errors.invalidParameter('NextToken');
    throw e;
  }
}

const listResourceExecutionStatus: Handler = (ctx) => {
  const regionId = regionOf(ctx);
  const executionId = ctx.params.required('ExecutionId');
  const max = maxResults(ctx);
  const found = ctx.data.findExecution(regionId, executionId);
  if (!found) throw Errors.executionNotFound();
  const { parent, child } = found;
  const scope = `ListResourceExecutionStatus\n${regionId}\n${executionId}`;
  const segments: Segment[] = [{ key: parent.seq, length: child === undefined ? parent.resources : 1 }];
  const { hits, nextToken } = page(ctx, scope, segments, max, child === undefined ? parent.emptyPages : new Set());
  return {
    MaxResults: max,
    NextToken: nextToken,
    ResourceExecutionStatus: hits.map((h) => parent.row(child ?? h.index)),
  };
};

function isoFilter(ctx: HandlerContext, name: string): number | undefined {
  const v = ctx.params.get(name);
  if (v === undefined) return undefined;
  const ms = parseIsoUtc(v);
  if (ms === undefined) throw Errors.invalidParameter(name, 'Use ISO 8601 UTC, e.g. 2019-05-16T10:26:14Z.');
  return ms;
}

interface ExecFilter {
  status?: string;
  templateName?: string;
  startAfter?: number;
  startBefore?: number;
  endAfter?: number;
  endBefore?: number;
}

/** Date filters are inclusive (docs silent). An execution without EndDate never matches an EndDate filter. */
function matchesTimes(f: ExecFilter, startMs: number, endMs: number | undefined): boolean {
  if (f.startAfter !== undefined && startMs < f.startAfter) return false;
  if (f.startBefore !== undefined && startMs > f.startBefore) return false;
  if (f.endAfter !== undefined && (endMs === undefined || endMs < f.endAfter)) return false;
  if (f.endBefore !== undefined && (endMs === undefined || endMs > f.endBefore)) return false;
  return true;
}

/** Status filter is an exact match on the execution's Status (docs silent on grouping). */
function matchesParent(f: ExecFilter, p: ExecutionDataset): boolean {
  if (f.status !== undefined && p.status() !== f.status) return false;
  if (f.templateName !== undefined && !p.templateName.includes(f.templateName)) return false;
  return matchesTimes(f, p.startMs, p.endMs());
}

const listExecutions: Handler = (ctx) => {
  const regionId = regionOf(ctx);
  const max = maxResults(ctx);
  const p = ctx.params;
  const filter: ExecFilter = {
    status: p.oneOf('Status', EXECUTION_STATUSES),
    templateName: p.get('TemplateName'),
    startAfter: isoFilter(ctx, 'StartDateAfter'),
    startBefore: isoFilter(ctx, 'StartDateBefore'),
    endAfter: isoFilter(ctx, 'EndDateAfter'),
    endBefore: isoFilter(ctx, 'EndDateBefore'),
  };
  const sortField = p.oneOf('SortField', ['StartDate', 'EndDate', 'Status'] as const, 'StartDate') ?? 'StartDate';
  const sortOrder = p.oneOf('SortOrder', ['Descending', 'Ascending'] as const, 'Descending') ?? 'Descending';
  const executionId = p.get('ExecutionId');
  const parentId = p.get('ParentExecutionId');
  // Bound to every filter and the sort, not to MaxResults.
  const scopeParams = ['ExecutionId', 'ParentExecutionId', 'Status', 'TemplateName', 'StartDateAfter', 'StartDateBefore', 'EndDateAfter', 'EndDateBefore']
    .map((k) => `${k}=${p.get(k) ?? ''}`)
    .join('&');
  const scope = `ListExecutions\n${regionId}\n${scopeParams}\n${sortField}:${sortOrder}`;

  let segments: Segment[];
  let get: (index: number) => ExecutionItem;
  let emptyPages: ReadonlySet<number> = new Set();
  // Only scans over a (immutable) parent's children are worth caching; the top-level list changes as data is added.
  let total: number | undefined;

  if (executionId !== undefined) {
    const found = ctx.data.findExecution(regionId, executionId);
    let item: ExecutionItem | undefined;
    if (found) {
      const { parent, child } = found;
      const ok =
        child === undefined
          ? matchesParent(filter, parent) && (parentId === undefined)
          : (parentId === undefined || parentId === parent.executionId) &&
            (filter.status === undefined || parent.statusOf(child) === filter.status) &&
            (filter.templateName === undefined || parent.templateName.includes(filter.templateName)) &&
            matchesTimes(filter, parent.childStartMs(child), parent.childEndMs(child));
      if (ok) item = child === undefined ? parent.parent() : parent.child(child);
    }
    segments = [{ key: 1, length: item ? 1 : 0 }];
    get = () => item as ExecutionItem;
  } else if (parentId !== undefined) {
    const parent = ctx.data.getExecution(regionId, parentId);
    if (!parent) {
      segments = [{ key: 1, length: 0 }];
      get = () => {
        throw new Error('unreachable');
      };
    } else {
      const n = parent.resources;
      const desc = sortOrder === 'Descending';
      const table = sortField === 'StartDate' ? undefined : parent.sortedChildren(sortField);
      const order = (pos: number): number => {
        const q = desc ? n - 1 - pos : pos;
        return table ? (table[q] ?? 0) : q;
      };
      const templateOk = filter.templateName === undefined || parent.templateName.includes(filter.templateName);
      const needsMatch =
        filter.status !== undefined ||
        filter.startAfter !== undefined ||
        filter.startBefore !== undefined ||
        filter.endAfter !== undefined ||
        filter.endBefore !== undefined;
      segments = [
        {
          key: parent.seq,
          length: templateOk ? n : 0,
          match: needsMatch
            ? (pos) => {
                const i = order(pos);
                if (filter.status !== undefined && parent.statusOf(i) !== filter.status) return false;
                return matchesTimes(filter, parent.childStartMs(i), parent.childEndMs(i));
              }
            : undefined,
        },
      ];
      get = (pos) => parent.child(order(pos));
      emptyPages = parent.emptyPages;
      total = ctx.counts.get(scope, () => countMatches(segments));
    }
  } else {
    // Top level: parent executions only (IncludeChildExecution/Depth are not emulated).
    const items = ctx.data
      .listExecutions(regionId)
      .filter((e) => matchesParent(filter, e))
      .map((e) => e.parent());
    const key = (e: ExecutionItem) => (sortField === 'Status' ? e.Status : sortField === 'EndDate' ? e.EndDate || '~' : e.StartDate);
    items.sort((a, b) => {
      const c = key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.ExecutionId < b.ExecutionId ? -1 : 1;
      return sortOrder === 'Descending' ? -c : c;
    });
    segments = [{ key: 1, length: items.length }];
    get = (i) => items[i] as ExecutionItem;
  }

  total ??= countMatches(segments);
  const { hits, nextToken } = page(ctx, scope, segments, max, emptyPages);
  return {
    MaxResults: max,
    NextToken: nextToken,
    TotalCount: total,
    Executions: hits.map((h) => get(h.index)),
  };
};

/** Action name → handler. */
export const OOS_HANDLERS: Readonly<Record<string, Handler>> = {
  ListResourceExecutionStatus: listResourceExecutionStatus,
  ListExecutions: listExecutions,
};
