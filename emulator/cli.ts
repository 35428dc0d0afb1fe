/**
 * `npm run emulator -- --port 8787 --seed 1`: starts the local cloud's RPC endpoint (OOS + ECS), prints how to point
 * the project at it, and stays up until SIGINT/SIGTERM.
 *
 * The start logic lives in {@link startLocalCloud} so that OSS and FC can later be composed into the same process.
 */
import { parseArgs } from 'node:util';
import { DEMO_KEY, DEMO_STS_KEY } from './credentials';
import { startRpcEmulator, type RpcEmulator } from './rpc/server';

export interface LocalCloudOptions {
  host?: string;
  port?: number;
  seed?: number;
}

export interface LocalCloud {
  rpc: RpcEmulator;
  /** Human-readable banner: endpoint, credentials, env lines, demo ids. */
  banner: string;
  /** The environment the project's functions need to talk to this local cloud. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts every local-cloud service this process hosts and describes how to reach them. */
export async function startLocalCloud(opts: LocalCloudOptions = {}): Promise<LocalCloud> {
  const rpc = await startRpcEmulator({ host: opts.host, port: opts.port, seed: opts.seed });
  const env: Record<string, string> = {
    ALIBABA_CLOUD_OOS_ENDPOINT: rpc.url,
    ALIBABA_CLOUD_ECS_ENDPOINT: rpc.url,
    ALIBABA_CLOUD_ACCESS_KEY_ID: DEMO_KEY.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: DEMO_KEY.accessKeySecret,
  };
  const d = rpc.data.demo;
  const lines = [
    `local cloud RPC endpoint (OOS 2019-06-01 + ECS 2014-05-26): ${rpc.url}   seed ${rpc.data.seed}`,
    '',
    'demo credentials:',
    `  AccessKey     ${DEMO_KEY.accessKeyId} / ${DEMO_KEY.accessKeySecret}`,
    `  STS AccessKey ${DEMO_STS_KEY.accessKeyId} / ${DEMO_STS_KEY.accessKeySecret}`,
    `  STS token     ${DEMO_STS_KEY.securityToken ?? ''}`,
    '',
    'export these:',
    ...Object.entries(env).map(([k, v]) => `  export ${k}=${v}`),
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
    `admin (loopback only): ${rpc.url}/__admin/{stats,faults,demo,executions,invocations,run-command}`,
  ];
  return { rpc, banner: lines.join('\n'), env, close: () => rpc.close() };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run emulator -- [--port 8787] [--host 127.0.0.1] [--seed 1]\n');
    return;
  }
  const port = Number(values.port);
  const seed = Number(values.seed);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const cloud = await startLocalCloud({ host: values.host, port, seed });
  process.stdout.write(`${cloud.banner}\n\nCtrl-C to stop.\n`);
  const stop = () => {
    void cloud.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).message ?? String(e)}\n`);
    process.exit(1);
  });
}
