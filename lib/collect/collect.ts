/**
 * The collector's walk: every page of the source's listing → gzip NDJSON parts, and beside it every page of the
 * related listings → related objects; then the manifest. Nothing waits on anything but the round trips: the
 * existence check runs beside the first pages, the next page is in flight while one is written, a closed part is
 * uploaded while the next pages are read.
 *
 * Exactly once: part boundaries fall only at page boundaries and depend only on the records, checkpoints are
 * written only after the objects they name are stored, and the manifest (the commit point) is written last with
 * forbid-overwrite. A walk cut short by the deadline, an error or a kill resumes from its checkpoint and produces
 * the same bytes as an uninterrupted walk.
 *
 * This file is the state machine (describe → walk → commit → done, see {@link CollectState}) and its first step;
 * the others are named modules: walk.ts (what every step shares: the {@link Walk}, progress, checkpoints, the result),
 * lanes.ts (the walk step), commit.ts (the commit and the generation switch), cleanup.ts, verify.ts, and
 * checkpoint.ts (the resume state and the migration of older checkpoints).
 */

import { InputError } from '../errors';
import { relatedKey } from '../archive/layout';
import type { Manifest, RelatedEntry } from '../archive/manifest';
import { readManifest } from '../archive/reader';
import { DEFAULT_PART_LIMITS, writeGzipRecords } from '../archive/writer';
import { loadCheckpoint, withListingCursors, type Checkpoint } from './checkpoint';
import { discardArchive } from './cleanup';
import { commit, newGeneration } from './commit';
import { fillPendingOutputs, fullOutputs } from './full-outputs';
import { walkLanes } from './lanes';
import { outputObjects } from './outputs';
import type { CollectRequest } from './request';
import type { SourceSubject } from './sources';
import { freshProgress, report, resultOf, type CollectDeps, type CollectResult, type CollectState, type Walk } from './walk';

export type { CollectDeps, CollectProgress, CollectResult, CollectState, CollectStatus, Walk, WalkObserver } from './walk';

/**
 * Collects one execution or invocation: runs the steps from `describe` until `done`.
 * @throws InputError (unknown, not finished, conflicting parameters), ApiError, StorageError.
 */
export async function collect(req: CollectRequest, deps: CollectDeps): Promise<CollectResult> {
  const walk: Walk = {
    req,
    ref: { source: req.source, regionId: req.regionId, id: req.id },
    deps,
    log: deps.logger.child({ source: req.source, regionId: req.regionId, id: req.id }),
    now: deps.now ?? (() => new Date()),
    limits: deps.limits ?? DEFAULT_PART_LIMITS,
    base: { apiCalls: 0, retries: 0, records: 0 },
    resumed: false,
    observer: undefined,
    expectedRecords: undefined,
    gate: Promise.resolve(),
    live: { records: 0, pages: 0 },
    stopping: false,
    saving: Promise.resolve(),
  };
  let state: CollectState = { step: 'describe' };
  while (state.step !== 'done') state = await advance(state, walk);
  return state.result;
}

/** One transition. */
export function advance(state: Exclude<CollectState, { step: 'done' }>, walk: Walk): Promise<CollectState> {
  switch (state.step) {
    case 'describe':
      return describe(walk);
    case 'walk':
      return walkLanes(state, walk);
    case 'outputs':
      return fullOutputs(state, walk);
    case 'commit':
      return commit(state, walk);
  }
}

/**
 * describe: a complete archive is final unless forced (decided from the manifest alone, before any API call);
 * otherwise the existence and finality check starts, and beside it the walk, fresh or from the checkpoint: its first
 * pages are read while the check runs, and nothing is written until the check has passed ({@link Walk.gate}). A
 * subject that does not exist or has not finished is refused with the check's error, whatever the pages said.
 */
async function describe(walk: Walk): Promise<CollectState> {
  const { req, ref, deps } = walk;
  const { store, adapter } = deps;
  const existing = await readManifest(store, ref);
  if (existing?.complete && !req.force) {
    assertSameParameters(existing.api.parameters, adapter.api.parameters, 'a complete archive');
    walk.log.info('archive already complete', { records: existing.records });
    // Outputs whose delivery was still pending when it was collected are looked at again (lib/collect/full-outputs.ts).
    const filled = await fillPendingOutputs(walk, existing);
    return { step: 'done', result: { ...resultOf(ref, 'already-complete', filled.manifest, store), ...(filled.count > 0 ? { outputsFilled: filled.count } : {}) } };
  }

  const checked = checkSubject(walk);
  checked.catch(() => undefined);
  // The check's error comes first: a resume refused for its parameters is only worth saying for a subject that exists.
  const next = await open(walk, existing).catch(async (err: unknown) => {
    await checked;
    throw err;
  });
  walk.gate = checked.then((subject) => prepare(walk, next, subject, existing));
  walk.gate.catch((err: unknown) => {
    walk.gateError = err;
  });
  return next;
}

