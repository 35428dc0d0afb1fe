/**
 * The `npm start` scenario, as a function the start script and the end-to-end test share: the local cloud, the
 * local FC host running the built bundles from s.yaml, a simulated Cloud Assistant RunCommand whose completions flow
 * as EventBridge events (on-cloud-assistant-event → collect → summarize), and the sweep timer (which finds the OOS
 * execution and anything the events missed, and fans out collect). It waits for both archives to be complete and
 * summarized and renders a one-screen report.
 *
 * Lib-free on purpose (the local cloud is the other side of the wire): it reads the archive as a user would, from the
 * documented layout `<archive>/<source>/<regionId>/<id>/{manifest.json,summary.json,summary.md,report.html}`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBundles, startLocalHost, type LocalHost } from './host';
import { startLocalCloud, type LocalCloud } from './local-cloud';
import { bundlesLine, servePorts } from './serve';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** The project root (s.yaml, dist/, scripts/build.mjs). @default process.cwd() */
  root?: string;
  /** Where the archive goes (cleaned first). @default `<root>/.local-cloud/archive` */
  archiveDir?: string;
  /** The OSS emulator's folder (cleaned first). @default `<root>/.local-cloud/oss` */
  ossDir?: string;
  /** Dataset seed. @default 1 */
  seed?: number;
  /** Instances of the simulated RunCommand. @default 3000 */
  instances?: number;
  /** The simulated instances finish over this long. @default 10000 */
  durationMs?: number;
  /** Share of simulated instances that fail. @default 0.1 */
  failureRate?: number;
  /**
   * Resources of the OOS execution the sweep finds. 3000 (the default) is the seeded demo execution; any other
   * number adds a fresh execution of that size, started 10 minutes ago (smaller, faster runs for tests).
   */
  resources?: number;
  /** Share of events delivered twice. @default 0.05 */
  duplicateRate?: number;
  /** Function log level. @default 'warn' */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Show function logs (stderr, prefixed). @default false */
  verbose?: boolean;
  /** Give up waiting for the archives after this long. @default 120000 */
  timeoutMs?: number;
  /** Progress lines while it runs. @default none */
  progress?: (line: string) => void;
  /** Keep the cloud and host running (the caller closes them). @default false */
  keepRunning?: boolean;
  /** Base port (RPC, then OSS, FC invoke API, HTTP triggers; see serve.ts). @default 0 (ephemeral) */
  port?: number;
}

/** One archive as the report shows it. */
export interface ArchiveReport {
  source: 'oos' | 'ecs';
  regionId: string;
  id: string;
  records: number;
  parts: number;
  pages: number;
  apiCalls: number;
  retries: number;
  /** Collector invocations that contributed. */
  invocations: number;
  byStatus: Record<string, number>;
  failures: number;
  topGroups: { count: number; status: string; title: string }[];
  /** Records whose output the API cut at 24 KB. */
  truncatedOutputs: number;
  /** Of those, the ones whose full output collect read from Cloud Assistant's OSS delivery into the archive. */
  fullOutputs: number;
  /** Resources to re-run (`retry.txt`). */
  retryCount: number;
  paths: { manifest: string; summary: string; markdown: string; report: string; retry: string };
}

/** What {@link runDemo} returns. */
export interface DemoResult {
  archives: ArchiveReport[];
  /** The one-screen report. */
  screen: string;
  wallMs: number;
  /** Base URL of the local host's HTTP triggers. */
  httpUrl: string;
  stats: LocalHost['stats'];
  /** The local cloud and host (still running with `keepRunning`). */
  cloud: LocalCloud;
  host: LocalHost;
  /** The functions' archive (`file://…`). */
  archiveUrl: string;
  /** Set with `keepRunning`: stop everything. */
  close(): Promise<void>;
  /** The digest function's answer to its timer, fired once the archives are in (undefined without a digest function). */
  digest?: { headline: string; date: string; html: string } | undefined;
}

/** Where the demo's RunCommand delivers its outputs (a bucket of the local cloud, see local-cloud.ts). */
const DEMO_DELIVERY = 'oss://cloud-assistant-outputs/runcommand';

interface ManifestJson {
  complete: boolean;
  records: number;
  parts: unknown[];
  pages: number;
  apiCalls: number;
  retries: number;
  invocations: number;
}

