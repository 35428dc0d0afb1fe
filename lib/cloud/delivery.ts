/**
 * Cloud Assistant's OSS output delivery, as far as the collector trusts it. `OssOutputUri` comes from API data, which
 * is untrusted input: an object is read only when its URI names a bucket and a key under a prefix the operator
 * allowed (OUTPUT_DELIVERY_ALLOW), and it is read from the endpoint of the region that entry names (the invocation's
 * own region unless the entry says otherwise), never from one the URI or a redirect suggests.
 */
import { ConfigError } from '../errors';
import { REGION_ID } from '../ids';

/** One allowed place: a bucket, a key prefix in it ('' = the whole bucket, else ending in `/`), its region. */
export interface DeliveryAllowEntry {
  bucket: string;
  prefix: string;
  /** Where the bucket is; `undefined` = the invocation's region (the only one read from by default). */
  regionId: string | undefined;
}

/** A delivered object the collector may read. */
export interface DeliveredObject {
  bucket: string;
  key: string;
  /** The region whose endpoint it is read from. */
  regionId: string;
}

/** OSS bucket names: 3–63 of lower-case letters, digits and `-`, not starting or ending with `-`. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/**
 * Parses OUTPUT_DELIVERY_ALLOW: entries separated by commas or white space, each `oss://<bucket>[/<prefix>]`,
 * optionally preceded by `<region>=` for a bucket in another region than the invocations (`cn-shanghai=oss://b/p`).
 * A prefix is matched on whole path segments (`logs` allows `logs/…`, not `logs-old/…`).
 * @throws ConfigError naming the entry that is malformed.
 * @example parseDeliveryAllowList('oss://ops-logs/cloud-assistant, cn-shanghai=oss://dr-logs')
 */
export function parseDeliveryAllowList(raw: string, key = 'OUTPUT_DELIVERY_ALLOW'): DeliveryAllowEntry[] {
  const entries: DeliveryAllowEntry[] = [];
  for (const text of raw.split(/[\s,]+/).filter(Boolean)) {
    const fail = (why: string): never => {
      throw new ConfigError(`environment variable ${key}: entry ${JSON.stringify(text)} is invalid: ${why} (expected [<region>=]oss://<bucket>[/<prefix>])`);
    };
    const m = /^(?:([^=]+)=)?oss:\/\/([^/]*)(?:\/(.*))?$/.exec(text);
    if (!m) fail('not an oss:// URL');
    const [, region, bucket = '', rawPrefix = ''] = m as RegExpExecArray;
    if (region !== undefined && !REGION_ID.test(region)) fail(`${JSON.stringify(region)} is not a region id`);
    if (!BUCKET_NAME.test(bucket)) fail(`bad bucket name ${JSON.stringify(bucket)}`);
    const prefix = rawPrefix.replace(/^\/+|\/+$/g, '');
    if (prefix !== '' && keyProblem(prefix) !== undefined) fail(`bad prefix: ${keyProblem(prefix) ?? ''}`);
    entries.push({ bucket, prefix: prefix === '' ? '' : `${prefix}/`, regionId: region });
  }
  return entries;
}

/** What is wrong with an object key from API data, or `undefined` (kept strict: the key goes into a request path). */
function keyProblem(key: string): string | undefined {
  if (key.length > 1023) return 'longer than 1023 characters';
  if (/[\u0000-\u001f\u007f\\?#]/.test(key)) return 'control characters, backslashes, ? and # are not accepted';
  for (const segment of key.split('/')) {
    if (segment === '') return 'an empty path segment';
    if (segment === '.' || segment === '..') return `a "${segment}" path segment`;
  }
  return undefined;
}

/**
 * Decides whether the URI of a delivered output may be read: `{ object }` with the bucket, key and the region to read
 * it from, or `{ refused }` saying why not (the report shows it; nothing is read).
 * @example checkDeliveredUri('oss://ops-logs/ca/t-1/i-1/output.txt', allow, 'cn-hangzhou')
 */
export function checkDeliveredUri(uri: string, allow: readonly DeliveryAllowEntry[], invocationRegion: string): { object: DeliveredObject } | { refused: string } {
  const m = /^oss:\/\/([^/]*)\/(.+)$/.exec(uri);
  if (!m) return { refused: `${JSON.stringify(clip(uri))} is not an oss://<bucket>/<key> URI` };
  const [, bucket = '', key = ''] = m;
  if (!BUCKET_NAME.test(bucket)) return { refused: `bad bucket name ${JSON.stringify(clip(bucket))}` };
  const problem = keyProblem(key);
  if (problem !== undefined) return { refused: `the key has ${problem}` };
  const sameBucket = allow.filter((e) => e.bucket === bucket);
  if (sameBucket.length === 0) return { refused: `bucket ${bucket} is not in OUTPUT_DELIVERY_ALLOW` };
  const entry = sameBucket.find((e) => key.startsWith(e.prefix));
  if (!entry) return { refused: `oss://${bucket}/${clip(key)} is outside the allowed prefixes of bucket ${bucket} (${sameBucket.map((e) => e.prefix || '(all)').join(', ')})` };
  return { object: { bucket, key, regionId: entry.regionId ?? invocationRegion } };
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
