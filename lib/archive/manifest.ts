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
  /**
   * Cloud Assistant's OSS output delivery (ECS only, when OUTPUT_DELIVERY_ALLOW is set): the complete output of each
   * result the API cut (and, with OUTPUT_DELIVERY_FAILED, of each failed one), read from OSS into the archive, or
   * why it could not be. Absent: not looked for. See lib/collect/outputs.ts.
   */
  outputs?: OutputsSection;
}

/** Where a result's full output stands (see {@link OutputItem}). */
export type OutputState =
  /** Read from OSS and stored in the archive as `object`. */
  | 'stored'
  /** `OssOutputStatus` is `InProgress` (or a value the docs do not list): a later collect of this archive looks again. */
  | 'pending'
  /** `OssOutputStatus` is `Failed`: Cloud Assistant could not deliver it (`errorCode`, `errorInfo` as the API gave them). */
  | 'failed'
  /** The URI is outside the buckets, prefixes and regions OUTPUT_DELIVERY_ALLOW names: never read. */
  | 'refused'
  /** Delivered, but reading it failed (`errorCode`: the OSS code, e.g. AccessDenied, NoSuchKey). */
  | 'unreadable'
  /** The invocation asked for no delivery (`OssOutputDelivery` empty): only the API's cut output exists. */
  | 'not-delivered';

/** The object that holds one full output: gzip of the output text (not NDJSON). `key` is relative to the archive root. */
export interface OutputObject {
  key: string;
  /** Size of the stored (gzip) object in bytes. */
  bytes: number;
  /** Hex SHA-256 of the stored (gzip) bytes. */
  sha256: string;
  /** Bytes of output text it holds (uncompressed). */
  textBytes: number;
}

/** One result whose full output was looked for. */
export interface OutputItem {
  /** The result's `InstanceId` and `Repeats` (its run; 0 when the API gives none). */
  instanceId: string;
  repeats: number;
  /** The result's `Dropped` (bytes the API cut). */
  dropped: number;
  /** The result's `InvocationStatus` (the report says which cut outputs belong to failures). */
  status: string;
  state: OutputState;
  /** `OssOutputUri` as the API gave it ('' when none). Untrusted: only read when allowed. */
  uri: string;
  /** When `stored`. */
  object?: OutputObject;
  /** Size of the delivered object in OSS (when read). */
  sourceBytes?: number;
  /**
   * Bytes at the start of the delivered object that were not stored because it was larger than OUTPUT_DELIVERY_MAX_KB
   * (the end is kept, where errors are; the API's `Output` holds the start). 0 or absent: stored whole.
   */
  omittedBytes?: number;
  /** `failed`: `OssOutputErrorCode`; `unreadable`: the OSS error code; `refused`: why. */
  errorCode?: string;
  /** `failed`: `OssOutputErrorInfo`; `unreadable`/`refused`: the message. */
  errorInfo?: string;
}

/** The manifest's `outputs`. */
export interface OutputsSection {
  /** When the section last changed (a later collect that fills pending outputs in sets it again). */
  updatedAt: string;
  /** Results looked at, in archive order. */
  items: OutputItem[];
}
