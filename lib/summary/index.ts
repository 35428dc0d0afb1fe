/**
 * Summaries of finished archives: `summarizeArchive` reads a complete archive once (streaming), writes
 * `summary.json`, `summary.md`, `report.html` and `retry.txt` next to it and, when configured, notifies;
 * `loadSummary` serves the stored summary while it is current and recomputes it when it is missing or stale.
 */
import { channel } from 'node:diagnostics_channel';
import { archiveDir, failuresKey, manifestKey, reportKey, reportPageKey, retryListKey, summaryKey, summaryMarkdownKey, truncatedListKey, type ArchiveRef } from '../archive/layout';
import type { Manifest, OutputObject } from '../archive/manifest';
import { readManifest, readOutputText, readRecordBatches, readRelated } from '../archive/reader';
import type { ObjectStore } from '../archive/store';
import { pLimit } from '../limit';
import { writeTextObject } from '../archive/writer';
import { InputError, StorageError } from '../errors';
import type { Logger } from '../log';
import { ResultsTable } from '../warehouse/results';
import { createAggregator, type Aggregation, type Aggregator } from './aggregate';
import { spoolChildren, type ChildSpool } from './children';
import { jsonPieces } from './json-pieces';
import { createListOutput, type Slicing, type SummaryListOutput } from './lists';
import { renderMarkdown } from './render/markdown';
import { notifyFailures, type NotifyConfig, type NotifyOutcome } from './notify';
import { createInstancePages, renderReportHtml } from './render/report-html';
import { MASKING_VERSION } from '../causes/secrets';
import { buildSummary, subjectOf, SUMMARY_FORMAT, type Subject, type Summary } from './summary';

/**
 * The summary's steps as it is stored (node:diagnostics_channel; nothing is published without a subscriber):
 * `{ phase }` when the aggregation is `aggregated` (its id lists read back; in collect's live summary ahead of the
 * commit), the summary `built`, summary.md and report.html `rendered`, the list objects `listed` (stored), the
 * warehouse step `warehoused`, every object but summary.json `written`, and summary.json `stored`. Collect's live
 * summary (live.ts) adds `finishing` when it begins the aggregation's end ahead of the commit, `committed` when the
 * walk hands it the manifest and `started` when it starts storing. Beside the walk's page timeline
 * (lib/collect/lanes.ts PAGE_CHANNEL), it shows where the time after the last page goes (`npm run bench --
 * --timeline DIR`).
 */
export const SUMMARY_CHANNEL = 'execution-archive:summary';
const summaryChannel = channel(SUMMARY_CHANNEL);
/** Publishes a step on {@link SUMMARY_CHANNEL} (collect's live summary adds `committed` and `started`). */
export function summaryStep(phase: string): void {
  if (summaryChannel.hasSubscribers) summaryChannel.publish({ phase });
}
const step = summaryStep;

export type { FailureGroup } from './aggregate';
export type { NotifyConfig, NotifyOutcome } from './notify';
export type { RetryPlan, Summary } from './summary';

/** Inputs of {@link summarizeArchive} and {@link loadSummary}. */
export interface SummarizeOptions {
  store: ObjectStore;
  ref: ArchiveRef;
  logger: Logger;
  /** The clock for `generatedAt` and the notification marker. @default () => new Date() */
  now?: () => Date;
  /** Notify when failures cross the thresholds; off when undefined. */
  notify?: NotifyConfig | undefined;
  /** For notifications. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Distinct causes kept as groups. @default 5000 */
  maxGroups?: number;
  /**
   * Run with every summary before summary.json is stored (the warehouse step, lib/warehouse `writeWarehouse`): its
   * failure fails the summary, so a retried or recomputed summary runs it again. None when undefined.
   */
  afterSummary?: ((step: { store: ObjectStore; ref: ArchiveRef; manifest: Manifest; summary: Summary; logger: Logger; results?: ResultsTable | undefined }) => Promise<unknown>) | undefined;
}

