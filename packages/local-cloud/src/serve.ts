/**
 * The local cloud and the functions, up until Ctrl-C, on stable ports a person can type: `execution-archive serve`
 * and `npm start -- --serve`. From a base port P (default 8787): the RPC endpoint (OOS + ECS) on P, OSS on P+1, the
 * FC invoke API on P+2 and the functions' HTTP triggers on P+3. The banner lists every endpoint, the demo credentials
 * and ids, and commands that work while it runs.
 *
 * Lib-free like the rest of the local cloud (packages/local-cloud): the commands it prints are what a user would type.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ACCOUNT_ID, DEMO_KEY } from './credentials';
import { ensureBundles, startLocalHost, type LocalHost } from './host';
import { startLocalCloud, type LocalCloud } from './local-cloud';

export const DEFAULT_BASE_PORT = 8787;

/** The ports used from a base port: RPC, OSS, FC invoke API, HTTP triggers. `0` = four ephemeral ports. */
export function servePorts(base: number): { rpc: number; oss: number; fc: number; http: number } {
  if (!Number.isInteger(base) || base < 0 || base > 65532) throw new Error(`the base port must be 0..65532 (it and the next three are used), got ${base}`);
  return base === 0 ? { rpc: 0, oss: 0, fc: 0, http: 0 } : { rpc: base, oss: base + 1, fc: base + 2, http: base + 3 };
}

export interface ServeOptions {
  /** The project root (s.yaml, dist/). @default process.cwd() */
  root?: string;
  /** The functions' archive: `file:///…` or `oss://<bucket>/<prefix>` on the local OSS. @default file://<root>/.local-cloud/archive */
  archiveUrl?: string;
  /** The OSS emulator's folder. @default <root>/.local-cloud/oss */
  ossDir?: string;
  /** Base port (see {@link servePorts}). @default 8787 */
  port?: number;
  seed?: number;
  /** Start from an empty archive and OSS. @default false */
  clean?: boolean;
  /** Function logs on stderr (LOG_LEVEL=info); quiet (warn) otherwise. @default false */
  verbose?: boolean;
  /** Progress lines while it starts. */
  progress?: (line: string) => void;
}

export interface Served {
  cloud: LocalCloud;
  host: LocalHost;
  archiveUrl: string;
  banner: string;
  close(): Promise<void>;
}

/** What the bundle check did, in words that do not read like an error. */
export function bundlesLine(b: { built: boolean; reason: string; ms: number }): string {
  return b.built ? `built the function bundles in ${b.ms} ms (${b.reason})` : 'the function bundles in dist/ are up to date';
}

export async function startServe(options: ServeOptions = {}): Promise<Served> {
  const root = resolve(options.root ?? process.cwd());
  const archiveUrl = options.archiveUrl ?? pathToFileURL(join(root, '.local-cloud', 'archive')).href;
  const ossDir = resolve(options.ossDir ?? join(root, '.local-cloud', 'oss'));
  const ports = servePorts(options.port ?? DEFAULT_BASE_PORT);
  const progress = options.progress ?? (() => undefined);
  progress(bundlesLine(await ensureBundles({ root })));
  if (options.clean) {
    if (archiveUrl.startsWith('file:')) await rm(fileURLToPath(archiveUrl), { recursive: true, force: true });
    await rm(ossDir, { recursive: true, force: true });
  }
  if (archiveUrl.startsWith('file:')) await mkdir(fileURLToPath(archiveUrl), { recursive: true });
  const cloud = await startLocalCloud({ root: ossDir, seed: options.seed ?? 1, ports: { rpc: ports.rpc, oss: ports.oss, fc: ports.fc } });
  let host: LocalHost;
  try {
    host = await startLocalHost({
      cloud,
      sYamlPath: join(root, 's.yaml'),
      env: { ARCHIVE_URL: archiveUrl, LOG_LEVEL: options.verbose ? 'info' : 'warn' },
      events: { duplicateRate: 0.05, shuffle: true, maxDelayMs: 300 },
      timers: 'manual',
      port: ports.http,
      logs: options.verbose ? 'inherit' : 'silent',
    });
  } catch (err) {
    await cloud.close();
    throw err;
  }
  return {
    cloud,
    host,
    archiveUrl,
    banner: serveBanner(cloud, host, archiveUrl),
    close: async () => {
      await host.close();
      await cloud.close();
    },
  };
}

