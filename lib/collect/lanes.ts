/**
 * The walk step: the records and every unfinished related listing read side by side, each a lane with its own
 * cursor in the checkpoint; a lane writes its listing into gzip NDJSON objects (parts, related objects) at page
 * boundaries, checkpoints after each stored object, and keeps what it read as its `_pending` object when it stops.
 */
import { channel } from 'node:diagnostics_channel';
import { InputError, PaginationError } from '../errors';
import { partKey, pendingKey, relatedKey, relatedPendingKey } from '../archive/layout';
import type { ObjectEntry, RelatedEntry, RelatedName } from '../archive/manifest';
import { NdjsonGzipBuffer, storeGzipObject } from '../archive/writer';
import { readRecords } from '../archive/reader';
import { readAhead } from '../cloud/paginate';
import type { Checkpoint } from './checkpoint';
import type { ListingPage, RelatedListing } from './sources';
import { checkpointed, report, saveProgress, writable, type CollectState, type Walk } from './walk';

/**
 * The walk's per-page timeline (node:diagnostics_channel; nothing is published without a subscriber): each lane
 * publishes `{ lane, phase }` when a page is `handed` to it, `written` to its gzip object and `done` (the observers
 * included, e.g. the inline summary's aggregation), and `ended` once its last object is stored; the commit step
 * (commit.ts) publishes `{ lane: 'commit', phase }`: `verified` (every object checked) and `manifest` (written). With Node's `http.client.request.start` (a request's last bytes
 * written) and `http.client.response.finish` it shows whether the next request left before a page's work
 * (`npm run bench -- --timeline DIR`, docs/performance.md).
 */
export const PAGE_CHANNEL = 'execution-archive:page';
const pageChannel = channel(PAGE_CHANNEL);

/** What a lane's commit counts of a page read since the last one. */
interface PageTally {
  records: number;
  /** Records whose output the API cut (`Dropped` > 0). */
  truncated: number;
}

/**
 * One listing as the walk reads it: its pages, where its objects go, and how a stored object or a stop moves its
 * cursor in the checkpoint. `commit` runs synchronously right after the object it names is stored, so a checkpoint
 * written at any moment by any lane names only stored objects, each with the cursor that follows it.
 */
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
  /** The listing has been read to its end (its last page handed over), before its last object is stored. */
  onEnd?(): void;
  onRestart(reason: string): Promise<void>;
  /** Whether this lane looks at the deadline itself (the records lane; the others once the records are done). */
  watchesDeadline(): boolean;
}

/**
 * walk: the records and every unfinished related listing, side by side. Each lane checkpoints after each object it
 * stores; when the records lane sees the deadline (or any lane fails) every lane stops at its next page and keeps
 * what it read, and the checkpoint is saved once more with all of them. Then commit, or `done` with `checkpointed`.
 */
export async function walkLanes(state: { progress: Checkpoint }, walk: Walk): Promise<CollectState> {
  const { progress } = state;
  const lanes: Lane[] = [];
  if (progress.phase === 'records') lanes.push(recordsLane(walk, progress));
  for (const listing of walk.deps.adapter.related()) {
    if (!progress.listings?.[listing.name]?.done) lanes.push(relatedLane(walk, progress, listing));
  }
  const walking = Promise.allSettled(lanes.map((lane) => walkListing(walk, progress, lane)));
  // Each lane asked for its first page; after a turn of the event loop those requests have left (readAhead's turn).
  if (walk.observer?.started) setImmediate(() => walk.observer?.started?.());
  const settled = await walking;
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
  return { step: 'outputs', progress };
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
    onEnd: () => walk.observer?.recordsRead?.(),
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
        if (pageChannel.hasSubscribers) pageChannel.publish({ lane: lane.name, phase: 'handed' });
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
        if (pageChannel.hasSubscribers) pageChannel.publish({ lane: lane.name, phase: 'written' });
        unflushed.push({ records: page.records.length, truncated: page.records.filter((r) => walk.deps.adapter.isTruncated(r)).length });
        lane.onPage(page);
        if (pageChannel.hasSubscribers) pageChannel.publish({ lane: lane.name, phase: 'done' });
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
      lane.onEnd?.();
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
    if (pageChannel.hasSubscribers) pageChannel.publish({ lane: lane.name, phase: 'ended' });
    lane.commit(last, undefined, unflushed);
    if (lane.name !== 'records') walk.observer?.relatedDone(lane.name as RelatedName);
    return true;
  } finally {
    // Whatever was not stored is dropped with its spool (a stored object's spool is closed already).
    await current.discard();
  }
}
