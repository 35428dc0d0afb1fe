/**
 * `summary.json`: the aggregation turned into the document people and tools read (schema in docs/archive-format.md).
 */
import { archiveDir, type ArchiveRef } from '../archive/layout';
import type { Manifest, OutputState, OutputsSection } from '../archive/manifest';
import type { Source } from '../ids';
import type { Aggregation } from './aggregate';
import type { DurationStats, Timeline } from './numbers';
import { maskDeep, MASKING_VERSION } from '../causes/secrets';

/** The `format` of summary.json; a summary of another format is recomputed. */
export const SUMMARY_FORMAT = 'execution-archive-summary/1';

/** What to re-run, ready to paste into an API call. */
export interface RetryPlan {
  /** How many resources to re-run. */
  count: number;
  /**
   * The failed resources (ECS InstanceId / OOS ResourceId), each once, in archive order: all of them, or when
   * {@link idsKey} is present the first 1,000 (`count` says how many there are).
   */
  ids: string[];
  /** Only when `ids` is cut: the object holding every failed resource, one per line (retry.txt; key relative to the archive root). */
  idsKey?: string;
  /**
   * ECS: `InvokeCommand` (same `CommandId`) or `RunCommand` parameters; `InstanceIds` go into `InstanceId.N`
   * in batches of at most 100 (the API's limit). `CommandId` is `null` when the records name several.
   * `InstanceIds` (OOS `ResourceIds`) are `ids`: when those are cut, read the rest from {@link idsKey}.
   */
  runCommand?: { RegionId: string; CommandId: string | null; InstanceIds: string[] };
  /** OOS: `StartExecution` with the same template and a `targets` parameter naming only the failed resources. */
  startExecution?: {
    RegionId: string;
    TemplateName: string | null;
    targets: { Type: 'ResourceIds'; RegionId: string; ResourceIds: string[] };
  };
}

export type { DurationStats, Timeline } from './numbers';

