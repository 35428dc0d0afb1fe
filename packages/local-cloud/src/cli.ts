/**
 * `npm run emulator -- --port 8787 --seed 1`: starts the whole local cloud (local-cloud.ts) — the RPC
 * endpoint (OOS + ECS) on `port`, OSS on `port + 1`, the FC invoke API on `port + 2` — prints the endpoints, the
 * demo credentials, `export` lines and the demo ids, and stays up until SIGINT/SIGTERM. OSS objects are kept under
 * `--root` (default `.local-cloud/oss`). `--port 0` picks free ports.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { localCloudBanner, startLocalCloud } from './local-cloud';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      seed: { type: 'string', default: '1' },
      root: { type: 'string', default: join('.local-cloud', 'oss') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm run emulator -- [--port 8787] [--host 127.0.0.1] [--seed 1] [--root .local-cloud/oss]\n');
    return;
  }
  const port = Number(values.port);
  const seed = Number(values.seed);
  if (!Number.isInteger(port) || port < 0 || port > 65533) throw new Error(`--port must be 0..65533 (port+1 and port+2 are used too), got ${values.port}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  const ports = port === 0 ? {} : { rpc: port, oss: port + 1, fc: port + 2 };
  const cloud = await startLocalCloud({ host: values.host, ports, seed, root: resolve(values.root) });
  process.stdout.write(`${localCloudBanner(cloud)}\n\nCtrl-C to stop.\n`);
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
