import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileStore } from '../../lib/archive/file';
import { partKey, type ArchiveRef } from '../../lib/archive/layout';
import type { Manifest } from '../../lib/archive/manifest';
import { readAllParts, readRecordBatches } from '../../lib/archive/reader';
import type { ObjectStore } from '../../lib/archive/store';
import { StorageError } from '../../lib/errors';
import { ecsRecord, instanceId, writeArchive } from '../helpers/archive-fixture';

const ECS: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0jdfwd9f0a1b' };
const PER_PART = 300;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A file store in a fresh temp folder holding an archive of `parts` parts of PER_PART records (InstanceId i). */
async function archive(parts: number): Promise<{ store: ObjectStore; manifest: Manifest }> {
  const dir = mkdtempSync(join(tmpdir(), 'reader-ahead-'));
  dirs.push(dir);
  const store = createFileStore(dir);
  // Outputs of some size, so that a part spans several decompressed chunks.
  const records = Array.from({ length: parts * PER_PART }, (_, n) => ecsRecord({ InstanceId: instanceId(n), Output: `line ${n}\n`.repeat(40) }));
  const manifest = await writeArchive(store, { ref: ECS, records, recordsPerPart: PER_PART });
  return { store, manifest };
}

/**
 * Watches a store's streams: every getStream call is in flight from the call until its stream closes (or until the
 * call answers without a stream); `maxInFlight` is the most at once. `replace` may stand in for a key's stream.
 */
function watched(store: ObjectStore, replace: (key: string) => Promise<Readable | undefined> | undefined = () => undefined) {
  const seen = { requested: [] as string[], inFlight: 0, maxInFlight: 0, streams: [] as Readable[] };
  const watchedStore: ObjectStore = {
    ...store,
    async getStream(key) {
      seen.requested.push(key);
      seen.inFlight += 1;
      seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
      let stream: Readable | undefined;
      try {
        stream = await (replace(key) ?? store.getStream(key));
      } finally {
        if (!stream) seen.inFlight -= 1;
      }
      if (stream) {
        seen.streams.push(stream);
        stream.once('close', () => (seen.inFlight -= 1));
      }
      return stream;
    },
  };
  return { store: watchedStore, seen };
}

async function idsOf(batches: AsyncIterable<Record<string, unknown>[]>): Promise<string[]> {
  const ids: string[] = [];
  for await (const batch of batches) for (const r of batch) ids.push(String(r.InstanceId));
  return ids;
}

/** Reads everything, and answers what was read before the error and the error. */
async function readUntilError(batches: AsyncIterable<Record<string, unknown>[]>): Promise<{ ids: string[]; error: unknown }> {
  const ids: string[] = [];
  try {
    for await (const batch of batches) for (const r of batch) ids.push(String(r.InstanceId));
  } catch (error) {
    return { ids, error };
  }
  return { ids, error: undefined };
}

/** Waits until every stream the store handed out has closed (destroy() closes a file stream asynchronously). */
async function allClosed(streams: Readable[]): Promise<void> {
  await Promise.all(streams.map((s) => (s.closed ? undefined : new Promise((ok) => s.once('close', ok)))));
}

const expectedIds = (parts: number) => Array.from({ length: parts * PER_PART }, (_, n) => instanceId(n));

