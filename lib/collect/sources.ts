/**
 * What differs between the two sources the collector archives: which API lists the records, how existence and
 * "finished" are decided, and which related objects explain the records.
 */
import { ApiError, InputError } from '../errors';
import type { RelatedName } from '../archive/manifest';
import type { RecordPage } from '../cloud/paginate';
import type { RpcClient } from '../cloud/rpc';
import { listExecutions, listResourceExecutionStatus } from '../cloud/oos';
import { describeInvocationResults, describeInvocations } from '../cloud/ecs';
import type { CollectRequest } from './request';
import { invocationStatusOf, isCollectableStatus } from '../status';

export type ApiRecord = Record<string, unknown>;

/** A page of a listing as the collector walks it (the typed walkers' RecordPage without its request id). */
export type ListingPage = Pick<RecordPage<ApiRecord>, 'records' | 'nextToken'>;

/** The execution or invocation being collected, as its describe call found it. */
export interface SourceSubject {
  /** The execution / invocation as the API describes it (kept in the archive as a related object). */
  record: ApiRecord;
  status: string;
  finished: boolean;
  /** How many primary records the listing will return, when the description says (for progress and ETA). */
  expectedRecords?: number | undefined;
}

/** One related object's records, as pages from a token (`undefined` = the first page). */
export interface RelatedListing {
  name: RelatedName;
  pages(startingToken: string | undefined): AsyncIterable<ListingPage>;
}

export interface SourceAdapter {
  readonly api: { service: 'oos' | 'ecs'; action: string; version: string; parameters: Record<string, string | number | boolean> };
  /** Looks the execution/invocation up; `undefined` when it does not exist. */
  describe(): Promise<SourceSubject | undefined>;
  /** The primary records, page by page, from `startingToken` (undefined = the first page). */
  pages(startingToken: string | undefined): AsyncIterable<ListingPage>;
  /**
   * The related object that holds the subject itself (`execution` / `invocation`). Collect stores it as soon as the
   * subject passed the existence and finality checks and lets go of it: an invocation over 100,000 instances is
   * described with every instance (~40 MB parsed), which must not be held for the whole walk.
   */
  readonly subjectName: RelatedName;
  /** The related listings after the subject, in a fixed order; each is walked page by page like the records (and resumed the same way). */
  related(): RelatedListing[];
  /** Whether the API cut this record's output (`Dropped` > 0). */
  isTruncated(record: ApiRecord): boolean;
  readonly stats: { apiCalls: number; retries: number; throttles: number };
}


export function oosAdapter(client: RpcClient, req: CollectRequest): SourceAdapter {
  return {
    api: { service: 'oos', action: 'ListResourceExecutionStatus', version: '2019-06-01', parameters: { ExecutionId: req.id, RegionId: req.regionId } },
    async describe() {
      for await (const page of listExecutions(client, { ExecutionId: req.id })) {
        const record = page.records.find((e) => e.ExecutionId === req.id);
        if (record) {
          const status = String(record.Status ?? '');
          // One resource status per target: the execution's Counters.Total, when the API gives it.
          const counters = (record as { Counters?: { Total?: unknown } }).Counters;
          return { record: record as ApiRecord, status, finished: isCollectableStatus('oos', status), expectedRecords: countOf(counters?.Total) };
        }
      }
      return undefined;
    },
    async *pages(startingToken) {
      try {
        for await (const page of listResourceExecutionStatus(client, { executionId: req.id, startingToken })) {
          yield { records: page.records as ApiRecord[], nextToken: page.nextToken };
        }
      } catch (err) {
        throw notFoundAsInput(err, req);
      }
    },
    subjectName: 'execution',
    related: () => [
      {
        name: 'failed-child-executions',
        async *pages(startingToken) {
          for await (const page of listExecutions(client, { ParentExecutionId: req.id, Status: 'Failed', startingToken })) {
            yield { records: page.records as ApiRecord[], nextToken: page.nextToken };
          }
        },
      },
    ],
    isTruncated: () => false,
    get stats() {
      return client.stats;
    },
  };
}

export function ecsAdapter(client: RpcClient, req: CollectRequest): SourceAdapter {
  return {
    api: {
      service: 'ecs',
      action: 'DescribeInvocationResults',
      version: '2014-05-26',
      parameters: { InvokeId: req.id, RegionId: req.regionId, IncludeHistory: req.includeHistory, ContentEncoding: 'PlainText' },
    },
    async describe() {
      for await (const page of describeInvocations(client, { InvokeId: req.id, ContentEncoding: 'PlainText' })) {
        const record = page.records.find((i) => i.InvokeId === req.id);
        if (record) {
          const status = invocationStatusOf(record);
          // One result per instance, unless the history of a periodic task is included (then it is unknown).
          const instances = (record as { InvokeInstances?: { InvokeInstance?: unknown } }).InvokeInstances?.InvokeInstance;
          const expectedRecords = !req.includeHistory && Array.isArray(instances) ? instances.length : undefined;
          return { record: record as ApiRecord, status, finished: isCollectableStatus('ecs', status), expectedRecords };
        }
      }
      return undefined;
    },
    async *pages(startingToken) {
      for await (const page of describeInvocationResults(client, { invokeId: req.id, includeHistory: req.includeHistory, startingToken })) {
        yield { records: page.records as ApiRecord[], nextToken: page.nextToken };
      }
    },
    subjectName: 'invocation',
    related: () => [],
    isTruncated: (record) => Number(record.Dropped ?? 0) > 0,
    get stats() {
      return client.stats;
    },
  };
}

function countOf(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** OOS answers an unknown execution with 404 `EntityNotExists.Execution`: that is the caller's mistake, not ours. */
function notFoundAsInput(err: unknown, req: CollectRequest): unknown {
  if (err instanceof ApiError && err.code === 'EntityNotExists.Execution') {
    return new InputError('ExecutionNotFound', `OOS execution ${req.id} does not exist in ${req.regionId}`, 404, { cause: err });
  }
  return err;
}
