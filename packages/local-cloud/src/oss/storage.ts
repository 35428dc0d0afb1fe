import { createHash, randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { Crc64 } from './crc64';

/** What a finished temp file becomes: its size, ETag, object type and CRC-64. */
interface NewObject {
  size: number;
  etag: string;
  type: ObjectType;
  crc64: string;
}

/** How a finished temp file is committed (the body's digest was checked already). */
type CommitOptions = Omit<WriteOptions, 'contentMd5'>;

/**
 * Writes `chunks` into the new file `file` (which must not exist), handing each to `seen` first; returns the bytes
 * written. On any failure (a body cut short, a full disk) the file is removed and the error thrown.
 */
async function writeNewFile(file: string, chunks: AsyncIterable<Buffer>, seen: (chunk: Buffer) => void): Promise<number> {
  const fh = await fs.open(file, 'wx');
  let size = 0;
  try {
    for await (const chunk of chunks) {
      seen(chunk);
      size += chunk.length;
      await fh.write(chunk);
    }
    await fh.close();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await fs.rm(file, { force: true });
    throw err;
  }
  return size;
}

/**
 * The OSS emulator's disk format. Everything lives under one root folder:
 *
 *   <root>/<bucket>/<key>                               the object's bytes, as a plain file (browsable)
 *   <root>/.oss-meta/<bucket>/<h2>/<sha1(key)>.json     sidecar: key, size, etag, content type, last modified, ...
 *   <root>/.oss-uploads/<uploadId>/upload.json, part-NNNNN, part-NNNNN.json   unfinished multipart uploads
 *   <root>/.oss-tmp/                                    temp files, renamed into place when complete
 *
 * Bucket names cannot start with `.`, so the service folders never collide with a bucket. Objects are written to a
 * temp file and renamed; the data file and its sidecar are updated under a per-key lock, so a reader always sees a
 * matching pair. Because objects are real files, a key cannot be both an object and a "folder" of other objects
 * (`a` and `a/b`): that write fails with 409 `KeyConflict` (an emulator-only code; real OSS allows it).
 */

/** An OSS error the server turns into an XML `<Error>` answer. */
export class OssError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra elements for the `<Error>` document (e.g. `StringToSign`). */
    readonly extra: Record<string, string> = {},
    /** Extra response headers (e.g. `x-oss-next-append-position`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'OssError';
  }
}

/** What the emulator knows about a stored object. */
export interface StoredObject {
  key: string;
  size: number;
  /** Quoted upper-case hex, as OSS sends it: `"5B3C…"`, or `"<hex>-<parts>"` for multipart objects. */
  etag: string;
  contentType: string;
  lastModified: Date;
  type: ObjectType;
  /** `x-oss-meta-*` headers, names without the prefix. */
  userMeta: Record<string, string>;
  /** `x-oss-hash-crc64ecma`: CRC-64/ECMA-182 of the bytes, unsigned decimal. */
  crc64: string;
}

/** `x-oss-object-type`. */
export type ObjectType = 'Normal' | 'Multipart' | 'Appendable';

interface Sidecar {
  key: string;
  size: number;
  mtimeMs: number;
  etag: string;
  contentType: string;
  lastModified: string;
  type: ObjectType;
  userMeta: Record<string, string>;
  /** Absent in sidecars written before the emulator computed CRCs: then it is computed from the file once. */
  crc64?: string;
}

/** Settings copied from `InitiateMultipartUpload` and the state of one upload. */
export interface UploadInfo {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: string;
  contentType: string;
  userMeta: Record<string, string>;
}

/** One uploaded part. */
export interface PartInfo {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: string;
  crc64: string;
}

/** Options of a write. */
export interface WriteOptions {
  contentType: string;
  userMeta: Record<string, string>;
  /** `x-oss-forbid-overwrite: true`: fail with 409 `FileAlreadyExists` if the key exists. */
  forbidOverwrite: boolean;
  /** Base64 MD5 from `Content-MD5`, checked against the received bytes. */
  contentMd5?: string | undefined;
}

/** OSS's smallest part size for every part but the last. */
export const MIN_PART_SIZE = 100 * 1024;

/** Checks a bucket name the way OSS does: 3–63 of `a-z 0-9 -`, not starting or ending with `-`. */
export function isValidBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(name);
}