/** The objects a summary writes, relative to the archive root. */
export interface SummaryKeys {
  summary: string;
  markdown: string;
  report: string;
  retry: string;
}

/** What {@link summarizeArchive} returns. */
export interface SummarizeResult {
  summary: Summary;
  keys: SummaryKeys;
  /** Present when notifications are configured. */
  notification?: NotifyOutcome;
}

/** The summary objects' keys for an archive. */
export function summaryKeys(ref: ArchiveRef): SummaryKeys {
  return { summary: summaryKey(ref), markdown: summaryMarkdownKey(ref), report: reportKey(ref), retry: retryListKey(ref) };
}

/**
 * The archive's manifest, only if the archive is finished and complete.
 * @throws InputError 404 `ArchiveNotFound` when nothing is stored for the archive; 409 `ArchiveIncomplete` when it
 *   is still being collected (objects but no manifest) or its manifest says `complete: false`.
 * @throws StorageError `CorruptManifest` for a malformed manifest.
 */
export async function requireCompleteManifest(store: ObjectStore, ref: ArchiveRef): Promise<Manifest> {
  const manifest = await readManifest(store, ref);
  const name = `${ref.source} ${ref.id} in ${ref.regionId}`;
  if (manifest === undefined) {
    for await (const _ of store.list(`${archiveDir(ref)}/`)) {
      throw new InputError('ArchiveIncomplete', `the archive of ${name} is still being collected (it has no manifest yet); try again when collection has finished`, 409);
    }
    throw new InputError('ArchiveNotFound', `there is no archive of ${name}; collect it first`, 404);
  }
  if (!manifest.complete) {
    throw new InputError('ArchiveIncomplete', `the archive of ${name} is not complete (its manifest says complete: false), so it cannot be summarized`, 409);
  }
  return manifest;
}

async function firstRecord(records: AsyncIterable<Record<string, unknown>>): Promise<Record<string, unknown> | undefined> {
  for await (const record of records) return record;
  return undefined;
}

/**
 * What a summary is made of besides the manifest: the aggregator that saw every record (not finished yet: its id
 * lists are read back into their objects as the summary is stored; it holds the failed children, OOS), the subject.
 */
export interface SummaryInputs {
  aggregator: Aggregator;
  subject: Subject;
  /**
   * The warehouse's results table, built from the same records as they passed (collect's walk: lib/summary/live.ts;
   * summarize's one read of the archive), handed to {@link SummarizeOptions.afterSummary} so that it does not read
   * the archive again; dropped when unused.
   */
  results?: ResultsTable | undefined;
}

/**
 * How much of the end of a full output the causes are mined from. The error-line finder reads every line it is given
 * and the API itself gives 24 KB; measured on the shared machine, summarizing 500 records with 229 full outputs of
 * 30–200 KB took 3.6–3.8 s with 256 KiB, 2.3–2.7 s with 64 KiB (0.6–0.9 s for the same records without them).
 */
const FULL_OUTPUT_TAIL_BYTES = 64 * 1024;
/** Full outputs read at once (each holds at most its tail while it is read). */
const FULL_OUTPUT_READS = 8;

/** The full outputs an archive holds, by instance and run. */
function storedOutputs(manifest: Manifest): Map<string, OutputObject> {
  const map = new Map<string, OutputObject>();
  for (const item of manifest.outputs?.items ?? []) if (item.object) map.set(`${item.instanceId}\u0000${item.repeats}`, item.object);
  return map;
}

