/**
 * The collector's walk: every page of the source's listing → gzip NDJSON parts, and beside it every page of the
 * related listings → related objects; then the manifest. Nothing waits on anything but the round trips: the
 * existence check runs beside the first pages, the next page is in flight while one is written, a closed part is
 * uploaded while the next pages are read.
 *
 * Exactly once: part boundaries fall only at page boundaries and depend only on the records, checkpoints are
 * written only after the objects they name are stored, and the manifest (the commit point) is written last with
 * forbid-overwrite. A walk cut short by the deadline, an error or a kill resumes from its checkpoint and produces
 * the same bytes as an uninterrupted walk.
 */
import { randomBytes } from 'node:crypto';
import { InputError, isAlreadyExists, PaginationError, StorageError } from '../errors';
import type { Deadline } from '../deadline';
import type { Logger } from '../log';
import {
  archiveDir,
  checkpointKey,
  FORMAT_VERSION,
  manifestKey,
  partKey,
  pendingKey,
  relatedKey,
  relatedPendingKey,
  type ArchiveRef,
} from '../archive/layout';
import type { Manifest, ObjectEntry, RelatedEntry, RelatedName } from '../archive/manifest';
import type { ObjectStore } from '../archive/store';
import { readManifest, readRecords } from '../archive/reader';
import { DEFAULT_PART_LIMITS, NdjsonGzipBuffer, storeGzipObject, writeGzipRecords, type PartLimits } from '../archive/writer';
import { readAhead } from '../cloud/paginate';
import { pLimit } from '../limit';
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoint';
import type { CollectRequest } from './request';
import type { ApiRecord, ListingPage, RelatedListing, SourceAdapter, SourceSubject } from './sources';

export interface CollectDeps {
  store: ObjectStore;
  adapter: SourceAdapter;
  deadline: Deadline;
  logger: Logger;
  now?: () => Date;
  limits?: PartLimits;
  collector: { name: string; version: string };
  /** Called after every page read (and once before the first), e.g. for a progress display. */
  onProgress?: (progress: CollectProgress) => void;
  /** Sees the records as they pass, when this invocation reads the whole archive (e.g. the summary's aggregation). */
  observer?: WalkObserver | undefined;
}

/**
 * What a walk that reads the whole archive in one invocation (a fresh walk, not a resume) shows as it goes: the
 * subject once its check has passed, every page of the records and of each related listing, in archive order, and the
 * manifest it committed. A resumed walk calls none of it (the records of earlier invocations are not read again).
 */
export interface WalkObserver {
  subject(record: ApiRecord): void;
  records(records: readonly ApiRecord[]): void;
  related(name: RelatedName, records: readonly ApiRecord[]): void;
  /** The records listing starts over from its first page: the records seen so far are void. */
  restarted(): void;
  /** The related listing `name` has been read to its end. */
  relatedDone(name: RelatedName): void;
  /** This walk's manifest is in place (the archive is committed). */
  committed(manifest: Manifest): void;
}

/** Where a walk is: what is in the archive so far (resumed work included) and what the API calls cost. */
export interface CollectProgress {
  /** `records`: the primary listing; `related`: what explains it (execution, failed children, invocation). */
  phase: 'records' | 'related';
  records: number;
  pages: number;
  /** Primary records the listing will return, when the execution/invocation says; else undefined. */
  expectedRecords: number | undefined;
  /** Records and pages read by this invocation (a resume starts at 0), for rates. */
  recordsThisRun: number;
  apiCalls: number;
  retries: number;
  throttles: number;
  /** This is a resume of an unfinished collection. */
  resumed: boolean;
}

export type CollectStatus =
  /** This invocation wrote the manifest. */
  | 'committed'
  /** A complete archive already existed; nothing was read or written. */
  | 'already-complete'
  /** A racing collector committed first; this one's identical objects were left as they are. */
  | 'committed-by-other'
  /** The deadline came first: progress is checkpointed; invoke again with the same payload to resume. */
  | 'checkpointed';

export interface CollectResult {
  source: string;
  regionId: string;
  id: string;
  status: CollectStatus;
  complete: boolean;
  /** Archive-root-relative key of the manifest (or of the checkpoint when not complete). */
  manifestKey: string;
  /** Where a person finds it (oss://… or file://…). */
  location: string;
  records: number;
  parts: number;
  pages: number;
  apiCalls: number;
  retries: number;
  truncatedOutputs: number;
  invocations: number;
}

