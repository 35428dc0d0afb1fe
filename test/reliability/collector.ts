/**
 * The collector as the suite runs it: the production runtime (real SDKs, the one retry policy, the deadline) with an
 * OSS store whose multipart threshold is small, so that ordinary parts go as multipart uploads and faults and kills
 * land inside them too. Used in-process and by child-collect.ts (the process the kill tests SIGKILL).
 */
import { parseArchiveUrl } from '../../lib/archive/open';
import { createOssStore } from '../../lib/archive/oss';
import { withStoreRetries } from '../../lib/archive/retrying';
import { createRuntime, type Runtime } from '../../lib/runtime';
import type { FcContext } from '../../lib/triggers';

/** Parts above 8 KB go as multipart uploads of 100 KB parts (OSS's minimum). */
export const MULTIPART_THRESHOLD = 8 * 1024;

export function suiteRuntime(context: FcContext, env: NodeJS.ProcessEnv): Runtime {
  const rt = createRuntime(context, { env });
  const loc = parseArchiveUrl(rt.config.archiveUrl);
  if (loc.kind !== 'oss') return rt;
  const store = createOssStore({
    bucket: loc.bucket,
    prefix: loc.prefix,
    region: rt.config.regionId,
    endpoint: rt.config.ossEndpoint,
    credentials: () => rt.credentials.get(),
    multipartThreshold: MULTIPART_THRESHOLD,
    partSize: 100 * 1024,
    timeoutMs: 5_000,
    logger: rt.logger,
  });
  return { ...rt, store: withStoreRetries(store, { deadline: rt.deadline, logger: rt.logger }) };
}
