/**
 * OOS 2019-06-01: ListResourceExecutionStatus and ListExecutions (protocols §3.2, §3.3).
 */
import { EXECUTION_CATEGORIES, EXECUTION_MODES, KNOWN_REGION_IDS, isoSeconds, parseIsoUtc, type ExecutionDataset, type ExecutionItem } from '../datasets';
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
  mode?: string;
  categories?: ReadonlySet<string>;
  tags?: Readonly<Record<string, string>>;
  resourceId?: string;
  resourceGroupId?: string;
  executedBy?: string;
  ramRole?: string;
  description?: string;
  resourceTemplateName?: string;
}

/** Date filters are inclusive (docs silent). An execution without EndDate never matches an EndDate filter. */
function matchesTimes(f: ExecFilter, startMs: number, endMs: number | undefined): boolean {
  if (f.startAfter !== undefined && startMs < f.startAfter) return false;
  if (f.startBefore !== undefined && startMs > f.startBefore) return false;
  if (f.endAfter !== undefined && (endMs === undefined || endMs < f.endAfter)) return false;
  if (f.endBefore !== undefined && (endMs === undefined || endMs > f.endBefore)) return false;
  return true;
}

/**
 * The filters whose value is the same for a parent and its children (the children of a loop execution carry the
 * parent's template, mode, category, tags, resource group, caller and role).
 * - TemplateName matches names that contain it; Tags matches when every given tag is there with that value.
 * - Description and ResourceTemplateName: the seeded executions have an empty description and were not started from a
 *   resource template, so any value selects nothing (never everything).
 */
function matchesShared(f: ExecFilter, p: ExecutionDataset): boolean {
  if (f.templateName !== undefined && !p.templateName.includes(f.templateName)) return false;
  if (f.mode !== undefined && p.mode !== f.mode) return false;
  if (f.categories !== undefined && !f.categories.has(p.category)) return false;
  if (f.tags !== undefined && !Object.entries(f.tags).every(([k, v]) => p.tags[k] === v)) return false;
  if (f.resourceGroupId !== undefined && p.resourceGroupId !== f.resourceGroupId) return false;
  if (f.executedBy !== undefined && p.executedBy !== f.executedBy) return false;
  if (f.ramRole !== undefined && p.ramRole !== f.ramRole) return false;
  if (f.description !== undefined || f.resourceTemplateName !== undefined) return false;
  return true;
}

/**
 * Status filter is an exact match on the execution's Status (docs silent on grouping). ResourceId selects the
 * executions that ran on that resource: a parent whose targets include it, and the one child that ran on it.
 */
function matchesParent(f: ExecFilter, p: ExecutionDataset): boolean {
  if (f.status !== undefined && p.status() !== f.status) return false;
  if (f.resourceId !== undefined && p.indexOfResource(f.resourceId) === undefined) return false;
  return matchesShared(f, p) && matchesTimes(f, p.startMs, p.endMs());
}

/** Child `i` of `p` (shared filters checked separately). */
function matchesChild(f: ExecFilter, p: ExecutionDataset, i: number): boolean {
  if (f.status !== undefined && p.statusOf(i) !== f.status) return false;
  if (f.resourceId !== undefined && p.resourceId(i) !== f.resourceId) return false;
  return matchesTimes(f, p.childStartMs(i), p.childEndMs(i));
}

/** `Tags` is a JSON object of strings (`{"team":"ops"}`), as the API metadata types it; anything else is refused. */
function tagsParam(ctx: HandlerContext): Record<string, string> | undefined {
  const raw = ctx.params.get('Tags');
  if (raw === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw Errors.invalidParameter('Tags', 'Tags must be a JSON object such as {"k1":"v1"}.');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw Errors.invalidParameter('Tags', 'Tags must be a JSON object of strings such as {"k1":"v1"}.');
  }
  return v as Record<string, string>;
}

/** `Category` and `Categories` (a JSON array); both given select the executions in both. */
function categoriesParam(ctx: HandlerContext): ReadonlySet<string> | undefined {
  const one = ctx.params.oneOf('Category', EXECUTION_CATEGORIES);
  const raw = ctx.params.get('Categories');
  let many: string[] | undefined;
  if (raw !== undefined) {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      v = undefined;
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && (EXECUTION_CATEGORIES as readonly string[]).includes(x))) {
      throw Errors.invalidParameter('Categories', `Categories must be a JSON array of ${EXECUTION_CATEGORIES.join(', ')}.`);
    }
    many = v as string[];
  }
  if (one === undefined && many === undefined) return undefined;
  if (one !== undefined && many !== undefined) return new Set(many.includes(one) ? [one] : []);
  return new Set(one !== undefined ? [one] : many);
}

