/**
 * OOS (2019-06-01) shapes and page walkers. Records are kept exactly as the API returns them; the interfaces list the
 * documented fields and an index signature so unknown fields survive into the archive.
 */
import { type RecordPage, type WalkOptions, toApiParams, walkRecords } from './paginate';
import type { RpcClient } from './rpc';

/** One resource (ECS instance) of an OOS execution, from ListResourceExecutionStatus. */
export interface ResourceExecutionStatus {
  ResourceId?: string;
  ExecutionId?: string;
  /** Undocumented value set (Success, Failed, Running, ...): handle unknown values. */
  Status?: string;
  /** ISO-8601 UTC. */
  ExecutionTime?: string;
  /** A string holding JSON (the template outputs). */
  Outputs?: string;
  [field: string]: unknown;
}

export type { RecordPage, WalkOptions };

/** The body of ListResourceExecutionStatus. */
export interface ListResourceExecutionStatusResponse {
  RequestId?: string;
  MaxResults?: number;
  NextToken?: string | null;
  ResourceExecutionStatus?: ResourceExecutionStatus[];
  [field: string]: unknown;
}

/** One OOS execution, from ListExecutions. */
export interface OosExecution {
  ExecutionId?: string;
  TemplateName?: string;
  TemplateId?: string;
  TemplateVersion?: string;
  Status?: string;
  StatusMessage?: string;
  StatusReason?: string;
  Mode?: string;
  Category?: string;
  ParentExecutionId?: string;
  IsParent?: boolean;
  StartDate?: string;
  EndDate?: string;
  CreateDate?: string;
  UpdateDate?: string;
  ExecutedBy?: string;
  RamRole?: string;
  /** JSON string. */
  Outputs?: string;
  Parameters?: Record<string, unknown>;
  Counters?: Record<string, unknown>;
  /** JSON string, e.g. `{"Success":1}`. */
  ResourceStatus?: string;
  CurrentTasks?: Array<{ TaskAction?: string; TaskExecutionId?: string; TaskName?: string; [field: string]: unknown }>;
  /** JSON string. */
  Targets?: string;
  Tags?: Record<string, unknown>;
  ResourceGroupId?: string;
  Description?: string;
  [field: string]: unknown;
}

/** The body of ListExecutions. */
export interface ListExecutionsResponse {
  RequestId?: string;
  MaxResults?: number;
  NextToken?: string | null;
  TotalCount?: number;
  Executions?: OosExecution[];
  [field: string]: unknown;
}

/** Page size of the OOS list calls: documented range 10–100; we default to the maximum to save calls. */
export const OOS_MAX_RESULTS = { min: 10, max: 100, default: 100 } as const;

function pageSize(maxResults: number | undefined): number {
  const n = Math.floor(maxResults ?? OOS_MAX_RESULTS.default);
  return Math.min(OOS_MAX_RESULTS.max, Math.max(OOS_MAX_RESULTS.min, Number.isFinite(n) ? n : OOS_MAX_RESULTS.default));
}

/**
 * Walks ListResourceExecutionStatus: the per-resource results of one execution.
 * @example for await (const page of listResourceExecutionStatus(oos, { executionId })) archive(page.records);
 */
export async function* listResourceExecutionStatus(
  client: RpcClient,
  options: WalkOptions & { executionId: string },
): AsyncGenerator<RecordPage<ResourceExecutionStatus>, void, undefined> {
  yield* walkRecords<ListResourceExecutionStatusResponse, ResourceExecutionStatus>({
    client,
    action: 'ListResourceExecutionStatus',
    params: { RegionId: client.regionId, ExecutionId: options.executionId, MaxResults: pageSize(options.maxResults) },
    walk: options,
    path: 'ResourceExecutionStatus',
    records: (page) => page.ResourceExecutionStatus,
    token: (page) => page.NextToken,
  });
}

/**
 * ListExecutions filters, named exactly as the API's request parameters (see the API doc for their semantics).
 * `Tags` and `Categories` may be given as an object / array; they are sent as the JSON strings the API expects.
 */
export interface ListExecutionsFilters extends WalkOptions {
  ExecutionId?: string;
  /** Matches any template name that contains the value. */
  TemplateName?: string;
  Status?: string;
  /** ISO-8601 UTC bounds, e.g. `2019-05-16T10:26:14Z`. */
  StartDateAfter?: string;
  StartDateBefore?: string;
  EndDateAfter?: string;
  EndDateBefore?: string;
  Mode?: 'Automatic' | 'Debug';
  ExecutedBy?: string;
  ParentExecutionId?: string;
  IncludeChildExecution?: boolean;
  Depth?: 'RootDepth' | 'FirstChildDepth';
  Category?: string;
  Categories?: string | string[];
  RamRole?: string;
  ResourceId?: string;
  ResourceTemplateName?: string;
  ResourceGroupId?: string;
  Description?: string;
  Tags?: string | Record<string, string>;
  SortField?: 'StartDate' | 'EndDate' | 'Status';
  SortOrder?: 'Descending' | 'Ascending';
  RegionId?: string;
}

/**
 * Walks ListExecutions with the given filters (the filters object is copied, never modified).
 * @example for await (const page of listExecutions(oos, { Status: 'Failed', ParentExecutionId: 'exec-...' })) ...
 */
export async function* listExecutions(client: RpcClient, filters: ListExecutionsFilters = {}): AsyncGenerator<RecordPage<OosExecution>, void, undefined> {
  const { walk, params } = toApiParams(filters);
  yield* walkRecords<ListExecutionsResponse, OosExecution>({
    client,
    action: 'ListExecutions',
    params: { RegionId: client.regionId, ...params, MaxResults: pageSize(walk.maxResults) },
    walk,
    path: 'Executions',
    records: (page) => page.Executions,
    token: (page) => page.NextToken,
  });
}
