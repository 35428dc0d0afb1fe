/**
 * `npm run bench:warehouse`: the warehouse and the digest at fleet size, on synthetic histories written with the
 * warehouse's own writer and layout (test/helpers/warehouse-history.ts).
 *
 * - digest: `--archives` runs (default 1,000) of 8 commands over the last 30 days on a fleet of `--fleet` instances
 *   (default 2,000; each run covers 300–600 of them; a few hosts broken, some flaky, causes appearing, going and coming
 *   back). The digest runs in a child process of its own, which reports its peak RSS and heap (the target: < 200 MB).
 *   Then the same history compacted (lib/warehouse/compact.ts, in a child process of its own: its time and peak RSS)
 *   and the digest again over the compacted objects.
 * - sql: a year-sized layout (`--year-runs-per-day` runs a day for 365 days, default 24, 200 instances each), then
 *   the five example questions of docs/warehouse.md through lib/warehouse/sql.ts (DuckDB, as `execution-archive sql`),
 *   each timed (best of `--repeat`, default 2); then the layout compacted (every day but the last closed) and the
 *   same questions again, with the objects counted before and after.
 *
 *   npm run bench:warehouse -- [--archives 1000] [--fleet 2000] [--year-runs-per-day 24] [--repeat 2] [--only digest|sql] [--keep DIR] [--write]
 *   (--write: the figures into BENCHMARKS.md between the warehouse markers)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createFileStore } from '../lib/archive/file';
import { runDigest } from '../lib/digest';
import { silentLogger } from '../lib/log';
import { compactWarehouse } from '../lib/warehouse/compact';
import { openWarehouseSql } from '../lib/warehouse/sql';
import { writeScriptedRun, type ScriptedRun } from '../test/helpers/warehouse-history';

const { values } = parseArgs({
  options: {
    archives: { type: 'string', default: '1000' },
    fleet: { type: 'string', default: '2000' },
    'year-runs-per-day': { type: 'string', default: '24' },
    repeat: { type: 'string', default: '2' },
    'compact-child': { type: 'string' },
    only: { type: 'string' },
    keep: { type: 'string' },
    write: { type: 'boolean', default: false },
    'digest-child': { type: 'string' },
    now: { type: 'string' },
  },
});

const DAY = 86_400_000;
/** A small deterministic generator (mulberry32), so every run writes the same history. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMANDS = ['patch-kernel.sh', 'rotate-logs.sh', 'backup-db.sh', 'deploy-agent.sh', 'check-disk.sh', 'restart-nginx.sh', 'yum-update', 'collect-metrics.sh'];

/**
 * `n` runs spread over the `days` days before `end`, each of one command on a slice of the fleet. Each command has
 * 6 causes of its own: some always there, some that stop (gone), some that start late (new), some that pause and come
 * back (regressed); 1% of the fleet is broken on each command, 5% flaky.
 */
function* fleetHistory(n: number, fleet: number, days: number, end: number, seed: number, instancesPerRun?: [number, number]): Generator<ScriptedRun> {
  const r = rng(seed);
  const span = days * DAY;
  for (let i = 0; i < n; i++) {
    const c = i % COMMANDS.length;
    const name = COMMANDS[c] ?? 'x';
    const at = end - span + Math.floor(((i + 0.5) / n) * span);
    const phase = (at - (end - span)) / span;
    const [lo, hi] = instancesPerRun ?? [300, 600];
    const size = lo + Math.floor(r() * (hi - lo + 1));
    const first = Math.floor(r() * fleet);
    const outcomes: Record<string, string> = {};
    for (let k = 0; k < size; k++) {
      const host = (first + k * 7) % fleet;
      const id = `i-bp1${host.toString(36).padStart(6, '0')}`;
      const broken = host % 100 === c;
      const flaky = host % 20 === c + 1;
      const cause = (j: number) => `c${c}${j}`.padEnd(12, '0');
      let outcome = 'ok';
      if (broken) outcome = cause(0);
      else if (flaky && r() < 0.5) outcome = cause(1);
      else {
        const x = r();
        if (x < 0.02) outcome = cause(2);
        else if (x < 0.03 && phase < 0.5) outcome = cause(3);
        else if (x < 0.04 && phase > 0.85) outcome = cause(4);
        else if (x < 0.05 && (phase < 0.3 || phase > 0.9)) outcome = cause(5);
      }
      outcomes[id] = outcome;
    }
    yield { source: c % 3 === 0 ? 'oos' : 'ecs', id: `${c % 3 === 0 ? 'exec-' : 't-'}b${String(i).padStart(7, '0')}`, name, startedAt: new Date(at).toISOString(), outcomes };
  }
}