/**
 * Where a collection is. The walk is a small state machine; each state names the step that runs next:
 *
 *   describe ──▶ walk ──▶ commit ──▶ done
 *       │          │          │
 *       └──────────┴──────────┴──▶ done (already complete / checkpointed / raced)
 *
 * `describe` starts the existence check and moves on at once: the records' first pages are read beside it, and every
 * write waits for it to pass (`walk.gate`). `walk` reads the records and the related listings (an execution's failed
 * children) side by side, each a lane with its own cursor in the checkpoint, until every lane is at its end or the
 * deadline stops them all. `progress` is the checkpoint being built (the same object `_checkpoint.json` holds); a step that stops for the
 * deadline saves it and ends in `done` with status `checkpointed`, and the next invocation's `describe` picks it up
 * where it was. Every step is a function of (state, walk) → state, so resume, deadline and paging can be reasoned
 * about one step at a time.
 */
export type CollectState =
  | { step: 'describe' }
  | { step: 'walk'; progress: Checkpoint }
  | { step: 'commit'; progress: Checkpoint }
  | { step: 'done'; result: CollectResult };

/** What every step shares: the request, the dependencies, and the counters this invocation started from. */
export interface Walk {
  readonly req: CollectRequest;
  readonly ref: ArchiveRef;
  readonly deps: CollectDeps;
  readonly log: Logger;
  readonly now: () => Date;
  readonly limits: PartLimits;
  /** API counters and records of the checkpoint this invocation resumed (zeros for a fresh walk). */
  base: { apiCalls: number; retries: number; records: number };
  /** Whether this invocation resumed an unfinished collection. */
  resumed: boolean;
  /** The observer, when this walk reads the whole archive (not a resume); see {@link WalkObserver}. */
  observer: WalkObserver | undefined;
  /** Known after `describe`: how many primary records to expect (progress only). */
  expectedRecords: number | undefined;
  /**
   * Settles once the existence and finality check has passed and the archive is prepared for writing (a forced
   * collection's leftovers removed, the subject stored), or failed with the check's error. The walk reads its first
   * pages meanwhile; every write waits for it ({@link writable}), so nothing is written for a subject that fails.
   */
  gate: Promise<void>;
  /** The gate's error once it has failed (the walk stops at its next page). */
  gateError?: unknown;
  /** Records and pages of the primary listing read so far, unstored ones included (progress display only). */
  live: { records: number; pages: number };
  /** Set when a lane stopped (deadline) or failed: the other lanes stop at their next page and keep what they read. */
  stopping: boolean;
  /** The checkpoint writes, one after another (lanes save independently). */
  saving: Promise<void>;
}

/**
 * Collects one execution or invocation: runs the steps from `describe` until `done`.
 * @throws InputError (unknown, not finished, conflicting parameters), ApiError, StorageError.
 */
export async function collect(req: CollectRequest, deps: CollectDeps): Promise<CollectResult> {
  const walk: Walk = {
    req,
    ref: { source: req.source, regionId: req.regionId, id: req.id },
    deps,
    log: deps.logger.child({ source: req.source, regionId: req.regionId, id: req.id }),
    now: deps.now ?? (() => new Date()),
    limits: deps.limits ?? DEFAULT_PART_LIMITS,
    base: { apiCalls: 0, retries: 0, records: 0 },
    resumed: false,
    observer: undefined,
    expectedRecords: undefined,
    gate: Promise.resolve(),
    live: { records: 0, pages: 0 },
    stopping: false,
    saving: Promise.resolve(),
  };
  let state: CollectState = { step: 'describe' };
  while (state.step !== 'done') state = await advance(state, walk);
  return state.result;
}

/** One transition. */
export function advance(state: Exclude<CollectState, { step: 'done' }>, walk: Walk): Promise<CollectState> {
  switch (state.step) {
    case 'describe':
      return describe(walk);
    case 'walk':
      return walkLanes(state, walk);
    case 'commit':
      return commit(state, walk);
  }
}

/**
 * describe: a complete archive is final unless forced (decided from the manifest alone, before any API call);
 * otherwise the existence and finality check starts, and beside it the walk, fresh or from the checkpoint: its first
 * pages are read while the check runs, and nothing is written until the check has passed ({@link Walk.gate}). A
 * subject that does not exist or has not finished is refused with the check's error, whatever the pages said.
 */
