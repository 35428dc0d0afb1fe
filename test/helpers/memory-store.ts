/**
 * An in-memory {@link ObjectStore} for tests. It follows the interface contract faithfully: whole-object atomic
 * puts, `forbidOverwrite` → `StorageError('ObjectAlreadyExists')`, `undefined` for missing objects, keys listed in
 * UTF-8 byte order, streams delivered in small chunks (so readers really stream), and counters a test can assert on.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageError } from '../../lib/errors';
import { isSpooled, type ObjectBody, type ObjectInfo, type ObjectStore, type PutOptions } from '../../lib/archive/store';

interface StoredObject {
  body: Buffer;
  lastModified: Date;
  etag: string;
  contentType: string | undefined;
}

export interface MemoryStore extends ObjectStore {
  /** The stored objects by key (read-only use in assertions). */
  readonly objects: ReadonlyMap<string, StoredObject>;
  /** How many times each operation was called. */
  readonly calls: { put: number; get: number; getStream: number; head: number; delete: number; list: number };
  /** The body of an object as UTF-8 text, or `undefined`. */
  text(key: string): string | undefined;
  /** Replaces an object's bytes directly, bypassing `forbidOverwrite` (to simulate corruption). */
  corrupt(key: string, body: Buffer): void;
}

export interface MemoryStoreOptions {
  /** The `url` reported by the store. @default 'memory://test' */
  url?: string;
  /** Size of the chunks `getStream` emits. @default 4096 */
  chunkSize?: number;
  /** The clock used for `lastModified`. @default () => new Date() */
  now?: () => Date;
}

function checkKey(key: string): void {
  if (key === '' || key.startsWith('/') || key.includes('\\') || key.split('/').some((s) => s === '..' || s === '.')) {
    throw new StorageError('InvalidKey', `invalid object key ${JSON.stringify(key)}`, { key });
  }
}

/** Creates an empty in-memory store. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const url = options.url ?? 'memory://test';
  const chunkSize = options.chunkSize ?? 4096;
  const now = options.now ?? (() => new Date());
  const objects = new Map<string, StoredObject>();
  const calls = { put: 0, get: 0, getStream: 0, head: 0, delete: 0, list: 0 };

  const store: MemoryStore = {
    url,
    objects,
    calls,
    async put(key: string, body: ObjectBody, putOptions: PutOptions = {}) {
      calls.put += 1;
      checkKey(key);
      // A copy: later changes to the caller's buffer do not reach the store; a spooled body is read whole.
      const bytes = isSpooled(body) ? Buffer.concat((await body.read().toArray()) as Buffer[]) : Buffer.from(body);
      if (putOptions.forbidOverwrite && objects.has(key)) {
        throw new StorageError('ObjectAlreadyExists', `object ${key} already exists`, { key, status: 409 });
      }
      objects.set(key, {
        body: bytes,
        lastModified: now(),
        etag: createHash('md5').update(bytes).digest('hex').toUpperCase(),
        contentType: putOptions.contentType,
      });
    },
    async get(key: string) {
      calls.get += 1;
      checkKey(key);
      const o = objects.get(key);
      return o ? Buffer.from(o.body) : undefined;
    },
    async getStream(key: string, options?: { start?: number }) {
      calls.getStream += 1;
      checkKey(key);
      const o = objects.get(key);
      if (!o) return undefined;
      const body = o.body.subarray(Math.max(0, options?.start ?? 0));
      function* chunks() {
        for (let i = 0; i < body.length; i += chunkSize) yield body.subarray(i, i + chunkSize);
      }
      return Readable.from(chunks(), { objectMode: false });
    },
    async head(key: string) {
      calls.head += 1;
      checkKey(key);
      const o = objects.get(key);
      return o ? { key, size: o.body.length, lastModified: o.lastModified, etag: o.etag } : undefined;
    },
    async delete(key: string) {
      calls.delete += 1;
      checkKey(key);
      objects.delete(key);
    },
    async *list(prefix: string): AsyncGenerator<ObjectInfo> {
      calls.list += 1;
      const keys = [...objects.keys()]
        .filter((k) => k.startsWith(prefix))
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      for (const key of keys) {
        const o = objects.get(key);
        if (o) yield { key, size: o.body.length, lastModified: o.lastModified, etag: o.etag };
      }
    },
    locate(key: string) {
      return `${url}/${key}`;
    },
    text(key: string) {
      return objects.get(key)?.body.toString('utf8');
    },
    corrupt(key: string, body: Buffer) {
      const o = objects.get(key);
      if (!o) throw new Error(`no object ${key} to corrupt`);
      objects.set(key, { ...o, body: Buffer.from(body) });
    },
  };
  return store;
}
