/**
 * What differs between the two sources the collector archives: which API lists the records, how existence and
 * "finished" are decided, and which related objects explain the records.
 */
import { ApiError, InputError } from '../errors';
import type { RelatedName } from '../archive/manifest';
import type { RecordPage } from '../cloud/paginate';
import { listExecutions, listResourceExecutionStatus } from '../cloud/oos';
import { describeFinishedInvocationResults, describeInvocationResults, describeInvocations } from '../cloud/ecs';
import { rawBodyClient, type RpcClient } from '../cloud/rpc';
import { lengthOf, rawTextOf, type RawJsonText } from '../cloud/raw-json';
import type { CollectRequest } from './request';
import { invocationStatusOf, isCollectableStatus, isFinishedInvocationStatus } from '../status';

export type ApiRecord = Record<string, unknown>;

/** A page of a listing as the collector walks it (the typed walkers' RecordPage without its request id). */
export type ListingPage = Pick<RecordPage<ApiRecord>, 'records' | 'nextToken'> & {
  /** A page-number walk's resume point (the next page's number); never set together with `nextToken`. */
  nextPage?: number | undefined;
  /**
   * Only on a page without records: why every page before it is void. The pages after it are the listing again from
   * its first page; the collector discards what it wrote of this listing and starts over.
   */
  restart?: string | undefined;
};

/** Where the primary listing resumes, as the checkpoint says. */
export interface ListingStart {
  /** The NextToken of the next page (`undefined`: the first page, unless `page` says otherwise). */
  token: string | undefined;
  /** The next page of a page-number walk; never set together with `token`. */
  page: number | undefined;
  /** Records already in the archive (parts and pending): 0 for a fresh walk. */
  records: number;
  /** Those records, read back from the archive (a resumed page-number walk checks them for duplicates). */
  archived(): AsyncIterable<ApiRecord>;
}

/** How the adapters read their listings (AppConfig). */
export interface AdapterOptions {
  /** ECS_PAGE_CONCURRENCY: above 1, a finished invocation's results are read that many pages at a time. @default 1 */
  ecsPageConcurrency?: number;
}