async function describe(walk: Walk): Promise<CollectState> {
  const { req, ref, deps } = walk;
  const { store, adapter } = deps;
  const existing = await readManifest(store, ref);
  if (existing?.complete && !req.force) {
    assertSameParameters(existing.api.parameters, adapter.api.parameters, 'a complete archive');
    walk.log.info('archive already complete', { records: existing.records });
    return { step: 'done', result: resultOf(ref, 'already-complete', existing, store) };
  }

  const checked = checkSubject(walk);
  checked.catch(() => undefined);
  // The check's error comes first: a resume refused for its parameters is only worth saying for a subject that exists.
  const next = await open(walk, existing).catch(async (err: unknown) => {
    await checked;
    throw err;
  });
  walk.gate = checked.then((subject) => prepare(walk, next, subject, existing));
  walk.gate.catch((err: unknown) => {
    walk.gateError = err;
  });
  return next;
}

/** The existence and finality check. @throws InputError 404 (unknown), 409 (not finished). */
async function checkSubject(walk: Walk): Promise<SourceSubject> {
  const { req, deps } = walk;
  const subject = await deps.adapter.describe();
  if (!subject) {
    throw new InputError(
      req.source === 'oos' ? 'ExecutionNotFound' : 'InvocationNotFound',
      req.source === 'oos'
        ? `OOS execution ${req.id} does not exist in ${req.regionId}`
        : `Cloud Assistant invocation ${req.id} does not exist in ${req.regionId}`,
      404,
    );
  }
  if (!subject.finished) {
    throw new InputError(
      'NotFinished',
      `${req.source === 'oos' ? 'execution' : 'invocation'} ${req.id} ${subject.status ? `is still ${subject.status}` : 'has no status yet'}; collect it once it has finished`,
      409,
    );
  }
  return subject;
}

/**
 * Once the check has passed, the first writes: a forced collection over an archive that is not complete removes its
 * leftovers, and the subject is stored (first, so it leads the related objects) and released: only its status and
 * size were needed, and it can be as large as the records' pages (an invocation over 100,000 instances is described
 * with every instance).
 */
async function prepare(walk: Walk, next: { progress: Checkpoint }, subject: SourceSubject, existing: Manifest | undefined): Promise<void> {
  const { req, ref, deps } = walk;
  const { store, adapter } = deps;
  if (req.force && !existing?.complete) await discardArchive(store, ref, existing);
  if (!next.progress.related.some((r) => r.name === adapter.subjectName)) {
    const entry = await writeGzipRecords(store, relatedKey(ref, adapter.subjectName, 0, next.progress.generation), [subject.stored ?? subject.record]);
    next.progress.related.unshift({ name: adapter.subjectName, ...entry } satisfies RelatedEntry);
  }
  walk.observer?.subject(subject.record);
  walk.expectedRecords = subject.expectedRecords;
  report(walk, next.progress);
}

/** Waits until writing is allowed: the existence check passed. @throws the check's error. */
function writable(walk: Walk): Promise<void> {
  return walk.gate;
}

/**
 * Starts fresh or resumes the checkpoint of an unfinished collection. Forced over a complete archive, the new
 * collection is a generation of its own (`g-<generation>/`), and the complete archive stays trusted, untouched, until
 * the new manifest replaces it; a forced collection already under way (a continuation, a retry) is resumed. Forced
 * over an archive that is not complete, there is nothing trusted to keep: it starts over (its leftovers are removed
 * by {@link prepare}). Reads only: nothing is written before the existence check has passed.
 */
async function open(walk: Walk, existing: Manifest | undefined): Promise<Extract<CollectState, { step: 'walk' }>> {
  const { req, ref, deps } = walk;
  const { store, adapter } = deps;
  let resumed: Checkpoint | undefined;
  let fresh: Checkpoint | undefined;
  if (req.force && existing?.complete) {
    const cp = await loadCheckpoint(store, ref);
    if (cp?.generation !== undefined && sameParameters(cp.parameters, adapter.api.parameters)) resumed = cp;
    else {
      fresh = freshProgress(walk);
      fresh.generation = newGeneration(walk.now());
      fresh.replaces = [...existing.parts, ...existing.related].map((e) => e.key);
    }
  } else if (req.force) {
    // An archive that is not complete: its leftovers go once the check has passed (prepare); the walk starts over.
  } else {
    resumed = await loadCheckpoint(store, ref);
    if (resumed) assertSameParameters(resumed.parameters, adapter.api.parameters, 'an unfinished collection');
  }
  if (resumed) resumed = withListingCursors(resumed, adapter.related());
  const progress = resumed ? { ...resumed, invocations: resumed.invocations + 1 } : (fresh ?? freshProgress(walk));
  walk.live = { records: progress.records, pages: progress.pages };
  walk.base = { apiCalls: progress.apiCalls, retries: progress.retries, records: progress.records };
  walk.resumed = resumed !== undefined;
  walk.observer = walk.resumed ? undefined : deps.observer;
  walk.log.info(resumed ? 'resuming collection' : 'starting collection', {
    records: progress.records,
    parts: progress.parts.length,
    phase: progress.phase,
    invocation: progress.invocations,
  });
  return { step: 'walk', progress };
}

