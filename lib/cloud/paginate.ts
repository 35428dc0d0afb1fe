/**
 * NextToken pagination as a lazy async generator of pages. Consumers `for await` the pages and stop early with
 * `break`; the walk continues through empty pages that still carry a token and refuses to loop on a repeated token.
 */
import { PaginationError } from '../errors';
import { apiError } from './retry';
import type { RpcClient, RpcParams } from './rpc';

/** Options of {@link paginate}. */
export interface PaginateOptions<TPage> {
  /** Fetches one page; `undefined` asks for the first page. */
  fetchPage(token: string | undefined): Promise<TPage>;
  /** The page's NextToken; absent, `null` or `''` ends the walk. */
  tokenOf(page: TPage): string | null | undefined;
  /** Resume from this token (a checkpoint's last NextToken). @default undefined (first page) */
  startingToken?: string | undefined;
  /** Stop after this many pages even if more remain (the last page's token tells where to resume). @default Infinity */
  maxPages?: number;
  /** Checked before each fetch; once aborted the generator throws the signal's reason. @default none */
  signal?: AbortSignal;
}

/** Normalises a token: `undefined` for absent, `null` or empty. */
export function normalizeToken(token: unknown): string | undefined {
  if (token === undefined || token === null) return undefined;
  const s = typeof token === 'string' ? token : String(token);
  return s === '' ? undefined : s;
}

/**
 * A copy of `s` that shares no memory with the string it came from. A string parsed out of a response body (pop-core
 * parses with json-bigint) can be a V8 "sliced string" that keeps the whole body alive. Anything kept across pages
 * (seen tokens, ids to dispatch) must be detached: without this, the walk's seen-token set held every response it
 * had read (measured: +0.9 MB per 1,000 records, out of memory at 300,000 records with a 160 MB heap).
 */
export function detached(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/**
 * Yields every page exactly once, in order.
 * @throws PaginationError when the service hands out a token already seen in this walk (including `startingToken`);
 *   the page carrying it is not yielded, so a consumer never checkpoints a looping token.
 * @example
 * for await (const page of paginate({ fetchPage: (t) => api(t), tokenOf: (p) => p.NextToken })) handle(page);
 */
export async function* paginate<TPage>(options: PaginateOptions<TPage>): AsyncGenerator<TPage, void, undefined> {
  const { fetchPage, tokenOf, signal } = options;
  const maxPages = options.maxPages ?? Number.POSITIVE_INFINITY;
  let token = normalizeToken(options.startingToken);
  const seen = new Set<string>();
  if (token !== undefined) seen.add(detached(token));
  for (let pages = 0; pages < maxPages; pages++) {
    signal?.throwIfAborted();
    const page = await fetchPage(token);
    const next = normalizeToken(tokenOf(page));
    if (next !== undefined && seen.has(next)) {
      throw new PaginationError(`the service returned NextToken ${JSON.stringify(next.slice(0, 80))} a second time after ${pages + 1} page(s); stopping to avoid a loop`);
    }
    yield page;
    if (next === undefined) return;
    seen.add(detached(next));
    token = next;
  }
}

/** One page of records from a typed walker (oos.ts, ecs.ts). */
export interface RecordPage<T> {
  /** The page's records, exactly as returned. */
  records: T[];
  /** The token of the next page (`undefined` on the last page): checkpoint it to resume. */
  nextToken: string | undefined;
  requestId: string | undefined;
}

/** Options every typed walker takes. */
export interface WalkOptions {
  /** Page size (clamped to the API's documented range). @default 100 (OOS) / 50 (ECS) */
  maxResults?: number;
  /** Resume from a checkpointed NextToken. @default undefined */
  startingToken?: string;
  /** Stop after this many pages. @default Infinity */
  maxPages?: number;
  /** Stops the walk between pages. @default none */
  signal?: AbortSignal;
}

/**
 * The records array at `path` of a response: a missing list is an empty page; anything but an array is an API
 * contract break (ApiError `UnexpectedResponse`, not retried).
 * @example recordsAt(page.Executions, { service: 'oos', action: 'ListExecutions', path: 'Executions', requestId })
 */
export function recordsAt<T>(value: unknown, where: { service: string; action: string; path: string; requestId: string | undefined }): T[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value as T[];
  throw apiError(
    { service: where.service, action: where.action, attempts: 1 },
    { code: 'UnexpectedResponse', message: `${where.path} is not a list`, requestId: where.requestId },
  );
}

/** What differs between the typed walkers: the action, its fixed parameters, and where records and token sit. */
export interface RecordWalk<TResponse, TRecord> {
  client: RpcClient;
  action: string;
  /** Request parameters of every page (NextToken is added per page). */
  params: RpcParams;
  walk: WalkOptions;
  /** Where the records are, for the `UnexpectedResponse` message (e.g. `Invocation.InvocationResults.InvocationResult`). */
  path: string;
  records(page: TResponse): unknown;
  token(page: TResponse): unknown;
  /** Only for the records' type. */
  _record?: TRecord;
}

/**
 * The walk every typed walker is: NextToken pages of `action` through {@link paginate}, each turned into a
 * {@link RecordPage} with the records at `path`.
 */
export async function* walkRecords<TResponse extends { RequestId?: string }, TRecord>(
  w: RecordWalk<TResponse, TRecord>,
): AsyncGenerator<RecordPage<TRecord>, void, undefined> {
  const pages = paginate({
    fetchPage: (token) => w.client.request<TResponse>(w.action, { ...w.params, NextToken: token }),
    tokenOf: (page) => normalizeToken(w.token(page)),
    startingToken: w.walk.startingToken,
    maxPages: w.walk.maxPages,
    signal: w.walk.signal,
  });
  for await (const page of pages) {
    const requestId = page.RequestId;
    yield {
      records: recordsAt<TRecord>(w.records(page), { service: w.client.service, action: w.action, path: w.path, requestId }),
      nextToken: normalizeToken(w.token(page)),
      requestId,
    };
  }
}

/**
 * Splits a walker's filters into its {@link WalkOptions} (camelCase) and the API parameters (PascalCase, as the API
 * names them); object/array values become the JSON strings the API expects; `NextToken`/`MaxResults` are taken over
 * by the walker. The input is not modified.
 * @example toApiParams({ Status: 'Failed', Tags: { a: 'b' }, maxPages: 2 }) // { walk: { maxPages: 2, ... }, params: { Status: 'Failed', Tags: '{"a":"b"}' } }
 */
export function toApiParams(filters: object): { walk: WalkOptions; params: RpcParams } {
  const { maxResults, startingToken, maxPages, signal, ...rest } = filters as WalkOptions & Record<string, unknown>;
  const params: RpcParams = {};
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined || key === 'NextToken' || key === 'MaxResults') continue;
    params[key] = typeof value === 'object' && value !== null ? JSON.stringify(value) : (value as string | number | boolean);
  }
  const pageSizeParam = (filters as { MaxResults?: unknown }).MaxResults;
  return { walk: { maxResults: maxResults ?? (typeof pageSizeParam === 'number' ? pageSizeParam : undefined), startingToken, maxPages, signal }, params };
}

