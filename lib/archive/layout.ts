import { createHash } from 'node:crypto';
import type { Source } from '../ids';

/**
 * Where each object of an archive sits, relative to the archive root. This is the public interface of the
 * archive (documented in docs/archive-format.md): change it only with a format version bump.
 *
 *   <source>/<regionId>/<id>/part-00000.ndjson.gz   primary records, gzip NDJSON, in API order
 *   <source>/<regionId>/<id>/related/<name>.ndjson.gz  what explains them (execution, failed children, invocation);
 *                                                   a long listing continues in related/<name>.00001.ndjson.gz, …
 *   <source>/<regionId>/<id>/outputs/<instance>[-<run>].txt.gz  ECS: a full output read from Cloud Assistant's OSS
 *                                                   delivery (gzip text; the run only with IncludeHistory)
 *   <source>/<regionId>/<id>/g-<generation>/…        a forced re-collection's parts and related objects (same names)
 *   <source>/<regionId>/<id>/manifest.json          the commit point, written last; replaced only by a forced
 *                                                   re-collection's complete manifest (the switch)
 *   <source>/<regionId>/<id>/_checkpoint.json       resume state of an unfinished collection (deleted on commit),
 *                                                   with _pending.ndjson.gz and _pending-<listing>.ndjson.gz
 *   <source>/<regionId>/<id>/_switch.json           held while a forced re-collection switches the manifest over
 *   <source>/<regionId>/<id>/summary.json, summary.md, report.html, retry.txt   written by summarize, with
 *     failures.ndjson.gz (every failed record's id and cause key), truncated.txt and causes/<key>.txt (full id
 *     lists, when summary.json holds only their first ids) and report/instances-<n>.html (the report's pages)
 */
export interface ArchiveRef {
  source: Source;
  regionId: string;
  /** The execution id (OOS) or invoke id (ECS). */
  id: string;
}

export const FORMAT_VERSION = 'execution-archive/1';

export function archiveDir(ref: ArchiveRef): string {
  return `${ref.source}/${ref.regionId}/${ref.id}`;
}

/**
 * Where a collection writes its objects: the archive's folder for a first collection, `g-<generation>/` inside it for
 * a forced re-collection, which must not touch the complete archive it replaces until its own manifest switches over.
 */
export function generationDir(ref: ArchiveRef, generation?: string): string {
  return generation ? `${archiveDir(ref)}/g-${generation}` : archiveDir(ref);
}

export function partKey(ref: ArchiveRef, index: number, generation?: string): string {
  return `${generationDir(ref, generation)}/part-${String(index).padStart(5, '0')}.ndjson.gz`;
}

/** The `index`-th object of a related listing: `related/<name>.ndjson.gz`, then `related/<name>.00001.ndjson.gz`, … */
export function relatedKey(ref: ArchiveRef, name: string, index = 0, generation?: string): string {
  const suffix = index === 0 ? '' : `.${String(index).padStart(5, '0')}`;
  return `${generationDir(ref, generation)}/related/${name}${suffix}.ndjson.gz`;
}

/**
 * Where a full output of a result is kept: `outputs/<instanceId>.txt.gz`, or `outputs/<instanceId>-<run>.txt.gz` when
 * the archive holds every run (IncludeHistory). An instance id that is not a plain name (API data is untrusted) is
 * replaced by `x-` and the hex SHA-256 of it, so a key never leaves its folder.
 */
export function outputKey(ref: ArchiveRef, instanceId: string, run: number | undefined, generation?: string): string {
  const name = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(instanceId) ? instanceId : `x-${createHash('sha256').update(instanceId).digest('hex')}`;
  return `${generationDir(ref, generation)}/outputs/${name}${run === undefined ? '' : `-${run}`}.txt.gz`;
}

/** Records read since the last part, kept while a collection is unfinished. */
export const pendingKey = (ref: ArchiveRef, generation?: string) => `${generationDir(ref, generation)}/_pending.ndjson.gz`;

/** A related listing's records read since its last object, kept while a collection is unfinished. */
export const relatedPendingKey = (ref: ArchiveRef, name: string, generation?: string) => `${generationDir(ref, generation)}/_pending-${name}.ndjson.gz`;

export const manifestKey = (ref: ArchiveRef) => `${archiveDir(ref)}/manifest.json`;
export const checkpointKey = (ref: ArchiveRef) => `${archiveDir(ref)}/_checkpoint.json`;
export const claimKey = (ref: ArchiveRef) => `${archiveDir(ref)}/_claim.json`;
/** Held by the one forced re-collection switching the manifest over to its generation (lib/collect/commit.ts). */
export const switchKey = (ref: ArchiveRef) => `${archiveDir(ref)}/_switch.json`;
export const summaryKey = (ref: ArchiveRef) => `${archiveDir(ref)}/summary.json`;
export const summaryMarkdownKey = (ref: ArchiveRef) => `${archiveDir(ref)}/summary.md`;
export const reportKey = (ref: ArchiveRef) => `${archiveDir(ref)}/report.html`;
export const retryListKey = (ref: ArchiveRef) => `${archiveDir(ref)}/retry.txt`;
export const failuresKey = (ref: ArchiveRef) => `${archiveDir(ref)}/failures.ndjson.gz`;
export const truncatedListKey = (ref: ArchiveRef) => `${archiveDir(ref)}/truncated.txt`;
/** A cause's full list of resources (its `resourceIdsKey`), one per line. */
export const causeListKey = (ref: ArchiveRef, causeKey: string) => `${archiveDir(ref)}/causes/${causeKey}.txt`;
/** The `page`-th (from 1) page of the report's failed-instance list. */
export const reportPageKey = (ref: ArchiveRef, page: number) => `${archiveDir(ref)}/report/instances-${String(page).padStart(5, '0')}.html`;
export const notifiedKey = (ref: ArchiveRef) => `${archiveDir(ref)}/_notified.json`;
