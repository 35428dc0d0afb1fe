import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import OSS from 'ali-oss';
import { StorageError } from '../errors';
import { createLogger, type Logger } from '../log';
import { checkObjectKey } from './file';
import { isSpooled, type GetStreamOptions, type ObjectBody, type ObjectInfo, type ObjectStore, type PutOptions, type SpooledBody } from './store';

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
  else for await (const chunk of body.read(start, end) as AsyncIterable<Buffer>) hash.update(chunk);
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
  const { bucket } = options;
  const prefix = normalizeOssPrefix(options.prefix);
  const timeout = options.timeoutMs ?? 60_000;
  const threshold = options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  const partSize = Math.max(MIN_PART_SIZE, options.partSize ?? DEFAULT_MULTIPART_THRESHOLD);
  const concurrency = Math.max(1, options.partConcurrency ?? 3);
  const logger = options.logger ?? createLogger({ fields: { component: 'oss-store' } });
  const regionId = (options.region ?? 'cn-hangzhou').replace(/^oss-/, '');
  const fullKey = (key: string) => prefix + checkObjectKey(key);

  let clientPromise: Promise<OSS> | undefined;
  function client(): Promise<OSS> {
    clientPromise ??= (async () => {
      let creds: OssCredentials;
      try {
        creds = await options.credentials();
      } catch (err) {
        throw new StorageError('CredentialsUnavailable', 'oss: the credentials provider failed', {}, { cause: err });
      }
      const sts = creds.securityToken !== undefined && creds.securityToken !== '';
      try {
        return new OSS({
          bucket,
          region: `oss-${regionId}`,
          ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
          internal: options.internal ?? false,
          secure: true,
          timeout,
          accessKeyId: creds.accessKeyId,
          accessKeySecret: creds.accessKeySecret,
          ...(sts
            ? {
                stsToken: creds.securityToken,
                refreshSTSTokenInterval: options.refreshIntervalMs ?? 60_000,
                refreshSTSToken: async () => {
                  const c = await options.credentials();
                  return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, stsToken: c.securityToken ?? '' };
                },
              }
            : {}),
        });
      } catch (err) {
        throw new StorageError('InvalidConfiguration', `oss: cannot create a client for bucket ${bucket}: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
      }
    })();
    clientPromise.catch(() => {
      clientPromise = undefined; // try again on the next call
    });
    return clientPromise;
  }

  const forbidHeaders = (forbid: boolean | undefined) => (forbid ? { 'x-oss-forbid-overwrite': 'true' } : {});

  async function putMultipart(oss: OSS, name: string, key: string, body: Buffer | SpooledBody, options: PutOptions): Promise<void> {
    const size = Buffer.isBuffer(body) ? body.length : body.size;
    let uploadId: string;
    try {
      const init = await oss.initMultipartUpload(name, {
        timeout,
        headers: forbidHeaders(options.forbidOverwrite),
        ...(options.contentType !== undefined ? { mime: options.contentType } : {}),
      });
      uploadId = init.uploadId;
    } catch (err) {
      throw toStorageError(err, 'initMultipartUpload', key);
    }
    const count = Math.ceil(size / partSize);
    const etags: string[] = new Array<string>(count);
    let next = 0;
    let failure: unknown;
    const worker = async () => {
      while (failure === undefined && next < count) {
        const index = next++;
        const start = index * partSize;
        const end = Math.min(size, start + partSize);
        try {
          const md5 = await md5Of(body, start, end);
          // A spooled body's range is read from its file (ali-oss sends a stream as it is); a Buffer is sliced.
          const r = await oss.uploadPart(name, uploadId, index + 1, Buffer.isBuffer(body) ? body : body.read(start, end), start, end, {
            timeout,
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
    try {
      // On the first failure no new part starts; the in-flight ones are awaited so none lands after the abort.
      await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
      if (failure !== undefined) throw failure;
      try {
        await oss.completeMultipartUpload(
          name,
          uploadId,
          etags.map((etag, i) => ({ number: i + 1, etag })),
          { timeout, headers: forbidHeaders(options.forbidOverwrite) },
        );
      } catch (err) {
        throw toStorageError(err, 'completeMultipartUpload', key);
      }
    } catch (err) {
      try {
        await oss.abortMultipartUpload(name, uploadId, { timeout });
      } catch (abortErr) {
        logger.warn('oss: aborting a failed multipart upload failed', {
          bucket,
          key: name,
          uploadId,
          error: toStorageError(abortErr, 'abortMultipartUpload', key),
        });
      }
      throw err;
    }
  }

  return {
    url: `oss://${bucket}/${prefix.replace(/\/$/, '')}`,

    async put(key: string, body: ObjectBody, putOptions: PutOptions = {}): Promise<void> {
      const name = fullKey(key);
      const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const oss = await client();
      if ((Buffer.isBuffer(data) ? data.length : data.size) > threshold) {
        await putMultipart(oss, name, key, data, putOptions);
        return;
      }
      const mime = putOptions.contentType !== undefined ? { mime: putOptions.contentType } : {};
      try {
        if (isSpooled(data)) {
          // Streamed from its spool, with its length and Content-MD5 (read once before), so OSS refuses a damaged body.
          const md5 = await md5Of(data, 0, data.size);
          await oss.putStream(name, data.read(), {
            timeout,
            contentLength: data.size,
            headers: { ...forbidHeaders(putOptions.forbidOverwrite), 'Content-MD5': md5.toString('base64') },
            ...mime,
          } as OSS.PutStreamOptions);
        } else {
          // A Buffer body is sent with Content-MD5 (ali-oss adds it), so OSS refuses a body damaged on the way.
          await oss.put(name, data, { timeout, headers: forbidHeaders(putOptions.forbidOverwrite), ...mime });
        }
      } catch (err) {
        throw toStorageError(err, 'put', key);
      }
    },

    async get(key: string): Promise<Buffer | undefined> {
      const name = fullKey(key);
      const oss = await client();
      try {
        const r = await oss.get(name, { timeout });
        return Buffer.isBuffer(r.content) ? r.content : Buffer.from(r.content as string);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw toStorageError(err, 'get', key);
      }
    },

    async getStream(key: string, streamOptions?: GetStreamOptions): Promise<Readable | undefined> {
      const name = fullKey(key);
      const oss = await client();
      const start = Math.max(0, Math.floor(streamOptions?.start ?? 0));
      try {
        // A start past the end is answered 416 by OSS unless the standard range behaviour is asked for.
        const headers = start > 0 ? { Range: `bytes=${start}-`, 'x-oss-range-behavior': 'standard' } : undefined;
        const r = await oss.getStream(name, { timeout, ...(headers ? { headers } : {}) });
        return r.stream as Readable;
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw toStorageError(err, 'getStream', key);
      }
    },

    async head(key: string): Promise<ObjectInfo | undefined> {
      const name = fullKey(key);
      const oss = await client();
      try {
        const r = await oss.head(name, { timeout });
        const h = r.res.headers;
        const lm = headerOf(h, 'last-modified');
        return {
          key,
          size: Number(headerOf(h, 'content-length') ?? 0),
          lastModified: lm ? new Date(lm) : undefined,
          etag: headerOf(h, 'etag'),
        };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw toStorageError(err, 'head', key);
      }
    },

    async delete(key: string): Promise<void> {
      const name = fullKey(key);
      const oss = await client();
      try {
        await oss.delete(name, { timeout });
      } catch (err) {
        if (isNotFound(err)) return;
        throw toStorageError(err, 'delete', key);
      }
    },

    async abortUploads(uploadPrefix: string): Promise<number> {
      checkObjectKey(uploadPrefix, 'prefix');
      const oss = await client();
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
    },

    async *list(listPrefix: string): AsyncGenerator<ObjectInfo> {
      checkObjectKey(listPrefix, 'prefix');
      const oss = await client();
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
          yield {
            key: o.name.slice(prefix.length),
            size: o.size,
            lastModified: o.lastModified ? new Date(o.lastModified) : undefined,
            etag: o.etag,
          };
        }
        token = page.isTruncated && page.nextContinuationToken ? page.nextContinuationToken : undefined;
        if (token !== undefined) {
          if (seen.has(token)) {
            throw new StorageError('PaginationError', `oss list ${listPrefix}: the continuation token repeated`, { key: listPrefix });
          }
          seen.add(token);
        }
      } while (token !== undefined);
    },

    locate: (key: string) => `oss://${bucket}/${fullKey(key)}`,
  };
}