async function writeHistory(root: string, runs: Iterable<ScriptedRun>): Promise<{ runs: number; rows: number; ms: number }> {
  const store = createFileStore(root);
  const started = Date.now();
  let count = 0;
  let rows = 0;
  for (const run of runs) {
    await writeScriptedRun(store, run);
    count += 1;
    rows += Object.keys(run.outcomes).length;
  }
  return { runs: count, rows, ms: Date.now() - started };
}

const mb = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MB`;
const fmt = (n: number) => n.toLocaleString('en-US');

/** The five example questions of docs/warehouse.md. */
const QUESTIONS: { question: string; sql: string }[] = [
  {
    question: 'The 10 causes that cost most instance-runs in the last 30 days',
    sql: "select cause_key, any_value(title) as title, sum(instances) as instance_runs, count(*) as runs from causes where run_started_at >= (select max(run_started_at) from causes) - interval 30 day group by cause_key order by instance_runs desc limit 10",
  },
  {
    question: 'Hosts that failed 3 runs of the same command in a row, most recent streak first',
    sql: "with per_run as (select name, resource_id, run_started_at, bool_or(outcome = 'failed') as failed from results group by all), streaks as (select *, count(*) filter (where not failed) over (partition by name, resource_id order by run_started_at) as ok_before from per_run) select name, resource_id, count(*) as failed_in_a_row, max(run_started_at) as last_run from streaks where failed group by name, resource_id, ok_before having count(*) >= 3 order by last_run desc, failed_in_a_row desc limit 10",
  },
  {
    question: 'Failure rate per command per week',
    sql: "select name, date_trunc('week', date) as week, count(*) as records, round(100.0 * count(*) filter (where outcome = 'failed') / count(*), 2) as failed_pct from results group by all order by name, week limit 12",
  },
  {
    question: 'Causes seen this week that were never seen before it',
    sql: "with first_seen as (select cause_key, min(run_started_at) as first_run, any_value(title) as title, sum(instances) as instance_runs from causes group by cause_key) select cause_key, title, first_run, instance_runs from first_seen where first_run >= (select max(run_started_at) from causes) - interval 7 day order by first_run",
  },
  {
    question: 'Exit codes and error codes of the failures, by source',
    sql: "select source, status, error_code, exit_code, count(*) as records from results where outcome = 'failed' group by all order by records desc limit 10",
  },
];

async function digestChild(root: string, now: string): Promise<void> {
  const store = createFileStore(root);
  const started = Date.now();
  const { digest } = await runDigest({ store, logger: silentLogger, now: () => new Date(now) }, { days: 7, historyDays: 30 });
  const ms = Date.now() - started;
  const usage = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({ ms, maxRssBytes: usage.maxRSS * 1024, heapUsed: process.memoryUsage().heapUsed, headline: digest.headline, runs: digest.runs })}\n`);
}

/** The table objects under `warehouse/` (per-archive and compacted; not the compactor's records). */
async function tableObjects(store: ReturnType<typeof createFileStore>): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list('warehouse/')) if (o.key.endsWith('.parquet')) keys.push(o.key);
  return keys;
}

