/** Before the commit: every object the manifest will name is in the store, whole (its size), checked side by side. */
import { StorageError } from '../errors';
import type { ObjectEntry } from '../archive/manifest';
import type { ObjectStore } from '../archive/store';
import { pLimit } from '../limit';

/** Objects checked at once before the commit (a HEAD each). */
const VERIFY_CONCURRENCY = 8;

export async function verifyStored(store: ObjectStore, entries: ReadonlyArray<Pick<ObjectEntry, 'key' | 'bytes'>>): Promise<void> {
  const limit = pLimit(VERIFY_CONCURRENCY);
  await Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const info = await store.head(entry.key);
        if (!info || info.size !== entry.bytes) {
          throw new StorageError('IncompleteObject', `archive object ${entry.key} is ${info ? `${info.size} bytes, expected ${entry.bytes}` : 'missing'}`, {
            key: entry.key,
          });
        }
      }),
    ),
  );
}