/** Every endpoint, the demo credentials and ids, and commands that work while the local cloud runs. */
export function serveBanner(cloud: LocalCloud, host: LocalHost, archiveUrl: string): string {
  const d = cloud.rpc.data.demo;
  const r = d.regionId;
  const http = host.httpUrl;
  const rel = (p: string) => {
    const x = relative(process.cwd(), p);
    return x === '' ? '.' : x.startsWith('..') ? p : `./${x}`;
  };
  const to = archiveUrl.startsWith('file:') ? rel(fileURLToPath(archiveUrl)) : archiveUrl;
  const fn = (name: string) => host.functions.find((f) => f.name.endsWith(`-${name}`))?.name ?? `execution-archive-${name}`;
  const exports = { ...cloud.env(), ALIBABA_CLOUD_REGION: r, ARCHIVE_URL: archiveUrl };
  const collectBody = JSON.stringify({ source: 'oos', regionId: r, executionId: d.executionId });
  return [
    `local cloud and functions (seed ${cloud.rpc.data.seed}, account ${ACCOUNT_ID}), up until Ctrl-C:`,
    `  RPC, OOS 2019-06-01 + ECS 2014-05-26  ${cloud.rpc.url}   (admin: ${cloud.rpc.url}/__admin/{stats,faults,latency,demo,executions,invocations,run-command})`,
    `  OSS, bucket ${cloud.bucket}`.padEnd(39) + cloud.oss.url,
    `  FC invoke API 2023-03-30`.padEnd(39) + cloud.fc.url,
    `  HTTP triggers`.padEnd(39) + `${http}/<functionName>/<path>:`,
    `    POST ${http}/${fn('collect')}/collect      (deployed: POST /collect on the function's own domain)`,
    `    GET  ${http}/${fn('summarize')}/summary    (deployed: GET /summary)`,
    `    POST ${http}/__timers/<functionName>   fires a timer trigger now (local only; the body replaces its payload)`,
    `  the functions' archive`.padEnd(39) + archiveUrl,
    '',
    'demo credentials (the only keys the local cloud accepts):',
    `  AccessKey ${DEMO_KEY.accessKeyId} / ${DEMO_KEY.accessKeySecret}`,
    '',
    `demo ids (region ${r}):`,
    `  OOS execution, 3,000 resources    ${d.executionId}`,
    `  ECS invocation, 3,000 instances   ${d.invokeId}`,
    `  periodic invocation (history)     ${d.periodicInvokeId}`,
    `  24 KB outputs (truncated)         ${d.largeOutputInvokeId}`,
    `  unicode outputs                   ${d.unicodeInvokeId}`,
    '',
    'try these while it runs (another terminal, from this folder):',
    '',
    '  # collect over the HTTP trigger, then the summary as Markdown',
    `  curl -s -X POST ${http}/${fn('collect')}/collect -H 'content-type: application/json' -d '${collectBody}'`,
    `  curl -s '${http}/${fn('summarize')}/summary?source=oos&regionId=${r}&id=${d.executionId}&format=md'`,
    '',
    '  # the command line against the local cloud',
    ...Object.entries(exports).map(([k, v]) => `  export ${k}=${v}`),
    `  npx execution-archive collect ${d.invokeId}`,
    `  npx execution-archive report ${d.invokeId}`,
    `  npx execution-archive verify ${d.invokeId}`,
    '',
    '  # an event delivery: a RunCommand on 50 instances; each finish is a TaskCompleted event → on-cloud-assistant-event → collect → summarize',
    `  curl -s -X POST ${cloud.rpc.url}/__admin/run-command -d '{"instances":50,"durationMs":3000,"failureRate":0.2}'`,
    `  #   then, a few seconds later: npx execution-archive report <the InvokeId it printed>`,
    '',
    '  # a sweep: fire the sweep function, or list (and --collect) with the command line',
    `  curl -s -X POST ${http}/__timers/${fn('sweep')} -d '{"lookbackHours":720}'`,
    `  npx execution-archive sweep --since 30d`,
    '',
    `(archive folder: ${to})`,
  ].join('\n');
}
