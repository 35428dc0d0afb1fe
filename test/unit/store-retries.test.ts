import { describe, expect, it } from 'vitest';
import { StorageError } from '../../lib/errors';
import { isTransientStorageError, withStoreRetries } from '../../lib/archive/retrying';
import type { ObjectBody } from '../../lib/archive/store';
import { createMemoryStore } from '../helpers/memory-store';

function flaky(failures: StorageError[]) {
  const store = createMemoryStore();
  const queue = [...failures];
  let puts = 0;
  const wrapped = {
    ...store,
    put: async (key: string, body: ObjectBody, options?: { forbidOverwrite?: boolean }) => {
      puts += 1;
      const next = queue.shift();
      if (next) throw next;
      return store.put(key, body, options);
    },
  };
  return { store, wrapped, puts: () => puts };
}

const noSleep = async () => undefined;

describe('withStoreRetries', () => {
  it.each([
    [new StorageError('InternalError', 'oss put failed', { status: 500 }), true],
    [new StorageError('ServiceUnavailable', 'oss put failed', { status: 503 }), true],
    [new StorageError('RequestError', 'socket hang up'), true],
    [new StorageError('ResponseTimeoutError', 'timeout'), true],
    [new StorageError('ObjectAlreadyExists', 'exists', { status: 409 }), false],
    [new StorageError('AccessDenied', 'denied', { status: 403 }), false],
    [new StorageError('InvalidKey', 'bad key'), false],
    [new Error('not a storage error'), false],
  ])('classifies %s as transient: %s', (err, transient) => {
    expect(isTransientStorageError(err)).toBe(transient);
  });

  it('retries transient failures until the write lands', async () => {
    const f = flaky([new StorageError('ServiceUnavailable', 'x', { status: 503 }), new StorageError('RequestError', 'reset')]);
    const store = withStoreRetries(f.wrapped, { sleep: noSleep });
    await store.put('a/b.json', 'hello');
    expect(f.puts()).toBe(3);
    expect((await f.store.get('a/b.json'))?.toString()).toBe('hello');
  });

  it('does not retry a conflict or a permission error, and gives up after the policy\'s attempts', async () => {
    const conflict = flaky([new StorageError('ObjectAlreadyExists', 'exists', { status: 409 })]);
    await expect(withStoreRetries(conflict.wrapped, { sleep: noSleep }).put('k', 'v', { forbidOverwrite: true })).rejects.toMatchObject({
      code: 'ObjectAlreadyExists',
    });
    expect(conflict.puts()).toBe(1);
    const down = flaky(Array.from({ length: 10 }, () => new StorageError('InternalError', 'x', { status: 500 })));
    await expect(withStoreRetries(down.wrapped, { sleep: noSleep, policy: { maxAttempts: 3 } }).put('k', 'v')).rejects.toMatchObject({ code: 'InternalError' });
    expect(down.puts()).toBe(3);
  });
});
