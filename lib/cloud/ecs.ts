/**
 * ECS Cloud Assistant (2014-05-26) shapes and page walkers. ECS keeps XML-style wrappers in JSON
 * (`Invocation.InvocationResults.InvocationResult[]`). Records are kept exactly as returned; the interfaces list the
 * documented fields plus an index signature so unknown fields survive.
 */
import { type RecordPage, type WalkOptions, toApiParams, walkRecords } from './paginate';
import type { RpcClient } from './rpc';

export type { RecordPage, WalkOptions };

/** `Tags: { Tag: [{ TagKey, TagValue }] }`. */
export interface EcsTags {
  Tag?: Array<{ TagKey?: string; TagValue?: string; [field: string]: unknown }>;
  [field: string]: unknown;
}

/** One run of a command on one instance, from DescribeInvocationResults. */
export interface InvocationResult {
  CommandId?: string;
  InvokeId?: string;
  InstanceId?: string;
  /** Pending, Invalid, Aborted, Running, Success, Failed, Error, Timeout, Cancelled, Stopping, Terminated, Scheduled. */
  InvocationStatus?: string;
  InvokeRecordStatus?: string;
  ExitCode?: number | string;
  ErrorCode?: string;
  ErrorInfo?: string;
  /** Plain text here (the walker asks for `ContentEncoding=PlainText`); at most 24 KB. */
  Output?: string;
  /** Bytes of Output cut off beyond 24 KB. */
  Dropped?: number;
  StartTime?: string;
  FinishedTime?: string;
  StopTime?: string;
  Repeats?: number;
  Username?: string;
  ContainerId?: string;
  ContainerName?: string;
  TerminationMode?: string;
  Launcher?: string;
  OssOutputDelivery?: string;
  OssOutputStatus?: string;
  OssOutputUri?: string;
  OssOutputErrorCode?: string;
  OssOutputErrorInfo?: string;
  Tags?: EcsTags;
  [field: string]: unknown;
}