/**
 * A checkpoint written before the related listings had cursors of their own (one `nextToken`, `pending` and
 * `relatedStep` for whichever listing was being walked after the records) in today's terms: in the `related` phase,
 * the listings before `relatedStep` are done and the one at it resumes from the old cursor.
 */
function withListingCursors(cp: Checkpoint, listings: RelatedListing[]): Checkpoint {
  if (cp.listings !== undefined || cp.phase !== 'related') return cp;
  const step = cp.relatedStep ?? 0;
  const cursors: NonNullable<Checkpoint['listings']> = {};
  listings.forEach((listing, i) => {
    if (i < step) cursors[listing.name] = { done: true };
    else if (i === step) cursors[listing.name] = { nextToken: cp.nextToken, pending: cp.pending };
  });
  return { ...cp, listings: cursors, nextToken: undefined, nextPage: undefined, pending: undefined, relatedStep: undefined };
}

/**
 * One listing as the walk reads it: its pages, where its objects go, and how a stored object or a stop moves its
 * cursor in the checkpoint. `commit` runs synchronously right after the object it names is stored, so a checkpoint
 * written at any moment by any lane names only stored objects, each with the cursor that follows it.
 */
/** What a lane's commit counts of a page read since the last one. */
interface PageTally {
  records: number;
  /** Records whose output the API cut (`Dropped` > 0). */
  truncated: number;
}

interface Lane {
  name: string;
  /** Records read earlier and kept as the lane's `_pending` object (read into its first object). */
  pending: ObjectEntry | undefined;
  /** Where the lane resumes (the cursor its `pending` goes with). */
  start: { nextToken?: string | undefined; nextPage?: number | undefined };
  pages: AsyncIterable<ListingPage>;
  /** Stores a finished object and returns its entry (named by the progress only through `commit`). */
  store(buffer: NdjsonGzipBuffer): Promise<ObjectEntry>;
  pendingKey: string;
  /**
   * The lane's state as of now: `entry` (a stored object) joins the archive, the lane resumes at `at` (with what is
   * kept in `_pending`), or `at` is undefined: the listing is at its end. `pages` were read since the last commit
   * (their counts only: the records themselves are in the gzip buffer already and must not be held until then).
   */
  commit(entry: ObjectEntry | undefined, at: { nextToken?: string | undefined; nextPage?: number | undefined; pending?: ObjectEntry | undefined } | undefined, pages: PageTally[]): void;
  onPage(page: ListingPage): void;
  onRestart(reason: string): Promise<void>;
  /** Whether this lane looks at the deadline itself (the records lane; the others once the records are done). */
  watchesDeadline(): boolean;
}

/**
 * walk: the records and every unfinished related listing, side by side. Each lane checkpoints after each object it
 * stores; when the records lane sees the deadline (or any lane fails) every lane stops at its next page and keeps
 * what it read, and the checkpoint is saved once more with all of them. Then commit, or `done` with `checkpointed`.
 */
async function walkLanes(state: { progress: Checkpoint }, walk: Walk): Promise<CollectState> {
  const { progress } = state;
  const lanes: Lane[] = [];
  if (progress.phase === 'records') lanes.push(recordsLane(walk, progress));
  for (const listing of walk.deps.adapter.related()) {
    if (!progress.listings?.[listing.name]?.done) lanes.push(relatedLane(walk, progress, listing));
  }
  const settled = await Promise.allSettled(lanes.map((lane) => walkListing(walk, progress, lane)));
  if (walk.gateError !== undefined) throw walk.gateError;
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const finished = settled.every((r) => r.status === 'fulfilled' && r.value);
  if (!finished) {
    // Every lane has kept what it read (its `_pending` and cursor): one checkpoint names them all.
    const saved = saveProgress(walk, progress);
    if (failed) {
      await saved.catch((err: unknown) => walk.log.warn('could not checkpoint after an error', { err }));
      throw failed.reason;
    }
    await saved;
    return checkpointed(walk, progress);
  }
  // The subject first, then each listing's objects in the adapter's order (as one listing after another would).
  const order = [walk.deps.adapter.subjectName, ...walk.deps.adapter.related().map((l) => l.name)];
  progress.related = progress.related
    .map((entry, i) => ({ entry, i }))
    .sort((x, y) => order.indexOf(x.entry.name) - order.indexOf(y.entry.name) || x.i - y.i)
    .map(({ entry }) => entry);
  return { step: 'commit', progress };
}

