/**
 * summarize as a direct or asynchronous invocation: the payload `{"source","regionId","id","force"?}` (or collect's)
 * → the headline numbers and the top causes. collect's inline summary calls this too; the HTTP trigger is http.ts.
 */
import { manifestKey, type ArchiveRef } from '../archive/layout';
import { verifyArchive, type Verdict } from '../archive/verify';
import { InputError, StorageError } from '../errors';
import { ARCHIVE_FIELDS, optionalBoolean, parseArchiveFields, rejectUnknownFields, requireObject } from '../payload';
import type { FailureGroup } from './aggregate';
import { loadSummary, type SummarizeOptions, type SummaryKeys } from './index';
import { headline } from './render/markdown';
import type { NotifyOutcome } from './notify';
import type { Runtime } from '../runtime';
import type { Summary } from './summary';
import { writeWarehouse } from '../warehouse';

/** What the summarize entry points need (built once per invocation by {@link summarizeDeps}). */
export type SummarizeDeps = Omit<SummarizeOptions, 'ref'>;

/** The summarize dependencies of a handler runtime (the summarize function, and collect's inline summary). */
export function summarizeDeps(rt: Pick<Runtime, 'store' | 'logger' | 'config'>): SummarizeDeps {
  return { store: rt.store, logger: rt.logger, notify: rt.config.notify, afterSummary: writeWarehouse };
}

/** The fields of a summarize invocation payload: collect's payload (without the fan-out's fields) is one. */
const PAYLOAD_FIELDS: readonly string[] = [...ARCHIVE_FIELDS, 'force', 'includeHistory', 'verify'];
const PAYLOAD_EXAMPLE = '{"source":"ecs","regionId":"cn-hangzhou","invokeId":"t-hz0jdfwd9f0a1b"}';

/**
 * Validates the archive a payload or query string names: `source`, `regionId` and the id as `id`, `executionId`
 * (OOS) or `invokeId` (ECS), the same fields collect takes.
 * @throws InputError 400 naming the first bad field and what it should look like.
 * @example parseArchiveRef({ source: 'ecs', regionId: 'cn-hangzhou', invokeId: 't-hz0jdfwd9f0a1b' })
 */
export function parseArchiveRef(input: Record<string, unknown>): ArchiveRef {
  return parseArchiveFields(input);
}

/** A failure group without its instance list (what an invocation result carries). */
export type GroupDigest = Omit<FailureGroup, 'resourceIds' | 'resourceCount' | 'example' | 'instanceErrors'> & { resources: number; exampleId: string };

/** The result of a direct or async invocation: the headline numbers, the top causes and where everything is. */
export interface SummarizeInvocationResult {
  archive: ArchiveRef;
  /** False when the stored summary was current and served as is. */
  computed: boolean;
  headline: string;
  total: number;
  byStatus: Record<string, number>;
  failures: number;
  unfinished: number;
  failureRatio: number;
  causes: number;
  /** The 10 largest causes. */
  topGroups: GroupDigest[];
  retryCount: number;
  truncatedOutputs: number;
  keys: SummaryKeys;
  links: Summary['links'];
  generatedAt: string;
  notification?: NotifyOutcome;
  /** With `"verify": true`: the archive was verified first (lib/archive/verify.ts, as `execution-archive verify`). */
  verification?: { verdict: Verdict; summary: string; warnings: number };
}

/** Objects named in the error of a damaged archive (the rest are counted). */
const DAMAGE_SHOWN = 5;

/**
 * Handles a direct/async invocation payload `{"source","regionId","id","force"?,"verify"?}` or collect's payload. The summary is
 * recomputed when stale or when `force` is true (a collector that just finished an archive may pass it). With `verify`,
 * every object of the archive is verified first, as `execution-archive verify` does, and a damaged archive is refused
 * with every damage found, not summarized.
 * @throws InputError 400 for a bad payload, 404/409 for a missing or unfinished archive; StorageError for damage
 *   (`ArchiveDamaged` with `verify`: the verdict and each damaged object).
 * @example await handleSummaryInvocation({ source: 'oos', regionId: 'cn-hangzhou', id: 'exec-6be6d6ff805349d9ac13' }, deps)
 */
export async function handleSummaryInvocation(payload: unknown, deps: SummarizeDeps): Promise<SummarizeInvocationResult> {
  const input = requireObject(payload, 'the summarize payload', PAYLOAD_EXAMPLE);
  rejectUnknownFields(input, PAYLOAD_FIELDS, 'the summarize payload');
  const ref = parseArchiveRef(input);
  // includeHistory is collect's: accepted (and checked) so that one payload serves both; the archive is summarized as collected.
  if (ref.source === 'oos' && input.includeHistory !== undefined) throw new InputError('InvalidPayload', '"includeHistory" applies to source "ecs" only');
  optionalBoolean(input, 'includeHistory');
  const verification = optionalBoolean(input, 'verify') ? await verified(deps, ref) : undefined;
  const loaded = await loadSummary({ ...deps, ref }, 'json', optionalBoolean(input, 'force'));
  const s = loaded.summary;
  const result: SummarizeInvocationResult = {
    archive: ref,
    computed: loaded.computed,
    headline: headline(s),
    total: s.total,
    byStatus: s.byStatus,
    failures: s.failures,
    unfinished: s.unfinished,
    failureRatio: s.failureRatio,
    causes: s.groups.length,
    topGroups: s.groups.slice(0, 10).map(({ resourceIds, example, instanceErrors: _errors, resourceCount, ...g }) => ({ ...g, resources: resourceCount ?? resourceIds.length, exampleId: example.id })),
    retryCount: s.retry.count,
    truncatedOutputs: s.truncatedOutputs.count,
    keys: loaded.keys,
    links: s.links,
    generatedAt: s.generatedAt,
  };
  if (loaded.notification) result.notification = loaded.notification;
  if (verification) result.verification = verification;
  return result;
}

/** Verifies the archive before it is summarized. @throws StorageError `ArchiveDamaged` naming what is damaged. */
async function verified(deps: SummarizeDeps, ref: ArchiveRef): Promise<NonNullable<SummarizeInvocationResult['verification']>> {
  const report = await verifyArchive(deps.store, ref);
  if (report.verdict === 'damaged') {
    const damage = [...report.manifestProblems, ...report.objects.filter((o) => !o.ok).map((o) => `${o.key}: ${o.problems.map((p) => p.message).join('; ')}`)];
    const more = damage.length > DAMAGE_SHOWN ? `; and ${damage.length - DAMAGE_SHOWN} more` : '';
    throw new StorageError('ArchiveDamaged', `${report.summary}: ${damage.slice(0, DAMAGE_SHOWN).join('; ')}${more}`, { key: manifestKey(ref) });
  }
  // An archive that cannot be read is loadSummary's to answer (404 without a manifest, the store's own error).
  return { verdict: report.verdict, summary: report.summary, warnings: report.unlisted.length };
}
