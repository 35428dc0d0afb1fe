/**
 * What the steps of a collection share (lib/collect/collect.ts runs them): the request, the dependencies and the
 * counters of this invocation ({@link Walk}), the states, the result, and the small helpers every step uses to write
 * (only once the existence check has passed), checkpoint, report progress and answer.
 */
import { FORMAT_VERSION, checkpointKey, manifestKey, type ArchiveRef } from '../archive/layout';
import type { Manifest, OutputItem, OutputState, RelatedName } from '../archive/manifest';
import type { ObjectStore } from '../archive/store';
import type { PartLimits } from '../archive/writer';
import type { Deadline } from '../deadline';
import type { Logger } from '../log';
import { saveCheckpoint, type Checkpoint } from './checkpoint';
import { outputCounts, type OutputDeliveryDeps } from './outputs';
import type { CollectRequest } from './request';
import type { ApiRecord, SourceAdapter } from './sources';

export interface CollectDeps {
  store: ObjectStore;
  adapter: SourceAdapter;
  deadline: Deadline;
  logger: Logger;
  now?: () => Date;
  /** Waits between tries to take a forced re-collection's switch (commit.ts). @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  limits?: PartLimits;
  collector: { name: string; version: string };
  /** Called after every page read (and once before the first), e.g. for a progress display. */
  onProgress?: (progress: CollectProgress) => void;
  /** Sees the records as they pass, when this invocation reads the whole archive (e.g. the summary's aggregation). */
  observer?: WalkObserver | undefined;
  /** Cloud Assistant's OSS output delivery (OUTPUT_DELIVERY_*): the full outputs of cut results; off when absent. */
  outputs?: OutputDeliveryDeps | undefined;
}

/**
 * What a walk that reads the whole archive in one invocation (a fresh walk, not a resume) shows as it goes: the
 * subject once its check has passed, every page of the records and of each related listing, in archive order, and the
 * manifest it committed. A resumed walk calls none of it (the records of earlier invocations are not read again).
 */
export interface WalkObserver {
  subject(record: ApiRecord): void;
  records(records: readonly ApiRecord[]): void;
  related(name: RelatedName, records: readonly ApiRecord[]): void;
  /** The records listing starts over from its first page: the records seen so far are void. */
  restarted(): void;
  /** The related listing `name` has been read to its end. */
  relatedDone(name: RelatedName): void;
  /**
   * The records listing has been read to its end (its last page handed over to {@link records}); the walk goes on
   * with its last objects and the commit, whose writes the observer's own work may overlap.
   */
  recordsRead?(): void;
  /**
   * The walk's first requests have left and nothing is read yet: until the first answers come, the CPU is idle
   * (work paid once per process belongs here). Called once, after a turn of the event loop.
   */
  started?(): void;
  /** This walk's manifest is in place (the archive is committed). */
  committed(manifest: Manifest): void;
}

/** Where a walk is: what is in the archive so far (resumed work included) and what the API calls cost. */
export interface CollectProgress {
  /** `records`: the primary listing; `related`: what explains it (execution, failed children, invocation). */
  phase: 'records' | 'related';
  records: number;
  pages: number;
  /** Primary records the listing will return, when the execution/invocation says; else undefined. */
  expectedRecords: number | undefined;
  /** Records and pages read by this invocation (a resume starts at 0), for rates. */
  recordsThisRun: number;
  apiCalls: number;
  retries: number;
  throttles: number;
  /** This is a resume of an unfinished collection. */
  resumed: boolean;
}

export type CollectStatus =
  /** This invocation wrote the manifest. */
  | 'committed'
  /** A complete archive already existed; nothing was read or written. */
  | 'already-complete'
  /** A racing collector committed first; this one's identical objects were left as they are. */
  | 'committed-by-other'
  /** The deadline came first: progress is checkpointed; invoke again with the same payload to resume. */
  | 'checkpointed';

export interface CollectResult {
  source: string;
  regionId: string;
  id: string;
  status: CollectStatus;
  complete: boolean;
  /** Archive-root-relative key of the manifest (or of the checkpoint when not complete). */
  manifestKey: string;
  /** Where a person finds it (oss://… or file://…). */
  location: string;
  records: number;
  parts: number;
  pages: number;
  apiCalls: number;
  retries: number;
  truncatedOutputs: number;
  invocations: number;
  /** Full outputs (manifest `outputs`) per state, when they were looked for (see lib/collect/outputs.ts). */
  outputs?: Record<OutputState, number>;
  /** A later collect of a complete archive read outputs whose delivery was pending (its summary is made again). */
  outputsFilled?: number;
}

/**
 * Where a collection is. The walk is a small state machine; each state names the step that runs next:
 *
 *   describe ──▶ walk ──▶ commit ──▶ done
 *       │          │          │
 *       └──────────┴──────────┴──▶ done (already complete / checkpointed / raced)
 *
 * `describe` starts the existence check and moves on at once: the records' first pages are read beside it, and every
 * write waits for it to pass (`walk.gate`). `walk` reads the records and the related listings (an execution's failed
 * children) side by side, each a lane with its own cursor in the checkpoint, until every lane is at its end or the
 * deadline stops them all. `progress` is the checkpoint being built (the same object `_checkpoint.json` holds); a step that stops for the
 * deadline saves it and ends in `done` with status `checkpointed`, and the next invocation's `describe` picks it up
 * where it was. Every step is a function of (state, walk) → state, so resume, deadline and paging can be reasoned
 * about one step at a time.
 */