/** Reads a complete archive once (streaming) into what its summary is made of. */
async function aggregateArchive(options: SummarizeOptions, manifest: Manifest): Promise<SummaryInputs> {
  const { store, ref } = options;
  const source = ref.source;
  const subject = subjectOf(source, await firstRecord(readRelated(store, manifest, source === 'oos' ? 'execution' : 'invocation')));
  let children: ChildSpool | undefined;
  if (source === 'oos') children = await spoolChildren(readRelated(store, manifest, 'failed-child-executions'));
  // From here the aggregator owns the children's spool (it closes its files when finished or discarded).
  const aggregator = createAggregator({ source, children, maxGroups: options.maxGroups });
  // The warehouse step's results table (afterSummary: lib/warehouse writeWarehouse) from the same records in the same
  // read: without it, that step read the whole archive a second time (gunzip and parse of every part, its peak RSS).
  const results = options.afterSummary ? new ResultsTable(source) : undefined;
  try {
    const full = storedOutputs(manifest);
    const limit = pLimit(FULL_OUTPUT_READS);
    // A batch per decompressed chunk: the aggregation is a plain loop, not an await per record (only a record whose
    // full output the archive holds waits for it: its causes are mined from it, lib/collect/outputs.ts).
    for await (const batch of readRecordBatches(store, manifest.parts)) {
      if (results) for (const record of batch) results.add(record);
      if (full.size === 0) {
        for (const record of batch) aggregator.add(record);
        continue;
      }
      // The batch's full outputs are read side by side (bounded), then the records are added in their order.
      const objects = batch.map((record) => full.get(`${String(record.InstanceId)}\u0000${Number(record.Repeats ?? 0) || 0}`));
      const texts = await Promise.all(objects.map((object) => (object ? limit(async () => (await readOutputText(store, object, FULL_OUTPUT_TAIL_BYTES)).text) : undefined)));
      batch.forEach((record, i) => {
        const text = texts[i];
        if (text === undefined) aggregator.add(record);
        else aggregator.add(record, { text });
      });
    }
  } catch (err) {
    aggregator.discard();
    results?.discard();
    throw err;
  }
  return { aggregator, subject, results };
}

/** Computes and stores every summary object; returns them too, so a caller can serve one without reading it back. */
async function computeAndStore(options: SummarizeOptions, manifest: Manifest): Promise<SummarizeResult> {
  const started = Date.now();
  return storeSummary(options, manifest, await aggregateArchive(options, manifest), started);
}

/** Objects under these folders of an archive belong to one summary: those it did not write are a former one's. */
const SUMMARY_FOLDERS = ['causes/', 'report/'];

/**
 * What an earlier summary of the archive may have left: the objects under {@link SUMMARY_FOLDERS} and truncated.txt,
 * listed side by side (read while this summary is made, so that only the deletes, if any, follow summary.json).
 */
async function formerObjects(store: ObjectStore, ref: ArchiveRef): Promise<string[]> {
  const listed = async (prefix: string) => {
    const keys: string[] = [];
    for await (const o of store.list(prefix)) keys.push(o.key);
    return keys;
  };
  const truncated = truncatedListKey(ref);
  const [folders, root] = await Promise.all([Promise.all(SUMMARY_FOLDERS.map((folder) => listed(`${archiveDir(ref)}/${folder}`))), listed(truncated)]);
  return [...folders.flat(), ...root.filter((key) => key === truncated)];
}

/** Objects deleted at once. */
const DELETES = 8;

/**
 * Deletes what an earlier summary of the archive wrote and this one did not (a cause list, a page, truncated.txt).
 * @param former what {@link formerObjects} found; @param written the keys this summary wrote.
 */
async function deleteFormerObjects(store: ObjectStore, former: readonly string[], written: ReadonlySet<string>): Promise<void> {
  const limit = pLimit(DELETES);
  await Promise.all(former.filter((key) => !written.has(key)).map((key) => limit(() => store.delete(key))));
}

/**
 * Finishes the aggregation and stores every summary object, each streamed through the archive writer's spool: the
 * id lists as the aggregation reads them back (failures.ndjson.gz, retry.txt, the cut lists, the report's pages;
 * lists.ts), then summary.md, report.html and summary.json last (once it exists and matches the manifest, the
 * others are there too); then notifies when configured.
 * @param started when the work on this summary began (for the log line).
 */
