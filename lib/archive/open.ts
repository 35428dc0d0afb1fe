import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { ConfigError } from '../errors';
import type { Logger } from '../log';
import { createFileStore } from './file';
import { createOssStore, normalizeOssPrefix, type OssCredentials } from './oss';
import type { ObjectStore } from './store';

/** What {@link openStore} needs besides the URL. */
export interface OpenStoreDeps {
  /** OSS credentials (FC: the function's STS credentials). Not called for `file://` stores. */
  credentials: () => Promise<OssCredentials>;
  /** `ALIBABA_CLOUD_OSS_ENDPOINT`: overrides the endpoint derived from `regionId` (e.g. the emulator's URL). */
  ossEndpoint?: string | undefined;
  /** The region of the bucket (config `regionId`: ALIBABA_CLOUD_REGION, else FC_REGION); required for `oss://` unless `ossEndpoint` is set. */
  regionId?: string | undefined;
  /** Use `oss-<region>-internal.aliyuncs.com` (default true: the functions run in the bucket's region). */
  internal?: boolean | undefined;
  logger?: Logger | undefined;
  /** Per-request OSS timeout, ms. */
  timeoutMs?: number | undefined;
}

/** A parsed `ARCHIVE_URL`. */
export type ArchiveLocation = { kind: 'oss'; bucket: string; prefix: string } | { kind: 'file'; dir: string };

/** OSS bucket names: 3–63 of lower-case letters, digits and `-`, not starting or ending with `-`. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/**
 * Parses `oss://bucket[/prefix]` or `file:///abs/dir` (also `file://localhost/abs/dir`). Anything else, a relative
 * or non-local file URL, a query or fragment, a bad bucket name or an unsafe prefix is a `ConfigError`.
 * The OSS prefix is returned normalized (`''` or `a/b/`).
 */
export function parseArchiveUrl(archiveUrl: string): ArchiveLocation {
  const url = archiveUrl.trim();
  const fail = (why: string): never => {
    throw new ConfigError(`ARCHIVE_URL ${JSON.stringify(archiveUrl)} is invalid: ${why} (expected oss://bucket/prefix or file:///absolute/dir)`);
  };
  if (/[?#]/.test(url)) fail('query strings and fragments are not allowed');
  const oss = /^oss:\/\/([^/]*)(?:\/(.*))?$/i.exec(url);
  if (oss) {
    const bucket = oss[1] ?? '';
    if (!BUCKET_NAME.test(bucket)) fail(`bad bucket name ${JSON.stringify(bucket)}`);
    let prefix = '';
    try {
      prefix = normalizeOssPrefix(oss[2] ?? '');
    } catch (err) {
      throw new ConfigError(`ARCHIVE_URL ${JSON.stringify(archiveUrl)} has an invalid prefix`, { cause: err });
    }
    return { kind: 'oss', bucket, prefix };
  }
  if (/^file:/i.test(url)) {
    if (!/^file:\/\/(localhost)?\//i.test(url)) fail('a file URL must be absolute: file:///abs/dir');
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (err) {
      throw new ConfigError(`ARCHIVE_URL ${JSON.stringify(archiveUrl)} is not a valid file URL`, { cause: err });
    }
    if (!path.isAbsolute(dir)) fail('the folder must be absolute');
    if (dir.split(/[\\/]/).includes('..')) fail('".." is not allowed');
    return { kind: 'file', dir: path.resolve(dir) };
  }
  return fail('unsupported scheme');
}

/**
 * Opens the archive store named by `ARCHIVE_URL`.
 *
 * - `file:///abs/dir` → {@link createFileStore} (local runs and tests).
 * - `oss://bucket/prefix` → {@link createOssStore}; the endpoint is `deps.ossEndpoint` when set (FC:
 *   `ALIBABA_CLOUD_OSS_ENDPOINT`), else `oss-<regionId>[-internal].aliyuncs.com` over https.
 *
 * @throws ConfigError for a malformed URL or a missing region.
 * @example
 *   const store = openStore(config.archiveUrl, { credentials: async () => context.credentials,
 *     regionId: config.regionId, ossEndpoint: config.ossEndpoint });
 */
export function openStore(archiveUrl: string, deps: OpenStoreDeps): ObjectStore {
  const loc = parseArchiveUrl(archiveUrl);
  if (loc.kind === 'file') return createFileStore(loc.dir);
  const endpoint = deps.ossEndpoint?.trim() || undefined;
  if (endpoint === undefined && !deps.regionId) {
    throw new ConfigError('an oss:// ARCHIVE_URL needs the region (ALIBABA_CLOUD_REGION) or an OSS endpoint (ALIBABA_CLOUD_OSS_ENDPOINT)');
  }
  if (deps.regionId !== undefined && deps.regionId !== '' && !/^[a-z0-9-]+$/.test(deps.regionId)) {
    throw new ConfigError(`invalid region id ${JSON.stringify(deps.regionId)}`);
  }
  return createOssStore({
    bucket: loc.bucket,
    prefix: loc.prefix,
    region: deps.regionId || undefined,
    endpoint,
    internal: deps.internal ?? true,
    credentials: deps.credentials,
    timeoutMs: deps.timeoutMs,
    logger: deps.logger,
  });
}
