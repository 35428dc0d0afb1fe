/**
 * What goes once it has served its purpose: after the commit, the resume state, the event consumer's claims and a
 * killed writer's unfinished multipart uploads; before a forced collection over an archive that is not complete, its
 * leftovers.
 */
import { archiveDir, checkpointKey, manifestKey, pendingKey, relatedPendingKey, type ArchiveRef } from '../archive/layout';
import type { Manifest } from '../archive/manifest';
import type { ObjectStore } from '../archive/store';
import type { Checkpoint } from './checkpoint';
import type { Walk } from './walk';

/** `force` over an archive that is not complete (nothing trusted to keep): its leftovers go, generations included. */
export async function discardArchive(store: ObjectStore, ref: ArchiveRef, existing: Manifest | undefined): Promise<void> {
  if (existing) await store.delete(manifestKey(ref));
  for await (const obj of store.list(`${archiveDir(ref)}/`)) {
    if (/\/(?:g-[^/]+\/)?(part-\d+\.ndjson\.gz|_pending(?:-[a-z-]+)?\.ndjson\.gz|_checkpoint\.json|related\/[^/]+|outputs\/[^/]+)$/.test(obj.key)) await store.delete(obj.key);
  }
}

/**
 * After the commit: the resume state and the event consumer's claims have served their purpose, and a killed
 * writer's unfinished multipart uploads (invisible, but billed) are aborted.
 */
export async function cleanUp(walk: Walk, progress: Pick<Checkpoint, 'generation'>): Promise<void> {
  const { ref } = walk;
  const { store, adapter } = walk.deps;
  // Independent of each other, and the archive is committed: side by side, so they cost one round trip, not six.
  const claims = async () => {
    for await (const obj of store.list(`${archiveDir(ref)}/_claim`)) await store.delete(obj.key);
  };
  await Promise.all([
    store.delete(checkpointKey(ref)),
    store.delete(pendingKey(ref, progress.generation)),
    ...adapter.related().map((listing) => store.delete(relatedPendingKey(ref, listing.name, progress.generation))),
    claims(),
    store.abortUploads?.(`${archiveDir(ref)}/`),
  ]);
}