/** Compacts every day before the last of `root` (the compactor as the digest timer runs it, grace 0) and reports. */
async function compactChild(root: string, now: string): Promise<void> {
  const store = createFileStore(root);
  const started = Date.now();
  const result = await compactWarehouse({ store, logger: silentLogger, now: () => new Date(now), closedAfterMs: 0, graceMs: 0 });
  const ms = Date.now() - started;
  process.stdout.write(`${JSON.stringify({ ...result, ms, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`);
}

/** Runs this script in a child process with `args` and returns the JSON of its last line. */
function child<T>(args: string[]): T {
  const run = spawnSync(process.execPath, ['--expose-gc', join(__dirname, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs'), __filename, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) throw new Error(`${args[0]} child failed: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as T;
}

type CompactFigures = { ms: number; maxRssBytes: number; partitions: number; compacted: number; runs: number; rows: number; bytes: number; retired: number };

async function benchDigest(root: string, archives: number, fleet: number, end: number): Promise<string[]> {
  const written = await writeHistory(root, fleetHistory(archives, fleet, 37, end, 24));
  const result = child<{ ms: number; maxRssBytes: number; headline: string; runs: number }>(['--digest-child', root, '--now', new Date(end).toISOString()]);
  const objects = (await tableObjects(createFileStore(root))).length;
  const compacted = child<CompactFigures>(['--compact-child', root, '--now', new Date(end).toISOString()]);
  const after = child<{ ms: number; maxRssBytes: number; headline: string; runs: number }>(['--digest-child', root, '--now', new Date(end).toISOString()]);
  const objectsAfter = (await tableObjects(createFileStore(root))).length;
  // The same process without the digest: what Node and tsx take by themselves.
  const idle = spawnSync(process.execPath, [join(__dirname, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs'), '-e', 'process.stdout.write(String(process.resourceUsage().maxRSS * 1024))'], { encoding: 'utf8' });
  return [
    `| digest over ${fmt(written.runs)} archives (${fmt(written.rows)} records, 37 days, fleet ${fmt(fleet)}) | ${(result.ms / 1000).toFixed(2)} s | peak RSS ${mb(result.maxRssBytes)} (node + tsx alone: ${mb(Number(idle.stdout))}) |`,
    `| writing those archives' warehouse objects | ${(written.ms / 1000).toFixed(1)} s | ${fmt(Math.round(written.rows / (written.ms / 1000)))} rows/s |`,
    `| digest headline | | ${result.headline} |`,
    `| compacting those archives' closed days (${fmt(objects)} warehouse objects → ${fmt(objectsAfter)}: ${fmt(compacted.compacted)} compacted, ${fmt(compacted.retired)} retired, ${fmt(compacted.rows)} rows, ${mb(compacted.bytes)}) | ${(compacted.ms / 1000).toFixed(2)} s | peak RSS ${mb(compacted.maxRssBytes)} |`,
    `| digest over the compacted warehouse | ${(after.ms / 1000).toFixed(2)} s | peak RSS ${mb(after.maxRssBytes)}; ${after.headline === result.headline ? 'the same headline' : `headline differs: ${after.headline}`} |`,
  ];
}

/** Each question timed through the `sql` views (best of `repeat`). */
async function timeQuestions(root: string, label: string, repeat: number): Promise<{ lines: string[]; answers: string[] }> {
  const db = await openWarehouseSql(root);
  const lines: string[] = [];
  const answers: string[] = [];
  try {
    for (const q of [{ question: 'count(*) over results', sql: 'select count(*) from results' }, ...QUESTIONS]) {
      let best = Infinity;
      let out = '';
      for (let rep = 0; rep < repeat; rep++) {
        const t = Date.now();
        const rows = await db.all(q.sql);
        best = Math.min(best, Date.now() - t);
        // Rows as a sorted list: questions that order by ties may list tied rows in any order.
        out = JSON.stringify(rows.map((r) => JSON.stringify(r)).sort());
      }
      answers.push(out);
      lines.push(`| sql ${label}: ${q.question} | ${(best / 1000).toFixed(2)} s | |`);
    }
  } finally {
    db.close();
  }
  return { lines, answers };
}

async function benchSql(root: string, runsPerDay: number, end: number, repeat: number): Promise<string[]> {
  const written = await writeHistory(root, fleetHistory(runsPerDay * 365, 5000, 365, end, 7, [200, 200]));
  const store = createFileStore(root);
  const objects = (await tableObjects(store)).length;
  const lines = [`| sql: year-sized layout written (${fmt(written.runs)} archives, ${fmt(objects)} objects, ${fmt(written.rows)} rows) | ${(written.ms / 1000).toFixed(1)} s | |`];
  const before = await timeQuestions(root, 'uncompacted', repeat);
  lines.push(...before.lines);
  const compacted = child<CompactFigures>(['--compact-child', root, '--now', new Date(end).toISOString()]);
  const keys = await tableObjects(store);
  const small = keys.filter((k) => /^warehouse\/(results|causes)\//.test(k)).length;
  const big = keys.filter((k) => k.startsWith('warehouse/compacted/')).length;
  lines.push(
    `| sql: compacting every day but the last (${fmt(compacted.partitions)} partitions, ${fmt(compacted.rows)} rows, ${mb(compacted.bytes)}; ${fmt(compacted.retired)} per-archive objects retired) | ${(compacted.ms / 1000).toFixed(1)} s | peak RSS ${mb(compacted.maxRssBytes)} |`,
    `| sql: objects after compaction | | ${fmt(big)} compacted + ${fmt(small)} per-archive (the open day) = ${fmt(big + small)} (was ${fmt(objects)}) |`,
  );
  const after = await timeQuestions(root, 'compacted', repeat);
  lines.push(...after.lines);
  const same = after.answers.every((a, i) => a === before.answers[i]);
  lines.push(`| sql: the answers before and after compaction | | ${same ? 'identical' : 'DIFFER'} |`);
  if (!same) throw new Error(`the answers differ after compaction:\n${before.answers.join('\n')}\n---\n${after.answers.join('\n')}`);
  return lines;
}

async function main(): Promise<void> {
  const end = values.now ? Date.parse(values.now) : Date.parse('2026-12-07T12:00:00Z');
  if (values['digest-child']) return digestChild(values['digest-child'], new Date(end).toISOString());
  if (values['compact-child']) return compactChild(values['compact-child'], new Date(end).toISOString());
  const base = values.keep ? resolve(values.keep) : mkdtempSync(join(tmpdir(), 'ea-bench-warehouse-'));
  const lines = ['| measurement | time | figure |', '|---|---:|---|'];
  try {
    if (values.only !== 'sql') lines.push(...(await benchDigest(join(base, 'digest'), Number(values.archives), Number(values.fleet), end)));
    if (values.only !== 'digest') lines.push(...(await benchSql(join(base, 'year'), Number(values['year-runs-per-day']), end, Math.max(1, Number(values.repeat)))));
  } finally {
    if (!values.keep) rmSync(base, { recursive: true, force: true });
  }
  const table = lines.join('\n');
  process.stdout.write(`${table}\n`);
  if (values.write) {
    const path = join(__dirname, '..', 'BENCHMARKS.md');
    const text = readFileSync(path, 'utf8');
    const block = `<!-- bench:warehouse -->\n${table}\n<!-- /bench:warehouse -->`;
    writeFileSync(path, /<!-- bench:warehouse -->[\s\S]*?<!-- \/bench:warehouse -->/.test(text) ? text.replace(/<!-- bench:warehouse -->[\s\S]*?<!-- \/bench:warehouse -->/, () => block) : `${text.trimEnd()}\n\n## Warehouse and digest (npm run bench:warehouse)\n\n${block}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:warehouse failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
