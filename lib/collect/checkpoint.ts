/**
 * The resume state of an unfinished collection, stored beside the archive as `_checkpoint.json`.
 *
 * A checkpoint is only ever written at a page boundary, after every object it names has been stored, so resuming
 * from it re-reads exactly the pages that are not yet in the archive: no record is lost or written twice.
 */
import { StorageError } from '../errors';
import { checkpointKey, FORMAT_VERSION, type ArchiveRef } from '../archive/layout';
import type { ObjectEntry, RelatedEntry, RelatedName } from '../archive/manifest';
import type { ObjectStore } from '../archive/store';
import type { OutputCursor } from './outputs';

export interface Checkpoint {
  format: string;
  source: string;
  regionId: string;
  id: string;
  /** The fixed request parameters; a resume with different ones is refused. */
  parameters: Record<string, string | number | boolean>;
  /** `records`: walking the primary listing; `related`: primary records done, related listings (`listings`) still going. */
  phase: 'records' | 'related';
  /** The token of the next page to read (`undefined` = the walk has not started or is finished). */
  nextToken?: string | undefined;
  /** A page-number walk (ECS_PAGE_CONCURRENCY): the number of the next page to read. Never set together with `nextToken`. */
  nextPage?: number | undefined;
  /** Finished parts, in order. */
  parts: ObjectEntry[];
  /** Records read after the last finished part, stored as `_pending.ndjson.gz` (folded into the next part). */
  pending?: ObjectEntry | undefined;
  related: RelatedEntry[];
  /** A forced re-collection: its objects are under `g-<generation>/` until its manifest replaces the old one. */
  generation?: string | undefined;
  /** A forced re-collection: the objects of the archive it replaces, removed once the switch is done. */
  replaces?: string[] | undefined;
  /**
   * Written before the related listings had cursors of their own: in the `related` phase, which listing `nextToken`
   * and `pending` belonged to (0-based). Read, converted into `listings`, never written.
   */
  relatedStep?: number | undefined;
  /**
   * Each related listing's cursor (they are walked beside the records): absent = not started; `done` = at its end
   * (its objects are in `related`); else the token of its next page and what it read since its last object.
   */
  listings?: Partial<Record<RelatedName, ListingCursor>> | undefined;
  /** The full-outputs step (lib/collect/outputs.ts), once the listings are done: where it is and what it found. */
  outputs?: OutputCursor | undefined;
  records: number;
  pages: number;
  truncatedOutputs: number;
  apiCalls: number;
  retries: number;
  invocations: number;
  startedAt: string;
  updatedAt: string;
}

/** Where a related listing is (see {@link Checkpoint.listings}). */
export interface ListingCursor {
  nextToken?: string | undefined;
  /** Records read after its last object, stored as `_pending-<name>.ndjson.gz`. */
  pending?: ObjectEntry | undefined;
  done?: boolean | undefined;
}

export async function loadCheckpoint(store: ObjectStore, ref: ArchiveRef): Promise<Checkpoint | undefined> {
  const body = await store.get(checkpointKey(ref));
  if (!body) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new StorageError('CorruptCheckpoint', `the checkpoint of ${ref.source}/${ref.regionId}/${ref.id} is not JSON`, { key: checkpointKey(ref) }, { cause: err });
  }
  const cp = value as Partial<Checkpoint>;
  if (cp.format !== FORMAT_VERSION || cp.source !== ref.source || cp.regionId !== ref.regionId || cp.id !== ref.id || !Array.isArray(cp.parts)) {
    throw new StorageError('CorruptCheckpoint', `the checkpoint of ${ref.source}/${ref.regionId}/${ref.id} does not belong to it or is malformed`, {
      key: checkpointKey(ref),
    });
  }
  return cp as Checkpoint;
}

export async function saveCheckpoint(store: ObjectStore, ref: ArchiveRef, cp: Checkpoint): Promise<void> {
  await store.put(checkpointKey(ref), JSON.stringify(cp, null, 2), { contentType: 'application/json' });
}

/**
 * A checkpoint written before the related listings had cursors of their own (one `nextToken`, `pending` and
 * `relatedStep` for whichever listing was being walked after the records) in today's terms: in the `related` phase,
 * the listings before `relatedStep` are done and the one at it resumes from the old cursor.
 */
export function withListingCursors(cp: Checkpoint, listings: readonly { name: RelatedName }[]): Checkpoint {
  if (cp.listings !== undefined || cp.phase !== 'related') return cp;
  const step = cp.relatedStep ?? 0;
  const cursors: NonNullable<Checkpoint['listings']> = {};
  listings.forEach((listing, i) => {
    if (i < step) cursors[listing.name] = { done: true };
    else if (i === step) cursors[listing.name] = { nextToken: cp.nextToken, pending: cp.pending };
  });
  return { ...cp, listings: cursors, nextToken: undefined, nextPage: undefined, pending: undefined, relatedStep: undefined };
}
