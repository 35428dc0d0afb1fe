/**
 * The full id lists of a summary, streamed to the archive as the aggregation reads them back (aggregate.ts
 * `ListOutput`): `failures.ndjson.gz` (every failed record: `{"id","cause"}`, the cause's key), `retry.txt` (each
 * failed resource once), `truncated.txt` and `causes/<key>.txt` (only when summary.json holds just the first ids of
 * the list), and the report's pages of failed instances. Each object is written through the archive writer's spool
 * (lib/archive/writer.ts), so none is ever held whole; ids are shown as summary.json shows them (`displayText`, as
 * the aggregation hands them over: masked once, as their records came).
 */
import { causeListKey, failuresKey, retryListKey, truncatedListKey, type ArchiveRef } from '../archive/layout';
import type { ObjectStore } from '../archive/store';
import { NdjsonGzipBuffer, storeGzipObject, storeTextObject, TextObjectWriter } from '../archive/writer';
import type { FailureGroup, ListOutput } from './aggregate';

const TEXT = 'text/plain; charset=utf-8';
/**
 * Cut causes' lists stored at a time (the next is written meanwhile): each holds a spool, an open file, until it is
 * stored, and an invocation may cut thousands of causes.
 */
const LIST_STORES = 4;

/**
 * How a long run of work shares the event loop with I/O under way: a slice of `ms` of work, then `pause()` before the
 * next (collect's live summary, lib/summary/live.ts).
 */
export interface Slicing {
  readonly ms: number;
  pause(): Promise<void>;
}

/** Something that turns the failed instances, in archive order, into pages (report-html.ts `createInstancePages`). */
export interface InstancePages {
  start(groups: readonly FailureGroup[]): void;
  row(cause: number, id: string): Promise<void> | undefined;
  /** Ends the last page (its store goes on: {@link stored}); resolves to the number of pages written. */
  end(): Promise<number>;
  /** Resolves once the pages are stored; @throws the failed store. */
  stored(): Promise<void>;
  discard(): Promise<void>;
}

/** The list output of one archive's summary, plus what it wrote. */
export interface SummaryListOutput extends ListOutput {
  /** Pages of failed instances written (0 when there were none to write). */
  readonly pages: number;
  /**
   * Resolves once every list object is stored. `end` and `causeList` resolve once an object's text is complete (in its
   * spool) and its key known, so the summary is built while the objects are stored; summary.json waits for this.
   * @throws the first failed store.
   */
  stored(): Promise<void>;
}

/**
 * The objects of one summary's id lists.
 * @param pages the report's pages of failed instances, when they are written.
 * @param onFailure told each failed record's cause (its index among the groups) as its line is written, in archive
 *   order: the warehouse's results table takes them so (lib/warehouse/results.ts `addCause`) instead of reading
 *   `failures.ndjson.gz` back.
 * @param slicing when given, the aggregation's reading of the lists pauses after each slice of work (a failed
 *   record's line answers with the pause's promise then): other work waiting for its I/O goes on (collect's walk
 *   writing its last objects while the summary is finished ahead of the commit, live.ts).
 * @example const output = createListOutput(store, ref); const aggregation = await aggregator.finish(output);
 */
export function createListOutput(store: ObjectStore, ref: ArchiveRef, pages?: InstancePages, onFailure?: (cause: number) => void, slicing?: Slicing): SummaryListOutput {
  let groups: readonly FailureGroup[] = [];
  const failures = new NdjsonGzipBuffer();
  const retry = new TextObjectWriter();
  const truncated = new TextObjectWriter();
  let pageCount = 0;
  // The stores under way (the lists, each cut cause's list): waited for by stored(), their failures kept till then.
  const storing: Promise<unknown>[] = [];
  const store_ = (p: Promise<unknown>): void => {
    p.catch(() => undefined);
    storing.push(p);
  };
  // The cut causes' lists being stored (each settles, never rejects; its failure is stored()'s).
  const listing = new Set<Promise<void>>();
  let sliceEnd = slicing ? performance.now() + slicing.ms : Infinity;
  const turn = (): Promise<void> | undefined => {
    if (!slicing || performance.now() < sliceEnd) return undefined;
    return slicing.pause().then(() => {
      sliceEnd = performance.now() + slicing.ms;
    });
  };

  return {
    get pages() {
      return pageCount;
    },
    start(final) {
      groups = final;
      pages?.start(final);
    },
    failure(_id, cause, shown) {
      // Encoded at once (a batch of records waiting as objects lived long enough to be promoted to V8's old generation).
      const written = failures.add({ id: shown, cause: groups[cause]?.key ?? '' });
      onFailure?.(cause);
      return written ?? turn();
    },
    retry(_id, shown) {
      return retry.write(`${shown}\n`);
    },
    causeId(cause, _id, shown) {
      return pages?.row(cause, shown);
    },
    truncated(_id, shown) {
      return truncated.write(`${shown}\n`);
    },
    async causeList(cause, shownIds) {
      while (listing.size >= LIST_STORES) await Promise.race(listing);
      const key = causeListKey(ref, groups[cause]?.key ?? String(cause));
      const writer = new TextObjectWriter();
      try {
        for (const shown of shownIds) await writer.write(`${shown}\n`);
      } catch (err) {
        await writer.discard();
        throw err;
      }
      const stored = storeTextObject(store, key, writer, TEXT);
      store_(stored);
      const settled = stored.then(
        () => undefined,
        () => undefined,
      );
      listing.add(settled);
      void settled.then(() => listing.delete(settled));
      return key;
    },
    async end(truncatedCut) {
      const keys: { retry: string; truncated?: string } = { retry: retryListKey(ref) };
      if (truncatedCut) keys.truncated = truncatedListKey(ref);
      // Independent objects: stored side by side (one round trip, not four), and not waited for here (stored()): the
      // summary is built and rendered meanwhile. The report's last page too: its number is known once it is ended.
      store_(storeGzipObject(store, failuresKey(ref), failures));
      store_(storeTextObject(store, retryListKey(ref), retry, TEXT));
      store_(truncatedCut ? storeTextObject(store, truncatedListKey(ref), truncated, TEXT) : truncated.discard());
      pageCount = (await pages?.end()) ?? 0;
      if (pages) store_(pages.stored());
      return keys;
    },
    async stored() {
      await Promise.all(storing);
    },
    async discard() {
      await Promise.all([failures.discard(), retry.discard(), truncated.discard(), pages?.discard(), ...storing.map((p) => p.catch(() => undefined))]);
    },
  };
}
