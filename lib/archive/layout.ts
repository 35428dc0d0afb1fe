import type { Source } from '../ids';

/**
 * Where each object of an archive sits, relative to the archive root. This is the public interface of the
 * archive (documented in README "The archive"): change it only with a format version bump.
 *
 *   <source>/<regionId>/<id>/part-00000.ndjson.gz   primary records, gzip NDJSON, in API order
 *   <source>/<regionId>/<id>/related/<name>.ndjson.gz  what explains them (execution, failed children, invocation);
 *                                                   a long listing continues in related/<name>.00001.ndjson.gz, …
 *   <source>/<regionId>/<id>/manifest.json          the commit point, written last, never overwritten
 *   <source>/<regionId>/<id>/_checkpoint.json       resume state of an unfinished collection (deleted on commit)
 *   <source>/<regionId>/<id>/summary.json, summary.md, report.html, retry.txt   written by summarize
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

export function partKey(ref: ArchiveRef, index: number): string {
  return `${archiveDir(ref)}/part-${String(index).padStart(5, '0')}.ndjson.gz`;
}

/** The `index`-th object of a related listing: `related/<name>.ndjson.gz`, then `related/<name>.00001.ndjson.gz`, … */
export function relatedKey(ref: ArchiveRef, name: string, index = 0): string {
  const suffix = index === 0 ? '' : `.${String(index).padStart(5, '0')}`;
  return `${archiveDir(ref)}/related/${name}${suffix}.ndjson.gz`;
}

export const manifestKey = (ref: ArchiveRef) => `${archiveDir(ref)}/manifest.json`;
export const checkpointKey = (ref: ArchiveRef) => `${archiveDir(ref)}/_checkpoint.json`;
export const claimKey = (ref: ArchiveRef) => `${archiveDir(ref)}/_claim.json`;
export const summaryKey = (ref: ArchiveRef) => `${archiveDir(ref)}/summary.json`;
export const summaryMarkdownKey = (ref: ArchiveRef) => `${archiveDir(ref)}/summary.md`;
export const reportKey = (ref: ArchiveRef) => `${archiveDir(ref)}/report.html`;
export const retryListKey = (ref: ArchiveRef) => `${archiveDir(ref)}/retry.txt`;
export const notifiedKey = (ref: ArchiveRef) => `${archiveDir(ref)}/_notified.json`;
