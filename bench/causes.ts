/**
 * `npm run bench:causes`: the project's failure grouping (secret masking, variable masking, template mining: exactly
 * what summarize runs) over the labelled Loghub-2k data sets, scored with the Grouping Accuracy of Zhu et al.
 * ("Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019): a message is grouped correctly when the
 * messages of its group are exactly the messages that share its ground-truth event. Prints a table and writes it
 * into BENCHMARKS.md between the `bench:causes` markers. One configuration for every data set.
 *
 *   npm run bench:causes -- --data ../shared/benchmarks/loghub-2k [--also <folder>] [--no-write]
 *
 * `--also <folder>` scores further labelled data sets of the same format with the same configuration (a check that
 * the grouping is not fitted to the first ones) and writes one sentence with their average; their data is not copied.
 *
 * Beside Loghub-2k, the real command outputs of `bench/data/real-outputs.jsonl.gz` (and its hold-out set), made by
 * `bench/real-outputs/make.ts`, go through the product's own path (`bench/real-outputs/score.ts`): GA with one
 * invocation per script shape and with all shapes in one invocation, groups against the truth, groups that mix two
 * true causes, two baselines, and results/s for 2 KB outputs; written between the `bench:causes-real` markers.
 *
 *   [--real <file.jsonl.gz>] [--dev <file.jsonl.gz>] [--dev2 <file.jsonl.gz>] [--holdout <file.jsonl.gz>] [--holdout2 <file.jsonl.gz>] [--holdout3 <file.jsonl.gz>] [--no-real] [--no-blind] [--verbose-real]
 *
 * `--verbose-real` lists the main and development sets' split and mixed causes with titles (never the hold-outs' texts).
 * `--no-blind` leaves the blind set (hold-out 3) out: for judging a rule on the sets it may be judged on, without
 * seeing the blind figures (a rule kept because a blind figure rose is tuned to the blind set); the real-output
 * section of BENCHMARKS.md is then not rewritten.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TemplateMiner } from '../lib/causes/miner';
import { prepareMessage } from '../lib/causes/signature';
import { groupingAccuracy } from './grouping';
import { realOutputSection, scoreRealOutputs } from './real-outputs/report';

const START = '<!-- bench:causes:start -->';
const END = '<!-- bench:causes:end -->';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/benchmarks/loghub-2k' },
    also: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    real: { type: 'string', default: join(__dirname, 'data', 'real-outputs.jsonl.gz') },
    holdout: { type: 'string', default: join(__dirname, 'data', 'real-outputs-holdout.jsonl.gz') },
    holdout2: { type: 'string', default: join(__dirname, 'data', 'real-outputs-holdout2.jsonl.gz') },
    holdout3: { type: 'string', default: join(__dirname, 'data', 'real-outputs-holdout3.jsonl.gz') },
    dev: { type: 'string', default: join(__dirname, 'data', 'real-outputs-dev.jsonl.gz') },
    dev2: { type: 'string', default: join(__dirname, 'data', 'real-outputs-dev2.jsonl.gz') },
    'no-real': { type: 'boolean', default: false },
    'no-blind': { type: 'boolean', default: false },
    'verbose-real': { type: 'boolean', default: false },
  },
});

/** Published GA on these data sets (each tool tuned per data set; logpai/logparser READMEs). */
const PUBLISHED: Record<string, { drain: number; brain: number }> = {
  Android: { drain: 0.911, brain: 0.961 },
  BGL: { drain: 0.963, brain: 0.986 },
  HDFS: { drain: 0.998, brain: 0.998 },
  HealthApp: { drain: 0.78, brain: 1.0 },
  Linux: { drain: 0.69, brain: 0.996 },
  OpenStack: { drain: 0.733, brain: 1.0 },
  Spark: { drain: 0.92, brain: 0.998 },
  Windows: { drain: 0.997, brain: 0.997 },
};

interface Row {
  name: string;
  lines: number;
  ga: number;
  groups: number;
  truth: number;
  /** CPU time of this process for the grouping (user + system), ms. */
  cpuMs: number;
  /** Wall-clock time, ms (longer than the CPU time when other processes share the cores). */
  wallMs: number;
}

function load(file: string): { contents: string[]; truth: string[] } {
  const rows = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { content: string; eventId: string });
  return { contents: rows.map((r) => r.content), truth: rows.map((r) => r.eventId) };
}

/** Exactly what summarize does to each text piece: prepare (secrets, then variables), mine, settle, read templates. */
function group(contents: readonly string[]): string[] {
  const miner = new TemplateMiner();
  const ids = contents.map((c) => miner.add(prepareMessage(c)));
  miner.settle();
  // A group is a template text: templates that ended up equal are one group (their cause keys are equal).
  return ids.map((id) => miner.template(id));
}