/** Byte order of UTF-8, the order OSS lists keys in. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function errno(err: unknown): string | undefined {
  return err && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

const quoteHex = (buf: Buffer) => `"${buf.toString('hex').toUpperCase()}"`;

/** Folder-backed buckets, objects and multipart uploads. */
export class OssStorage {
  private readonly buckets = new Set<string>();
  private readonly locks = new Map<string, Promise<void>>();
  private readonly tmpDir: string;
  private readonly uploadsDir: string;
  private readonly metaDir: string;

  constructor(readonly root: string) {
    this.tmpDir = path.join(root, '.oss-tmp');
    this.uploadsDir = path.join(root, '.oss-uploads');
    this.metaDir = path.join(root, '.oss-meta');
  }

  /** Creates the service folders and adopts bucket folders already present under the root. */
  async init(): Promise<void> {
    await fs.mkdir(this.tmpDir, { recursive: true });
    await fs.mkdir(this.uploadsDir, { recursive: true });
    await fs.mkdir(this.metaDir, { recursive: true });
    for (const e of await fs.readdir(this.root, { withFileTypes: true })) {
      if (e.isDirectory() && isValidBucketName(e.name)) this.buckets.add(e.name);
    }
  }

  /** Creates a bucket (idempotent). Throws for an invalid name. */
  async createBucket(name: string): Promise<void> {
    if (!isValidBucketName(name)) throw new OssError(400, 'InvalidBucketName', `invalid bucket name ${name}`);
    await fs.mkdir(path.join(this.root, name), { recursive: true });
    this.buckets.add(name);
  }

  /** Whether the bucket exists. */
  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  /** Names of all buckets, sorted. */
  bucketNames(): string[] {
    return [...this.buckets].sort();
  }

  /** Rejects keys the folder layout cannot hold; returns the file path of the object. */
  objectPath(bucket: string, key: string): string {
    const bytes = Buffer.byteLength(key, 'utf8');
    if (bytes === 0 || bytes > 1023) throw new OssError(400, 'InvalidObjectName', 'object name must be 1-1023 bytes');
    if (key.startsWith('/') || key.includes('\0')) throw new OssError(400, 'InvalidObjectName', 'invalid object name');
    const segments = key.split('/');
    for (const s of segments) {
      if (s === '' || s === '.' || s === '..' || Buffer.byteLength(s) > 255) {
        throw new OssError(400, 'InvalidObjectName', 'the emulator cannot store empty, "." or ".." key segments or segments over 255 bytes');
      }
    }
    return path.join(this.root, bucket, ...segments);
  }

  private sidecarPath(bucket: string, key: string): string {
    const h = createHash('sha1').update(key, 'utf8').digest('hex');
    return path.join(this.metaDir, bucket, h.slice(0, 2), `${h}.json`);
  }

