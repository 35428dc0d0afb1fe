import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import OSS from 'ali-oss';
import { StorageError } from '../errors';
import { createLogger, type Logger } from '../log';
import { checkObjectKey } from './file';
import { isSpooled, spooledChunks, type GetStreamOptions, type ObjectBody, type ObjectInfo, type ObjectStore, type PutOptions, type SpooledBody } from './store';

/** The keys OSS is called with. In FC these are the function's rotating STS credentials. */
export interface OssCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string | undefined;
}

/** Options of {@link createOssStore}. */
export interface OssStoreOptions {
  bucket: string;
  /** Key prefix of the archive root inside the bucket (`''` for the bucket root); slashes at either end are ignored. */
  prefix: string;
  /** Region id (`cn-hangzhou`) or OSS region (`oss-cn-hangzhou`); default `cn-hangzhou`. */
  region?: string | undefined;
  /**
   * OSS endpoint (`oss-cn-hangzhou-internal.aliyuncs.com`, `https://…`, or the emulator's `http://127.0.0.1:PORT`).
   * Without a scheme, https is used. Default: derived from `region` and `internal`.
   */
  endpoint?: string | undefined;
  /** Use the VPC-internal endpoint `oss-<region>-internal.aliyuncs.com` when no `endpoint` is given. */
  internal?: boolean | undefined;
  /** Called for the first request and whenever ali-oss refreshes an STS token. */
  credentials: () => Promise<OssCredentials>;
  /** Per-request timeout, ms (default 60000). */
  timeoutMs?: number | undefined;
  /** Bodies larger than this go as a multipart upload (default 5 MB). */
  multipartThreshold?: number | undefined;
  /** Part size of multipart uploads (default 5 MB, at least 100 KB). */
  partSize?: number | undefined;
  /** Parts uploaded at the same time (default 3). */
  partConcurrency?: number | undefined;
  /** How often ali-oss asks `credentials()` again for an STS key, ms (default 60000). */
  refreshIntervalMs?: number | undefined;
  /** Where a failed abort of a multipart upload is reported (default: JSON lines on stdout). */
  logger?: Logger | undefined;
}

/** Default `multipartThreshold` and `partSize`: 5 MB. */
export const DEFAULT_MULTIPART_THRESHOLD = 5 * 1024 * 1024;
/** OSS's minimum size of every part but the last. */
export const MIN_PART_SIZE = 100 * 1024;

interface OssLikeError {
  code?: unknown;
  status?: unknown;
  requestId?: unknown;
  name?: unknown;
  message?: unknown;
  params?: unknown;
  res?: unknown;
}

function asOssError(err: unknown): OssLikeError {
  return err && typeof err === 'object' ? (err as OssLikeError) : {};
}

/** Normalizes an archive prefix to `''` or `a/b/`; rejects unsafe ones with `InvalidKey`. */
export function normalizeOssPrefix(prefix: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  if (p === '') return '';
  checkObjectKey(p);
  return `${p}/`;
}

/**
 * The cause a StorageError keeps: a copy of ali-oss's error without `params`/`res` (they hold the signed request
 * headers and the body). The caught error itself is left as it was.
 */
function ossCause(err: unknown): unknown {
  if (!err || typeof err !== 'object') return err;
  const { params: _params, res: _res, ...rest } = err as OssLikeError & Record<string, unknown>;
  const copy = Object.assign(new Error(typeof rest.message === 'string' ? rest.message : 'oss request failed'), rest);
  copy.name = typeof rest.name === 'string' ? rest.name : err instanceof Error ? err.name : 'Error';
  if (err instanceof Error && err.stack !== undefined) copy.stack = err.stack;
  return copy;
}

