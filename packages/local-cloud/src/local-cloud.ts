/**
 * The local cloud: the RPC emulator (OOS + ECS), OSS and the FC invoke API, each on its own loopback port, with
 * the demo credentials. `env()` gives the variables that point the production code (and the real SDKs) at it.
 */
import { mkdir } from 'node:fs/promises';
import { ACCOUNT_ID, DEMO_KEY, DEMO_STS_KEY } from './credentials';
import { startFcEmulator, type FcEmulator } from './fc/server';
import { startOssEmulator, type OssEmulator } from './oss/server';
import { startRpcEmulator, type RpcEmulator } from './rpc/server';

export interface LocalCloudOptions {
  /** Folder for the OSS emulator's buckets. */
  root: string;
  /** Dataset seed. @default 1 */
  seed?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Fixed ports (0 or absent = ephemeral). */
  ports?: { rpc?: number; oss?: number; fc?: number };
  /** The bucket created for archives. @default 'execution-archive' */
  bucket?: string;
  /** Clock of the RPC emulator (simulated Cloud Assistant tasks, Timestamp checks). @default Date.now */
  now?: () => number;
  /** Buckets created for Cloud Assistant's OSS output delivery. @default ['cloud-assistant-outputs'] */
  deliveryBuckets?: string[];
}

export interface LocalCloud {
  rpc: RpcEmulator;
  oss: OssEmulator;
  fc: FcEmulator;
  bucket: string;
  /** The buckets created for output delivery (the first is the default one). */
  deliveryBuckets: string[];
  /**
   * Cloud Assistant may not write into `bucket` (its role lacks `oss:PutObject` there): deliveries into it fail with
   * `OssOutputStatus` Failed, `OssOutputErrorCode` AccessDenied. A bucket that does not exist fails with NoSuchBucket.
   */
  denyDelivery(bucket: string): void;
  /** Environment variables that point production code at this local cloud (endpoints and demo credentials). */
  env(): Record<string, string>;
  close(): Promise<void>;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const host = options.host ?? '127.0.0.1';
  const bucket = options.bucket ?? 'execution-archive';
  await mkdir(options.root, { recursive: true });
  const rpc = await startRpcEmulator({ host, port: options.ports?.rpc ?? 0, seed: options.seed ?? 1, now: options.now });
  const oss = await startOssEmulator({ host, port: options.ports?.oss ?? 0, root: options.root, buckets: [bucket] });
  const fc = await startFcEmulator({ host, port: options.ports?.fc ?? 0, accountId: ACCOUNT_ID });
  const deliveryBuckets = options.deliveryBuckets ?? ['cloud-assistant-outputs'];
  for (const b of deliveryBuckets) await oss.createBucket(b);
  // Cloud Assistant's OSS output delivery writes into this cloud's OSS (see InvocationDataset.delivery).
  const denied = new Set<string>();
  rpc.data.outputSink = {
    permission: (b) => {
      if (!oss.storage.hasBucket(b)) return { code: 'NoSuchBucket', info: 'The specified bucket does not exist.' };
      if (denied.has(b)) return { code: 'AccessDenied', info: 'You have no right to access this object because of bucket acl.' };
      return undefined;
    },
    write: async (b, key, text) => {
      await oss.storage.putObject(b, key, Buffer.from(text, 'utf8'), 'text/plain');
    },
  };
  return {
    rpc,
    oss,
    fc,
    bucket,
    deliveryBuckets,
    denyDelivery: (b) => {
      denied.add(b);
    },
    env: () => ({
      ALIBABA_CLOUD_OOS_ENDPOINT: rpc.url,
      ALIBABA_CLOUD_ECS_ENDPOINT: rpc.url,
      ALIBABA_CLOUD_OSS_ENDPOINT: oss.url,
      ALIBABA_CLOUD_FC_ENDPOINT: fc.url,
      ALIBABA_CLOUD_ACCESS_KEY_ID: DEMO_KEY.accessKeyId,
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEMO_KEY.accessKeySecret,
      FC_ACCOUNT_ID: ACCOUNT_ID,
    }),
    close: async () => {
      await fc.close();
      await Promise.all([rpc.close(), oss.close()]);
    },
  };
}

/**
 * What `npm run emulator` prints: the endpoints, the demo credentials, `export` lines that point the project at this
 * cloud, and the ids of the seeded scenarios.
 */
export function localCloudBanner(cloud: LocalCloud): string {
  const d = cloud.rpc.data.demo;
  const env = cloud.env();
  return [
    `local cloud (seed ${cloud.rpc.data.seed}, account ${ACCOUNT_ID}):`,
    `  RPC (OOS 2019-06-01 + ECS 2014-05-26):`.padEnd(41) + cloud.rpc.url,
    `  OSS (bucket ${cloud.bucket}):`.padEnd(41) + cloud.oss.url,
    `  FC invoke API (2023-03-30):`.padEnd(41) + cloud.fc.url,
    '',
    'demo credentials:',
    `  AccessKey     ${DEMO_KEY.accessKeyId} / ${DEMO_KEY.accessKeySecret}`,
    `  STS AccessKey ${DEMO_STS_KEY.accessKeyId} / ${DEMO_STS_KEY.accessKeySecret}`,
    `  STS token     ${DEMO_STS_KEY.securityToken ?? ''}`,
    '',
    'export these:',
    ...Object.entries(env).map(([k, v]) => `  export ${k}=${v}`),
    `  export ARCHIVE_URL=oss://${cloud.bucket}/archives`,
    '',
    `demo data (region ${d.regionId}):`,
    `  OOS execution, 3000 resources:     ${d.executionId}`,
    `  ECS invocation, 3000 instances:    ${d.invokeId}`,
    `  periodic invocation (history):     ${d.periodicInvokeId}`,
    `  24 KB outputs:                     ${d.largeOutputInvokeId}`,
    `  unicode outputs:                   ${d.unicodeInvokeId}`,
    `  executions by size:  ${Object.entries(d.executionsBySize).map(([n, id]) => `${n}=${id}`).join(' ')}`,
    `  invocations by size: ${Object.entries(d.invocationsBySize).map(([n, id]) => `${n}=${id}`).join(' ')}`,
    '',
    `admin (loopback only): ${cloud.rpc.url}/__admin/{stats,faults,demo,executions,invocations,run-command}`,
  ].join('\n');
}
