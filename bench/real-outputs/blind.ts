/**
 * What the blind hold-outs' generators (`holdout2.ts`, `holdout3.ts`) share: a cause and its instances, and the run of
 * a whole set. Each planned instance is run the way Cloud Assistant runs a command (a script file run by bash, stdout
 * and stderr into one stream, exit code kept, output cut at 24 KB) as the unprivileged user `nobody`, in a network
 * namespace of its own (only loopback: connections are refused, names do not resolve), in a folder under the set's
 * base that is emptied before every run; the results become the set's fixture (gzip JSONL) and its counts go into
 * `real-outputs.meta.json` (counts only: a blind set's programs and causes are named only in its own files).
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Rng, hashString } from '@execution-archive/local-cloud/datasets/prng';
import { runScript } from './runner';
import { loadFixture } from './score';
import { cutOutput, hostName, type AnyShape, type RealOutput } from './catalogue';

/** The uid and gid every run has (`nobody`, `nogroup`). */
export const NOBODY = 65534;
/** Each run: a network namespace of its own with only loopback up, then `nobody` without supplementary groups. */
const LAUNCHER = ['unshare', '--net', '--', 'sh', '-c', `ip link set lo up && exec setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups "$@"`, 'sh'];

/** What one instance puts on disk and runs. */
export interface BlindInst {
  files?: Record<string, string>;
  /** One line of bash. */
  command: string;
  /** The step's name (banners, logger names, targets, services). */
  step: string;
  env?: Record<string, string>;
}

/** A true cause: same fix = same cause. */
export interface BlindCause {
  id: string;
  program: string;
  /** The fix, in words (same fix = same cause). */
  fix: string;
  /** Every instance's output must match (it failed the intended way). */
  expect: RegExp;
  make(rng: Rng): BlindInst;
}

export interface BlindSet<S extends string> {
  /** The set's name: the plan's and script names' seeds, the meta file's key (`holdout2`). */
  name: string;
  seed: number;
  /** The folder the runs happen in (`<base>/run`, emptied before every run). */
  base: string;
  /** The fixture written. */
  out: string;
  /** `--only`: run each matching cause once in every shape and print the outputs (no fixture). */
  only?: RegExp;
  /** `--update`: run again only the planned instances of the causes this matches and put them in place of the fixture's. */
  update?: RegExp;
  causes: readonly BlindCause[];
  shapes: readonly S[];
  /** The label a shape has in the fixture and the bench's table: not its name. */
  label: Record<S, AnyShape>;
  /** The first letter of the results' ids. */
  idPrefix: string;
  /** A run still going after this long is a generator fault: stopped and left out. */
  timeoutSeconds: number;
  /** PATH of every run. */
  path: string;
  /**
   * How many instances of a cause are planned and the index of the shape of its first (the others follow in turn),
   * drawn from the plan's generator in the set's own order; undefined: the cause is not run (`selected` false: `--only`
   * does not match it). With `only` a cause runs once in every shape.
   */
  plan(rng0: Rng, cause: BlindCause, selected: boolean, only: boolean): { count: number; first: number } | undefined;
  /** The script of one instance in one shape, and the files the shape adds beside it. */
  script(shape: S, inst: BlindInst, rng: Rng, host: string): { text: string; files?: Record<string, string> };
  /** The instance's environment in a shape (beside PATH, HOME, LANG, TZ). */
  env(shape: S, inst: BlindInst): Record<string, string> | undefined;
  /** Whether an output shows a cause's failure (default: its `expect` matches). */
  shows?(cause: BlindCause, output: string): boolean;
  /** Called once before the runs (to build tools the causes run). */
  prepare?(): void;
  /** Called after each run (to remove what a program left outside the run's folder). */
  afterRun?(cause: BlindCause): void;
}

/**
 * A generator's command line: `--seed`, `--out` (the fixture), `--only <regexp>` (run each matching cause once in
 * every shape, print the outputs, no fixture), `--update <regexp>` (run again only the planned instances of the causes
 * it matches whole and put them in place of the fixture's ones).
 */
export function blindArgs(defaultSeed: number, defaultOut: string): Pick<BlindSet<string>, 'seed' | 'out' | 'only' | 'update'> {
  const { values } = parseArgs({ options: { seed: { type: 'string', default: String(defaultSeed) }, out: { type: 'string', default: defaultOut }, only: { type: 'string' }, update: { type: 'string' } } });
  return {
    seed: Number(values.seed),
    out: values.out,
    only: values.only === undefined ? undefined : new RegExp(values.only),
    update: values.update === undefined ? undefined : new RegExp(`^(?:${values.update})$`),
  };
}

/** Owns a folder tree by `nobody` (the runs write in it). */
export function chownTree(path: string): void {
  chownSync(path, NOBODY, NOBODY);
  if (!statSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name));
}