export async function storeSummary(
  options: SummarizeOptions,
  manifest: Manifest,
  inputs: SummaryInputs | FinishingSummary,
  started = Date.now(),
): Promise<SummarizeResult & { markdown: string; html: string }> {
  const finishing = 'aggregation' in inputs ? inputs : finishSummary(options.store, options.ref, inputs);
  const former = formerObjects(options.store, options.ref);
  former.catch(() => undefined);
  try {
    return await summarizeAndStore(options, manifest, finishing, former, started);
  } finally {
    finishing.inputs.results?.discard();
  }
}

/**
 * A summary's aggregation being finished: its id lists read back into their objects (stored through the store it
 * was begun with), before the manifest is needed. {@link storeSummary} begins one itself; collect's live summary
 * begins it once the walk has read every listing, with a store whose writes wait for the commit (lib/summary/live.ts),
 * so that its CPU runs while the walk's last objects and its manifest are written, and hands it to storeSummary.
 */
export interface FinishingSummary {
  readonly inputs: SummaryInputs;
  readonly output: SummaryListOutput;
  /** The aggregation (the aggregator is discarded once it is read); its list objects are stored meanwhile (`output.stored()`). */
  readonly aggregation: Promise<Aggregation>;
}

/**
 * Begins finishing the aggregation of `inputs`, its lists' objects stored in `store` (see {@link FinishingSummary}).
 * @param slicing when given, the work starts after a pause and pauses after each slice (lists.ts
 *   `createListOutput`): I/O under way meanwhile (the walk's last writes) goes on.
 * @example const finishing = finishSummary(store, ref, inputs); await storeSummary(options, manifest, finishing);
 */
export function finishSummary(store: ObjectStore, ref: ArchiveRef, inputs: SummaryInputs, slicing?: Slicing): FinishingSummary {
  const title = `${inputs.subject.name ?? ref.source.toUpperCase()} ${ref.id}`;
  // The results table (the warehouse step's) takes each failed record's cause as its line is written, instead of
  // reading failures.ndjson.gz back after it is stored.
  const results = inputs.results;
  const output = createListOutput(store, ref, createInstancePages(store, ref, title), results ? (cause) => results.addCause(cause) : undefined, slicing);
  const aggregation = (async () => {
    try {
      if (slicing) await slicing.pause();
      const aggregation = await inputs.aggregator.finish(output);
      step('aggregated');
      return aggregation;
    } finally {
      inputs.aggregator.discard();
    }
  })();
  aggregation.catch(() => undefined);
  return { inputs, output, aggregation };
}

async function summarizeAndStore(
  options: SummarizeOptions,
  manifest: Manifest,
  finishing: FinishingSummary,
  former: Promise<string[]>,
  started: number,
): Promise<SummarizeResult & { markdown: string; html: string }> {
  const { inputs, output } = finishing;
  const aggregation = await finishing.aggregation;
  // The list objects are being stored since the aggregation finished (output.stored()). Whatever fails from here on,
  // the summary fails only once every store it started has ended: no write of a failed attempt lands after it.
  const writing: Promise<unknown>[] = [output.stored().then(() => step('listed'))];
  writing[0]?.catch(() => undefined);
  try {
    return await renderAndStore(options, manifest, inputs, output, former, started, aggregation, writing);
  } catch (err) {
    await Promise.allSettled(writing);
    throw err;
  }
}