/** Resolves after one turn of the event loop (the I/O waiting, a request's write among it, goes first). */
const eventLoopTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Requests the next page while the consumer is still working on the current one, so a walk costs one round trip per
 * page and not a round trip plus the consumer's work. At most one page is in flight ahead of the consumer; when the
 * consumer stops early that page is simply not yielded (its token is still the resume point the consumer recorded).
 *
 * @example for await (const page of readAhead(listResourceExecutionStatus(client, { executionId }))) write(page)
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  // A failure of the page in flight surfaces when the consumer asks for it, not as an unhandled rejection.
  next.catch(() => undefined);
  try {
    for (;;) {
      const result = await next;
      if (result.done) return;
      next = it.next();
      next.catch(() => undefined);
      // Asking is not sending: the request's way to the socket (the client's awaits, signing, Node's HTTP client
      // writing on the next tick) is promise continuations and a nextTick, which would all wait behind the consumer's
      // synchronous work on this page. One turn of the event loop lets the request leave first.
      await eventLoopTurn();
      yield result.value;
    }
  } finally {
    await it.return?.();
  }
}

/** Options of {@link numberedPages}. */
export interface NumberedPagesOptions<TPage> {
  /** Fetches page `pageNumber` (1-based, as the legacy PageNumber parameter counts). */
  fetchPage(pageNumber: number): Promise<TPage>;
  /** The first page to fetch. */
  first: number;
  /** The last page to fetch (inclusive); nothing is fetched when it is below `first`. */
  last: number;
  /**
   * Pages requested but not yet taken by the consumer, at most (in flight or waiting their turn). The client's own
   * limiter still decides when each request is sent. Clamped to at least 1.
   */
  concurrency: number;
  /** Checked before each fetch is started; once aborted the generator throws the signal's reason. @default none */
  signal?: AbortSignal;
}

/**
 * Pages `first`..`last` of a page-numbered listing, fetched up to `concurrency` at a time and yielded strictly in
 * page order, so a consumer sees exactly what a one-page-after-another walk would show it. Memory is bounded: a
 * page is requested only when fewer than `concurrency` pages are waiting. A failed page surfaces when its turn comes
 * (the pages before it are yielded first). When the consumer stops, the requests still out are waited for (not
 * yielded), so no request of the walk outlives it.
 * @example for await (const { pageNumber, page } of numberedPages({ fetchPage: (n) => api(n), first: 2, last: 40, concurrency: 8 })) handle(page);
 */
export async function* numberedPages<TPage>(options: NumberedPagesOptions<TPage>): AsyncGenerator<{ pageNumber: number; page: TPage }, void, undefined> {
  const { fetchPage, first, last, signal } = options;
  const concurrency = Math.max(1, Math.floor(options.concurrency));
  const window: Array<{ pageNumber: number; page: Promise<TPage> }> = [];
  let next = first;
  const fill = () => {
    while (window.length < concurrency && next <= last) {
      signal?.throwIfAborted();
      const pageNumber = next++;
      const page = fetchPage(pageNumber);
      // Its failure is raised when its turn comes, not as an unhandled rejection meanwhile.
      page.catch(() => undefined);
      window.push({ pageNumber, page });
    }
  };
  try {
    fill();
    for (let head = window.shift(); head !== undefined; head = window.shift()) {
      const page = await head.page;
      fill();
      yield { pageNumber: head.pageNumber, page };
    }
  } finally {
    await Promise.allSettled(window.map((w) => w.page));
  }
}