/** Every parameter that selects executions, for the NextToken scope. */
const EXEC_FILTER_PARAMS = [
  'ExecutionId', 'ParentExecutionId', 'Status', 'TemplateName', 'StartDateAfter', 'StartDateBefore', 'EndDateAfter',
  'EndDateBefore', 'IncludeChildExecution', 'Depth', 'Mode', 'Category', 'Categories', 'Tags', 'ResourceId',
  'ResourceGroupId', 'ExecutedBy', 'RamRole', 'Description', 'ResourceTemplateName',
] as const;

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
    mode: p.oneOf('Mode', EXECUTION_MODES),
    categories: categoriesParam(ctx),
    tags: tagsParam(ctx),
    resourceId: p.get('ResourceId'),
    resourceGroupId: p.get('ResourceGroupId'),
    executedBy: p.get('ExecutedBy'),
    ramRole: p.get('RamRole'),
    description: p.get('Description'),
    resourceTemplateName: p.get('ResourceTemplateName'),
  };
  const sortField = p.oneOf('SortField', ['StartDate', 'EndDate', 'Status'] as const, 'StartDate') ?? 'StartDate';
  const sortOrder = p.oneOf('SortOrder', ['Descending', 'Ascending'] as const, 'Descending') ?? 'Descending';
  const executionId = p.get('ExecutionId');
  const parentId = p.get('ParentExecutionId');
  const includeChildren = p.bool('IncludeChildExecution', false);
  const depth = p.oneOf('Depth', ['RootDepth', 'FirstChildDepth'] as const);
  // The docs say to use Depth or IncludeChildExecution, not both, and are silent on what happens; refused (stricter).
  if (depth !== undefined && p.has('IncludeChildExecution')) {
    throw Errors.invalidParameter('Depth', 'Use Depth or IncludeChildExecution, not both.');
  }
  // Which levels are listed: parents (depth 0), their children (depth 1). ParentExecutionId lists children; an
  // ExecutionId names one execution of either level unless Depth says otherwise.
  const parentsWanted = parentId === undefined && depth !== 'FirstChildDepth';
  const childrenWanted = executionId !== undefined || parentId !== undefined ? depth !== 'RootDepth' : includeChildren || depth === 'FirstChildDepth';
  // Bound to every filter and the sort, not to MaxResults.
  const scopeParams = EXEC_FILTER_PARAMS.map((k) => `${k}=${p.get(k) ?? ''}`).join('&');
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
          ? parentsWanted && matchesParent(filter, parent)
          : childrenWanted &&
            (parentId === undefined || parentId === parent.executionId) &&
            matchesShared(filter, parent) &&
            matchesChild(filter, parent, child);
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
      const listed = childrenWanted && matchesShared(filter, parent);
      const needsMatch =
        filter.status !== undefined ||
        filter.resourceId !== undefined ||
        filter.startAfter !== undefined ||
        filter.startBefore !== undefined ||
        filter.endAfter !== undefined ||
        filter.endBefore !== undefined;
      segments = [
        {
          key: parent.seq,
          length: listed ? n : 0,
          match: needsMatch ? (pos) => matchesChild(filter, parent, order(pos)) : undefined,
        },
      ];
      get = (pos) => parent.child(order(pos));
      emptyPages = parent.emptyPages;
      total = ctx.counts.get(scope, () => countMatches(segments));
    }
  } else {
    // Top level: the parents and, with IncludeChildExecution or Depth=FirstChildDepth, their children, merged into
    // one list sorted as asked (ties by ExecutionId). Children are entries (parent, index) rendered only when a page
    // shows them; the list costs a few bytes per child of the region per request.
    const entries: { p: ExecutionDataset; i: number; key: string; id: string }[] = [];
    const keyOf = (status: string, startMs: number, endMs: number | undefined) =>
      sortField === 'Status' ? status : sortField === 'EndDate' ? (endMs === undefined ? '~' : isoSeconds(endMs)) : isoSeconds(startMs);
    for (const e of ctx.data.listExecutions(regionId)) {
      if (parentsWanted && matchesParent(filter, e)) entries.push({ p: e, i: -1, key: keyOf(e.status(), e.startMs, e.endMs()), id: e.executionId });
      if (!childrenWanted || !matchesShared(filter, e)) continue;
      const only = filter.resourceId !== undefined ? e.indexOfResource(filter.resourceId) : undefined;
      if (filter.resourceId !== undefined && only === undefined) continue;
      for (let i = only ?? 0; i < (only !== undefined ? only + 1 : e.resources); i++) {
        if (!matchesChild(filter, e, i)) continue;
        entries.push({ p: e, i, key: keyOf(e.statusOf(i), e.childStartMs(i), e.childEndMs(i)), id: e.children.id(i) });
      }
    }
    entries.sort((a, b) => {
      const c = a.key < b.key ? -1 : a.key > b.key ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
      return sortOrder === 'Descending' ? -c : c;
    });
    segments = [{ key: 1, length: entries.length }];
    get = (i) => {
      const en = entries[i];
      if (!en) throw new Error('page index out of range');
      return en.i < 0 ? en.p.parent() : en.p.child(en.i);
    };
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
