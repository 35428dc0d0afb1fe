/**
 * The local cloud: the RPC emulator (OOS + ECS), OSS and the FC invoke API, each on its own loopback port, with
 * the demo credentials. `env()` gives the variables that point the production code (and the real SDKs) at it.
 */
import { mkdir } from 'node:fs/promises';
import { ACCOUNT_ID, DEMO_KEY } from './credentials';
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
