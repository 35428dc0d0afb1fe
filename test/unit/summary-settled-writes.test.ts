/**
 * A summary that fails after its objects' stores have started (lib/summary/index.ts): it fails only once every store it
 * started has ended, so that no write of the failed attempt lands after it has failed (over a retry's objects, or after
 * the process has reported the failure and gone on).
 */
import { describe, expect, it } from 'vitest';
import { failuresKey, type ArchiveRef } from '../../lib/archive/layout';
import type { ObjectStore } from '../../lib/archive/store';
import { silentLogger } from '../../lib/log';
import { summarizeArchive } from '../../lib/summary/index';
import { ecsRecord, instanceId, writeArchive } from '../helpers/archive-fixture';
import { createMemoryStore } from '../helpers/memory-store';

const REF: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: 't-hz0settled0001' };

describe('a failed summary leaves no store under way', () => {
  it('fails after the list objects it started storing are stored, not while they are', async () => {
    // Prepare: an archive with failures; a store whose failures.ndjson.gz takes a while; a warehouse step that fails at once
    const inner = createMemoryStore();
    const records = Array.from({ length: 20 }, (_, n) => ecsRecord({ InstanceId: instanceId(n), InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ExitCode: 1, Output: `E: Unable to locate package pkg-${n}\n` }));
    await writeArchive(inner, { ref: REF, records });
    let slowPut: 'none' | 'started' | 'done' = 'none';
    const store: ObjectStore = Object.create(inner) as ObjectStore;
    store.put = async (key, body, options) => {
      if (key !== failuresKey(REF)) return inner.put(key, body, options);
      slowPut = 'started';
      await new Promise((resolve) => setTimeout(resolve, 200));
      const r = await inner.put(key, body, options);
      slowPut = 'done';
      return r;
    };
    // Act
    const err = await summarizeArchive({
      store,
      ref: REF,
      logger: silentLogger,
      afterSummary: () => Promise.reject(new Error('warehouse down')),
    }).catch((e: unknown) => e);
    const atFailure = slowPut;
    // Assess: the warehouse's error, raised once the list object's store had ended
    expect(err).toMatchObject({ message: 'warehouse down' });
    expect(atFailure).toBe('done');
  });
});
