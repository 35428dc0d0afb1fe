/**
 * The commit step: every object checked whole, then the manifest written once (the commit point; a racing collector
 * may win), or, for a forced re-collection, the switch to its generation (`g-<generation>/`) in one write.
 */
import { randomBytes } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { isAlreadyExists, StorageError } from '../errors';
import { releaseClaim, takeClaim, type Claim } from '../archive/claim';
import { archiveDir, FORMAT_VERSION, generationDir, manifestKey, switchKey, type ArchiveRef } from '../archive/layout';
import type { Manifest } from '../archive/manifest';
import { readManifest } from '../archive/reader';
import { listedEntries } from '../archive/verify';
import type { ObjectStore } from '../archive/store';
import type { Checkpoint } from './checkpoint';
import { cleanUp } from './cleanup';
import { outputObjects } from './outputs';
import { verifyStored } from './verify';
import { resultOf, syncStats, writable, type CollectState, type Walk } from './walk';
import { PAGE_CHANNEL } from './lanes';

/** The commit's steps on the walk's timeline (lanes.ts PAGE_CHANNEL). */
const timeline = channel(PAGE_CHANNEL);
const step = (phase: 'verified' | 'manifest') => {
  if (timeline.hasSubscribers) timeline.publish({ lane: 'commit', phase });
};

/** commit: verify every object is there whole, then write the manifest once (a racing collector may win). */
export async function commit(state: { progress: Checkpoint }, walk: Walk): Promise<CollectState> {
  const { progress } = state;
  const { ref, deps, log } = walk;
  const { store } = deps;
  await writable(walk);
  syncStats(walk, progress);
  await verifyStored(store, [...progress.parts, ...progress.related, ...outputObjects(progress.outputs?.items)]);
  step('verified');
  const manifest: Manifest = {
    format: FORMAT_VERSION,
    source: ref.source,
    regionId: ref.regionId,
    id: ref.id,
    api: deps.adapter.api,
    complete: true,
    records: progress.records,
    parts: progress.parts,
    related: progress.related,
    pages: progress.pages,
    apiCalls: progress.apiCalls,
    retries: progress.retries,
    invocations: progress.invocations,
    startedAt: progress.startedAt,
    finishedAt: walk.now().toISOString(),
    truncatedOutputs: progress.truncatedOutputs,
    collector: deps.collector,
    ...(progress.outputs ? { outputs: { updatedAt: walk.now().toISOString(), items: progress.outputs.items } } : {}),
    ...(progress.generation !== undefined ? { generation: progress.generation } : {}),
  };
  if (progress.generation !== undefined) return switchGeneration(walk, progress, manifest);
  try {
    await store.put(manifestKey(ref), JSON.stringify(manifest, null, 2) + '\n', { forbidOverwrite: true, contentType: 'application/json' });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    const winner = await readManifest(store, ref);
    log.info('another collector committed first', { records: winner?.records });
    await cleanUp(walk, progress);
    return { step: 'done', result: resultOf(ref, 'committed-by-other', winner ?? manifest, store) };
  }
  step('manifest');
  walk.observer?.committed(manifest);
  // Said when it happened (the manifest is the commit point), before the clean-up that follows it.
  log.info('archive committed', {
    records: manifest.records,
    parts: manifest.parts.length,
    pages: manifest.pages,
    apiCalls: manifest.apiCalls,
    retries: manifest.retries,
    truncatedOutputs: manifest.truncatedOutputs,
  });
  await cleanUp(walk, progress);
  return { step: 'done', result: resultOf(ref, 'committed', manifest, store) };
}

/** A forced re-collection's generation: when it started, and a random tail so two racing ones never share keys. */
export function newGeneration(now: Date): string {
  return `${now.toISOString().replace(/[-:]|\.\d+Z$/g, '')}-${randomBytes(4).toString('hex')}`;
}

/** How long a switch may hold `_switch.json` before a racer takes it over (a holder killed between take and release). */
export const SWITCH_TTL_SECONDS = 5 * 60;
/** The first and the longest wait between two tries to take a switch another re-collection holds, ms. */
const SWITCH_WAIT_MS = { first: 20, max: 500 };

/**
 * commit of a forced re-collection: the new manifest replaces the old one in one write (the switch; a reader sees the
 * old complete archive or the new one, never a mix), then the objects of the archive it replaced are removed.
 *
 * Racing re-collections switch one at a time, each holding `_switch.json` (the claim protocol of lib/archive/claim.ts:
 * forbid-overwrite, taken over only once expired) from checking its own objects to removing what it replaced: each
 * replaced manifest is read by exactly one switch, which removes its objects and its generation's folder, so no
 * generation is left behind that no manifest names (`execution-archive verify` warns about any it finds). A racer
 * whose generation a switch before it removed (racers resuming the same checkpoint share a generation) finds its
 * objects gone, gives way, and removes what is left of it: the losing racer removes its own generation. Objects the
 * manifest in place names are never removed.
 */
