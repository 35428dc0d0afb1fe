import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { StorageError } from '../errors';
import { isSpooled, spooledChunks, type GetStreamOptions, type ObjectBody, type ObjectInfo, type ObjectStore, type PutOptions } from './store';

/**
 * Name of the folder, directly under the store root, that holds in-flight temporary files. It is never listed,
 * and keys whose first segment is this name are rejected, so a temporary file can never be mistaken for an object.
 * Keeping temp files inside the root guarantees that the final `rename`/`link` stays on one filesystem (atomic).
 */
export const FILE_STORE_TMP_DIR = '.execution-archive-tmp';

/**
 * Checks that `key` is a safe, portable object key and returns it unchanged. Both stores apply the same rule, so an
 * archive that can be written locally can be written to OSS and back. With `what = 'prefix'`, `''` and a trailing
 * `/` are allowed.
 *
 * Rejected with `StorageError` code `InvalidKey`: empty keys, absolute keys, keys with a backslash or NUL, empty
 * segments (`a//b`, trailing `/`), `.` or `..` segments, and keys inside the store's temp folder.
 */
export function checkObjectKey(key: string, what: 'key' | 'prefix' = 'key'): string {
  const bad = (why: string) => new StorageError('InvalidKey', `invalid ${what} ${JSON.stringify(key)}: ${why}`, { key });
  if (typeof key !== 'string') throw bad('not a string');
  if (what === 'prefix' && key === '') return key;
  if (key === '') throw bad('empty');
  if (key.startsWith('/') || path.isAbsolute(key)) throw bad('absolute');
  if (key.includes('\\')) throw bad('contains a backslash');
  if (key.includes('\0')) throw bad('contains NUL');
  const segments = key.split('/');
  // A prefix may end with '/', which leaves one trailing empty segment; a key may not.
  if (what === 'prefix' && segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  for (const s of segments) {
    if (s === '') throw bad('empty path segment');
    if (s === '.' || s === '..') throw bad(`"${s}" path segment`);
  }
  if (segments[0] === FILE_STORE_TMP_DIR) throw bad('reserved name');
  return key;
}

/** Writes all of `chunk` at `position` of the file (a write may take less than it was given); returns its length. */
export async function writeAll(fh: fs.FileHandle, chunk: Buffer, position: number): Promise<number> {
  for (let done = 0; done < chunk.length; ) done += (await fh.write(chunk, done, chunk.length - done, position + done)).bytesWritten;
  return chunk.length;
}

/** Compares two strings in UTF-8 byte order, the order OSS lists keys in. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function errno(err: unknown): string | undefined {
  return err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

/** Error codes of the file system that mean "there is no object under this key". */
const MISSING = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
/** Bytes of a spooled body copied at a time (through one buffer per put). */
const COPY_CHUNK = 64 * 1024;

/**
 * A local folder as an {@link ObjectStore}: object `a/b.json` is the file `<rootDir>/a/b.json`.
 *
 * - Writes go to a temporary file under `<rootDir>/.execution-archive-tmp/` and are then renamed into place, so readers
 *   see the old file, no file, or the whole new file. A spooled body is copied into it chunk by chunk.
 * - `forbidOverwrite` writes hard-link the finished temp file to the final name (`link` fails with `EEXIST` if the
 *   name exists), so of two racing writers exactly one wins and the other gets `ObjectAlreadyExists`.
 * - `list` walks the tree lazily, in UTF-8 byte order of the keys (the order OSS uses).
 * - `contentType` is accepted and ignored (a file has no content type); `etag` is not reported.
 * - A key that would need an existing file to be a folder (`a` exists, `a/b` is written) fails with `KeyConflict`.
 *
 * @param rootDir - an absolute or relative folder; it is resolved to an absolute path and created on first write.
 * @example
 *   const store = createFileStore('/tmp/archive');
 *   await store.put('oos/cn-hangzhou/exec-1/manifest.json', '{}', { forbidOverwrite: true });
 */
export function createFileStore(rootDir: string): ObjectStore {
  return new FileStore(path.resolve(rootDir));
}

/** A storage error named after what the file system said: a key that collides with a folder, no permission, other I/O. */
function wrapFileError(err: unknown, op: string, key: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = errno(err);
  if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST') {
    return new StorageError('KeyConflict', `${op} ${key}: the key collides with an existing folder or file`, { key }, { cause: err });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new StorageError('AccessDenied', `${op} ${key}: permission denied (${code})`, { key }, { cause: err });
  }
  return new StorageError('StorageIOError', `${op} ${key} failed${code ? ` (${code})` : ''}`, { key }, { cause: err });
}

