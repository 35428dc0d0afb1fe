/**
 * The summary aggregated while collect walks: collect hands every page to it as it passes (it is the walk's
 * observer), so the aggregation's CPU runs while the next page is on the wire, and once the archive is committed only
 * the small summary objects are left to build and store. What it stores is what `summarizeArchive` computes from the
 * archive read back, byte for byte: the same records in the same order, through the same aggregator.
 *
 * It stands aside (and the archive is summarized by reading it back, as before) when it did not see the whole
 * archive: a resumed walk, a records walk that started over (parallel ECS pages that did not add up), a racing
 * collector's manifest in place (collect then does not call `committed`), or OOS failures that outgrew what it may hold while
 * the failed children are still being listed (a failed record's cause needs the complete list of children).
 */
import type { Manifest, RelatedName } from '../archive/manifest';
import type { ObjectStore } from '../archive/store';
import type { Source } from '../ids';
import { RESULT_COLUMNS } from '../warehouse/layout';
import { ColumnChunksWriter } from '../warehouse/parquet';
import { ResultsTable } from '../warehouse/results';
import { createAggregator, type Aggregator } from './aggregate';
import { ChildSpool } from './children';
import type { Slicing } from './lists';
import { finishSummary, storeSummary, summaryStep, type FinishingSummary, type SummarizeOptions, type SummarizeResult } from './index';
import { subjectOf, type Subject } from './summary';

/**
 * Characters of failed OOS records that may wait (in a temporary file, not in memory) while the failed children are
 * still being listed; beyond, the live summary stands aside and the archive is read back. Bounds what waiting takes
 * of the function's /tmp (512 MB by default in FC), beside the parts being written. @default 128 Mi
 */
export const MAX_WAITING_CHARS = 128 * 1024 * 1024;

/**
 * The milliseconds after each page spent on work that waited: OOS, once the failed children are listed, the
 * children's index (children.ts `completeStep`, a partition at a time, at least one per page); the warehouse results
 * table's waiting columns (results.ts `encodeSome`, a column at a time); then the failed records held for the
 * children (aggregate.ts `catchUp`; each later failure moves those on by two as well). The walk hands a page over
 * once the next page's request has left, so a slice this short runs while that request is on the wire; done at once
 * (the index, then hundreds to thousands of failures at ~0.3 ms each) it held up the answers in flight by 0.1–1 s,
 * and a column encoded on its own turn of the event loop could run before a request was sent. What is left when the
 * walk ends is done before the summary. @default 4
 */
export const CATCH_UP_SLICE_MS = 4;

/** A failed record as Cloud Assistant reports one, with an error line and a secret, for {@link warmUp}. */
const WARM_UP_FAILURE: Readonly<Record<string, unknown>> = {
  InstanceId: 'i-warmup00000000000',
  InvocationStatus: 'Failed',
  ErrorCode: 'InstanceCommandFailed',
  ExitCode: 1,
  Output: 'Connecting to 10.0.0.1:5432 as admin password=warmup\npsql: error: connection to server failed: FATAL: password authentication failed for user "admin"\n',
};

/** What {@link warmUp} has warmed in this process. */
const warmed = { causes: false, parquet: false };
/** Rows of the warehouse's columns {@link warmUp} encodes. */
const WARM_UP_ROWS = 50;

/**
 * Pays once, while the walk waits for its first answers, what the first failure aggregated otherwise pays on the
 * walk's path with an answer in flight: lib/causes loaded (`causes.js` beside the bundle), the masker's and the error
 * lines' tables built, the aggregation's code compiled. A throwaway aggregator aggregates a failure of its own; the
 * tables and code it warms are pure, so nothing of it reaches the summary. With the warehouse's results table, a
 * throwaway writer encodes 50 rows of its columns too: the first row group's columns, encoded after a page (or after
 * the last one), then run warm (measured alone: 10,000 rows' walked columns 149-174 ms of CPU cold, 129-138 ms after
 * this; the warm-up ~7 ms).
 */
