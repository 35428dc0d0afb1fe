/**
 * `execution-archive serve`: the local cloud (packages/local-cloud, a development dependency) and the four functions
 * from s.yaml, on stable ports, until Ctrl-C. The only command that loads it (lazily); lib/ itself never depends on it.
 */
import { join, resolve } from 'node:path';
import type * as Serve from '@execution-archive/local-cloud/serve';
import { EXIT, UsageError, println, type CliIo } from './io';
import { archiveUrlOf } from './runtime';

export interface ServeCommandOptions {
  port: string;
  seed: string;
  to?: string;
  clean?: boolean;
  verbose?: boolean;
}

export async function serveCommand(opts: ServeCommandOptions, io: CliIo): Promise<number> {
  const port = Number(opts.port);
  const seed = Number(opts.seed);
  if (!Number.isInteger(port) || port < 0 || port > 65532) throw new UsageError(`--port must be 0..65532 (it and the next three ports are used), not ${JSON.stringify(opts.port)}`);
  if (!Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, not ${JSON.stringify(opts.seed)}`);
  // Loaded only here (the bin's CommonJS hook resolves it; a dynamic import() would bypass the hook).
  const { startServe } = require('@execution-archive/local-cloud/serve') as typeof Serve;
  const served = await startServe({
    // The project (s.yaml, dist/) is the one this command belongs to; the local cloud's data lives in the cwd, as
    // npm start's does, so a serve started elsewhere never touches the repository's own .local-cloud.
    root: resolve(__dirname, '../..'),
    ossDir: join(io.cwd, '.local-cloud', 'oss'),
    archiveUrl: archiveUrlOf(opts.to, { env: {}, cwd: io.cwd }),
    port,
    seed,
    clean: opts.clean === true,
    verbose: opts.verbose === true,
    progress: (line) => println(io.stderr, line),
  });
  println(io.stdout, served.banner);
  println(io.stdout, '\nCtrl-C to stop.');
  await new Promise<void>((resolve) => {
    if (io.interrupt.aborted) resolve();
    else io.interrupt.addEventListener('abort', () => resolve(), { once: true });
  });
  await served.close();
  println(io.stderr, 'stopped.');
  return EXIT.ok;
}
