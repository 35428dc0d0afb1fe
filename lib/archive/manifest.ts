import type { Source } from '../ids';

/** One object of the archive with what a reader needs to verify it. `key` is relative to the archive root. */
export interface ObjectEntry {
  key: string;
  records: number;
  /** Size of the stored (gzip) object in bytes. */
  bytes: number;
  /** Hex SHA-256 of the stored (gzip) bytes. */
  sha256: string;
}

/** What the related objects hold. */
export type RelatedName =
  /** OOS: the execution itself, from `ListExecutions` by `ExecutionId` (one record). */
  | 'execution'
  /** OOS: the failed child executions, `ListExecutions` with `ParentExecutionId` and `Status=Failed`, all pages. */
  | 'failed-child-executions'
  /** ECS: the invocation, from `DescribeInvocations` by `InvokeId` (one record). */
  | 'invocation';

export interface RelatedEntry extends ObjectEntry {
  name: RelatedName;
}

/**
 * `manifest.json`: the commit point of an archive, written last with forbid-overwrite. A reader trusts an archive
 * only when this object exists and says `complete: true`.
 */
export interface Manifest {
  format: string;
  source: Source;
  regionId: string;
  id: string;
  /** The API and the fixed request parameters the records came from. */
  api: { service: 'oos' | 'ecs'; action: string; version: string; parameters: Record<string, string | number | boolean> };
  complete: boolean;
  /** Primary records across all parts. */
  records: number;
  parts: ObjectEntry[];
  related: RelatedEntry[];
  /** Pages of the primary listing. */
  pages: number;
  /** API calls made for this archive (all invocations, including related lookups and retries). */
  apiCalls: number;
  retries: number;
  /** Collector invocations that contributed (1 = uninterrupted). */
  invocations: number;
  startedAt: string;
  finishedAt: string;
  /** Records whose output the API truncated (`Dropped` > 0). */
  truncatedOutputs: number;
  collector: { name: string; version: string };
  /** Set when a forced re-collection wrote this archive: its objects are under `g-<generation>/`. */
  generation?: string;
}