function run(name: string, file: string): Row {
  const { contents, truth } = load(file);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const predicted = group(contents);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const used = process.cpuUsage(cpu);
  if (values.verbose) report(name, contents, truth, predicted);
  return {
    name,
    lines: contents.length,
    ga: groupingAccuracy(predicted, truth),
    groups: new Set(predicted).size,
    truth: new Set(truth).size,
    cpuMs: (used.user + used.system) / 1000,
    wallMs,
  };
}

/** The set under `key`, created empty on first use. */
function setIn(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  return set;
}

/** --verbose: the truth events that were split or merged, with examples. */
function report(name: string, contents: string[], truth: string[], predicted: string[]): void {
  const byTruth = new Map<string, Set<string>>();
  const byPred = new Map<string, Set<string>>();
  truth.forEach((t, i) => {
    const p = predicted[i] ?? '';
    setIn(byTruth, t).add(p);
    setIn(byPred, p).add(t);
  });
  for (const [t, ps] of byTruth) {
    const merged = [...ps].some((p) => (byPred.get(p)?.size ?? 0) > 1);
    if (ps.size === 1 && !merged) continue;
    const n = truth.filter((x) => x === t).length;
    console.log(`${name} ${t} (${n}) ${ps.size > 1 ? 'SPLIT' : ''} ${merged ? 'MERGED' : ''}`);
    for (const p of [...ps].slice(0, 4)) {
      const i = predicted.findIndex((x, k) => x === p && truth[k] === t);
      console.log(`   ${p}  [${[...(byPred.get(p) ?? [])].join(',')}]  e.g. ${contents[i]}`);
    }
  }
}

/**
 * The data folder: `--data` as given; the default (`../shared/benchmarks/loghub-2k`) is also looked for beside each
 * folder above this one, so it is found from a git worktree too.
 */
function dataFolder(given: string, isDefault: boolean): string {
  const direct = resolve(given);
  if (existsSync(direct) || !isDefault) return direct;
  for (let dir = resolve('..'); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'benchmarks', 'loghub-2k');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return direct;
  }
}

const dataDir = dataFolder(values.data, !process.argv.some((a) => a === '--data' || a.startsWith('--data=')));
if (!existsSync(dataDir)) {
  console.error(`no data at ${dataDir} (pass --data <folder of Loghub-2k .jsonl files>)`);
  process.exit(2);
}
/** The labelled data sets (`.jsonl`) of a folder, sorted; exits when there are none. */
function dataSets(dir: string): string[] {
  const found = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort() : [];
  if (found.length === 0) {
    console.error(`no .jsonl data sets in ${dir}`);
    process.exit(2);
  }
  return found.map((f) => join(dir, f));
}
const files = dataSets(dataDir);
// One untimed pass first, so the figures are of compiled code (a long-lived summarize is warm after a few records).
for (const f of files) group(load(f).contents);
const results = files.map((f) => run(basename(f, '.jsonl'), f));
/** `--also`: the same configuration over further data sets, for one sentence (name and GA only). */
const also = values.also === undefined ? [] : dataSets(resolve(values.also)).map((f) => run(basename(f, '.jsonl'), f));

const avg = (f: (r: Row) => number) => results.reduce((a, r) => a + f(r), 0) / results.length;
const sum = (f: (r: Row) => number) => results.reduce((a, r) => a + f(r), 0);
const perSecond = (lines: number, ms: number) => Math.round(lines / (ms / 1000)).toLocaleString('en-US');
const fmt = (n: number) => n.toFixed(3);
/** The published average over the data sets run, when every one has a published figure. */
const publishedAverage = (parser: 'drain' | 'brain') => {
  const figures = results.map((r) => PUBLISHED[r.name]?.[parser]);
  return figures.every((f) => f !== undefined) ? fmt(figures.reduce((a: number, f) => a + (f ?? 0), 0) / figures.length) : '–';
};
const gaAvg = avg((r) => r.ga);
const gaMin = Math.min(...results.map((r) => r.ga));
const lowest = results.find((r) => r.ga === gaMin)?.name ?? '';
const rate = sum((r) => r.lines) / (sum((r) => r.cpuMs) / 1000);
const table = [
  '| data set | GA | groups / truth | CPU ms | wall ms | lines/s (CPU) | Drain GA (tuned per data set) | Brain GA (tuned per data set) |',
  '|---|---|---|---|---|---|---|---|',
  ...results.map((r) => {
    const p = PUBLISHED[r.name];
    return `| ${r.name} | ${fmt(r.ga)} | ${r.groups} / ${r.truth} | ${r.cpuMs.toFixed(0)} | ${r.wallMs.toFixed(0)} | ${perSecond(r.lines, r.cpuMs)} | ${p ? fmt(p.drain) : '–'} | ${p ? fmt(p.brain) : '–'} |`;
  }),
  `| **average** | **${fmt(gaAvg)}** | ${avg((r) => r.groups).toFixed(0)} / ${avg((r) => r.truth).toFixed(0)} | ${sum((r) => r.cpuMs).toFixed(0)} (total) | ${sum((r) => r.wallMs).toFixed(0)} (total) | ${perSecond(sum((r) => r.lines), sum((r) => r.cpuMs))} | ${publishedAverage('drain')} | ${publishedAverage('brain')} |`,
];
const verdict = [
  gaAvg >= 0.95 ? `average GA ${fmt(gaAvg)} ≥ 0.95: met` : `average GA ${fmt(gaAvg)} < 0.95: NOT met`,
  gaMin >= 0.85 ? `every data set ≥ 0.85 (lowest ${lowest} ${fmt(gaMin)}): met` : `${lowest} ${fmt(gaMin)} < 0.85: NOT met`,
  rate >= 50_000 ? `${Math.round(rate).toLocaleString('en-US')} lines/s ≥ 50,000: met` : `${Math.round(rate).toLocaleString('en-US')} lines/s < 50,000: NOT met`,
];
console.log(table.join('\n'));
const alsoAverage = also.reduce((a, r) => a + r.ga, 0) / (also.length || 1);
const alsoLowest = also.reduce<Row | undefined>((low, r) => (low === undefined || r.ga < low.ga ? r : low), undefined);
const alsoSentence =
  also.length === 0
    ? []
    : [
        '',
        `The same configuration, unchanged, was also checked on ${also.length} further labelled data sets of the same format given with \`--also\` (${also.map((r) => r.name).join(', ')}; not copied into this repository): average GA ${fmt(alsoAverage)}, lowest ${alsoLowest?.name ?? ''} ${fmt(alsoLowest?.ga ?? 0)}.`,
      ];