async function renderAndStore(
  options: SummarizeOptions,
  manifest: Manifest,
  inputs: SummaryInputs,
  output: SummaryListOutput,
  former: Promise<string[]>,
  started: number,
  aggregation: Aggregation,
  writing: Promise<unknown>[],
): Promise<SummarizeResult & { markdown: string; html: string }> {
  const { store, ref, logger } = options;
  const now = options.now ?? (() => new Date());
  const keys = summaryKeys(ref);
  const summary = buildSummary({
    ref,
    manifest,
    manifestKey: manifestKey(ref),
    aggregation,
    subject: inputs.subject,
    links: {
      archive: store.locate(archiveDir(ref)),
      summary: store.locate(keys.summary),
      markdown: store.locate(keys.markdown),
      report: store.locate(keys.report),
      retry: store.locate(keys.retry),
    },
    now: now(),
  });
  step('built');
  // Both are bounded whatever the archive's size: the lists in the summary are (aggregate.ts SAMPLE_IDS, SUMMARY_IDS).
  const markdown = renderMarkdown(summary);
  const html = renderReportHtml(summary, { pages: output.pages });
  step('rendered');

  // summary.json last: once it exists (and matches the manifest) the other objects (the warehouse's too) are there.
  // The writes go first, so that the warehouse step's CPU (the Parquet encoding) runs while they are written; the id
  // lists are being stored since the aggregation finished (output.stored()).
  const texts = [
    writeTextObject(store, keys.markdown, [markdown], 'text/markdown; charset=utf-8'),
    writeTextObject(store, keys.report, [html], 'text/html; charset=utf-8'),
  ];
  for (const w of texts) w.catch(() => undefined);
  writing.push(...texts);
  // Without the walk's results table, the warehouse step reads failures.ndjson.gz back: it must be stored first.
  if (options.afterSummary && !inputs.results) await output.stored();
  const warehouse = options.afterSummary?.({ store, ref, manifest, summary, logger, results: inputs.results });
  if (warehouse) {
    const warehoused = warehouse.then(() => step('warehoused'));
    warehoused.catch(() => undefined);
    writing.push(warehoused);
  }
  await Promise.all(writing);
  step('written');
  await writeTextObject(store, keys.summary, jsonPieces(summary), 'application/json; charset=utf-8');
  step('stored');
  const written = new Set([keys.retry, failuresKey(ref), ...summary.groups.flatMap((g) => (g.resourceIdsKey ? [g.resourceIdsKey] : []))]);
  if (summary.truncatedOutputs.idsKey) written.add(summary.truncatedOutputs.idsKey);
  for (let page = 1; page <= output.pages; page++) written.add(reportPageKey(ref, page));
  await deleteFormerObjects(store, await former, written);
  logger.info('archive summarized', {
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    total: summary.total,
    failures: summary.failures,
    groups: summary.groups.length,
    ms: Date.now() - started,
  });

  const result: SummarizeResult & { markdown: string; html: string } = { summary, keys, markdown, html };
  if (options.notify) {
    result.notification = await notifyFailures({ store, ref, summary, config: options.notify, logger, now, fetch: options.fetch });
  }
  return result;
}

/**
 * Summarizes a finished archive and stores summary.json, summary.md, report.html and retry.txt beside it, then
 * notifies if configured (once per archive).
 * @throws InputError 404/409 for a missing or unfinished archive (see {@link requireCompleteManifest});
 *   StorageError `ChecksumMismatch`/`RecordCountMismatch`/`CorruptManifest` for a damaged one.
 * @example const { summary } = await summarizeArchive({ store, ref, logger, now: () => new Date() });
 */
export async function summarizeArchive(options: SummarizeOptions): Promise<SummarizeResult> {
  const manifest = await requireCompleteManifest(options.store, options.ref);
  const { summary, keys, notification } = await computeAndStore(options, manifest);
  return notification ? { summary, keys, notification } : { summary, keys };
}

/** Whether a stored summary was computed from this manifest by this version of the format and of the masking rules. */
function isCurrent(stored: unknown, manifest: Manifest, key: string): stored is Summary {
  if (!stored || typeof stored !== 'object') return false;
  const s = stored as Partial<Summary>;
  return (
    s.format === SUMMARY_FORMAT &&
    s.masking === MASKING_VERSION &&
    s.manifest?.key === key &&
    s.manifest.finishedAt === manifest.finishedAt &&
    s.manifest.records === manifest.records &&
    s.manifest.outputsUpdatedAt === manifest.outputs?.updatedAt &&
    typeof s.generatedAt === 'string' &&
    !(Date.parse(s.generatedAt) < Date.parse(manifest.finishedAt))
  );
}

