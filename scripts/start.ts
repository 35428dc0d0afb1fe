/**
 * `npm start`: the whole product on the local cloud, with no configuration.
 *
 *   1. builds the bundles if dist/ is missing or older than the sources (`node scripts/build.mjs`);
 *   2. starts the local cloud (OOS/ECS RPC, OSS and the FC invoke API on ephemeral ports, seed 1) and the local FC
 *      host, which runs the four functions of s.yaml from dist/ with the archive at file://<cwd>/.local-cloud/archive
 *      (cleaned first);
 *   3. simulates a Cloud Assistant RunCommand over 3,000 instances with realistic failures finishing over ~10 s: each
 *      completion is an EventBridge event → on-cloud-assistant-event → collect (async) → summarize (async);
 *   4. fires the sweep timer, which finds the seeded OOS execution over 3,000 resources (and, fired again once the
 *      task is over, anything the events missed) and fans out collect;
 *   5. waits until both archives are complete and summarized, prints a one-screen report, and exits 0.
 *
 * Flags: `--verbose` shows the functions' logs (LOG_LEVEL=info; quiet LOG_LEVEL=warn by default); `--serve` keeps
 * the local cloud and host up afterwards on stable ports (`--port P`, default 8787: RPC P, OSS P+1, FC P+2, HTTP
 * triggers P+3) and prints every endpoint and commands that work while it runs (Ctrl-C to stop); `--instances N`,
 * `--resources N`, `--duration-ms N`, `--timeout-ms N` resize the scenario.
 *
 * The same bundles run on Alibaba Cloud unchanged: `npx s deploy -y` (s.yaml; vars region/role/bucket/prefix) deploys
 * them with ARCHIVE_URL=oss://<bucket>/<prefix>, and the functions take the role's STS credentials from the FC
 * context. To run them from a workstation against the real services instead of the local cloud, leave the
 * ALIBABA_CLOUD_*_ENDPOINT variables unset, export ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET (a RAM user with
 * deploy/ram-policy.json), ALIBABA_CLOUD_REGION and ARCHIVE_URL=oss://<bucket>/<prefix>, and invoke a bundle's
 * handler (or `POST /collect` on the deployed HTTP trigger).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderTable } from '../lib/cli/sql';
import { openWarehouseSql, type Cell } from '../lib/warehouse/sql';
import { runDemo } from '@execution-archive/local-cloud/demo';
import { DEFAULT_BASE_PORT, serveBanner } from '@execution-archive/local-cloud/serve';

/** The project (s.yaml, dist/, scripts/build.mjs) is where this script is; the local cloud's folders are in the cwd. */
const PROJECT_ROOT = resolve(__dirname, '..');

/** The query `npm start` shows: the causes that cost most instance-runs across every archive. */
const EXAMPLE_SQL = 'select cause_key, any_value(title) as title, sum(instances) as instance_runs, count(*) as runs from causes group by cause_key order by instance_runs desc limit 5';

/**
 * The end of `npm start`: the digest's headline and where digest.html is (the digest function, fired by the host's
 * timer), and one `execution-archive sql` query over the warehouse with its answer (DuckDB, as the command runs it).
 */
async function fleetLines(digest: { headline: string; html: string } | undefined, archiveDir: string): Promise<string> {
  const lines = ['across every archive (warehouse/ and the digest):'];
  const rel = (p: string) => (p.startsWith(`${process.cwd()}/`) ? p.slice(process.cwd().length + 1) : p);
  if (digest) lines.push(`  digest   ${digest.headline}`, `  digest.html ${rel(digest.html)}   (npx execution-archive digest --open)`);
  const db = await openWarehouseSql(archiveDir);
  try {
    const rows: Cell[][] = [];
    const columns = await db.query(EXAMPLE_SQL, (chunk) => void rows.push(...chunk));
    lines.push('', `  $ npx execution-archive sql "${EXAMPLE_SQL}"`, ...renderTable(columns, rows).split('\n').map((l) => `  ${l}`));
  } finally {
    db.close();
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      verbose: { type: 'boolean', default: false },
      serve: { type: 'boolean', default: false },
      instances: { type: 'string' },
      resources: { type: 'string' },
      'duration-ms': { type: 'string' },
      'timeout-ms': { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write('usage: npm start -- [--verbose] [--serve [--port 8787]] [--instances 3000] [--resources 3000] [--duration-ms 10000] [--timeout-ms 120000]\n');
    return 0;
  }
  const int = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
    return n;
  };
  const result = await runDemo({
    root: PROJECT_ROOT,
    archiveDir: join(process.cwd(), '.local-cloud', 'archive'),
    ossDir: join(process.cwd(), '.local-cloud', 'oss'),
    verbose: values.verbose,
    instances: int(values.instances, 'instances'),
    resources: int(values.resources, 'resources'),
    durationMs: int(values['duration-ms'], 'duration-ms'),
    timeoutMs: int(values['timeout-ms'], 'timeout-ms'),
    keepRunning: values.serve,
    // Served: stable ports a person can type; a plain run uses ephemeral ones (nothing of it outlives the run).
    port: values.serve ? (int(values.port, 'port') ?? DEFAULT_BASE_PORT) : 0,
    progress: (line) => process.stderr.write(`· ${line}\n`),
  });
  process.stdout.write(`${result.screen}\n`);
  process.stdout.write(`\n${await fleetLines(result.digest, join(process.cwd(), '.local-cloud', 'archive'))}\n`);
  if (values.serve) {
    process.stdout.write(`\n${serveBanner(result.cloud, result.host, result.archiveUrl)}\n\nserving; Ctrl-C to stop.\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await result.close();
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`npm start failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