/** The thing that ran: the OOS execution or the ECS invocation, from the related objects. */
export interface Subject {
  /** OOS TemplateName / ECS CommandName. */
  name: string | null;
  /** The overall status the API reported when the archive was taken. */
  status: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

/** `summary.json`. The counts are the aggregation's, as computed. */
export interface Summary extends Pick<Aggregation, 'source' | 'total' | 'byStatus' | 'succeeded' | 'failures' | 'unfinished' | 'skipped' | 'groups'> {
  format: typeof SUMMARY_FORMAT;
  /** The secret-masking rules every text of the summary went through (`secrets.ts`); another version is recomputed. */
  masking: typeof MASKING_VERSION;
  regionId: string;
  id: string;
  subject: Subject;
  /** `failures / total`, 4 decimals (0 when empty). */
  failureRatio: number;
  /** Distinct causes beyond the group limit, counted in the group with key `other` (normally 0). */
  overflowCauses: number;
  retry: RetryPlan;
  /** See `Aggregation.truncated`: `ids` each once (the first 1,000, then `resources` and `idsKey` say the rest). */
  truncatedOutputs: Aggregation['truncated'];
  durations: DurationStats | null;
  timeline: Timeline | null;
  manifest: { key: string; records: number; finishedAt: string; complete: boolean; parts: number; outputsUpdatedAt?: string };
  /**
   * ECS, when the collector looked for Cloud Assistant's OSS delivery of the outputs the API cut (manifest `outputs`):
   * how many of each state, and the first {@link FULL_OUTPUTS_LISTED} results with where their full output is (`href`,
   * relative to the summary's folder) or why it is still cut. Absent: not looked for.
   */
  fullOutputs?: FullOutputs;
  /** Where the outputs are (`store.locate`). */
  links: { archive: string; summary: string; markdown: string; report: string; retry: string };
  generatedAt: string;
}

/** Results listed in {@link Summary.fullOutputs} (the counts cover all). */
export const FULL_OUTPUTS_LISTED = 1000;

/** See {@link Summary.fullOutputs}. */
export interface FullOutputs {
  counts: Record<OutputState, number>;
  items: Array<{
    id: string;
    run: number;
    status: string;
    state: OutputState;
    /** Bytes the API cut. */
    dropped: number;
    /** The stored full output, relative to summary.json's folder (`outputs/<instance>.txt.gz`). */
    href?: string;
    /** Bytes of the delivered output not stored (it was over OUTPUT_DELIVERY_MAX_KB; its end is kept). */
    omittedBytes?: number;
    /** Why it is still cut: the API's or OSS's code and message, or why the URI was refused. */
    reason?: string;
  }>;
}

/** The summary's view of the manifest's `outputs`. */
export function fullOutputsOf(ref: ArchiveRef, section: OutputsSection): FullOutputs {
  const counts: Record<OutputState, number> = { stored: 0, pending: 0, failed: 0, refused: 0, unreadable: 0, 'not-delivered': 0 };
  for (const item of section.items) counts[item.state] += 1;
  const dir = `${archiveDir(ref)}/`;
  const why: Record<OutputState, string> = {
    stored: '',
    pending: 'Cloud Assistant is still delivering it (OssOutputStatus InProgress); collect the archive again later',
    failed: 'Cloud Assistant could not deliver it',
    refused: 'its OssOutputUri is outside OUTPUT_DELIVERY_ALLOW',
    unreadable: 'OSS refused or failed the read',
    'not-delivered': 'the command was run without OssOutputDelivery',
  };
  return {
    counts,
    items: section.items.slice(0, FULL_OUTPUTS_LISTED).map((item) => {
      const detail = [item.errorCode, item.errorInfo].filter(Boolean).join(': ');
      return {
        id: item.instanceId,
        run: item.repeats,
        status: item.status,
        state: item.state,
        dropped: item.dropped,
        ...(item.object ? { href: item.object.key.startsWith(dir) ? item.object.key.slice(dir.length) : item.object.key } : {}),
        ...(item.omittedBytes ? { omittedBytes: item.omittedBytes } : {}),
        ...(item.state !== 'stored' ? { reason: detail ? `${why[item.state]} (${detail})` : why[item.state] } : {}),
      };
    }),
  };
}

export { durationStats, timelineOf } from './numbers';

/** Reads the subject from the related `execution` (OOS) or `invocation` (ECS) record. */
export function subjectOf(source: Source, record: Record<string, unknown> | undefined): Subject {
  const s = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  if (!record) return { name: null, status: null, startedAt: null, endedAt: null };
  if (source === 'oos') {
    return { name: s(record.TemplateName), status: s(record.Status), startedAt: s(record.StartDate), endedAt: s(record.EndDate) };
  }
  return {
    name: s(record.CommandName),
    status: s(record.InvocationStatus) ?? s(record.InvokeStatus),
    startedAt: s(record.CreationTime),
    endedAt: null,
  };
}

/** Everything {@link buildSummary} puts together. */
export interface BuildSummaryInput {
  ref: ArchiveRef;
  manifest: Manifest;
  manifestKey: string;
  aggregation: Aggregation;
  subject: Subject;
  links: Summary['links'];
  now: Date;
}

/**
 * Builds `summary.json` from an aggregation (pure; no I/O). Every string in it (titles, signatures, examples,
 * per-instance error lines, ids, the subject's name) is fit to be shown: control characters removed, secrets masked
 * (`maskDeep`). The Markdown, the report, retry.txt and notifications are rendered from it, so none of them can show
 * a secret either.
 * @example const summary = buildSummary({ ref, manifest, manifestKey: key, aggregation, subject, links, now: new Date() });
 */
export function buildSummary(input: BuildSummaryInput): Summary {
  const { ref, manifest, aggregation: a, subject } = input;
  const retry: RetryPlan = { count: a.retryCount, ids: a.retryIds };
  if (a.retryKey !== undefined) retry.idsKey = a.retryKey;
  if (ref.source === 'ecs') {
    retry.runCommand = { RegionId: ref.regionId, CommandId: a.commandIds.length === 1 ? (a.commandIds[0] ?? null) : null, InstanceIds: a.retryIds };
  } else {
    retry.startExecution = {
      RegionId: ref.regionId,
      TemplateName: subject.name,
      targets: { Type: 'ResourceIds', RegionId: ref.regionId, ResourceIds: a.retryIds },
    };
  }
  // The lists' ids were masked as their records came (Aggregation.shownIds): looked up, not masked again.
  return maskDeep<Summary>({
    format: SUMMARY_FORMAT,
    masking: MASKING_VERSION,
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    subject,
    total: a.total,
    byStatus: a.byStatus,
    succeeded: a.succeeded,
    failures: a.failures,
    unfinished: a.unfinished,
    skipped: a.skipped,
    failureRatio: a.total === 0 ? 0 : Math.round((a.failures / a.total) * 10_000) / 10_000,
    groups: a.groups,
    overflowCauses: a.overflowCauses,
    retry,
    truncatedOutputs: a.truncated,
    durations: a.durations,
    timeline: a.timeline,
    manifest: {
      key: input.manifestKey,
      records: manifest.records,
      finishedAt: manifest.finishedAt,
      complete: manifest.complete,
      parts: manifest.parts.length,
      ...(manifest.outputs ? { outputsUpdatedAt: manifest.outputs.updatedAt } : {}),
    },
    ...(manifest.outputs ? { fullOutputs: fullOutputsOf(ref, manifest.outputs) } : {}),
    links: input.links,
    generatedAt: input.now.toISOString(),
  }, a.shownIds);
}