/** The records lane: the primary listing into parts. */
function recordsLane(walk: Walk, progress: Checkpoint): Lane {
  const { store, adapter } = walk.deps;
  const archived = { parts: [...progress.parts], pending: progress.pending };
  const start = {
    token: progress.nextToken,
    page: progress.nextPage,
    records: progress.records,
    async *archived() {
      for (const entry of [...archived.parts, ...(archived.pending ? [archived.pending] : [])]) yield* readRecords(store, entry);
    },
  };
  return {
    name: 'records',
    pending: progress.pending,
    start: { nextToken: progress.nextToken, nextPage: progress.nextPage },
    pages: adapter.pages(start),
    store: (buffer) => storeGzipObject(store, partKey(walk.ref, progress.parts.length, progress.generation), buffer),
    pendingKey: pendingKey(walk.ref, progress.generation),
    commit(entry, at, pages) {
      if (entry) progress.parts.push(entry);
      for (const page of pages) {
        progress.records += page.records;
        progress.pages += 1;
        progress.truncatedOutputs += page.truncated;
      }
      progress.nextToken = at?.nextToken;
      progress.nextPage = at?.nextPage;
      progress.pending = at?.pending;
      if (!at) progress.phase = 'related';
    },
    onPage(page) {
      walk.live.records += page.records.length;
      walk.live.pages += 1;
      walk.observer?.records(page.records);
    },
    onRestart: (reason) => restartRecords(walk, progress, reason),
    watchesDeadline: () => true,
  };
}

/**
 * A related listing's lane (`related/<name>…`), with its cursor in `progress.listings`; an empty listing still gets
 * its (empty) object, so a reader can tell "none" from "not collected".
 */
function relatedLane(walk: Walk, progress: Checkpoint, listing: RelatedListing): Lane {
  const { store } = walk.deps;
  const cursor = progress.listings?.[listing.name];
  const nameOf = (entry: ObjectEntry): RelatedEntry => ({ name: listing.name, ...entry });
  return {
    name: listing.name,
    pending: cursor?.pending,
    start: { nextToken: cursor?.nextToken },
    pages: listing.pages(cursor?.nextToken),
    store: (buffer) => storeGzipObject(store, relatedKey(walk.ref, listing.name, progress.related.filter((r) => r.name === listing.name).length, progress.generation), buffer),
    pendingKey: relatedPendingKey(walk.ref, listing.name, progress.generation),
    commit(entry, at) {
      if (entry) progress.related.push(nameOf(entry));
      progress.listings = { ...progress.listings, [listing.name]: at ? { nextToken: at.nextToken, pending: at.pending } : { done: true } };
    },
    onPage: (page) => walk.observer?.related(listing.name, page.records),
    onRestart: (reason) => {
      throw new PaginationError(`the ${listing.name} listing asked to start over (${reason}); only the primary listing may`);
    },
    watchesDeadline: () => progress.phase === 'related',
  };
}

/**
 * The listing said its pages so far are void (a page-number walk that did not add up, see lib/cloud/ecs.ts): no
 * manifest names them, so the checkpoint is first cleared of them, then every object they were written to is removed
 * (the walk from the first page rewrites what it needs; nothing beyond it survives), and the walk goes on from zero.
 */
async function restartRecords(walk: Walk, progress: Checkpoint, reason: string): Promise<void> {
  walk.log.warn('the page-number walk did not add up: starting over with the NextToken walk', { reason, records: progress.records, pages: progress.pages, parts: progress.parts.length });
  walk.observer?.restarted();
  await writable(walk);
  const stale = [...progress.parts, ...(progress.pending ? [progress.pending] : [])].map((e) => e.key);
  progress.parts = [];
  progress.pending = undefined;
  progress.records = 0;
  progress.pages = 0;
  progress.truncatedOutputs = 0;
  progress.nextToken = undefined;
  progress.nextPage = undefined;
  walk.live = { records: 0, pages: 0 };
  await saveProgress(walk, progress);
  for (const key of stale) await walk.deps.store.delete(key);
}