/** Writes a body to a new temporary file in `tmpDir` (synced), and returns its path; nothing is left on failure. */
async function writeTemp(tmpDir: string, body: ObjectBody): Promise<string> {
  await fs.mkdir(tmpDir, { recursive: true });
  const tmp = path.join(tmpDir, `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}.tmp`);
  const fh = await fs.open(tmp, 'wx');
  try {
    if (isSpooled(body)) {
      // Copied a chunk at a time through one buffer, never read whole.
      let position = 0;
      for await (const chunk of spooledChunks(body, 0, body.size, Buffer.allocUnsafe(COPY_CHUNK))) position += await writeAll(fh, chunk, position);
    } else {
      await fh.writeFile(body);
    }
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fh.close();
  return tmp;
}

/** Moves a finished temporary file to its object's name: replacing it, or (`forbidOverwrite`) only when there is none. */
async function moveIntoPlace(tmp: string, file: string, key: string, forbidOverwrite: boolean): Promise<void> {
  if (!forbidOverwrite) {
    await fs.rename(tmp, file);
    return;
  }
  try {
    await fs.link(tmp, file);
  } catch (err) {
    if (errno(err) === 'EEXIST' && !(await isDir(file))) {
      throw new StorageError('ObjectAlreadyExists', `object ${key} already exists`, { key, status: 409 }, { cause: err });
    }
    throw err;
  }
  await fs.rm(tmp, { force: true });
}

/** The objects of one folder that can hold keys with `prefix`, folders as `name/`, in key order (see `list`). */
function folderItems(entries: Dirent[], dirKey: string, prefix: string): { sortKey: string; dir: boolean }[] {
  const items: { sortKey: string; dir: boolean }[] = [];
  for (const e of entries) {
    if (dirKey === '' && e.name === FILE_STORE_TMP_DIR) continue;
    const dir = e.isDirectory();
    if (!dir && !e.isFile()) continue;
    const full = dirKey + e.name + (dir ? '/' : '');
    // Keep the entry only if keys below it can start with the prefix.
    if (!(full.startsWith(prefix) || (dir && prefix.startsWith(full)))) continue;
    items.push({ sortKey: full, dir });
  }
  // A folder sorts as "name/": every key below it starts with that, which gives global key order.
  return items.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
}

/** The store of {@link createFileStore}: each method is one operation of {@link ObjectStore} on files under `root`. */
class FileStore implements ObjectStore {
  readonly url: string;
  private readonly tmpDir: string;

  constructor(private readonly root: string) {
    this.url = pathToFileURL(root).href;
    this.tmpDir = path.join(root, FILE_STORE_TMP_DIR);
  }

  private fileOf(key: string): string {
    return path.join(this.root, ...checkObjectKey(key).split('/'));
  }

  locate(key: string): string {
    return pathToFileURL(this.fileOf(key)).href;
  }

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<void> {
    const file = this.fileOf(key);
    let tmp: string | undefined;
    try {
      await fs.mkdir(path.dirname(file), { recursive: true });
      tmp = await writeTemp(this.tmpDir, body);
      await moveIntoPlace(tmp, file, key, options.forbidOverwrite === true);
      tmp = undefined;
    } catch (err) {
      if (tmp !== undefined) await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw wrapFileError(err, 'put', key);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    const file = this.fileOf(key);
    try {
      return await fs.readFile(file);
    } catch (err) {
      if (MISSING.has(errno(err) ?? '')) return undefined;
      throw wrapFileError(err, 'get', key);
    }
  }

  async getStream(key: string, options?: GetStreamOptions): Promise<Readable | undefined> {
    const file = this.fileOf(key);
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(file, 'r');
      // Opening a folder succeeds on Linux; only reading it fails.
      if (!(await fh.stat()).isFile()) {
        await fh.close();
        return undefined;
      }
    } catch (err) {
      if (MISSING.has(errno(err) ?? '')) return undefined;
      throw wrapFileError(err, 'getStream', key);
    }
    // The open handle pins the current file: a concurrent rename-over does not tear the stream.
    return fh.createReadStream({ start: Math.max(0, Math.floor(options?.start ?? 0)) });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const file = this.fileOf(key);
    try {
      const st = await fs.stat(file);
      if (!st.isFile()) return undefined;
      return { key, size: st.size, lastModified: st.mtime };
    } catch (err) {
      if (MISSING.has(errno(err) ?? '')) return undefined;
      throw wrapFileError(err, 'head', key);
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.fileOf(key);
    try {
      await fs.unlink(file);
    } catch (err) {
      const code = errno(err);
      if (code !== undefined && (MISSING.has(code) || code === 'EPERM')) {
        // EPERM: unlink of a folder on some platforms; a folder is not an object.
        if (code === 'EPERM' && !(await isDir(file))) throw wrapFileError(err, 'delete', key);
        return;
      }
      throw wrapFileError(err, 'delete', key);
    }
  }

  async *list(prefix: string): AsyncGenerator<ObjectInfo> {
    checkObjectKey(prefix, 'prefix');
    // Start in the deepest folder the prefix names completely; filter the rest by key.
    const cut = prefix.lastIndexOf('/');
    yield* this.walk(cut < 0 ? '' : prefix.slice(0, cut + 1), prefix);
  }

  /** The objects under one folder (`dirKey`, '' for the root) whose keys start with `prefix`, in key order. */
  private async *walk(dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dirKey === '' ? this.root : path.join(this.root, ...dirKey.split('/').filter(Boolean)), { withFileTypes: true });
    } catch (err) {
      if (MISSING.has(errno(err) ?? '')) return;
      throw wrapFileError(err, 'list', prefix);
    }
    for (const item of folderItems(entries, dirKey, prefix)) {
      if (item.dir) {
        yield* this.walk(item.sortKey, prefix);
        continue;
      }
      try {
        const st = await fs.stat(path.join(this.root, ...item.sortKey.split('/')));
        if (st.isFile()) yield { key: item.sortKey, size: st.size, lastModified: st.mtime };
      } catch (err) {
        if (MISSING.has(errno(err) ?? '')) continue; // deleted while listing
        throw wrapFileError(err, 'list', item.sortKey);
      }
    }
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}
