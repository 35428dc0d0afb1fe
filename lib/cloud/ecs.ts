/**
 * ECS Cloud Assistant (2014-05-26) shapes and page walkers. ECS keeps XML-style wrappers in JSON
 * (`Invocation.InvocationResults.InvocationResult[]`). Records are kept exactly as returned; the interfaces list the
 * documented fields plus an index signature so unknown fields survive.
 */
import { ApiError, PaginationError } from '../errors';
import { type RecordPage, type WalkOptions, detached, numberedPages, recordsAt, toApiParams, walkRecords } from './paginate';
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

/** The paging fields of an ECS list's body (DescribeInvocations) or of the object that holds its list (DescribeInvocationResults' Invocation). */
export interface EcsPageFields {
  PageSize?: number;
  PageNumber?: number;
  TotalCount?: number;
  NextToken?: string | null;
}

/** The body of DescribeInvocationResults. */
export interface DescribeInvocationResultsResponse {
  RequestId?: string;
  Invocation?: EcsPageFields & {
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
export interface DescribeInvocationsResponse extends EcsPageFields {
  RequestId?: string;
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

/**
 * The page-number walk did not add up (TotalCount, a page's size, a repeated or missing InstanceId): its pages cannot
 * be trusted to be the invocation's records, each exactly once.
 */
export class PageWalkMismatch extends PaginationError {}

/** A page of {@link describeFinishedInvocationResults}. */
export interface FinishedResultsPage extends RecordPage<InvocationResult> {
  /**
   * In the page-number walk, the number of the next page to read (`undefined` on the last page and throughout the
   * NextToken walk). Never set together with `nextToken`: a walk resumes the way it was walking.
   */
  nextPage: number | undefined;
  /**
   * Set only on a page without records: the page-number walk did not add up, for this reason. Every page yielded
   * before it is void; the pages after it are the NextToken walk, from the first page.
   */
  restart?: string;
}

/** Options of {@link describeFinishedInvocationResults}. */
export interface FinishedResultsOptions {
  invokeId: string;
  /** The invocation's instance count: without IncludeHistory, exactly one result per instance. */
  expectedRecords: number;
  /** Pages requested at once (each still waits for the client's adaptive limiter); 1 = one page after another. */
  concurrency: number;
  /** Resume the page-number walk at this page; the records of the pages before it are already archived. @default 1 */
  startingPage?: number;
  /** With `startingPage`: the InstanceIds of the records already archived, so that none is accepted twice. */
  archivedInstanceIds?: () => AsyncIterable<string>;
  /** Page size (PageSize), clamped to 1–50. @default 50 */
  pageSize?: number;
  /** Stops the walk between pages. @default none */
  signal?: AbortSignal;
}

/**
 * The results of a finished invocation without IncludeHistory, read through the legacy PageNumber/PageSize paging
 * `concurrency` pages at a time and yielded in page order, so the pages are exactly those of a sequential walk.
 *
 * The legacy paging is "about to be deprecated" and no order is documented for it (protocols §4.2), so the walk
 * trusts a page only when it adds up: every page's `TotalCount` (the first page's and the last page's included)
 * equals the invocation's instance count, every page but the last holds exactly PageSize records and the last the
 * rest, a PageNumber the answer echoes is the one asked for, and every InstanceId is present and new (de-duplicated
 * across the whole walk, the pages archived before a resume included), so the walk ends with each instance exactly
 * once. A page that does not add up, or that the API refuses outright (a 4xx no retry changes: the paging withdrawn),
 * is never yielded: the walk yields a `restart` page saying why and then the NextToken walk from the first page (the
 * consumer discards what it had), which has the API's documented order.
 *
 * @example
 * for await (const page of describeFinishedInvocationResults(ecs, { invokeId, expectedRecords: 3000, concurrency: 8 })) {
 *   if (page.restart) discardEverything(); else archive(page.records);
 * }
 */
export async function* describeFinishedInvocationResults(
  client: RpcClient,
  options: FinishedResultsOptions,
): AsyncGenerator<FinishedResultsPage, void, undefined> {
  let reason: string;
  try {
    yield* pageNumberWalk(client, options);
    return;
  } catch (err) {
    if (!(err instanceof PageWalkMismatch)) throw err;
    reason = err.message;
  }
  yield { records: [], nextToken: undefined, nextPage: undefined, requestId: undefined, restart: reason };
  for await (const page of describeInvocationResults(client, { invokeId: options.invokeId, includeHistory: false, signal: options.signal })) {
    yield { ...page, nextPage: undefined };
  }
}

async function* pageNumberWalk(client: RpcClient, options: FinishedResultsOptions): AsyncGenerator<FinishedResultsPage, void, undefined> {
  const size = pageSize(options.pageSize);
  const expected = options.expectedRecords;
  const lastPage = Math.max(1, Math.ceil(expected / size));
  const first = options.startingPage ?? 1;
  const seen = new Set<string>();
  if (first > 1) {
    for await (const id of options.archivedInstanceIds?.() ?? []) {
      if (id === '' || seen.has(id)) throw new PageWalkMismatch(id === '' ? 'an archived record has no InstanceId' : `the archived pages hold InstanceId ${id} twice`);
      seen.add(detached(id));
    }
  }
  if (!Number.isInteger(first) || first < 1 || first > lastPage || seen.size !== (first - 1) * size) {
    throw new PageWalkMismatch(`cannot resume at page ${first} of ${lastPage} with ${seen.size} records archived (pages of ${size})`);
  }
  const pages = numberedPages({
    fetchPage: (n) =>
      client
        .request<DescribeInvocationResultsResponse>('DescribeInvocationResults', {
          RegionId: client.regionId,
          InvokeId: options.invokeId,
          IncludeHistory: false,
          ContentEncoding: 'PlainText',
          PageNumber: n,
          PageSize: size,
        })
        .catch((err: unknown) => {
          // The day the deprecated paging is refused (a 4xx that no retry changes), the NextToken walk takes over.
          // What is transient (throttling, 5xx, timeouts, the deadline) stays an error, to checkpoint and retry.
          if (err instanceof ApiError && !err.retryable && err.httpStatus !== undefined && err.httpStatus >= 400 && err.httpStatus < 500) {
            throw new PageWalkMismatch(`page ${n} was refused: ${err.code}: ${err.apiMessage}`, { cause: err });
          }
          throw err;
        }),
    first,
    last: lastPage,
    concurrency: options.concurrency,
    signal: options.signal,
  });
  for await (const { pageNumber, page } of pages) {
    const requestId = page.RequestId;
    const where = `page ${pageNumber} of ${lastPage} (RequestId ${requestId ?? 'none'})`;
    const totalCount = page.Invocation?.TotalCount;
    if (totalCount !== expected) {
      throw new PageWalkMismatch(`${where} says TotalCount ${JSON.stringify(totalCount)}, the invocation has ${expected} instances`);
    }
    const echoed = page.Invocation?.PageNumber;
    if (echoed !== undefined && echoed !== pageNumber) throw new PageWalkMismatch(`${where} answered as PageNumber ${JSON.stringify(echoed)}`);
    const records = recordsAt<InvocationResult>(page.Invocation?.InvocationResults?.InvocationResult, {
      service: client.service,
      action: 'DescribeInvocationResults',
      path: 'Invocation.InvocationResults.InvocationResult',
      requestId,
    });
    const want = pageNumber < lastPage ? size : expected - (lastPage - 1) * size;
    if (records.length !== want) throw new PageWalkMismatch(`${where} holds ${records.length} records, ${want} expected`);
    for (const record of records) {
      const id = record.InstanceId;
      if (typeof id !== 'string' || id === '') throw new PageWalkMismatch(`${where} holds a record without an InstanceId`);
      if (seen.has(id)) throw new PageWalkMismatch(`${where} repeats InstanceId ${id}`);
      seen.add(detached(id));
    }
    if (pageNumber === lastPage && seen.size !== expected) {
      throw new PageWalkMismatch(`the pages hold ${seen.size} distinct InstanceIds, the invocation has ${expected} instances`);
    }
    yield { records, nextToken: undefined, nextPage: pageNumber < lastPage ? pageNumber + 1 : undefined, requestId };
  }
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