/** commit: verify every object is there whole, then write the manifest once (a racing collector may win). */
async function commit(state: { progress: Checkpoint }, walk: Walk): Promise<CollectState> {
  const { progress } = state;
  const { ref, deps, log } = walk;
  const { store } = deps;
  await writable(walk);
  syncStats(walk, progress);
  await verifyStored(store, [...progress.parts, ...progress.related]);
  const manifest: Manifest = {
    format: FORMAT_VERSION,
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    api: deps.adapter.api,
    complete: true,
    records: progress.records,
    parts: progress.parts,
    related: progress.related,
    pages: progress.pages,
    apiCalls: progress.apiCalls,
    retries: progress.retries,
    invocations: progress.invocations,
    startedAt: progress.startedAt,
    finishedAt: walk.now().toISOString(),
    truncatedOutputs: progress.truncatedOutputs,
    collector: deps.collector,
    ...(progress.generation !== undefined ? { generation: progress.generation } : {}),
  };
  if (progress.generation !== undefined) return switchGeneration(walk, progress, manifest);
  try {
    await store.put(manifestKey(ref), JSON.stringify(manifest, null, 2) + '\n', { forbidOverwrite: true, contentType: 'application/json' });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const winner = await readManifest(store, ref);
    log.info('another collector committed first', { records: winner?.records });
    await cleanUp(walk, progress);
    return { step: 'done', result: resultOf(ref, 'committed-by-other', winner ?? manifest, store) };
  }
  walk.observer?.committed(manifest);
  await cleanUp(walk, progress);
  log.info('archive committed', {
    records: manifest.records,
    parts: manifest.parts.length,
    pages: manifest.pages,
    apiCalls: manifest.apiCalls,
    retries: manifest.retries,
    truncatedOutputs: manifest.truncatedOutputs,
  });
  return { step: 'done', result: resultOf(ref, 'committed', manifest, store) };
}

/**
 * One lane's listing into gzip NDJSON objects: objects close at page boundaries once over the limits and are uploaded
 * while the next pages are read (one at a time), a checkpoint follows every stored object, and when the lane stops (the deadline, another lane's stop or failure, its own error)
 * what was read since is kept as its `_pending` object. Returns false when it stopped before the listing's end.
 */
async function walkListing(walk: Walk, progress: Checkpoint, lane: Lane): Promise<boolean> {
  const { store, deadline } = walk.deps;
  const { limits } = walk;
  let current = new NdjsonGzipBuffer();
  try {
    if (lane.pending) await current.write(readRecords(store, lane.pending));
    // Pages read since the lane's last commit, and where the lane is after them.
    let unflushed: PageTally[] = [];
    let at: { nextToken?: string | undefined; nextPage?: number | undefined } = lane.start;
    // The object closed last may still be on its way to the store while the next pages are read (at most one; its
    // commit and checkpoint follow its upload). `settle` waits for it; a failed upload stops the lane.
    let storing: Promise<void> | undefined;
    let storeError: unknown;
    const settle = async () => {
      const pendingStore = storing;
      storing = undefined;
      await pendingStore;
      if (storeError !== undefined) throw storeError;
    };
    const keep = async () => {
      await settle();
      await writable(walk);
      const pending = current.records > 0 ? await storeGzipObject(store, lane.pendingKey, current) : undefined;
      lane.commit(undefined, { ...at, pending }, unflushed);
      unflushed = [];
    };
    let slowestPageMs = 0;
    try {
      let pageStarted = Date.now();
      for await (const page of readAhead(lane.pages)) {
        // The existence check failed while this page was read: nothing was written, and nothing will be.
        if (walk.gateError !== undefined) throw walk.gateError;
        if (storeError !== undefined) throw storeError;
        slowestPageMs = Math.max(slowestPageMs, Date.now() - pageStarted);
        if (page.restart !== undefined) {
          await settle();
          await current.discard();
          current = new NdjsonGzipBuffer();
          unflushed = [];
          await lane.onRestart(page.restart);
          pageStarted = Date.now();
          continue;
        }
        await current.write(page.records);
        unflushed.push({ records: page.records.length, truncated: page.records.filter((r) => walk.deps.adapter.isTruncated(r)).length });
        lane.onPage(page);
        report(walk, progress);
        at = { nextToken: page.nextToken, nextPage: page.nextPage };
        const more = at.nextToken !== undefined || at.nextPage !== undefined;
        if (more && (current.records >= limits.maxRecords || current.bytes >= limits.maxBytes)) {
          await settle();
          await writable(walk);
          const closing = { buffer: current, at, pages: unflushed };
          unflushed = [];
          current = new NdjsonGzipBuffer();
          storing = (async () => {
            const entry = await lane.store(closing.buffer);
            lane.commit(entry, closing.at, closing.pages);
            await saveProgress(walk, progress);
          })();
          storing.catch((err: unknown) => {
            storeError = err;
          });
        }
        if (more && (walk.stopping || (lane.watchesDeadline() && deadline.nearlyDone(Math.max(3_000, slowestPageMs * 3))))) {
          walk.stopping = true;
          await keep();
          return false;
        }
        pageStarted = Date.now();
      }
    } catch (err) {
      walk.stopping = true;
      // A failed existence check is the answer, whatever the listing said meanwhile (OOS answers an unknown execution's
      // records with 404 too): wait for the check, and write nothing if it failed.
      await writable(walk);
      // An object that did not make it to the store leaves a gap before `current`: then nothing more is kept.
      const stored = await settle().then(
        () => true,
        () => false,
      );
      // Keep what was read: the next invocation resumes from the last page that made it into the buffer.
      if (stored && current.records > 0 && !(err instanceof InputError)) {
        await keep().catch((saveErr: unknown) => walk.log.warn('could not keep what was read after an error', { err: saveErr }));
      }
      throw err;
    }
    await settle();
    await writable(walk);
    // The last object: the rest of the listing, or an empty one for a related listing that had nothing.
    const last = current.records > 0 || (lane.name !== 'records' && !progress.related.some((r) => r.name === lane.name)) ? await lane.store(current) : undefined;
    lane.commit(last, undefined, unflushed);
    if (lane.name !== 'records') walk.observer?.relatedDone(lane.name as RelatedName);
    return true;
  } finally {
    // Whatever was not stored is dropped with its spool (a stored object's spool is closed already).
    await current.discard();
  }
}

