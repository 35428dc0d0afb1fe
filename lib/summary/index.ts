/**
 * Summaries of finished archives: `summarizeArchive` reads a complete archive once (streaming), writes
 * `summary.json`, `summary.md`, `report.html` and `retry.txt` next to it and, when configured, notifies;
 * `loadSummary` serves the stored summary while it is current and recomputes it when it is missing or stale.
 */
import { archiveDir, manifestKey, reportKey, retryListKey, summaryKey, summaryMarkdownKey, type ArchiveRef } from '../archive/layout';
import type { Manifest } from '../archive/manifest';
import { readManifest, readRecordBatches, readRelated } from '../archive/reader';
import type { ObjectStore } from '../archive/store';
import { InputError } from '../errors';
import type { Logger } from '../log';
import { createAggregator, indexChildren, type Aggregation, type ChildIndex } from './aggregate';
import { renderMarkdown } from './render/markdown';
import { notifyFailures, type NotifyConfig, type NotifyOutcome } from './notify';
import { renderReportHtml } from './render/report-html';
import { MASKING_VERSION } from '../causes/secrets';
import { buildSummary, subjectOf, SUMMARY_FORMAT, type Subject, type Summary } from './summary';

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
  afterSummary?: ((step: { store: ObjectStore; ref: ArchiveRef; manifest: Manifest; summary: Summary; logger: Logger }) => Promise<unknown>) | undefined;
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

/** What a summary is made of besides the manifest: the aggregated records, the subject, the failed children (OOS). */
export interface SummaryInputs {
  aggregation: Aggregation;
  subject: Subject;
  children: ChildIndex | undefined;
}

/** Reads a complete archive once (streaming) into what its summary is made of. */
async function aggregateArchive(options: SummarizeOptions, manifest: Manifest): Promise<SummaryInputs> {
  const { store, ref } = options;
  const source = ref.source;
  const subject = subjectOf(source, await firstRecord(readRelated(store, manifest, source === 'oos' ? 'execution' : 'invocation')));
  let children: ChildIndex | undefined;
  if (source === 'oos') children = await indexChildren(readRelated(store, manifest, 'failed-child-executions'));
  const aggregator = createAggregator({ source, children, maxGroups: options.maxGroups });
  // A batch per decompressed chunk: the aggregation is a plain loop, not an await per record.
  for await (const batch of readRecordBatches(store, manifest.parts)) for (const record of batch) aggregator.add(record);
  return { aggregation: aggregator.finish(), subject, children };
}

/** Computes and stores every summary object; returns them too, so a caller can serve one without reading it back. */
async function computeAndStore(options: SummarizeOptions, manifest: Manifest): Promise<SummarizeResult & { markdown: string; html: string }> {
  const started = Date.now();
  return storeSummary(options, manifest, await aggregateArchive(options, manifest), started);
}

/**
 * Builds summary.json from its inputs and stores it with summary.md, report.html and retry.txt (summary.json last:
 * once it exists and matches the manifest, the others are there too), then notifies when configured.
 * @param started when the work on this summary began (for the log line).
 */
export async function storeSummary(
  options: SummarizeOptions,
  manifest: Manifest,
  inputs: SummaryInputs,
  started = Date.now(),
): Promise<SummarizeResult & { markdown: string; html: string }> {
  const { store, ref, logger } = options;
  const now = options.now ?? (() => new Date());
  const keys = summaryKeys(ref);
  const summary = buildSummary({
    ref,
    manifest,
    manifestKey: manifestKey(ref),
    aggregation: inputs.aggregation,
    subject: inputs.subject,
    children: inputs.children,
    links: {
      archive: store.locate(archiveDir(ref)),
      summary: store.locate(keys.summary),
      markdown: store.locate(keys.markdown),
      report: store.locate(keys.report),
      retry: store.locate(keys.retry),
    },
    now: now(),
  });
  const markdown = renderMarkdown(summary);
  const html = renderReportHtml(summary);

  // summary.json last: once it exists (and matches the manifest) the other objects (the warehouse's too) are there.
  await Promise.all([
    options.afterSummary?.({ store, ref, manifest, summary, logger }),
    store.put(keys.retry, summary.retry.ids.length ? summary.retry.ids.join('\n') + '\n' : '', { contentType: 'text/plain; charset=utf-8' }),
    store.put(keys.markdown, markdown, { contentType: 'text/markdown; charset=utf-8' }),
    store.put(keys.report, html, { contentType: 'text/html; charset=utf-8' }),
  ]);
  await store.put(keys.summary, JSON.stringify(summary, null, 2), { contentType: 'application/json; charset=utf-8' });
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
    typeof s.generatedAt === 'string' &&
    !(Date.parse(s.generatedAt) < Date.parse(manifest.finishedAt))
  );
}

async function readStoredSummary(store: ObjectStore, ref: ArchiveRef, manifest: Manifest, logger: Logger): Promise<Summary | undefined> {
  const body = await store.get(summaryKey(ref));
  if (body === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return isCurrent(parsed, manifest, manifestKey(ref)) ? parsed : undefined;
  } catch {
    logger.warn('stored summary.json is not valid JSON; recomputing', { key: summaryKey(ref) });
    return undefined;
  }
}

/** Which stored object to serve. */
export type SummaryFormat = 'json' | 'html' | 'md';

/** What {@link loadSummary} returns: the summary, the requested document, and whether it was recomputed. */
export interface LoadedSummary {
  summary: Summary;
  keys: SummaryKeys;
  /** The requested document: summary.json (pretty JSON), report.html or summary.md. */
  body: string;
  /** True when the summary was (re)computed by this call. */
  computed: boolean;
  notification?: NotifyOutcome;
}

/**
 * Serves a summary cheaply: the stored objects while summary.json matches the archive's manifest; otherwise (missing,
 * older than the manifest, another format, unreadable) it recomputes everything first.
 * @param format which document to return in `body`. @default 'json'
 * @param force recompute even when the stored summary is current. @default false
 * @throws the errors of {@link summarizeArchive}.
 * @example const { body } = await loadSummary({ store, ref, logger }, 'html');
 */
export async function loadSummary(options: SummarizeOptions, format: SummaryFormat = 'json', force = false): Promise<LoadedSummary> {
  const { store, ref, logger } = options;
  const manifest = await requireCompleteManifest(store, ref);
  const keys = summaryKeys(ref);
  const stored = force ? undefined : await readStoredSummary(store, ref, manifest, logger);
  if (stored) {
    const body = format === 'json' ? JSON.stringify(stored, null, 2) : (await store.get(format === 'html' ? keys.report : keys.markdown))?.toString('utf8');
    if (body !== undefined) return { summary: stored, keys, body, computed: false };
    logger.warn('a summary object is missing; recomputing', { key: format === 'html' ? keys.report : keys.markdown });
  }
  const result = await computeAndStore(options, manifest);
  const body = format === 'json' ? JSON.stringify(result.summary, null, 2) : format === 'html' ? result.html : result.markdown;
  const loaded: LoadedSummary = { summary: result.summary, keys, body, computed: true };
  if (result.notification) loaded.notification = result.notification;
  return loaded;
}