  /** Runs `fn` while holding the lock of `bucket`/`key` (in this process). */
  async withLock<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${bucket}\0${key}`;
    const prev = this.locks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    this.locks.set(id, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(id) === chained) this.locks.delete(id);
    }
  }

  /** A fresh temp file path on the same filesystem as the objects. */
  tempPath(): string {
    return path.join(this.tmpDir, `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`);
  }

  /**
   * Streams `body` into a temp file, returning its path, size and MD5. If `contentMd5` is given and does not match,
   * the temp file is removed and 400 `InvalidDigest`/`BadDigest` is thrown. If the body is cut short, the error of
   * the stream is thrown (nothing is kept).
   */
  async receive(body: AsyncIterable<Buffer>, contentMd5?: string): Promise<{ tmp: string; size: number; md5: Buffer; crc64: string }> {
    let expected: Buffer | undefined;
    if (contentMd5 !== undefined) {
      expected = Buffer.from(contentMd5, 'base64');
      if (expected.length !== 16 || expected.toString('base64') !== contentMd5.trim()) {
        throw new OssError(400, 'InvalidDigest', 'The Content-MD5 you specified is not valid.');
      }
    }
    const tmp = this.tempPath();
    const hash = createHash('md5');
    const crc = new Crc64();
    const size = await writeNewFile(tmp, body, (chunk) => {
      hash.update(chunk);
      crc.update(chunk);
    });
    const md5 = hash.digest();
    if (expected && !expected.equals(md5)) {
      await fs.rm(tmp, { force: true });
      throw new OssError(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    return { tmp, size, md5, crc64: crc.digest() };
  }

  /** Writes a whole object from memory (the local cloud's own writers, e.g. Cloud Assistant's output delivery). */
  async putObject(bucket: string, key: string, body: Buffer, contentType = 'application/octet-stream'): Promise<StoredObject> {
    if (!this.hasBucket(bucket)) throw new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: bucket });
    this.objectPath(bucket, key);
    const { tmp, size, md5, crc64 } = await this.receive((async function* () {
      yield body;
    })());
    return this.commit(bucket, key, tmp, { size, etag: `"${md5.toString('hex').toUpperCase()}"`, type: 'Normal', crc64 }, { contentType, userMeta: {}, forbidOverwrite: false });
  }

  /**
   * Moves a finished temp file into place as `bucket`/`key` with its sidecar, under the key lock. With
   * `forbidOverwrite`, an existing object makes it fail with 409 `FileAlreadyExists` (the temp file is removed).
   */
  async commit(
    bucket: string,
    key: string,
    tmp: string,
    info: NewObject,
    options: CommitOptions,
  ): Promise<StoredObject> {
    let file: string;
    try {
      file = this.objectPath(bucket, key);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
    return this.withLock(bucket, key, () => this.commitLocked(bucket, key, file, tmp, info, options));
  }

  /** {@link commit} for a caller that already holds the key's lock. */
  private async commitLocked(
    bucket: string,
    key: string,
    file: string,
    tmp: string,
    info: NewObject,
    options: CommitOptions,
  ): Promise<StoredObject> {
    try {
      if (options.forbidOverwrite && (await this.statObject(file)) !== undefined) {
        throw new OssError(409, 'FileAlreadyExists', 'The object you specified already exists and can not be overwritten.');
      }
      try {
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.rename(tmp, file);
      } catch (err) {
        const code = errno(err);
        if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' || code === 'ENOTEMPTY') {
          throw new OssError(409, 'KeyConflict', 'the emulator stores objects as files: this key collides with a folder of other keys');
        }
        throw err;
      }
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
    const st = await fs.stat(file);
    const sidecar: Sidecar = {
      key,
      size: info.size,
      mtimeMs: st.mtimeMs,
      etag: info.etag,
      contentType: options.contentType,
      lastModified: new Date().toISOString(),
      type: info.type,
      userMeta: options.userMeta,
      crc64: info.crc64,
    };
    await this.writeJson(this.sidecarPath(bucket, key), sidecar);
    return toStored(sidecar, info.crc64);
  }

  /**
   * CopyObject: the source's bytes, ETag, CRC and type under a new key; metadata copied or replaced (`meta`).
   * Returns undefined when the source does not exist.
   */
  async copy(
    src: { bucket: string; key: string },
    dst: { bucket: string; key: string },
    options: { meta?: { contentType: string; userMeta: Record<string, string> }; forbidOverwrite: boolean; check?: (source: StoredObject) => void },
  ): Promise<StoredObject | undefined> {
    const tmp = this.tempPath();
    const source = await this.withLock(src.bucket, src.key, async () => {
      const o = await this.describe(src.bucket, src.key, this.objectPath(src.bucket, src.key));
      if (o) {
        options.check?.(o);
        await fs.copyFile(this.objectPath(src.bucket, src.key), tmp);
      }
      return o;
    });
    if (!source) return undefined;
    return this.commit(dst.bucket, dst.key, tmp, { size: source.size, etag: source.etag, type: source.type, crc64: source.crc64 }, {
      contentType: options.meta?.contentType ?? source.contentType,
      userMeta: options.meta?.userMeta ?? source.userMeta,
      forbidOverwrite: options.forbidOverwrite,
    });
  }

  /**
   * AppendObject at `position`: creates an Appendable object at position 0, or appends to one whose size is exactly
   * `position` (409 `PositionNotEqualToLength` otherwise, 409 `ObjectNotAppendable` for a Normal or Multipart
   * object). The CRC continues from the stored one; the ETag is the MD5 of the whole content (emulator choice: OSS
   * documents an appendable object's ETag only as not being the content MD5).
   */
  async append(
    bucket: string,
    key: string,
    position: number,
    body: AsyncIterable<Buffer>,
    options: { contentType: string; userMeta: Record<string, string>; contentMd5?: string | undefined },
  ): Promise<StoredObject> {
    const file = this.objectPath(bucket, key);
    return this.withLock(bucket, key, async () => {
      const existing = await this.describe(bucket, key, file);
      if (existing && existing.type !== 'Appendable') {
        throw new OssError(409, 'ObjectNotAppendable', 'The object is not appendable.', {}, { 'x-oss-next-append-position': String(existing.size) });
      }
      const length = existing?.size ?? 0;
      if (position !== length) {
        throw new OssError(409, 'PositionNotEqualToLength', 'Position is not equal to file length.', {}, { 'x-oss-next-append-position': String(length) });
      }
      const { tmp, size } = await this.receive(body, options.contentMd5);
      const out = this.tempPath();
      const md5 = createHash('md5');
      const crc = new Crc64(existing?.crc64 ?? '0');
      const fh = await fs.open(out, 'wx');
      try {
        for (const f of existing ? [file, tmp] : [tmp]) {
          for await (const chunk of (await fs.open(f)).createReadStream()) {
            md5.update(chunk as Buffer);
            if (f === tmp) crc.update(chunk as Buffer);
            await fh.write(chunk as Buffer);
          }
        }
        await fh.close();
      } catch (err) {
        await fh.close().catch(() => undefined);
        await fs.rm(out, { force: true });
        throw err;
      } finally {
        await fs.rm(tmp, { force: true });
      }
      return this.commitLocked(bucket, key, file, out, { size: length + size, etag: quoteHex(md5.digest()), type: 'Appendable', crc64: crc.digest() }, {
        contentType: existing?.contentType ?? options.contentType,
        userMeta: existing?.userMeta ?? options.userMeta,
        forbidOverwrite: false,
      });
    });
  }

  private async writeJson(file: string, value: unknown): Promise<void> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = this.tempPath();
    await fs.writeFile(tmp, JSON.stringify(value));
    await fs.rename(tmp, file);
  }

  private async statObject(file: string) {
    try {
      const st = await fs.stat(file);
      return st.isFile() ? st : undefined;
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes(errno(err) ?? '')) return undefined;
      throw err;
    }
  }

  /** The sidecar of an object, rebuilt from the file when missing or stale (a file dropped in by hand). */
  private async describe(bucket: string, key: string, file: string): Promise<StoredObject | undefined> {
    const st = await this.statObject(file);
    if (!st) return undefined;
    let sidecar: Sidecar | undefined;
    try {
      sidecar = JSON.parse(await fs.readFile(this.sidecarPath(bucket, key), 'utf8')) as Sidecar;
    } catch {
      sidecar = undefined;
    }
    const fresh = sidecar && sidecar.key === key && sidecar.size === st.size && sidecar.mtimeMs === st.mtimeMs;
    if (fresh && sidecar?.crc64 !== undefined) return toStored(sidecar, sidecar.crc64);
    const hash = createHash('md5');
    const crc = new Crc64();
    for await (const chunk of (await fs.open(file)).createReadStream()) {
      hash.update(chunk as Buffer);
      crc.update(chunk as Buffer);
    }
    if (fresh && sidecar) return toStored(sidecar, crc.digest());
    return {
      key,
      size: st.size,
      etag: quoteHex(hash.digest()),
      contentType: 'application/octet-stream',
      lastModified: st.mtime,
      type: 'Normal',
      userMeta: {},
      crc64: crc.digest(),
    };
  }

  /** The object's metadata, or `undefined`. */
  async head(bucket: string, key: string): Promise<StoredObject | undefined> {
    const file = this.objectPath(bucket, key);
    return this.withLock(bucket, key, () => this.describe(bucket, key, file));
  }

  /** Metadata plus an open handle on the current bytes (a later overwrite does not affect the handle). */
  async open(bucket: string, key: string): Promise<{ object: StoredObject; handle: fs.FileHandle } | undefined> {
    const file = this.objectPath(bucket, key);
    return this.withLock(bucket, key, async () => {
      const object = await this.describe(bucket, key, file);
      if (!object) return undefined;
      return { object, handle: await fs.open(file, 'r') };
    });
  }

  /** Deletes an object; a missing one is fine. */
  async delete(bucket: string, key: string): Promise<void> {
    const file = this.objectPath(bucket, key);
    await this.withLock(bucket, key, async () => {
      if (!(await this.statObject(file))) return;
      await fs.rm(file, { force: true });
      await fs.rm(this.sidecarPath(bucket, key), { force: true });
    });
  }

  /**
   * Every object of `bucket` whose key starts with `prefix` and sorts after `after` (exclusive), in UTF-8 byte order.
   * Folders that cannot hold such keys are not read.
   */
  async *list(bucket: string, prefix: string, after = ''): AsyncGenerator<StoredObject> {
    yield* this.walk(bucket, '', prefix, after);
  }

  private async *walk(bucket: string, dirKey: string, prefix: string, after: string): AsyncGenerator<StoredObject> {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(path.join(this.root, bucket, ...dirKey.split('/').filter(Boolean)), { withFileTypes: true });
    } catch (err) {
      if (['ENOENT', 'ENOTDIR'].includes(errno(err) ?? '')) return;
      throw err;
    }
    const items: { full: string; dir: boolean }[] = [];
    for (const e of entries) {
      const dir = e.isDirectory();
      if (!dir && !e.isFile()) continue;
      const full = dirKey + e.name + (dir ? '/' : '');
      if (!(full.startsWith(prefix) || (dir && prefix.startsWith(full)))) continue;
      if (dir) {
        // Every key below starts with `full`: skip the folder when all of them sort before `after`.
        if (after !== '' && !after.startsWith(full) && compareUtf8(after, full) > 0) continue;
      } else if (after !== '' && compareUtf8(full, after) <= 0) continue;
      items.push({ full, dir });
    }
    items.sort((a, b) => compareUtf8(a.full, b.full));
    for (const item of items) {
      if (item.dir) {
        yield* this.walk(bucket, item.full, prefix, after);
        continue;
      }
      let object: StoredObject | undefined;
      try {
        object = await this.describe(bucket, item.full, path.join(this.root, bucket, ...item.full.split('/')));
      } catch (err) {
        if (errno(err) === 'ENOENT') continue; // deleted while listing
        throw err;
      }
      if (object) yield object;
    }
  }

  // ---- multipart ---------------------------------------------------------------------------------------------

  private uploadDir(uploadId: string): string {
    if (!/^[0-9A-F]{32}$/.test(uploadId)) throw new OssError(404, 'NoSuchUpload', 'The specified upload does not exist.');
    return path.join(this.uploadsDir, uploadId);
  }

  /** Starts a multipart upload and returns its id. */
  async initiate(bucket: string, key: string, options: { contentType: string; userMeta: Record<string, string> }): Promise<string> {
    this.objectPath(bucket, key);
    const uploadId = randomBytes(16).toString('hex').toUpperCase();
    const dir = this.uploadDir(uploadId);
    await fs.mkdir(dir, { recursive: true });
    const info: UploadInfo = { uploadId, bucket, key, initiated: new Date().toISOString(), ...options };
    await this.writeJson(path.join(dir, 'upload.json'), info);
    return uploadId;
  }

  /** The upload, checked to belong to `bucket`/`key`; 404 `NoSuchUpload` otherwise. */
  async upload(bucket: string, key: string, uploadId: string): Promise<UploadInfo> {
    try {
      const info = JSON.parse(await fs.readFile(path.join(this.uploadDir(uploadId), 'upload.json'), 'utf8')) as UploadInfo;
      if (info.bucket === bucket && info.key === key) return info;
    } catch (err) {
      if (err instanceof OssError) throw err;
    }
    throw new OssError(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
  }

  /** Stores one part (replacing an earlier part with the same number); returns its ETag. */
  async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: AsyncIterable<Buffer>, contentMd5?: string): Promise<PartInfo> {
    await this.upload(bucket, key, uploadId);
    const { tmp, size, md5, crc64 } = await this.receive(body, contentMd5);
    const dir = this.uploadDir(uploadId);
    const name = `part-${String(partNumber).padStart(5, '0')}`;
    const part: PartInfo = { partNumber, etag: quoteHex(md5), size, lastModified: new Date().toISOString(), crc64 };
    try {
      await fs.rename(tmp, path.join(dir, name));
    } catch (err) {
      await fs.rm(tmp, { force: true });
      if (errno(err) === 'ENOENT') throw new OssError(404, 'NoSuchUpload', 'The specified upload does not exist.');
      throw err;
    }
    await this.writeJson(path.join(dir, `${name}.json`), part);
    return part;
  }

  /** The parts uploaded so far, by part number. */
  async parts(uploadId: string): Promise<PartInfo[]> {
    const dir = this.uploadDir(uploadId);
    const out: PartInfo[] = [];
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      return [];
    }
    for (const n of names.filter((x) => /^part-\d{5}\.json$/.test(x)).sort()) {
      try {
        out.push(JSON.parse(await fs.readFile(path.join(dir, n), 'utf8')) as PartInfo);
      } catch {
        // a part being replaced right now
      }
    }
    return out;
  }

  /**
   * Completes an upload from the listed parts: they must be ascending, exist with the given ETags, and all but the
   * last be at least 100 KB. The object's ETag is `"<MD5 of the parts' binary MD5s>-<count>"` like OSS.
   */
  async complete(
    bucket: string,
    key: string,
    uploadId: string,
    list: { partNumber: number; etag: string }[],
    forbidOverwrite: boolean,
  ): Promise<StoredObject> {
    const info = await this.upload(bucket, key, uploadId);
    if (list.length === 0) throw new OssError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    const stored = new Map((await this.parts(uploadId)).map((p) => [p.partNumber, p]));
    const dir = this.uploadDir(uploadId);
    let previous = 0;
    list.forEach((p, i) => {
      if (p.partNumber <= previous) throw new OssError(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts list must be specified in order by part number.');
      previous = p.partNumber;
      const have = stored.get(p.partNumber);
      const norm = (e: string) => e.replace(/"/g, '').toUpperCase();
      if (!have || norm(have.etag) !== norm(p.etag)) {
        throw new OssError(400, 'InvalidPart', 'One or more of the specified parts could not be found or the specified entity tag might not have matched the part\'s entity tag.', { PartNumber: String(p.partNumber) });
      }
      if (i < list.length - 1 && have.size < MIN_PART_SIZE) {
        throw new OssError(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size.', { PartNumber: String(p.partNumber) });
      }
    });
    const tmp = this.tempPath();
    const etags = createHash('md5');
    const crc = new Crc64();
    async function* partsInOrder(): AsyncGenerator<Buffer> {
      for (const p of list) {
        // Every listed part was checked against `stored` above.
        etags.update(Buffer.from((stored.get(p.partNumber)?.etag ?? '').replace(/"/g, ''), 'hex'));
        yield await fs.readFile(path.join(dir, `part-${String(p.partNumber).padStart(5, '0')}`));
      }
    }
    const size = await writeNewFile(tmp, partsInOrder(), (chunk) => crc.update(chunk));
    const etag = `"${etags.digest('hex').toUpperCase()}-${list.length}"`;
    const object = await this.commit(bucket, key, tmp, { size, etag, type: 'Multipart', crc64: crc.digest() }, {
      contentType: info.contentType,
      userMeta: info.userMeta,
      forbidOverwrite,
    });
    await fs.rm(dir, { recursive: true, force: true });
    return object;
  }

  /** Aborts an upload and drops its parts; 404 `NoSuchUpload` if unknown. */
  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.upload(bucket, key, uploadId);
    await fs.rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  /** Unfinished uploads of a bucket (optionally under `prefix`), by key then initiation time. */
  async uploads(bucket: string, prefix = ''): Promise<UploadInfo[]> {
    const out: UploadInfo[] = [];
    for (const id of await fs.readdir(this.uploadsDir).catch(() => [] as string[])) {
      try {
        const info = JSON.parse(await fs.readFile(path.join(this.uploadsDir, id, 'upload.json'), 'utf8')) as UploadInfo;
        if (info.bucket === bucket && info.key.startsWith(prefix)) out.push(info);
      } catch {
        // being created or removed
      }
    }
    return out.sort((a, b) => compareUtf8(a.key, b.key) || a.initiated.localeCompare(b.initiated));
  }
}

function toStored(s: Sidecar, crc64: string): StoredObject {
  return {
    crc64,
    key: s.key,
    size: s.size,
    etag: s.etag,
    contentType: s.contentType,
    lastModified: new Date(s.lastModified),
    type: s.type,
    userMeta: s.userMeta,
  };
}