/** The progress of a walk that has read nothing yet. */
function freshProgress(walk: Walk): Checkpoint {
  const { ref } = walk;
  const started = walk.now().toISOString();
  return {
    format: FORMAT_VERSION,
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    parameters: walk.deps.adapter.api.parameters,
    phase: 'records',
    nextToken: undefined,
    parts: [],
    pending: undefined,
    related: [],
    records: 0,
    pages: 0,
    truncatedOutputs: 0,
    apiCalls: 0,
    retries: 0,
    invocations: 1,
    startedAt: started,
    updatedAt: started,
  };
}

/** The checkpoint's API counters: what earlier invocations spent plus this invocation's client counters. */
function syncStats(walk: Walk, progress: Checkpoint): void {
  const { stats } = walk.deps.adapter;
  progress.apiCalls = walk.base.apiCalls + stats.apiCalls;
  progress.retries = walk.base.retries + stats.retries;
  progress.updatedAt = walk.now().toISOString();
}

/** Saves the checkpoint as it is when its turn comes (lanes save independently; the writes go one after another). */
function saveProgress(walk: Walk, progress: Checkpoint): Promise<void> {
  const save = async () => {
    await writable(walk);
    syncStats(walk, progress);
    await saveCheckpoint(walk.deps.store, walk.ref, progress);
  };
  const saved = walk.saving.then(save, save);
  walk.saving = saved.catch(() => undefined);
  return saved;
}


/** The deadline came first: the progress is saved; the result says how to go on. */
function checkpointed(walk: Walk, progress: Checkpoint): CollectState {
  walk.log.info('deadline near: checkpointed', { phase: progress.phase, records: progress.records, pages: progress.pages, parts: progress.parts.length });
  return { step: 'done', result: resultOf(walk.ref, 'checkpointed', progress, walk.deps.store) };
}

function report(walk: Walk, progress: Checkpoint): void {
  const { onProgress, adapter } = walk.deps;
  if (!onProgress) return;
  syncStats(walk, progress);
  onProgress({
    phase: progress.phase,
    records: walk.live.records,
    pages: walk.live.pages,
    expectedRecords: walk.expectedRecords,
    recordsThisRun: walk.live.records - walk.base.records,
    apiCalls: progress.apiCalls,
    retries: progress.retries,
    throttles: adapter.stats.throttles,
    resumed: walk.resumed,
  });
}

function sameParameters(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return Object.keys({ ...a, ...b }).every((k) => a[k] === b[k]);
}

/** A forced re-collection's generation: when it started, and a random tail so two racing ones never share keys. */
function newGeneration(now: Date): string {
  return `${now.toISOString().replace(/[-:]|\.\d+Z$/g, '')}-${randomBytes(4).toString('hex')}`;
}

/**
 * commit of a forced re-collection: the new manifest replaces the old one in one write (the switch; a reader sees the
 * old complete archive or the new one, never a mix), then the objects nobody trusts any more are removed: the
 * replaced archive's, or, when a racing re-collection switched after this one, this one's own. Objects the manifest
 * in place names are never removed, so two racing re-collections end with exactly one trusted archive.
 */