function warmUp(warehouse: boolean): void {
  if (!warmed.causes) {
    warmed.causes = true;
    const aggregator = createAggregator({ source: 'ecs' });
    try {
      aggregator.add({ ...WARM_UP_FAILURE });
    } finally {
      aggregator.discard();
    }
  }
  if (warehouse && !warmed.parquet) {
    warmed.parquet = true;
    const writer = new ColumnChunksWriter(RESULT_COLUMNS);
    const rows = Array.from({ length: WARM_UP_ROWS }, (_, i) => i);
    const at = BigInt(Date.UTC(2026, 0, 1));
    try {
      for (const column of RESULT_COLUMNS) {
        const values = rows.map((i) => {
          if (column.type === 'TIMESTAMP') return i % 5 === 0 && column.nullable ? null : at + BigInt(i * 997);
          if (column.type === 'INT32') return i % 4 === 0 && column.nullable ? null : i % 3;
          if (i % 6 === 0 && column.nullable) return null;
          // Unique values (plain encoding, as resource_id's) and a few repeated ones (a dictionary, as status's).
          return column.name === 'resource_id' ? `i-warmup${String(i * 7919).padStart(12, '0')}` : (['Success', 'Failed', 'Stopped'][i % 3] ?? '');
        });
        writer.chunk(0, column.name, values);
      }
    } finally {
      writer.close().catch(() => undefined);
    }
  }
}

/**
 * `store` whose writes (put, delete) wait for `until`, and fail with it: the objects of a summary finished before its
 * archive is committed are written only once it is (a walk that does not commit, a racing collector's, writes none).
 */
function writesAfter(store: ObjectStore, until: Promise<void>): ObjectStore {
  const gated: ObjectStore = {
    url: store.url,
    put: async (key, body, options) => {
      await until;
      return store.put(key, body, options);
    },
    delete: async (key) => {
      await until;
      return store.delete(key);
    },
    get: (key) => store.get(key),
    getStream: (key, options) => store.getStream(key, options),
    head: (key) => store.head(key),
    list: (prefix) => store.list(prefix),
    locate: (key) => store.locate(key),
  };
  return gated;
}

/**
 * Milliseconds the summary's work ahead of the commit leaves the event loop after each slice ({@link
 * CATCH_UP_SLICE_MS}) while the walk's last writes are under way: the commit is a chain of many small writes (the last
 * part's gzip and upload, the check of every object, the manifest), each waiting for the event loop; with a mere turn
 * between slices each link waited for a slice (measured: the commit ~0.3 s later at ECS 10k, after as much CPU as
 * before); with a pause, the links that are ready run in it. Once the archive is committed, a turn. @default 1
 */
export const AHEAD_PAUSE_MS = 1;

/**
 * The results table's waiting columns (the last row group's, once the records are all in) encoded a slice at a time,
 * pausing between slices: the walk's last writes go on meanwhile.
 */
async function encodeInSlices(results: ResultsTable, slicing: Slicing): Promise<void> {
  for (;;) {
    await slicing.pause();
    const until = performance.now() + slicing.ms;
    if (results.encodeSome(() => performance.now() < until)) return;
  }
}

/** Options of {@link createLiveSummary}. */
export interface LiveSummaryOptions {
  /** Distinct causes kept as groups (as summarize's option). @default 5000 */
  maxGroups?: number;
  /** See {@link MAX_WAITING_CHARS}. */
  maxWaitingChars?: number;
  /**
   * Build the warehouse's results table from the records as they pass (lib/warehouse/results.ts), handed to the
   * warehouse step (`afterSummary`) so that it does not read the archive again. @default false
   */
  warehouse?: boolean;
  /**
   * Start storing the summary as soon as the walk has written the manifest (beside the walk's own clean-up of its
   * resume state, which then is no longer on the summary's path); {@link LiveSummary.store} answers with it.
   */
  summarize?: SummarizeOptions;
}

