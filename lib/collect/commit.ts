/**
 * The commit step: every object checked whole, then the manifest written once (the commit point; a racing collector
 * may win), or, for a forced re-collection, the switch to its generation (`g-<generation>/`) in one write.
 */
import { randomBytes } from 'node:crypto';
import { isAlreadyExists } from '../errors';
import { FORMAT_VERSION, manifestKey } from '../archive/layout';
import type { Manifest } from '../archive/manifest';
import { readManifest } from '../archive/reader';
import type { Checkpoint } from './checkpoint';
import { cleanUp } from './cleanup';
import { verifyStored } from './verify';
import { resultOf, syncStats, writable, type CollectState, type Walk } from './walk';

/** commit: verify every object is there whole, then write the manifest once (a racing collector may win). */
export async function commit(state: { progress: Checkpoint }, walk: Walk): Promise<CollectState> {
  const { progress } = state;
  const { ref, deps, log } = walk;
  const { store } = deps;
  await writable(walk);
  syncStats(walk, progress);
  await verifyStored(store, [...progress.parts, ...progress.related]);
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
  walk.observer?.committed(manifest);
  await cleanUp(walk, progress);
  log.info('archive committed', {
    records: manifest.records,
    parts: manifest.parts.length,
    pages: manifest.pages,
    apiCalls: manifest.apiCalls,
    retries: manifest.retries,
    truncatedOutputs: manifest.truncatedOutputs,
  });
  return { step: 'done', result: resultOf(ref, 'committed', manifest, store) };
}

/** A forced re-collection's generation: when it started, and a random tail so two racing ones never share keys. */
export function newGeneration(now: Date): string {
  return `${now.toISOString().replace(/[-:]|\.\d+Z$/g, '')}-${randomBytes(4).toString('hex')}`;
}

/**
 * commit of a forced re-collection: the new manifest replaces the old one in one write (the switch; a reader sees the
 * old complete archive or the new one, never a mix), then the objects nobody trusts any more are removed: the
 * replaced archive's, or, when a racing re-collection switched after this one, this one's own. Objects the manifest
 * in place names are never removed, so two racing re-collections end with exactly one trusted archive.
 */
async function switchGeneration(walk: Walk, progress: Checkpoint, manifest: Manifest): Promise<CollectState> {
  const { ref, log } = walk;
  const { store } = walk.deps;
  await store.put(manifestKey(ref), JSON.stringify(manifest, null, 2) + '\n', { contentType: 'application/json' });
  const current = (await readManifest(store, ref)) ?? manifest;
  const trusted = new Set([...current.parts, ...current.related].map((e) => e.key));
  const ours = current.generation === progress.generation;
  if (ours) walk.observer?.committed(manifest);
  const stale = ours ? (progress.replaces ?? []) : [...progress.parts, ...progress.related].map((e) => e.key);
  for (const key of stale) if (!trusted.has(key)) await store.delete(key);
  await cleanUp(walk, progress);
  log.info(ours ? 'archive re-collected: the new generation is in place' : 'a racing re-collection switched after this one', {
    generation: progress.generation,
    records: manifest.records,
    removed: stale.length,
  });
  return { step: 'done', result: resultOf(ref, ours ? 'committed' : 'committed-by-other', current, store) };
}