async function switchGeneration(walk: Walk, progress: Checkpoint, manifest: Manifest): Promise<CollectState> {
  const { ref, log } = walk;
  const { store } = walk.deps;
  await store.put(manifestKey(ref), JSON.stringify(manifest, null, 2) + '\n', { contentType: 'application/json' });
  const current = (await readManifest(store, ref)) ?? manifest;
  const trusted = new Set([...current.parts, ...current.related].map((e) => e.key));
  const ours = current.generation === progress.generation;
  if (ours) walk.observer?.committed(manifest);
  const stale = ours ? (progress.replaces ?? []) : [...progress.parts, ...progress.related].map((e) => e.key);
  for (const key of stale) if (!trusted.has(key)) await store.delete(key);
  await cleanUp(walk, progress);
  log.info(ours ? 'archive re-collected: the new generation is in place' : 'a racing re-collection switched after this one', {
    generation: progress.generation,
    records: manifest.records,
    removed: stale.length,
  });
  return { step: 'done', result: resultOf(ref, ours ? 'committed' : 'committed-by-other', current, store) };
}

function assertSameParameters(a: Record<string, unknown>, b: Record<string, unknown>, what: string): void {
  const differing = Object.keys({ ...a, ...b }).filter((k) => a[k] !== b[k]);
  if (differing.length > 0) {
    throw new InputError(
      'ArchiveConflict',
      `${what} exists for this id with different parameters (${differing.map((k) => `${k}=${String(a[k])}`).join(', ')}); pass "force": true to replace it`,
      409,
    );
  }
}

/** `force` over an archive that is not complete (nothing trusted to keep): its leftovers go, generations included. */
async function discardArchive(store: ObjectStore, ref: ArchiveRef, existing: Manifest | undefined): Promise<void> {
  if (existing) await store.delete(manifestKey(ref));
  for await (const obj of store.list(`${archiveDir(ref)}/`)) {
    if (/\/(?:g-[^/]+\/)?(part-\d+\.ndjson\.gz|_pending(?:-[a-z-]+)?\.ndjson\.gz|_checkpoint\.json|related\/[^/]+)$/.test(obj.key)) await store.delete(obj.key);
  }
}

/**
 * After the commit: the resume state and the event consumer's claims have served their purpose, and a killed
 * writer's unfinished multipart uploads (invisible, but billed) are aborted.
 */
async function cleanUp(walk: Walk, progress: Pick<Checkpoint, 'generation'>): Promise<void> {
  const { ref } = walk;
  const { store, adapter } = walk.deps;
  // Independent of each other, and the archive is committed: side by side, so they cost one round trip, not six.
  const claims = async () => {
    for await (const obj of store.list(`${archiveDir(ref)}/_claim`)) await store.delete(obj.key);
  };
  await Promise.all([
    store.delete(checkpointKey(ref)),
    store.delete(pendingKey(ref, progress.generation)),
    ...adapter.related().map((listing) => store.delete(relatedPendingKey(ref, listing.name, progress.generation))),
    claims(),
    store.abortUploads?.(`${archiveDir(ref)}/`),
  ]);
}

/** Objects checked at once before the commit (a HEAD each). */
const VERIFY_CONCURRENCY = 8;

async function verifyStored(store: ObjectStore, entries: ObjectEntry[]): Promise<void> {
  const limit = pLimit(VERIFY_CONCURRENCY);
  await Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const info = await store.head(entry.key);
        if (!info || info.size !== entry.bytes) {
          throw new StorageError('IncompleteObject', `archive object ${entry.key} is ${info ? `${info.size} bytes, expected ${entry.bytes}` : 'missing'}`, {
            key: entry.key,
          });
        }
      }),
    ),
  );
}

function resultOf(
  ref: ArchiveRef,
  status: CollectStatus,
  m: Pick<Manifest, 'records' | 'parts' | 'pages' | 'apiCalls' | 'retries' | 'truncatedOutputs' | 'invocations'>,
  store: ObjectStore,
): CollectResult {
  const complete = status !== 'checkpointed';
  const key = complete ? manifestKey(ref) : checkpointKey(ref);
  return {
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    status,
    complete,
    manifestKey: key,
    location: store.locate(key),
    records: m.records,
    parts: m.parts.length,
    pages: m.pages,
    apiCalls: m.apiCalls,
    retries: m.retries,
    truncatedOutputs: m.truncatedOutputs,
    invocations: m.invocations,
  };
}