/** The planned runs: each cause's instances, shapes in turn, in a seeded shuffle (no particular order of cause). */
function planRuns<S extends string>(set: BlindSet<S>): { cause: BlindCause; index: number; shape: S }[] {
  const rng0 = new Rng(hashString(`${set.name}/plan`, set.seed));
  const planned: { cause: BlindCause; index: number; shape: S }[] = [];
  for (const cause of set.causes) {
    const p = set.plan(rng0, cause, set.only === undefined || set.only.test(cause.id), set.only !== undefined);
    if (p === undefined) continue;
    for (let i = 0; i < p.count; i++) planned.push({ cause, index: i, shape: set.shapes[(p.first + i) % set.shapes.length] as S });
  }
  for (let i = planned.length - 1; i > 0; i--) {
    const j = rng0.int(i + 1);
    [planned[i], planned[j]] = [planned[j] as (typeof planned)[number], planned[i] as (typeof planned)[number]];
  }
  return planned;
}

/** Runs the set's planned instances and writes its fixture (or, with `only`, prints the outputs). Must run as root. */
export async function generateBlindSet<S extends string>(set: BlindSet<S>): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root: every run drops to nobody in its own network namespace');
  const ids = new Set<string>();
  for (const c of set.causes) {
    if (ids.has(c.id)) throw new Error(`cause ${c.id} twice`);
    ids.add(c.id);
  }
  const root = `${set.base}/run`;
  mkdirSync(set.base, { recursive: true });
  chmodSync(set.base, 0o755);
  set.prepare?.();
  const shows = set.shows ?? ((c: BlindCause, output: string) => c.expect.test(output));
  const planned = planRuns(set);
  const out: RealOutput[] = [];
  const failed: string[] = [];
  const started = Date.now();
  for (const [n, p] of planned.entries()) {
    if (set.update && !set.update.test(p.cause.id)) continue;
    const rng = new Rng(hashString(`${p.cause.id}#${p.index}`, set.seed));
    const inst = p.cause.make(rng);
    const host = hostName(rng);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, 'home'), { recursive: true });
    for (const [rel, content] of Object.entries(inst.files ?? {})) {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), content);
    }
    const { text, files } = set.script(p.shape, inst, rng, host);
    for (const [rel, content] of Object.entries(files ?? {})) writeFileSync(join(root, rel), content);
    const file = join(root, 'work', `t-${new Rng(hashString(`${set.name}/${p.shape}`, set.seed)).alnum(14).toLowerCase()}.sh`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    chownTree(root);
    const env: NodeJS.ProcessEnv = { PATH: set.path, HOME: `${root}/home`, LANG: rng.pick(['C.UTF-8', 'C', 'en_US.UTF-8', 'C.UTF-8']), TZ: 'UTC', ...set.env(p.shape, inst) };
    const t0 = Date.now();
    const { code, bytes } = await runScript(root, file, env, set.timeoutSeconds, LAUNCHER);
    const timedOut = Date.now() - t0 >= set.timeoutSeconds * 1000;
    set.afterRun?.(p.cause);
    const { output, dropped } = cutOutput(bytes);
    if (set.only) console.log(`----- ${p.cause.id} #${p.index} ${p.shape} exit ${code}\n${output}`);
    // Not the failure its cause stands for, or also another cause's of the same program (the labels would mix): left out.
    const alsoOther = set.causes.find((c) => c !== p.cause && c.program === p.cause.program && shows(c, output));
    if (code === 0 || timedOut || !shows(p.cause, output) || alsoOther) {
      failed.push(`${p.cause.id} #${p.index} (${p.shape}) did not fail as intended (exit ${code}${timedOut ? ', stopped at the timeout' : ''}${alsoOther ? `, also ${alsoOther.id}` : ''}):\n${output}\n--- script:\n${readFileSync(file, 'utf8')}`);
      continue;
    }
    out.push({ id: `${set.idPrefix}${String(n).padStart(4, '0')}`, cause: p.cause.id, program: p.cause.program, shape: set.label[p.shape], status: 'Failed', errorCode: 'ExitCodeNonzero', exitCode: code, output, dropped, host });
    if (n % 50 === 49) console.error(`${n + 1}/${planned.length} (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  rmSync(root, { recursive: true, force: true });
  rmSync(`${root}.out`, { force: true });
  for (const f of failed) console.error(f);
  if (set.only) return;
  writeFixture(set, out);
  if (failed.length) process.exitCode = 1;
}

/** The fixture (with `update`, the new results in place of the fixture's ones of those causes) and the meta counts. */
function writeFixture<S extends string>(set: BlindSet<S>, results: RealOutput[]): void {
  const file = resolve(set.out);
  const { update } = set;
  const out = update ? [...results, ...loadFixture(file).filter((r) => !update.test(r.cause))] : results;
  out.sort((a, b) => (a.id < b.id ? -1 : 1));
  writeFileSync(file, gzipSync(`${out.map((r) => JSON.stringify(r)).join('\n')}\n`, { level: 9 }));
  const causes = new Set(out.map((r) => r.cause)).size;
  const programs = new Set(out.map((r) => r.program)).size;
  console.error(`${out.length} results of ${causes} causes from ${programs} programs → ${file}`);
  // The meta file beside it: counts only, never the programs or causes (a blind test is not described outside its files).
  const metaFile = join(dirname(file), 'real-outputs.meta.json');
  if (!existsSync(metaFile)) return;
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as { sets?: Record<string, unknown> };
  const shapes = new Set(out.map((r) => r.shape)).size;
  meta.sets = { ...(meta.sets ?? {}), [set.name]: { file: basename(file), seed: set.seed, generatedAt: new Date().toISOString(), results: out.length, causes, programs, shapes } };
  writeFileSync(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
}