async function switchGeneration(walk: Walk, progress: Checkpoint, manifest: Manifest): Promise<CollectState> {
  const { ref, log } = walk;
  const { store } = walk.deps;
  const generation = progress.generation as string;
  const held = await takeSwitch(walk, generation);
  if (!held) {
    // The deadline came while others switched: this generation stays (verify warns about it) rather than race them.
    const current = (await readManifest(store, ref)) ?? manifest;
    log.warn('no turn to switch before the deadline: this re-collection gives way, its generation stays', { generation });
    return { step: 'done', result: resultOf(ref, 'committed-by-other', current, store) };
  }
  let switched = false;
  let removed = 0;
  try {
    if (await ownObjectsGone(store, manifest)) {
      removed = await removeGeneration(store, ref, generation);
    } else {
      const replaced = await readManifest(store, ref).catch(() => undefined);
      await store.put(manifestKey(ref), JSON.stringify(manifest, null, 2) + '\n', { contentType: 'application/json' });
      switched = true;
      walk.observer?.committed(manifest);
      removed = await removeReplaced(store, ref, manifest, replaced, progress.replaces ?? []);
    }
  } finally {
    await releaseClaim(store, ref, held, switchKey(ref));
  }
  await cleanUp(walk, progress);
  if (!switched) {
    const current = (await readManifest(store, ref)) ?? manifest;
    log.info('a racing re-collection replaced this generation before its turn: it gave way and removed what was left', { generation, removed });
    return { step: 'done', result: resultOf(ref, 'committed-by-other', current, store) };
  }
  log.info('archive re-collected: the new generation is in place', { generation, records: manifest.records, removed });
  return { step: 'done', result: resultOf(ref, 'committed', manifest, store) };
}

/** Takes `_switch.json`, waiting (with growing pauses) while another re-collection holds it; `undefined` at the deadline. */
async function takeSwitch(walk: Walk, generation: string): Promise<Claim | undefined> {
  const { ref } = walk;
  const { store, deadline } = walk.deps;
  const sleep = walk.deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let wait = SWITCH_WAIT_MS.first; ; wait = Math.min(SWITCH_WAIT_MS.max, wait * 2)) {
    const taken = await takeClaim(store, ref, { key: switchKey(ref), claimedBy: `generation ${generation}`, nowMs: walk.now().getTime(), ttlSeconds: SWITCH_TTL_SECONDS });
    if (taken.taken) return taken.claim;
    // Held by this very generation: an earlier run of it was killed between taking the switch and releasing it, and
    // this run resumes its checkpoint. Waiting for the claim to expire would stall the resume for SWITCH_TTL_SECONDS;
    // a racer of the same generation writes the same manifest, and removeReplaced never removes what it names.
    if (taken.holder?.claimedBy === `generation ${generation}`) return taken.holder;
    if (deadline.nearlyDone(wait)) return undefined;
    await sleep(wait);
  }
}

/** True when an object of the manifest about to be written is missing: a switch before this one removed the generation. */
async function ownObjectsGone(store: ObjectStore, manifest: Manifest): Promise<boolean> {
  try {
    await verifyStored(store, [...manifest.parts, ...manifest.related]);
    return false;
  } catch (err) {
    if (err instanceof StorageError && err.code === 'IncompleteObject') return true;
    throw err;
  }
}

/** Every object of a generation's folder (its parts, related and pending objects); returns how many. */
async function removeGeneration(store: ObjectStore, ref: ArchiveRef, generation: string): Promise<number> {
  let removed = 0;
  for await (const obj of store.list(`${generationDir(ref, generation)}/`)) {
    await store.delete(obj.key);
    removed += 1;
  }
  return removed;
}

/**
 * What a switch replaced and nobody trusts any more: the objects of the manifest it replaced (a racing generation's,
 * or the first collection's; `replaces`, the archive this one set out to replace, when that manifest could not be
 * read) and, for a replaced generation, everything left in its folder. Objects the new manifest names stay.
 */
async function removeReplaced(store: ObjectStore, ref: ArchiveRef, manifest: Manifest, replaced: Manifest | undefined, replaces: readonly string[]): Promise<number> {
  // Every object a manifest lists (parts, related, and any other list of objects, as verify reads them), under the archive.
  const keysOf = (m: Manifest) => listedEntries(m).map((l) => l.entry.key).filter((key) => key.startsWith(`${archiveDir(ref)}/`));
  const trusted = new Set(keysOf(manifest));
  const stale = replaced ? keysOf(replaced) : replaces;
  let removed = 0;
  for (const key of stale) {
    if (trusted.has(key)) continue;
    await store.delete(key);
    removed += 1;
  }
  if (replaced?.generation !== undefined && replaced.generation !== manifest.generation) removed += await removeGeneration(store, ref, replaced.generation);
  return removed;
}