/** The execution or invocation being collected, as its describe call found it. */
export interface SourceSubject {
  /**
   * The execution / invocation as the API describes it (kept in the archive as a related object). From a scanned
   * answer (see lib/cloud/raw-json.ts) only its shallow part is built: deep lists are counted spans, and `stored` is
   * what the archive keeps.
   */
  record: ApiRecord;
  /** The record's own text, stored instead of `record` (a scanned answer). */
  stored?: RawJsonText | undefined;
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
  /** The primary records, page by page, from where the checkpoint says (nothing: the first page). */
  pages(start: ListingStart): AsyncIterable<ListingPage>;
  /**
   * The related object that holds the subject itself (`execution` / `invocation`). Collect stores it as soon as the
   * subject passed the existence and finality checks and lets go of it: an invocation over 100,000 instances is
   * described with every instance (~40 MB parsed), which must not be held for the whole walk.
   */
  readonly subjectName: RelatedName;
  /** The related listings besides the subject, in a fixed order (the manifest's); each is walked page by page beside the records, and resumed the same way. */
  related(): RelatedListing[];
  /** Whether the API cut this record's output (`Dropped` > 0). */
  isTruncated(record: ApiRecord): boolean;
  /** ECS: the results of one instance as the API gives them now (every run with IncludeHistory), for a later look at a pending output delivery. */
  lookup?(instanceId: string): Promise<ApiRecord[]>;
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
    async *pages({ token: startingToken }) {
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

/** What the ECS adapter keeps of the described invocation. */
interface Described {
  /** Finished per lib/status.ts (a periodic task between runs is not). */
  finished: boolean;
  /** Its instance count (one result each without IncludeHistory), when it lists them. */
  instances: number | undefined;
}

/**
 * Cloud Assistant. With `ecsPageConcurrency` > 1, the results of an invocation that is finished (per lib/status.ts:
 * not a periodic task between runs), collected without IncludeHistory, are read through the legacy PageNumber walk
 * that many pages at a time (lib/cloud/ecs.ts `describeFinishedInvocationResults`, checked against the instance
 * count, NextToken from the start on any mismatch); every other walk is the NextToken walk. A walk resumes the way
 * it was walking: a checkpointed NextToken never becomes a page number, nor a page number a token.
 */
export function ecsAdapter(client: RpcClient, req: CollectRequest, options: AdapterOptions = {}): SourceAdapter {
  const concurrency = Math.max(1, Math.floor(options.ecsPageConcurrency ?? 1));
  // What describe() found, for the choice of walk (the subject itself is not kept). The collector starts the walk
  // beside the describe call; a walk that may go by page number waits for it (it needs the instance count).
  let describing = false;
  let settle: (found: Described | undefined) => void = () => undefined;
  const described = new Promise<Described | undefined>((resolve) => {
    settle = resolve;
  });
  return {
    api: {
      service: 'ecs',
      action: 'DescribeInvocationResults',
      version: '2014-05-26',
      parameters: { InvokeId: req.id, RegionId: req.regionId, IncludeHistory: req.includeHistory, ContentEncoding: 'PlainText' },
    },
    async describe() {
      describing = true;
      let found: Described | undefined;
      try {
        // The answer lists every instance (~40 MB for 100,000): it is scanned, not parsed (lib/cloud/json-parse.ts). The
        // per-instance list (Invocations.Invocation[].InvokeInstances.InvokeInstance, depth 5) is only counted, and the
        // invocation is stored as its own text.
        for await (const page of describeInvocations(rawBodyClient(client, { depth: 5 }), { InvokeId: req.id, ContentEncoding: 'PlainText' })) {
          const record = page.records.find((i) => i.InvokeId === req.id);
          if (record) {
            const status = invocationStatusOf(record);
            // One result per instance, unless the history of a periodic task is included (then it is unknown).
            const expectedRecords = !req.includeHistory ? lengthOf(record.InvokeInstances?.InvokeInstance) : undefined;
            found = { finished: isFinishedInvocationStatus(status), instances: expectedRecords };
            return { record: record as ApiRecord, stored: rawTextOf(record), status, finished: isCollectableStatus('ecs', status), expectedRecords };
          }
        }
        return undefined;
      } finally {
        settle(found);
      }
    },
    async *pages(start) {
      // Only these walks may go by page number; every other one starts at once, beside the describe call.
      const candidate = !req.includeHistory && start.token === undefined && (start.page !== undefined || (start.records === 0 && concurrency > 1));
      // A walk started without a describe call under way (not the collector's order) never waits for one.
      const subject = candidate && describing ? await described : undefined;
      const instances = subject?.instances;
      const byPage = instances !== undefined && (start.page !== undefined || subject?.finished === true);
      if (!byPage) {
        if (start.page !== undefined) {
          // Only if the invocation no longer says how many instances it has: the pages read so far cannot be checked.
          yield { records: [], nextToken: undefined, restart: `the checkpoint resumes a page-number walk at page ${start.page}, but the invocation no longer lists its instances` };
        }
        for await (const page of describeInvocationResults(client, { invokeId: req.id, includeHistory: req.includeHistory, startingToken: start.page === undefined ? start.token : undefined })) {
          yield { records: page.records as ApiRecord[], nextToken: page.nextToken };
        }
        return;
      }
      const pages = describeFinishedInvocationResults(client, {
        invokeId: req.id,
        expectedRecords: instances,
        concurrency,
        startingPage: start.page,
        archivedInstanceIds: async function* () {
          for await (const record of start.archived()) yield typeof record.InstanceId === 'string' ? record.InstanceId : '';
        },
      });
      for await (const page of pages) {
        yield { records: page.records as ApiRecord[], nextToken: page.nextToken, nextPage: page.nextPage, restart: page.restart };
      }
    },
    subjectName: 'invocation',
    related: () => [],
    isTruncated: (record) => Number(record.Dropped ?? 0) > 0,
    async lookup(instanceId) {
      const records: ApiRecord[] = [];
      for await (const page of describeInvocationResults(client, { invokeId: req.id, includeHistory: req.includeHistory, instanceId })) records.push(...(page.records as ApiRecord[]));
      return records;
    },
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