/** Turns an ali-oss failure into a `StorageError` with the OSS code, HTTP status and key (see {@link ossCause}). */
export function toStorageError(err: unknown, operation: string, key: string): StorageError {
  if (err instanceof StorageError) return err;
  const e = asOssError(err);
  const status = typeof e.status === 'number' ? e.status : undefined;
  const ossCode = typeof e.code === 'string' && e.code !== '' ? e.code : typeof e.name === 'string' ? e.name : 'UnknownError';
  const requestId = typeof e.requestId === 'string' ? e.requestId : undefined;
  const code = ossCode === 'FileAlreadyExists' ? 'ObjectAlreadyExists' : ossCode;
  const detail = typeof e.message === 'string' && e.message !== '' ? `: ${e.message.split('\n')[0]}` : '';
  const where = [status !== undefined && status > 0 ? `HTTP ${status}` : undefined, requestId ? `RequestId ${requestId}` : undefined]
    .filter(Boolean)
    .join(', ');
  return new StorageError(
    code,
    `oss ${operation} ${key} failed: ${ossCode}${detail}${where ? ` (${where})` : ''}`,
    { key, ...(status !== undefined && status > 0 ? { status } : {}) },
    { cause: ossCause(err) },
  );
}

function isNotFound(err: unknown): boolean {
  const e = asOssError(err);
  return e.status === 404 && (e.code === 'NoSuchKey' || e.code === undefined || e.name === 'NoSuchKeyError');
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const v = (headers as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
}

const unquote = (etag: string) => etag.replace(/"/g, '');

/** The MD5 of bytes `start` to `end` of a body (a spooled body's range is read from its file for it). */
async function md5Of(body: Buffer | SpooledBody, start: number, end: number): Promise<Buffer> {
  const hash = createHash('md5');
  if (Buffer.isBuffer(body)) hash.update(body.subarray(start, end));
  else for await (const chunk of spooledChunks(body, start, end, Buffer.allocUnsafe(64 * 1024))) hash.update(chunk);
  return hash.digest();
}

/**
 * An OSS bucket (under a prefix) as an {@link ObjectStore}, on `ali-oss`.
 *
 * - The ali-oss client is created on first use from `credentials()`. With an STS key it is given `stsToken` and a
 *   `refreshSTSToken` that calls `credentials()` again, so FC's rotating credentials keep working.
 * - `put` sends every body with `Content-MD5` (OSS rejects a corrupted upload); a spooled body is streamed from where
 *   it is kept, its MD5 read from there first, and read again for every attempt and every part. Bodies above
 *   `multipartThreshold` go as a multipart upload: every part carries its `Content-MD5` and its returned ETag is
 *   checked; on any failure the in-flight parts are awaited and the upload is aborted (abort failures are logged,
 *   the original error is thrown), so a failed `put` leaves no partial object and no pending upload. (If the
 *   connection drops after OSS committed a completion, the put is reported failed although the whole object exists;
 *   it is never reported successful when it is not whole.)
 * - `forbidOverwrite` sends `x-oss-forbid-overwrite: true` (on initiate and complete for multipart); OSS's 409
 *   `FileAlreadyExists` becomes `StorageError` `ObjectAlreadyExists`.
 * - `get`/`getStream`/`head` answer `undefined` for a missing key; other failures are `StorageError`s carrying the
 *   OSS code (`NoSuchBucket`, `AccessDenied`, `SignatureDoesNotMatch`, `RequestError`, ...), status and key.
 * - Nothing is retried here (errors carry `status`; network errors have none): `withStoreRetries` in retrying.ts
 *   applies the project's retry policy on top, as the handlers' runtime does.
 *
 * @example
 *   const store = createOssStore({ bucket: 'my-archive', prefix: 'archive', region: 'cn-hangzhou', internal: true,
 *     credentials: async () => context.credentials });
 */
export function createOssStore(options: OssStoreOptions): ObjectStore {
  return new OssStore(resolveSettings(options));
}

/** {@link OssStoreOptions} with every default applied: what the store's steps read. */
interface OssSettings {
  bucket: string;
  /** `''` or `a/b/` (see {@link normalizeOssPrefix}). */
  prefix: string;
  /** The region id without `oss-`. */
  regionId: string;
  endpoint: string | undefined;
  internal: boolean;
  credentials: () => Promise<OssCredentials>;
  timeout: number;
  threshold: number;
  partSize: number;
  concurrency: number;
  refreshIntervalMs: number;
  logger: Logger;
}

function resolveSettings(options: OssStoreOptions): OssSettings {
  return {
    bucket: options.bucket,
    prefix: normalizeOssPrefix(options.prefix),
    regionId: (options.region ?? 'cn-hangzhou').replace(/^oss-/, ''),
    endpoint: options.endpoint,
    internal: options.internal ?? false,
    credentials: options.credentials,
    timeout: options.timeoutMs ?? 60_000,
    threshold: options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD,
    partSize: Math.max(MIN_PART_SIZE, options.partSize ?? DEFAULT_MULTIPART_THRESHOLD),
    concurrency: Math.max(1, options.partConcurrency ?? 3),
    refreshIntervalMs: options.refreshIntervalMs ?? 60_000,
    logger: options.logger ?? createLogger({ fields: { component: 'oss-store' } }),
  };
}

/**
 * The ali-oss client for the store: the credentials asked once, an STS key given `refreshSTSToken` (which asks
 * again). A failing provider is `CredentialsUnavailable`; options ali-oss refuses are `InvalidConfiguration`.
 */
async function connect(s: OssSettings): Promise<OSS> {
  let creds: OssCredentials;
  try {
    creds = await s.credentials();
  } catch (err) {
    throw new StorageError('CredentialsUnavailable', 'oss: the credentials provider failed', {}, { cause: err });
  }
  const sts = creds.securityToken !== undefined && creds.securityToken !== '';
  try {
    return new OSS({
      bucket: s.bucket,
      region: `oss-${s.regionId}`,
      ...(s.endpoint !== undefined ? { endpoint: s.endpoint } : {}),
      internal: s.internal,
      secure: true,
      timeout: s.timeout,
      accessKeyId: creds.accessKeyId,
      accessKeySecret: creds.accessKeySecret,
      ...(sts
        ? {
            stsToken: creds.securityToken,
            refreshSTSTokenInterval: s.refreshIntervalMs,
            refreshSTSToken: async () => {
              const c = await s.credentials();
              return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, stsToken: c.securityToken ?? '' };
            },
          }
        : {}),
    });
  } catch (err) {
    throw new StorageError('InvalidConfiguration', `oss: cannot create a client for bucket ${s.bucket}: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
  }
}

const forbidHeaders = (forbid: boolean | undefined) => (forbid ? { 'x-oss-forbid-overwrite': 'true' } : {});

const sizeOf = (body: Buffer | SpooledBody) => (Buffer.isBuffer(body) ? body.length : body.size);

/** One upload to OSS: the object's full name, the key it was asked for (for errors) and its body. */
interface Upload {
  name: string;
  key: string;
  body: Buffer | SpooledBody;
  options: PutOptions;
}

/** A body up to the threshold in one request, with its `Content-MD5`. */
async function putWhole(oss: OSS, s: OssSettings, { name, key, body, options }: Upload): Promise<void> {
  const mime = options.contentType !== undefined ? { mime: options.contentType } : {};
  try {
    if (isSpooled(body)) {
      // Streamed from its spool, with its length and Content-MD5 (read once before), so OSS refuses a damaged body.
      const md5 = await md5Of(body, 0, body.size);
      await oss.putStream(name, body.read(), {
        timeout: s.timeout,
        contentLength: body.size,
        headers: { ...forbidHeaders(options.forbidOverwrite), 'Content-MD5': md5.toString('base64') },
        ...mime,
      } as OSS.PutStreamOptions);
    } else {
      // A Buffer body is sent with Content-MD5 (ali-oss adds it), so OSS refuses a body damaged on the way.
      await oss.put(name, body, { timeout: s.timeout, headers: forbidHeaders(options.forbidOverwrite), ...mime });
    }
  } catch (err) {
    throw toStorageError(err, 'put', key);
  }
}

/**
 * A body above the threshold as a multipart upload: initiate, the parts ({@link uploadParts}), complete; on any
 * failure the upload is aborted ({@link abortUpload}) and the first error thrown.
 */
async function putMultipart(oss: OSS, s: OssSettings, upload: Upload): Promise<void> {
  const { name, key, options } = upload;
  let uploadId: string;
  try {
    const init = await oss.initMultipartUpload(name, {
      timeout: s.timeout,
      headers: forbidHeaders(options.forbidOverwrite),
      ...(options.contentType !== undefined ? { mime: options.contentType } : {}),
    });
    uploadId = init.uploadId;
  } catch (err) {
    throw toStorageError(err, 'initMultipartUpload', key);
  }
  try {
    const etags = await uploadParts(oss, s, upload, uploadId);
    try {
      await oss.completeMultipartUpload(
        name,
        uploadId,
        etags.map((etag, i) => ({ number: i + 1, etag })),
        { timeout: s.timeout, headers: forbidHeaders(options.forbidOverwrite) },
      );
    } catch (err) {
      throw toStorageError(err, 'completeMultipartUpload', key);
    }
  } catch (err) {
    await abortUpload(oss, s, upload, uploadId);
    throw err;
  }
}

/**
 * The parts of a multipart upload, `concurrency` at a time, each with its `Content-MD5` and its returned ETag checked;
 * their ETags in part order. On the first failure no new part starts; the in-flight ones are awaited (so none lands
 * after the abort) and the failure is thrown.
 */
async function uploadParts(oss: OSS, s: OssSettings, { name, key, body }: Upload, uploadId: string): Promise<string[]> {
  const size = sizeOf(body);
  const count = Math.ceil(size / s.partSize);
  const etags: string[] = new Array<string>(count);
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < count) {
      const index = next++;
      const start = index * s.partSize;
      const end = Math.min(size, start + s.partSize);
      try {
        const md5 = await md5Of(body, start, end);
        // A spooled body's range is read from its file (ali-oss sends a stream as it is); a Buffer is sliced.
        const r = await oss.uploadPart(name, uploadId, index + 1, Buffer.isBuffer(body) ? body : body.read(start, end), start, end, {
          timeout: s.timeout,
          headers: { 'Content-MD5': md5.toString('base64') },
        } as OSS.RequestOptions);
        if (unquote(r.etag).toLowerCase() !== md5.toString('hex')) {
          throw new StorageError('CorruptUpload', `oss uploadPart ${key}: part ${index + 1} ETag ${r.etag} does not match its MD5`, { key });
        }
        etags[index] = r.etag;
      } catch (err) {
        failure ??= toStorageError(err, `uploadPart ${index + 1} of`, key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.concurrency, count) }, worker));
  if (failure !== undefined) throw failure;
  return etags;
}

/** Aborts a failed multipart upload; an abort that fails is logged (the upload's own error is what the caller throws). */
async function abortUpload(oss: OSS, s: OssSettings, { name, key }: Upload, uploadId: string): Promise<void> {
  try {
    await oss.abortMultipartUpload(name, uploadId, { timeout: s.timeout });
  } catch (abortErr) {
    s.logger.warn('oss: aborting a failed multipart upload failed', {
      bucket: s.bucket,
      key: name,
      uploadId,
      error: toStorageError(abortErr, 'abortMultipartUpload', key),
    });
  }
}

/** What `head` reports of an object from its response headers (`key` as the caller named it, without the prefix). */
function headInfo(key: string, headers: unknown): ObjectInfo {
  const lm = headerOf(headers, 'last-modified');
  return {
    key,
    size: Number(headerOf(headers, 'content-length') ?? 0),
    lastModified: lm ? new Date(lm) : undefined,
    etag: headerOf(headers, 'etag'),
  };
}

/** The store of {@link createOssStore}: each method is one operation of {@link ObjectStore} on objects under `prefix`. */
class OssStore implements ObjectStore {
  readonly url: string;
  private clientPromise: Promise<OSS> | undefined;

  constructor(private readonly s: OssSettings) {
    this.url = `oss://${s.bucket}/${s.prefix.replace(/\/$/, '')}`;
  }

  /** The object's name in the bucket: the prefix and the checked key. */
  private fullKey(key: string): string {
    return this.s.prefix + checkObjectKey(key);
  }

  /** The client, created on first use ({@link connect}); a failed creation is tried again on the next call. */
  private client(): Promise<OSS> {
    if (this.clientPromise === undefined) {
      const created = connect(this.s);
      this.clientPromise = created;
      created.catch(() => {
        this.clientPromise = undefined; // try again on the next call
      });
    }
    return this.clientPromise;
  }

  /**
   * One request about one key: `call` with the client and the object's name; a missing object answers `undefined`,
   * any other failure is a `StorageError` of `operation`.
   */
  private async keyCall<T>(operation: string, key: string, call: (oss: OSS, name: string) => Promise<T>): Promise<T | undefined> {
    const name = this.fullKey(key);
    const oss = await this.client();
    try {
      return await call(oss, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toStorageError(err, operation, key);
    }
  }

  locate(key: string): string {
    return `oss://${this.s.bucket}/${this.fullKey(key)}`;
  }

  async put(key: string, body: ObjectBody, options: PutOptions = {}): Promise<void> {
    const name = this.fullKey(key);
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const oss = await this.client();
    const upload: Upload = { name, key, body: data, options };
    if (sizeOf(data) > this.s.threshold) await putMultipart(oss, this.s, upload);
    else await putWhole(oss, this.s, upload);
  }

  get(key: string): Promise<Buffer | undefined> {
    return this.keyCall('get', key, async (oss, name) => {
      const r = await oss.get(name, { timeout: this.s.timeout });
      return Buffer.isBuffer(r.content) ? r.content : Buffer.from(r.content as string);
    });
  }

  getStream(key: string, options?: GetStreamOptions): Promise<Readable | undefined> {
    const start = Math.max(0, Math.floor(options?.start ?? 0));
    // A start past the end is answered 416 by OSS unless the standard range behaviour is asked for.
    const headers = start > 0 ? { Range: `bytes=${start}-`, 'x-oss-range-behavior': 'standard' } : undefined;
    return this.keyCall('getStream', key, async (oss, name) => {
      const r = await oss.getStream(name, { timeout: this.s.timeout, ...(headers ? { headers } : {}) });
      return r.stream as Readable;
    });
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.keyCall('head', key, async (oss, name) => headInfo(key, (await oss.head(name, { timeout: this.s.timeout })).res.headers));
  }

  async delete(key: string): Promise<void> {
    await this.keyCall('delete', key, (oss, name) => oss.delete(name, { timeout: this.s.timeout }));
  }

  async abortUploads(uploadPrefix: string): Promise<number> {
    checkObjectKey(uploadPrefix, 'prefix');
    const oss = await this.client();
    const { prefix, timeout } = this.s;
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (let page = 0; page < 1000; page++) {
      let res: OSS.ListUploadsResult;
      try {
        res = await oss.listUploads(
          { prefix: prefix + uploadPrefix, 'max-uploads': 1000, ...(keyMarker ? { 'key-marker': keyMarker, 'upload-id-marker': uploadIdMarker ?? '' } : {}) },
          { timeout },
        );
      } catch (err) {
        throw toStorageError(err, 'listUploads', uploadPrefix);
      }
      for (const u of res.uploads) {
        try {
          await oss.abortMultipartUpload(u.name, u.uploadId, { timeout });
          aborted++;
        } catch (err) {
          if (!isNotFound(err)) throw toStorageError(err, 'abortMultipartUpload', u.name.slice(prefix.length));
        }
      }
      if (!res.isTruncated || !res.nextKeyMarker) break;
      keyMarker = String(res.nextKeyMarker);
      uploadIdMarker = res.nextUploadIdMarker ? String(res.nextUploadIdMarker) : undefined;
    }
    return aborted;
  }

  async *list(listPrefix: string): AsyncGenerator<ObjectInfo> {
    checkObjectKey(listPrefix, 'prefix');
    const oss = await this.client();
    const { prefix, timeout } = this.s;
    let token: string | undefined;
    const seen = new Set<string>();
    do {
      let page: OSS.ListV2ObjectResult;
      try {
        page = await oss.listV2(
          { prefix: prefix + listPrefix, 'max-keys': 1000, ...(token !== undefined ? { 'continuation-token': token } : {}) },
          { timeout },
        );
      } catch (err) {
        throw toStorageError(err, 'list', listPrefix);
      }
      for (const o of page.objects ?? []) {
        yield { key: o.name.slice(prefix.length), size: o.size, lastModified: o.lastModified ? new Date(o.lastModified) : undefined, etag: o.etag };
      }
      token = page.isTruncated && page.nextContinuationToken ? page.nextContinuationToken : undefined;
      if (token !== undefined) {
        if (seen.has(token)) {
          throw new StorageError('PaginationError', `oss list ${listPrefix}: the continuation token repeated`, { key: listPrefix });
        }
        seen.add(token);
      }
    } while (token !== undefined);
  }
}
