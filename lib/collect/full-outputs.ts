/**
 * The collect step of the full outputs (lib/collect/outputs.ts resolves each one): after the listings, before the
 * commit, the archive's records are read back and the outputs the API cut are read from Cloud Assistant's OSS
 * delivery; and, for an archive already complete, the outputs whose delivery was pending are looked at again.
 */
import { manifestKey } from '../archive/layout';
import type { Manifest } from '../archive/manifest';
import { readManifest, readRecords } from '../archive/reader';
import { pLimit } from '../limit';
import type { Checkpoint } from './checkpoint';
import { mergeOutputs, OUTPUT_CONCURRENCY, outputCounts, outputObjects, resolveOutput, scanOutputs } from './outputs';
import { verifyStored } from './verify';
import { checkpointed, saveProgress, writable, type CollectState, type Walk } from './walk';

/**
 * outputs: ECS only, when configured. Stops for the deadline like the lanes (its cursor is in the checkpoint; the
 * next invocation goes on from it) and goes to the commit once every record was looked at.
 */
export async function fullOutputs(state: { progress: Checkpoint }, walk: Walk): Promise<CollectState> {
  const { progress } = state;
  const deps = walk.deps.outputs;
  if (!deps || walk.req.source !== 'ecs' || progress.outputs?.done) return { step: 'commit', progress };
  // Nothing was cut and failures are not asked for: no need to read the records back.
  if (progress.truncatedOutputs === 0 && !deps.config.failedResults) {
    progress.outputs = { scanned: progress.records, items: [], done: true };
    return { step: 'commit', progress };
  }
  await writable(walk);
  const cursor = (progress.outputs ??= { scanned: 0, items: [] });
  const store = walk.deps.store;
  const done = await scanOutputs({
    target: { store, ref: walk.ref, generation: progress.generation, includeHistory: walk.req.includeHistory === true },
    deps,
    records: (async function* () {
      for (const part of progress.parts) yield* readRecords(store, part);
    })(),
    cursor,
    shouldStop: () => walk.deps.deadline.nearlyDone(3_000),
    save: () => saveProgress(walk, progress),
  });
  if (!done) return checkpointed(walk, progress);
  walk.log.info('full outputs looked for', outputCounts(cursor.items));
  return { step: 'commit', progress };
}

/**
 * A complete archive whose manifest lists outputs still `pending` (Cloud Assistant had not finished delivering them):
 * each such result is looked up again, and the outputs delivered since are read into the archive (under the keys a
 * first collection uses); the manifest is then written again with the items merged into the one in place, unless a
 * forced re-collection replaced it meanwhile. Only `outputs` changes. Returns the manifest in place and how many
 * items changed (0: nothing was written).
 */
export async function fillPendingOutputs(walk: Walk, existing: Manifest): Promise<{ manifest: Manifest; count: number }> {
  const { deps, ref } = walk;
  const pending = (existing.outputs?.items ?? []).filter((item) => item.state === 'pending');
  const outputs = deps.outputs;
  const lookup = deps.adapter.lookup?.bind(deps.adapter);
  if (!outputs || !lookup || pending.length === 0) return { manifest: existing, count: 0 };
  const target = { store: deps.store, ref, generation: existing.generation, includeHistory: walk.req.includeHistory === true };
  const limit = pLimit(OUTPUT_CONCURRENCY);
  const resolved = await Promise.all(
    pending.map((item) =>
      limit(async () => {
        const records = await lookup(item.instanceId);
        // The same run only: a periodic task's latest result may be a later run by now.
        const record = records.find((r) => (Number(r.Repeats ?? 0) || 0) === item.repeats);
        return record ? resolveOutput(record, target, outputs) : item;
      }),
    ),
  );
  const changed = resolved.filter((item, i) => item.state !== pending[i]?.state);
  if (changed.length === 0) return { manifest: existing, count: 0 };
  const current = await readManifest(deps.store, ref);
  if (!current?.complete || current.generation !== existing.generation || !current.outputs) return { manifest: current ?? existing, count: 0 };
  const manifest: Manifest = { ...current, outputs: mergeOutputs(current.outputs, changed, walk.now()) };
  await verifyStored(deps.store, outputObjects(changed));
  await deps.store.put(manifestKey(ref), JSON.stringify(manifest, null, 2) + '\n', { contentType: 'application/json' });
  walk.log.info('pending full outputs looked at again', { changed: changed.length, ...outputCounts(manifest.outputs?.items ?? []) });
  return { manifest, count: changed.length };
}