/** A summary in the making; collect's walk observer (structurally: lib/collect/collect.ts `WalkObserver`). */
export interface LiveSummary {
  subject(record: Record<string, unknown>): void;
  records(records: readonly Record<string, unknown>[]): void;
  related(name: RelatedName, records: readonly Record<string, unknown>[]): void;
  restarted(): void;
  relatedDone(name: RelatedName): void;
  /** The walk's first requests have left: {@link warmUp} while it waits for the answers. */
  started(): void;
  /**
   * The records are all read: with `summarize`, once the failed children are listed too, the aggregation is finished
   * (its id lists merged into their objects, written once the walk commits) and the results table's last columns
   * encoded, while the walk writes its last objects and the manifest.
   */
  recordsRead(): void;
  committed(manifest: Manifest): void;
  /** Why it cannot store the summary (it did not see the whole archive), or `undefined` when it can. */
  readonly unavailable: string | undefined;
  /**
   * Stores the summary objects of the archive this walk committed (its manifest, as the walk handed it over: not
   * read back), handing the aggregator itself to the summary (no payload, no second reading); `undefined` (nothing
   * stored) when {@link unavailable}. Started at the commit already when created with `summarize`: then it answers
   * with that (stored with those options).
   */
  store(options: SummarizeOptions): Promise<SummarizeResult | undefined>;
  /** Drops what it holds (temporary files) when it will not be stored. */
  discard(): void;
}

/**
 * A live summary for one archive of `source`.
 * @example const live = createLiveSummary('oos'); await collect(req, { ...deps, observer: live }); await live.store(options);
 */