/** The body of DescribeInvocationResults. */
export interface DescribeInvocationResultsResponse {
  RequestId?: string;
  Invocation?: {
    PageSize?: number;
    PageNumber?: number;
    TotalCount?: number;
    NextToken?: string | null;
    InvocationResults?: { InvocationResult?: InvocationResult[]; [field: string]: unknown };
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** One instance of a command invocation, inside DescribeInvocations. Note `FinishTime` (not `FinishedTime`). */
export interface InvokeInstance {
  InstanceId?: string;
  InvocationStatus?: string;
  InstanceInvokeStatus?: string;
  ExitCode?: number | string;
  ErrorCode?: string;
  ErrorInfo?: string;
  Output?: string;
  Dropped?: number;
  Repeats?: number;
  CreationTime?: string;
  StartTime?: string;
  FinishTime?: string;
  StopTime?: string;
  UpdateTime?: string;
  Timed?: boolean;
  OssOutputStatus?: string;
  OssOutputUri?: string;
  [field: string]: unknown;
}

/** One command invocation (task) with its overall status, from DescribeInvocations. */
export interface Invocation {
  InvokeId?: string;
  CommandId?: string;
  CommandName?: string;
  CommandType?: string;
  CommandContent?: string;
  CommandDescription?: string;
  InvocationStatus?: string;
  InvokeStatus?: string;
  RepeatMode?: string;
  Timed?: boolean;
  Frequency?: string;
  Timeout?: number;
  Parameters?: string;
  CreationTime?: string;
  Username?: string;
  WorkingDir?: string;
  ContainerId?: string;
  ContainerName?: string;
  Launcher?: string;
  TerminationMode?: string;
  Tags?: EcsTags;
  InvokeInstances?: { InvokeInstance?: InvokeInstance[]; [field: string]: unknown };
  [field: string]: unknown;
}

/** The body of DescribeInvocations. */
export interface DescribeInvocationsResponse {
  RequestId?: string;
  PageSize?: number;
  PageNumber?: number;
  TotalCount?: number;
  NextToken?: string | null;
  Invocations?: { Invocation?: Invocation[]; [field: string]: unknown };
  [field: string]: unknown;
}

/** Page size of the Cloud Assistant list calls: documented maximum 50 (the API's default, 10, costs 5x the calls). */
export const ECS_MAX_RESULTS = { min: 1, max: 50, default: 50 } as const;

function pageSize(maxResults: number | undefined): number {
  const n = Math.floor(maxResults ?? ECS_MAX_RESULTS.default);
  return Math.min(ECS_MAX_RESULTS.max, Math.max(ECS_MAX_RESULTS.min, Number.isFinite(n) ? n : ECS_MAX_RESULTS.default));
}

/** Options of {@link describeInvocationResults}. */
export interface DescribeInvocationResultsOptions extends WalkOptions {
  invokeId: string;
  /** Every run of a periodic / every-reboot task. @default undefined (the API's default, false) */
  includeHistory?: boolean;
  /** Only this instance. @default undefined */
  instanceId?: string;
  /** Filter on the record status (Running, Finished, Success, Failed, ...). @default undefined */
  invokeRecordStatus?: string;
}

/**
 * Walks DescribeInvocationResults for one invocation, always with `ContentEncoding=PlainText` so `Output` is text.
 * @example for await (const page of describeInvocationResults(ecs, { invokeId: 't-hz0jdfwd9f0a1b' })) archive(page.records);
 */
export async function* describeInvocationResults(
  client: RpcClient,
  options: DescribeInvocationResultsOptions,
): AsyncGenerator<RecordPage<InvocationResult>, void, undefined> {
  yield* walkRecords<DescribeInvocationResultsResponse, InvocationResult>({
    client,
    action: 'DescribeInvocationResults',
    params: {
      RegionId: client.regionId,
      InvokeId: options.invokeId,
      InstanceId: options.instanceId,
      InvokeRecordStatus: options.invokeRecordStatus,
      IncludeHistory: options.includeHistory,
      ContentEncoding: 'PlainText',
      MaxResults: pageSize(options.maxResults),
    },
    walk: options,
    path: 'Invocation.InvocationResults.InvocationResult',
    records: (page) => page.Invocation?.InvocationResults?.InvocationResult,
    token: (page) => page.Invocation?.NextToken,
  });
}

/** DescribeInvocations filters, named exactly as the API's request parameters. */
export interface DescribeInvocationsFilters extends WalkOptions {
  InvokeId?: string;
  InstanceId?: string;
  CommandId?: string;
  CommandName?: string;
  CommandType?: 'RunBatScript' | 'RunPowerShellScript' | 'RunShellScript';
  InvokeStatus?: string;
  RepeatMode?: 'Once' | 'Period' | 'NextRebootOnly' | 'EveryReboot';
  Timed?: boolean;
  /** Include per-instance Output (needs InvokeId or InstanceId). */
  IncludeOutput?: boolean;
  ResourceGroupId?: string;
  /** Always sent as `PlainText`, whatever is given. */
  ContentEncoding?: 'PlainText';
  RegionId?: string;
}

/**
 * Walks DescribeInvocations (overall status per task), always `ContentEncoding=PlainText`. The filters are copied.
 * @example for await (const page of describeInvocations(ecs, { InvokeId: 't-...' })) ...
 */
export async function* describeInvocations(client: RpcClient, filters: DescribeInvocationsFilters = {}): AsyncGenerator<RecordPage<Invocation>, void, undefined> {
  const { walk, params } = toApiParams(filters);
  yield* walkRecords<DescribeInvocationsResponse, Invocation>({
    client,
    action: 'DescribeInvocations',
    params: { RegionId: client.regionId, ...params, ContentEncoding: 'PlainText', MaxResults: pageSize(walk.maxResults) },
    walk,
    path: 'Invocations.Invocation',
    records: (page) => page.Invocations?.Invocation,
    token: (page) => page.NextToken,
  });
}