describe('readRecordBatches: reading ahead', () => {
  it('yields every record once, in the parts\' order, whatever the read-ahead', async () => {
    // Prepare
    const { store, manifest } = await archive(5);
    // Act
    const byAhead = await Promise.all([0, 1, 3, 10].map((readAhead) => idsOf(readRecordBatches(store, manifest.parts, { readAhead }))));
    const records: string[] = [];
    for await (const r of readAllParts(store, manifest)) records.push(String(r.InstanceId));
    // Assess
    for (const ids of byAhead) expect(ids).toEqual(expectedIds(5));
    expect(records).toEqual(expectedIds(5));
  });

  it('opens the next part while one is read, and never more than readAhead beyond it', async () => {
    // Prepare
    const { store, manifest } = await archive(5);
    for (const readAhead of [0, 1, 2]) {
      const { store: w, seen } = watched(store);
      // Act: note how many parts were requested when the first batch arrived
      let requestedAtFirstBatch = -1;
      let n = 0;
      for await (const batch of readRecordBatches(w, manifest.parts, { readAhead })) {
        if (requestedAtFirstBatch < 0) requestedAtFirstBatch = seen.requested.length;
        n += batch.length;
      }
      await allClosed(seen.streams);
      // Assess: each part requested once, in order; the bound held and was reached; nothing is left open
      expect(n).toBe(5 * PER_PART);
      expect(seen.requested).toEqual(manifest.parts.map((p) => p.key));
      expect(requestedAtFirstBatch).toBe(1 + readAhead);
      expect(seen.maxInFlight).toBe(1 + readAhead);
      expect(seen.inFlight).toBe(0);
    }
  });

  it('reports a missing later part after every record before it, and leaves nothing open', async () => {
    // Prepare: part 2 of 4 is gone
    const { store, manifest } = await archive(4);
    await store.delete(partKey(ECS, 2));
    const { store: w, seen } = watched(store);
    // Act
    const { ids, error } = await readUntilError(readRecordBatches(w, manifest.parts, { readAhead: 1 }));
    await allClosed(seen.streams);
    // Assess
    expect(ids).toEqual(expectedIds(2));
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'MissingObject', key: partKey(ECS, 2) });
    expect(seen.inFlight).toBe(0);
  });

  it('reports a later part whose fetch fails, or whose stream breaks while it waits, only when its turn comes', async () => {
    // Prepare: part 1's getStream rejects at once; in a second read, part 1's stream breaks after its first bytes,
    // long before part 0 is read through
    const { store, manifest } = await archive(3);
    const refused = watched(store, (key) => (key === partKey(ECS, 1) ? Promise.reject(new StorageError('AccessDenied', 'oss: access denied', { key })) : undefined));
    const broken = watched(store, (key) =>
      key === partKey(ECS, 1)
        ? Promise.resolve(
            new Readable({
              read() {
                this.push(Buffer.from([0x1f, 0x8b]));
                this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
              },
            }),
          )
        : undefined,
    );
    // Act
    const first = await readUntilError(readRecordBatches(refused.store, manifest.parts, { readAhead: 2 }));
    const second = await readUntilError(readRecordBatches(broken.store, manifest.parts, { readAhead: 2 }));
    await allClosed([...refused.seen.streams, ...broken.seen.streams]);
    // Assess: part 0 whole, then part 1's own error; part 2 (opened ahead) closed
    expect(first.ids).toEqual(expectedIds(1));
    expect(first.error).toMatchObject({ code: 'AccessDenied' });
    expect(second.ids).toEqual(expectedIds(1));
    expect(second.error).toMatchObject({ code: 'ReadFailed', message: expect.stringContaining('socket hang up') });
    expect(refused.seen.inFlight).toBe(0);
    expect(broken.seen.inFlight).toBe(0);
  });

  it('closes every part it opened when the consumer stops early, also one the store hands over afterwards', async () => {
    // Prepare: part 1's stream arrives only when the test lets it
    const { store, manifest } = await archive(3);
    let release: () => void = () => undefined;
    const late = new Promise<void>((ok) => (release = ok));
    const { store: w, seen } = watched(store, (key) => (key === partKey(ECS, 1) ? late.then(() => store.getStream(key)) : undefined));
    // Act: stop at the first batch; part 1's stream arrives while the stop is under way
    let read = 0;
    for await (const batch of readRecordBatches(w, manifest.parts, { readAhead: 1 })) {
      read += batch.length;
      setImmediate(release);
      break;
    }
    // Assess: when the loop is left, both parts' streams were handed over and destroyed
    expect(read).toBeGreaterThan(0);
    expect(seen.requested).toEqual([partKey(ECS, 0), partKey(ECS, 1)]);
    expect(seen.streams).toHaveLength(2);
    for (const s of seen.streams) expect(s.destroyed).toBe(true);
    await allClosed(seen.streams);
    expect(seen.inFlight).toBe(0);
  });
});