export function createLiveSummary(source: Source, options: LiveSummaryOptions = {}): LiveSummary {
  const maxWaitingChars = options.maxWaitingChars ?? MAX_WAITING_CHARS;
  // OOS: the failed children as they are listed, on disk (children.ts); handed to the aggregator once complete.
  let children: ChildSpool | undefined = source === 'oos' ? new ChildSpool() : undefined;
  let aggregator: Aggregator | undefined = createAggregator({ source, children: children ? 'later' : undefined, maxGroups: options.maxGroups });
  // Its row groups are encoded a column at a time after the pages (afterPage): the Parquet encoding's CPU overlaps
  // the round trips and never runs before a page's request is sent.
  let results: ResultsTable | undefined = options.warehouse ? new ResultsTable(source, { background: 'steps' }) : undefined;
  let subject: Subject | undefined;
  let childrenDone = source !== 'oos';
  // Once listed: the children's index being built, then the failed records that waited aggregated (slices, see
  // CATCH_UP_SLICE_MS). The spool is the live summary's until it is handed to the aggregator.
  let completing: ChildSpool | undefined;
  let catchingUp = false;
  const afterPage = (agg: Aggregator) => {
    const until = performance.now() + CATCH_UP_SLICE_MS;
    const more = () => performance.now() < until;
    if (completing) {
      while (!completing.completeStep()) if (!more()) return;
      handOver(agg);
    }
    // The warehouse's waiting columns (at most two row groups: results.ts encodes an older one at once), then the
    // failures that waited for the children.
    if (results && !results.encodeSome(more)) return;
    if (catchingUp && more()) catchingUp = !agg.catchUp(more);
  };
  const handOver = (agg: Aggregator) => {
    if (!completing) return;
    // From here the aggregator owns the spool (it completes what is left, and closes its files when finished or discarded).
    agg.setChildren(completing);
    completing = undefined;
    catchingUp = true;
  };
  let committed: Manifest | undefined;
  let abandoned: string | undefined;
  let storing: Promise<SummarizeResult | undefined> | undefined;
  // Finished ahead of the commit (finishEarly): the aggregation and the results table are its, and its list objects
  // wait for `gate` (opened by the commit, shut when the summary is abandoned).
  let recordsRead = false;
  let ahead: { finishing: FinishingSummary; open: () => void; shut: (err: Error) => void } | undefined;

  const finishEarly = () => {
    const summarize = options.summarize;
    if (!summarize || ahead || !recordsRead || !childrenDone || abandoned !== undefined || !aggregator || !subject) return;
    summaryStep('finishing');
    handOver(aggregator);
    let open: () => void = () => undefined;
    let shut: (err: Error) => void = () => undefined;
    const gate = new Promise<void>((resolve, reject) => {
      open = resolve;
      shut = reject;
    });
    gate.catch(() => undefined);
    const inputs = { aggregator, subject, results };
    aggregator = undefined;
    results = undefined;
    // Slices that leave the walk's writes room until the commit (AHEAD_PAUSE_MS), then a turn of the event loop.
    let isOpen = false;
    void gate.then(
      () => (isOpen = true),
      () => undefined,
    );
    const slicing: Slicing = {
      ms: CATCH_UP_SLICE_MS,
      pause: () => new Promise((resolve) => (isOpen ? setImmediate(resolve) : setTimeout(resolve, AHEAD_PAUSE_MS))),
    };
    ahead = { finishing: finishSummary(writesAfter(summarize.store, gate), summarize.ref, inputs, slicing), open, shut };
    if (inputs.results) {
      inputs.results.endRecords();
      encodeInSlices(inputs.results, slicing).catch(() => undefined);
    }
  };

  const abandon = (why: string) => {
    abandoned ??= why;
    if (ahead) {
      // Nothing of it is written: its writes fail with the gate; its spools are dropped once it has stopped.
      const { finishing, shut } = ahead;
      ahead = undefined;
      shut(new Error(`the live summary was abandoned: ${why}`));
      finishing.inputs.results?.discard();
      void finishing.aggregation.then(
        () => finishing.output.discard(),
        () => undefined,
      );
    }
    aggregator?.discard();
    aggregator = undefined;
    results?.discard();
    results = undefined;
    children?.discard();
    children = undefined;
    completing?.discard();
    completing = undefined;
  };

  /** Stores the summary objects of the committed archive from the aggregation (once; `undefined` when unavailable). */
  const begin = (summarize: SummarizeOptions, why: string | undefined): Promise<SummarizeResult | undefined> => {
    if (why !== undefined || !subject || !committed) return Promise.resolve(undefined);
    if (ahead) {
      // Finished before the commit (with these options: `summarize` is the early one).
      const { finishing } = ahead;
      ahead = undefined;
      summaryStep('started');
      return storeSummary(summarize, committed, finishing);
    }
    if (!aggregator) return Promise.resolve(undefined);
    summaryStep('started');
    const started = Date.now();
    handOver(aggregator);
    const inputs = { aggregator, subject, results };
    aggregator = undefined;
    results = undefined;
    return storeSummary(summarize, committed, inputs, started);
  };

  return {
    subject(record) {
      // Only the few fields the summary shows: the record can be as large as the records' pages (ECS).
      subject = subjectOf(source, record);
    },
    records(records) {
      if (!aggregator) return;
      for (const record of records) aggregator.add(record);
      if (results) for (const record of records) results.add(record);
      afterPage(aggregator);
      if (aggregator.waitingChars > maxWaitingChars) abandon('the failed records outgrew what may wait for the failed children');
    },
    related(name, records) {
      if (name !== 'failed-child-executions' || !children || !aggregator) return;
      for (const child of records) children.add(child);
    },
    restarted() {
      abandon('the records walk started over');
    },
    relatedDone(name) {
      if (name !== 'failed-child-executions' || !children) return;
      childrenDone = true;
      if (aggregator) completing = children;
      else children.discard();
      children = undefined;
      finishEarly();
    },
    recordsRead() {
      recordsRead = true;
      try {
        finishEarly();
      } catch (err) {
        abandon(`the aggregation could not be finished: ${err instanceof Error ? err.message : String(err)}`);
      }
    },
    started() {
      // What the first failure costs once per process, paid while the walk waits for its first answers. Only a warm-up:
      // should it fail, the walk goes on (the same code fails again, with its error, where it does real work).
      try {
        warmUp(results !== undefined);
      } catch {
        // nothing to undo: the warm-up's aggregator and writer are dropped
      }
    },
    committed(manifest) {
      summaryStep('committed');
      committed = manifest;
      // A stored full output is mined by the summary in place of the cut one the walk saw: the archive is read back.
      if (manifest.outputs?.items.some((item) => item.object)) abandon('full outputs were stored: their causes are mined from the archive');
      // The archive is committed: what was finished before writes its objects now.
      if (abandoned === undefined) ahead?.open();
      const summarize = options.summarize;
      if (summarize && this.unavailable === undefined) {
        // After the current step: the walk's clean-up sends its requests first, then the summary's CPU runs.
        storing = Promise.resolve().then(() => begin(summarize, this.unavailable));
        storing.catch(() => undefined);
      }
    },
    get unavailable() {
      if (abandoned) return abandoned;
      if (!subject || !childrenDone || !committed) return 'the walk did not read the whole archive';
      return undefined;
    },
    store(summarize) {
      storing ??= begin(summarize, this.unavailable);
      return storing;
    },
    discard() {
      abandon('discarded');
    },
  };
}