async function readStoredSummary(store: ObjectStore, ref: ArchiveRef, manifest: Manifest, logger: Logger): Promise<{ summary: Summary; bytes: Buffer } | undefined> {
  const bytes = await store.get(summaryKey(ref));
  if (bytes === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    return isCurrent(parsed, manifest, manifestKey(ref)) ? { summary: parsed, bytes } : undefined;
  } catch {
    logger.warn('stored summary.json is not valid JSON; recomputing', { key: summaryKey(ref) });
    return undefined;
  }
}

/** Which stored object to serve. */
export type SummaryFormat = 'json' | 'html' | 'md';

/** What {@link loadSummary} returns: the summary, the requested object as stored, and whether it was recomputed. */
export interface LoadedSummary {
  summary: Summary;
  keys: SummaryKeys;
  /** The requested object: summary.json, report.html or summary.md. */
  key: string;
  /** Its size in bytes, as stored. */
  size: number;
  /**
   * Its bytes as stored (never parsed and written again), all of them or `start` (inclusive) to `end` (exclusive):
   * a range is read from the object's stream, so only the range is held.
   */
  read(start?: number, end?: number): Promise<Buffer>;
  /** True when the summary was (re)computed by this call. */
  computed: boolean;
  notification?: NotifyOutcome;
}

/** Bytes `start` to `end` of a stream (the rest is not read). */
async function slice(stream: NodeJS.ReadableStream & { destroy(): void }, start: number, end: number): Promise<Buffer> {
  const out: Buffer[] = [];
  let at = 0;
  try {
    for await (const chunk of stream) {
      const c = chunk as Buffer;
      const from = Math.max(0, start - at);
      const to = Math.min(c.length, end - at);
      if (to > from) out.push(c.subarray(from, to));
      at += c.length;
      if (at >= end) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(out);
}

/** An object of the store as {@link LoadedSummary} reads it; `undefined` when it does not exist. */
async function storedObject(store: ObjectStore, key: string): Promise<Pick<LoadedSummary, 'key' | 'size' | 'read'> | undefined> {
  const info = await store.head(key);
  if (!info) return undefined;
  return {
    key,
    size: info.size,
    read: async (start = 0, end = info.size) => {
      const stream = await store.getStream(key);
      if (!stream) throw new StorageError('ObjectNotFound', `${key} disappeared while it was being read`, { key });
      return slice(stream, start, end);
    },
  };
}

/**
 * Serves a summary cheaply: the stored objects, as stored, while summary.json matches the archive's manifest;
 * otherwise (missing, older than the manifest, another format, unreadable) it recomputes everything first.
 * @param format which object {@link LoadedSummary.read} reads. @default 'json'
 * @param force recompute even when the stored summary is current. @default false
 * @throws the errors of {@link summarizeArchive}.
 * @example const loaded = await loadSummary({ store, ref, logger }, 'html'); const html = await loaded.read();
 */
export async function loadSummary(options: SummarizeOptions, format: SummaryFormat = 'json', force = false): Promise<LoadedSummary> {
  const { store, ref, logger } = options;
  const manifest = await requireCompleteManifest(store, ref);
  const keys = summaryKeys(ref);
  const key = format === 'json' ? keys.summary : format === 'html' ? keys.report : keys.markdown;
  const stored = force ? undefined : await readStoredSummary(store, ref, manifest, logger);
  if (stored) {
    const { bytes } = stored;
    const object =
      format === 'json'
        ? { key, size: bytes.length, read: async (start = 0, end = bytes.length) => bytes.subarray(start, end) }
        : await storedObject(store, key);
    if (object) return { summary: stored.summary, keys, ...object, computed: false };
    logger.warn('a summary object is missing; recomputing', { key });
  }
  const result = await computeAndStore(options, manifest);
  const object = await storedObject(store, key);
  if (!object) throw new StorageError('ObjectNotFound', `${key} was not found right after it was stored`, { key });
  const loaded: LoadedSummary = { summary: result.summary, keys, ...object, computed: true };
  if (result.notification) loaded.notification = result.notification;
  return loaded;
}
