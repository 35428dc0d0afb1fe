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
}

export interface LocalCloud {
  rpc: RpcEmulator;
  oss: OssEmulator;
  fc: FcEmulator;
  bucket: string;
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
  return {
    rpc,
    oss,
    fc,
    bucket,
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