export type CollectState =
  | { step: 'describe' }
  | { step: 'walk'; progress: Checkpoint }
  | { step: 'outputs'; progress: Checkpoint }
  | { step: 'commit'; progress: Checkpoint }
  | { step: 'done'; result: CollectResult };

/** What every step shares: the request, the dependencies, and the counters this invocation started from. */
export interface Walk {
  readonly req: CollectRequest;
  readonly ref: ArchiveRef;
  readonly deps: CollectDeps;
  readonly log: Logger;
  readonly now: () => Date;
  readonly limits: PartLimits;
  /** API counters and records of the checkpoint this invocation resumed (zeros for a fresh walk). */
  base: { apiCalls: number; retries: number; records: number };
  /** Whether this invocation resumed an unfinished collection. */
  resumed: boolean;
  /** The observer, when this walk reads the whole archive (not a resume); see {@link WalkObserver}. */
  observer: WalkObserver | undefined;
  /** Known after `describe`: how many primary records to expect (progress only). */
  expectedRecords: number | undefined;
  /**
   * Settles once the existence and finality check has passed and the archive is prepared for writing (a forced
   * collection's leftovers removed, the subject stored), or failed with the check's error. The walk reads its first
   * pages meanwhile; every write waits for it ({@link writable}), so nothing is written for a subject that fails.
   */
  gate: Promise<void>;
  /** The gate's error once it has failed (the walk stops at its next page). */
  gateError?: unknown;
  /** Records and pages of the primary listing read so far, unstored ones included (progress display only). */
  live: { records: number; pages: number };
  /** Set when a lane stopped (deadline) or failed: the other lanes stop at their next page and keep what they read. */
  stopping: boolean;
  /** The checkpoint writes, one after another (lanes save independently). */
  saving: Promise<void>;
}

/** Waits until writing is allowed: the existence check passed. @throws the check's error. */
export function writable(walk: Walk): Promise<void> {
  return walk.gate;
}

/** The progress of a walk that has read nothing yet. */
export function freshProgress(walk: Walk): Checkpoint {
  const { ref } = walk;
  const started = walk.now().toISOString();
  return {
    format: FORMAT_VERSION,
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    parameters: walk.deps.adapter.api.parameters,
    phase: 'records',
    nextToken: undefined,
    parts: [],
    pending: undefined,
    related: [],
    records: 0,
    pages: 0,
    truncatedOutputs: 0,
    apiCalls: 0,
    retries: 0,
    invocations: 1,
    startedAt: started,
    updatedAt: started,
  };
}

/** The checkpoint's API counters: what earlier invocations spent plus this invocation's client counters. */
export function syncStats(walk: Walk, progress: Checkpoint): void {
  const { stats } = walk.deps.adapter;
  progress.apiCalls = walk.base.apiCalls + stats.apiCalls;
  progress.retries = walk.base.retries + stats.retries;
  progress.updatedAt = walk.now().toISOString();
}

/** Saves the checkpoint as it is when its turn comes (lanes save independently; the writes go one after another). */
export function saveProgress(walk: Walk, progress: Checkpoint): Promise<void> {
  const save = async () => {
    await writable(walk);
    syncStats(walk, progress);
    await saveCheckpoint(walk.deps.store, walk.ref, progress);
  };
  const saved = walk.saving.then(save, save);
  walk.saving = saved.catch(() => undefined);
  return saved;
}

/** The deadline came first: the progress is saved; the result says how to go on. */
export function checkpointed(walk: Walk, progress: Checkpoint): CollectState {
  walk.log.info('deadline near: checkpointed', { phase: progress.phase, records: progress.records, pages: progress.pages, parts: progress.parts.length });
  return { step: 'done', result: resultOf(walk.ref, 'checkpointed', progress, walk.deps.store) };
}

export function report(walk: Walk, progress: Checkpoint): void {
  const { onProgress, adapter } = walk.deps;
  if (!onProgress) return;
  syncStats(walk, progress);
  onProgress({
    phase: progress.phase,
    records: walk.live.records,
    pages: walk.live.pages,
    expectedRecords: walk.expectedRecords,
    recordsThisRun: walk.live.records - walk.base.records,
    apiCalls: progress.apiCalls,
    retries: progress.retries,
    throttles: adapter.stats.throttles,
    resumed: walk.resumed,
  });
}

export function resultOf(
  ref: ArchiveRef,
  status: CollectStatus,
  m: Pick<Manifest, 'records' | 'parts' | 'pages' | 'apiCalls' | 'retries' | 'truncatedOutputs' | 'invocations'> & { outputs?: { items: OutputItem[] } | undefined },
  store: ObjectStore,
): CollectResult {
  const complete = status !== 'checkpointed';
  const key = complete ? manifestKey(ref) : checkpointKey(ref);
  return {
    ...(m.outputs ? { outputs: outputCounts(m.outputs.items) } : {}),
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    status,
    complete,
    manifestKey: key,
    location: store.locate(key),
    records: m.records,
    parts: m.parts.length,
    pages: m.pages,
    apiCalls: m.apiCalls,
    retries: m.retries,
    truncatedOutputs: m.truncatedOutputs,
    invocations: m.invocations,
  };
}