if (also.length > 0) console.log(`\nalso: ${also.map((r) => `${r.name} ${fmt(r.ga)}`).join(', ')}; average ${fmt(alsoAverage)}`);

if (!values['no-write']) {
  const section = [
    START,
    '## Failure grouping on Loghub-2k (`npm run bench:causes`)',
    '',
    `The project's grouping (secret masking, variable masking, template mining: the code summarize runs, one configuration for every data set) over the \`content\` of each labelled data set, ${new Date().toISOString().slice(0, 10)}, Node.js ${process.version}, ${cpus().length} shared cores. GA is the Grouping Accuracy of Zhu et al. (a message counts when its group is exactly the set of messages sharing its ground-truth event). Times are this process's CPU time after one warm-up pass (the wall time is longer while other processes share the cores).`,
    '',
    ...table,
    '',
    `Targets: ${verdict.join('; ')}.`,
    ...alsoSentence,
    '',
    'The Drain and Brain figures are the published ones (logpai/logparser READMEs), each tuned per data set with its own regular expressions and thresholds; ours uses none of that.',
    'Data: Loghub-2k (https://github.com/logpai/loghub), freely available for research or academic work; not copied into this repository.',
    'Cite: Jieming Zhu, Shilin He, Pinjia He, Jinyang Liu, Michael R. Lyu, "Loghub: A Large Collection of System Log Datasets for AI-driven Log Analytics", ISSRE 2023; Jieming Zhu et al., "Tools and Benchmarks for Automated Log Parsing", ICSE-SEIP 2019.',
    END,
  ].join('\n');
  const file = join(__dirname, '..', 'BENCHMARKS.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nFigures measured by the scripts in `bench/`; each section is rewritten by the script named in its title.\n';
  const at = old.indexOf(START);
  const end = old.indexOf(END);
  const next = at >= 0 && end > at ? old.slice(0, at) + section + old.slice(end + END.length) : `${old.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}
console.log(`\nbench:causes: ${verdict.join('; ')} (${results.length} data sets${values['no-write'] ? '' : ', BENCHMARKS.md updated'})`);

/** The real command outputs (`bench/real-outputs/`): table, verdict and, unless `--no-write`, BENCHMARKS.md. */
async function realOutputs(): Promise<void> {
  const real = await scoreRealOutputs({ main: resolve(values.real), dev: resolve(values.dev), dev2: resolve(values.dev2), holdout: resolve(values.holdout), holdout2: resolve(values.holdout2), holdout3: values['no-blind'] ? undefined : resolve(values.holdout3), verbose: values['verbose-real'] });
  console.log(`\n${real.table.join('\n')}`);
  // Without the blind set the section would lose its rows: it is written only with every set scored.
  const write = !values['no-write'] && !values['no-blind'];
  if (write) {
    const file = join(__dirname, '..', 'BENCHMARKS.md');
    writeFileSync(file, realOutputSection(readFileSync(file, 'utf8'), real));
  }
  console.log(`\nbench:causes (real outputs): ${real.verdict.join('; ')}${write ? ' (BENCHMARKS.md updated)' : values['no-blind'] ? ' (blind hold-out 3 not scored; BENCHMARKS.md\'s real-output section not rewritten)' : ''}`);
}

if (!values['no-real']) {
  realOutputs().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