/** The existence and finality check. @throws InputError 404 (unknown), 409 (not finished). */
async function checkSubject(walk: Walk): Promise<SourceSubject> {
  const { req, deps } = walk;
  const subject = await deps.adapter.describe();
  if (!subject) {
    throw new InputError(
      req.source === 'oos' ? 'ExecutionNotFound' : 'InvocationNotFound',
      req.source === 'oos'
        ? `OOS execution ${req.id} does not exist in ${req.regionId}`
        : `Cloud Assistant invocation ${req.id} does not exist in ${req.regionId}`,
      404,
    );
  }
  if (!subject.finished) {
    throw new InputError(
      'NotFinished',
      `${req.source === 'oos' ? 'execution' : 'invocation'} ${req.id} ${subject.status ? `is still ${subject.status}` : 'has no status yet'}; collect it once it has finished`,
      409,
    );
  }
  return subject;
}

/**
 * Once the check has passed, the first writes: a forced collection over an archive that is not complete removes its
 * leftovers, and the subject is stored (first, so it leads the related objects) and released: only its status and
 * size were needed, and it can be as large as the records' pages (an invocation over 100,000 instances is described
 * with every instance).
 */
async function prepare(walk: Walk, next: { progress: Checkpoint }, subject: SourceSubject, existing: Manifest | undefined): Promise<void> {
  const { req, ref, deps } = walk;
  const { store, adapter } = deps;
  if (req.force && !existing?.complete) await discardArchive(store, ref, existing);
  if (!next.progress.related.some((r) => r.name === adapter.subjectName)) {
    const entry = await writeGzipRecords(store, relatedKey(ref, adapter.subjectName, 0, next.progress.generation), [subject.stored ?? subject.record]);
    next.progress.related.unshift({ name: adapter.subjectName, ...entry } satisfies RelatedEntry);
  }
  walk.observer?.subject(subject.record);
  walk.expectedRecords = subject.expectedRecords;
  report(walk, next.progress);
}

/**
 * Starts fresh or resumes the checkpoint of an unfinished collection. Forced over a complete archive, the new
 * collection is a generation of its own (`g-<generation>/`), and the complete archive stays trusted, untouched, until
 * the new manifest replaces it; a forced collection already under way (a continuation, a retry) is resumed. Forced
 * over an archive that is not complete, there is nothing trusted to keep: it starts over (its leftovers are removed
 * by {@link prepare}). Reads only: nothing is written before the existence check has passed.
 */
async function open(walk: Walk, existing: Manifest | undefined): Promise<Extract<CollectState, { step: 'walk' }>> {
  const { req, ref, deps } = walk;
  const { store, adapter } = deps;
  let resumed: Checkpoint | undefined;
  let fresh: Checkpoint | undefined;
  if (req.force && existing?.complete) {
    const cp = await loadCheckpoint(store, ref);
    if (cp?.generation !== undefined && sameParameters(cp.parameters, adapter.api.parameters)) resumed = cp;
    else {
      fresh = freshProgress(walk);
      fresh.generation = newGeneration(walk.now());
      fresh.replaces = [...existing.parts, ...existing.related, ...outputObjects(existing.outputs?.items)].map((e) => e.key);
    }
  } else if (req.force) {
    // An archive that is not complete: its leftovers go once the check has passed (prepare); the walk starts over.
  } else {
    resumed = await loadCheckpoint(store, ref);
    if (resumed) assertSameParameters(resumed.parameters, adapter.api.parameters, 'an unfinished collection');
  }
  if (resumed) resumed = withListingCursors(resumed, adapter.related());
  const progress = resumed ? { ...resumed, invocations: resumed.invocations + 1 } : (fresh ?? freshProgress(walk));
  walk.live = { records: progress.records, pages: progress.pages };
  walk.base = { apiCalls: progress.apiCalls, retries: progress.retries, records: progress.records };
  walk.resumed = resumed !== undefined;
  walk.observer = walk.resumed ? undefined : deps.observer;
  walk.log.info(resumed ? 'resuming collection' : 'starting collection', {
    records: progress.records,
    parts: progress.parts.length,
    phase: progress.phase,
    invocation: progress.invocations,
  });
  return { step: 'walk', progress };
}

function sameParameters(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return Object.keys({ ...a, ...b }).every((k) => a[k] === b[k]);
}

function assertSameParameters(a: Record<string, unknown>, b: Record<string, unknown>, what: string): void {
  const differing = Object.keys({ ...a, ...b }).filter((k) => a[k] !== b[k]);
  if (differing.length > 0) {
    throw new InputError(
      'ArchiveConflict',
      `${what} exists for this id with different parameters (${differing.map((k) => `${k}=${String(a[k])}`).join(', ')}); pass "force": true to replace it`,
      409,
    );
  }
}