interface SummaryJson {
  byStatus: Record<string, number>;
  failures: number;
  groups: { count: number; status: string; title: string; signature: string }[];
  retry: { count: number };
  truncatedOutputs: { count: number };
  fullOutputs?: { counts: Record<string, number> };
}


async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Polls until `check` returns a value, or throws `message()` after `timeoutMs`. */
async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, message: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Complete archives under the archive folder (`<source>/<region>/<id>/manifest.json`). */
async function countManifests(archiveDir: string): Promise<number> {
  let n = 0;
  for (const source of ['oos', 'ecs']) {
    const sDir = join(archiveDir, source);
    if (!existsSync(sDir)) continue;
    for (const region of await readdir(sDir)) {
      for (const id of await readdir(join(sDir, region)).catch(() => [] as string[])) {
        if (existsSync(join(sDir, region, id, 'manifest.json'))) n++;
      }
    }
  }
  return n;
}

/** Cuts at a word boundary, never mid-word. */
function cutAtWord(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max * 0.6 ? cut.slice(0, space) : cut}…`;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * Runs the scenario end to end and returns the report.
 * @throws Error when the bundles cannot be built, or an archive is not complete and summarized within `timeoutMs`
 *   (the message names what is missing and where it was looked for).
 * @example const { screen } = await runDemo({ instances: 300, resources: 300 }); console.log(screen);
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const started = Date.now();
  const root = resolve(options.root ?? process.cwd());
  const archiveDir = resolve(options.archiveDir ?? join(root, '.local-cloud', 'archive'));
  const ossDir = resolve(options.ossDir ?? join(root, '.local-cloud', 'oss'));
  const progress = options.progress ?? (() => {});
  const timeoutMs = options.timeoutMs ?? 120_000;

  const bundles = await ensureBundles({ root });
  progress(bundlesLine(bundles));
  await rm(archiveDir, { recursive: true, force: true });
  await rm(ossDir, { recursive: true, force: true });
  await mkdir(archiveDir, { recursive: true });

  const ports = servePorts(options.port ?? 0);
  const cloud: LocalCloud = await startLocalCloud({ root: ossDir, seed: options.seed ?? 1, ports: { rpc: ports.rpc, oss: ports.oss, fc: ports.fc } });
  let host: LocalHost | undefined;
  const close = async () => {
    await host?.close();
    await cloud.close();
  };
  try {
    host = await startLocalHost({
      cloud,
      sYamlPath: join(root, 's.yaml'),
      env: {
        ARCHIVE_URL: pathToFileURL(archiveDir).href,
        LOG_LEVEL: options.logLevel ?? (options.verbose ? 'info' : 'warn'),
        // The RunCommand delivers its outputs here: collect reads the ones the API cut (docs/functions.md).
        OUTPUT_DELIVERY_ALLOW: DEMO_DELIVERY,
      },
      events: { duplicateRate: options.duplicateRate ?? 0.05, shuffle: true, maxDelayMs: 300 },
      timers: 'manual',
      port: ports.http,
      logs: options.verbose ? 'inherit' : 'silent',
    });
    const data = cloud.rpc.data;
    const regionId = data.demo.regionId;
    const resources = options.resources ?? 3000;
    // A fleet-wide OOS execution that finished a few minutes ago (dated from now, so the sweep's window always reaches
    // it, whatever today's date is; the seeded scenarios carry fixed dates).
    const executionId = data.addExecution({ resources, failureRate: 0.09, startedAt: new Date(Date.now() - 20 * 60_000).toISOString() }).executionId;
    const execution = data.getExecution(regionId, executionId);
    const startedMs = execution ? Date.parse(execution.info().startedAt) : NaN;

    // 1. A RunCommand over the fleet: each instance's completion becomes a TaskCompleted event.
    const instances = options.instances ?? 3000;
    const durationMs = options.durationMs ?? 10_000;
    // Its outputs are delivered to OSS (OssOutputDelivery); a fifth of the failures print a long log whose error is
    // only past the API's 24 KB, so only the full output shows what failed.
    const invocation = data.simulateRunCommand({
      instances,
      durationMs,
      failureRate: options.failureRate ?? 0.1,
      commandName: 'security-patch.sh',
      ossOutputDelivery: DEMO_DELIVERY,
      longFailureShare: 0.2,
    });
    progress(`RunCommand ${invocation.invokeId} on ${fmt(instances)} instances, finishing over ${durationMs / 1000} s (events → on-cloud-assistant-event → collect → summarize)`);

    // 2. The sweep, with a window that reaches back to the OOS execution.
    const hours = Number.isFinite(startedMs) ? Math.ceil((Date.now() - startedMs) / 3_600_000) + 1 : 72;
    const sweepPayload = JSON.stringify({ sources: ['oos', 'ecs'], lookbackHours: Math.min(720, Math.max(1, hours)) });
    progress(`sweep timer fired (payload ${sweepPayload})`);
    await host.fireTimer('sweep', { payload: sweepPayload });
    // Once the task is over, a second sweep reconciles: anything the events missed is collected now.
    await new Promise((r) => setTimeout(r, durationMs + 500));
    progress('sweep timer fired again after the RunCommand finished (reconciliation)');
    await host.fireTimer('sweep', { payload: sweepPayload });

    const refs = [
      { source: 'ecs' as const, regionId, id: invocation.invokeId },
      { source: 'oos' as const, regionId, id: executionId },
    ];
    const dirOf = (r: (typeof refs)[number]) => join(archiveDir, r.source, r.regionId, r.id);
    const archives: ArchiveReport[] = [];
    for (const ref of refs) {
      const dir = dirOf(ref);
      const left = () => Math.max(1000, timeoutMs - (Date.now() - started));
      const manifest = await waitFor(
        async () => {
          const m = await readJson<ManifestJson>(join(dir, 'manifest.json'));
          return m?.complete ? m : undefined;
        },
        left(),
        () =>
          `timed out after ${timeoutMs} ms: no complete ${join(dir, 'manifest.json')} (${ref.source} ${ref.id}); ` +
          `${existsSync(join(dir, '_checkpoint.json')) ? 'a checkpoint exists, collection is unfinished' : 'collection never started'}; ` +
          `re-run with --verbose to see the function logs`,
      );
      const summary = await waitFor(
        () => readJson<SummaryJson>(join(dir, 'summary.json')),
        left(),
        () => `timed out after ${timeoutMs} ms: the archive ${dir} is complete but has no summary.json; re-run with --verbose`,
      );
      await waitFor(async () => (existsSync(join(dir, 'report.html')) ? true : undefined), left(), () => `no report.html in ${dir}`);
      archives.push({
        ...ref,
        records: manifest.records,
        parts: manifest.parts.length,
        pages: manifest.pages,
        apiCalls: manifest.apiCalls,
        retries: manifest.retries,
        invocations: manifest.invocations,
        byStatus: summary.byStatus,
        failures: summary.failures,
        topGroups: summary.groups.slice(0, 3).map((g) => ({ count: g.count, status: g.status, title: g.title || g.signature })),
        truncatedOutputs: summary.truncatedOutputs?.count ?? 0,
        fullOutputs: summary.fullOutputs?.counts.stored ?? 0,
        retryCount: summary.retry.count,
        paths: {
          manifest: join(dir, 'manifest.json'),
          summary: join(dir, 'summary.json'),
          markdown: join(dir, 'summary.md'),
          report: join(dir, 'report.html'),
          retry: join(dir, 'retry.txt'),
        },
      });
    }
    await Promise.race([host.idle(), new Promise((r) => setTimeout(r, Math.max(1000, timeoutMs - (Date.now() - started))))]);
    // 3. The daily digest timer, fired now: the fleet digest over every archive's warehouse objects.
    let digest: DemoResult['digest'];
    if (host.functions.some((f) => f.name === 'execution-archive-digest')) {
      progress('digest timer fired (fleet digest across the archives)');
      const answer = (await host.fireTimer('digest')) as { headline?: unknown; date?: unknown; links?: { html?: unknown } } | undefined;
      const html = typeof answer?.links?.html === 'string' && answer.links.html.startsWith('file:') ? fileURLToPath(answer.links.html) : undefined;
      if (typeof answer?.headline === 'string' && typeof answer.date === 'string' && html) digest = { headline: answer.headline, date: answer.date, html };
    }
    const wallMs = Date.now() - started;
    const others = (await countManifests(archiveDir)) - archives.length;
    const screen = renderScreen({ archives, wallMs, httpUrl: host.httpUrl, root, stats: host.stats, instances, executionId, others });
    const result: DemoResult = { archives, screen, wallMs, httpUrl: host.httpUrl, stats: host.stats, cloud, host, archiveUrl: pathToFileURL(archiveDir).href, close, digest };
    if (!options.keepRunning) await close();
    return result;
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

function renderScreen(input: {
  archives: ArchiveReport[];
  wallMs: number;
  httpUrl: string;
  root: string;
  stats: LocalHost['stats'];
  instances: number;
  executionId: string;
  others: number;
}): string {
  const { archives, stats } = input;
  const rel = (p: string) => {
    const r = relative(process.cwd(), p);
    return r.startsWith('..') ? p : r;
  };
  const lines: string[] = [];
  lines.push(`execution-archive on the local cloud: ${archives.length} archives complete and summarized in ${(input.wallMs / 1000).toFixed(1)} s`);
  const e = stats.events;
  lines.push(
    `events: ${fmt(e.published)} published, ${fmt(e.delivered)} delivered (${fmt(e.duplicates)} duplicates, ${fmt(e.retries)} retries, ${fmt(e.dropped)} dropped); ` +
      `invocations: ${Object.entries(stats.functions)
        .map(([n, s]) => `${n.replace('execution-archive-', '')} ${fmt(s.invocations)}`)
        .join(', ')}`,
  );
  for (const a of archives) {
    lines.push('');
    lines.push(`${a.source === 'ecs' ? 'Cloud Assistant invocation' : 'OOS execution'} ${a.id} (${a.source}, ${a.regionId})`);
    lines.push(
      `  records ${fmt(a.records)}   parts ${a.parts}   pages ${fmt(a.pages)}   api calls ${fmt(a.apiCalls)}   retries ${fmt(a.retries)}   collect invocations ${a.invocations}`,
    );
    const statuses = Object.entries(a.byStatus)
      .sort((x, y) => y[1] - x[1])
      .map(([s, n]) => `${s} ${fmt(n)}`)
      .join(', ');
    lines.push(`  by status: ${statuses}   failures ${fmt(a.failures)}`);
    if (a.topGroups.length === 0) lines.push('  no failure groups');
    a.topGroups.forEach((g, i) => lines.push(`  ${i + 1}. ${String(fmt(g.count)).padStart(5)} × ${g.status}: ${cutAtWord(g.title, 90)}`));
    if (a.truncatedOutputs > 0) {
      const n = a.truncatedOutputs === 1 ? '1 output was' : `${fmt(a.truncatedOutputs)} outputs were`;
      lines.push(
        a.fullOutputs > 0
          ? `  ${n} cut at 24 KB by the API; ${fmt(a.fullOutputs)} full output${a.fullOutputs === 1 ? '' : 's'} read from the OSS delivery into the archive, causes mined from them`
          : `  ${n} cut at 24 KB by the API (the report lists them; the archive keeps what the API returned)`,
      );
    }
    lines.push(`  to retry: ${fmt(a.retryCount)} (${rel(a.paths.retry)})`);
    lines.push(`  manifest ${rel(a.paths.manifest)}`);
    lines.push(`  summary  ${rel(a.paths.summary)}`);
    lines.push(`  markdown ${rel(a.paths.markdown)}`);
    lines.push(`  report   ${rel(a.paths.report)}`);
  }
  if (input.others > 0) {
    lines.push('');
    lines.push(`the sweep also archived ${input.others} older seeded execution(s)/invocation(s) of the local cloud that no event had reported`);
  }
  // Only what works once this process has exited: the archive is on disk.
  const first = archives[0];
  lines.push('');
  lines.push('next (the archive stays in ./.local-cloud/archive, the command line\'s default):');
  if (first) {
    lines.push(`  npx execution-archive report ${first.id}          # the causes as a table`);
    lines.push(`  npx execution-archive report ${first.id} --open   # the HTML report in a browser`);
    lines.push(`  npx execution-archive verify ${first.id}          # re-read every part against the manifest`);
  }
  lines.push('  npm start -- --serve                  # keep the local cloud and the functions up on stable ports, with commands to try them');
  return lines.join('\n');
}
