/**
 * `npm run bench:secrets`: what secret masking lets through and what it damages, measured through summarize, and how
 * fast it is.
 *
 * Recall and false positives: each text of the corpus is planted as one invocation (an ECS archive in a file store
 * under a temporary folder: one failed instance printing the text, one that succeeded), summarized, and
 * summary.json, summary.md and report.html are scanned.
 * - A secret is caught only when no 8-character piece of it is shown (as is, JSON-escaped or HTML-escaped); a
 *   secret shorter than 8 characters, when it is not shown with its neighbouring characters.
 * - An ordinary text is damaged when one of its lines is not shown unchanged in the summary's example output.
 * The corpus: other projects' test fixtures for their secret detectors (test/fixtures/secret-bench.json, written by
 * scripts/secret-corpus.ts, with their sources and licences): gitleaks' rule tests and secretlint's rule snapshots
 * (tuned on), detect-secrets' plugin tests (the hold-out: never tuned on); and lines as commands print them
 * (test/fixtures/secret-corpus.ts, tuned on), with a sample of Loghub-2k's real log lines as ordinary text.
 *
 * Speed: Loghub-2k messages per second, 24 KB outputs per second, the slowest of hostile 24 KB inputs built to make
 * backtracking expressions explode, and a fuzz check of linear time (random mixes of every rule keyword and token
 * characters, 96 KB against 384 KB: a linear masker takes about 4 times as long, a quadratic one 16 times; below
 * ~100 KB the ratio also reflects caches and the garbage collector's generations, not the algorithm).
 *
 * Whole outputs: the CPU time of masking a real failing program's whole output that holds no secret (per 2 KB, and
 * per 24 KB output), as lib/causes/failure.ts does once per failure before mining it.
 *
 *   npm run bench:secrets -- [--data ../shared/benchmarks/loghub-2k] [--write]   (--write: the table into BENCHMARKS.md)
 *   npm run bench:secrets -- --speed-only                                         (the speed rows alone, ~1 minute)
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { createFileStore } from '../lib/archive/file';
import { reportKey, summaryKey, summaryMarkdownKey, type ArchiveRef } from '../lib/archive/layout';
import { maskSecrets } from '../lib/causes/secrets';
import { VENDOR_RULES } from '../lib/causes/vendor-rules.generated';
import { silentLogger } from '../lib/log';
import { summarizeArchive } from '../lib/summary/index';
import { MULTI_LINE_SECRETS, ORDINARY_LINES, SECRET_LINES } from '../test/fixtures/secret-corpus';
import { ecsRecord, instanceId, writeArchive } from '../test/helpers/archive-fixture';

const { values } = parseArgs({
  options: { data: { type: 'string', default: '../shared/benchmarks/loghub-2k' }, write: { type: 'boolean', default: false }, 'speed-only': { type: 'boolean', default: false } },
});

interface Item {
  source: string;
  kind: string;
  text: string;
  secrets: string[];
}

/** The rule kind of an upstream rule id, a secretlint rule or a detect-secrets plugin: a few families, for the table. */
function family(kind: string): string {
  if (/private-?key|pkcs|pgp/i.test(kind)) return 'private key';
  if (/jwt/i.test(kind)) return 'JWT';
  if (/url|webhook|basic-?auth|connection-string|curl|sidekiq-sensitive/i.test(kind)) return 'URL, webhook, curl';
  if (/generic|password|keyword|kubernetes|nuget|secret-key|no-dotenv|netrc/i.test(kind)) return 'keyword, assignment';
  return 'vendor token';
}

function loadItems(): Item[] {
  const corpus = JSON.parse(readFileSync(join(__dirname, '..', 'test', 'fixtures', 'secret-bench.json'), 'utf8')) as {
    items: { source: string; kind: string; text: string; secrets: string[] }[];
  };
  const d = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  const items: Item[] = corpus.items.map((it) => ({ source: it.source, kind: family(it.kind), text: d(it.text), secrets: it.secrets.map(d) }));
  for (const s of SECRET_LINES) items.push({ source: 'commands', kind: 'command output', text: s.line, secrets: s.secrets });
  for (const s of MULTI_LINE_SECRETS) items.push({ source: 'commands', kind: 'multi-line output', text: s.line, secrets: s.secrets });
  for (const line of ORDINARY_LINES) items.push({ source: 'commands', kind: 'command output', text: line, secrets: [] });
  const dir = resolve(values.data);
  if (existsSync(dir)) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
      const lines = readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
      // Every 40th message of each data set: 50 of each system's 2,000.
      for (let i = 0; i < lines.length; i += 40) {
        const content = (JSON.parse(lines[i] as string) as { content?: unknown }).content;
        if (typeof content === 'string') items.push({ source: 'loghub', kind: file.replace(/\.jsonl$/, ''), text: content, secrets: [] });
      }
    }
  }
  return items;
}

/** The forms a value takes in the outputs: as is, JSON-escaped (also with `<>&` as `\u003c`…), HTML-escaped. */
function forms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const html = value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const html2 = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  return [...new Set([value, json, html, html2, json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')])];
}

/** The pieces of a secret that must not be shown (see the module comment). */
function probes(secret: string, text: string): string[] {
  if (secret.length >= 8) return Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8)).filter((p) => p.trim().length === 8);
  const at = text.indexOf(secret);
  return [at < 0 ? secret : text.slice(Math.max(0, at - 1), at + secret.length + 1)];
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

interface Tally {
  positives: number;
  caught: number;
  negatives: number;
  damaged: number;
  /** Positives that are placeholders by the masker's written policy (see {@link placeholderShaped}), and of them caught. */
  placeholders: number;
  placeholdersCaught: number;
}

/**
 * A test secret shaped as a placeholder: after its vendor prefix, a run of 8 of one character, `xxxx`, or `EXAMPLE`
 * (`AKIAZZZZZZZZZZZZZZZZ`, `AP6xxxxxxxxxx`, `sk_live_AAAAAAAAAAAAAAAAAAAAAAAA`). The masker keeps such values on
 * purpose (docs/secrets.md); the table also gives recall without them.
 */
function placeholderShaped(secret: string): boolean {
  return /(.)\1{7}|x{4}|example/i.test(secret);
}

async function measure(items: Item[]): Promise<{ bySource: Map<string, Tally>; byKind: Map<string, Tally>; missed: string[]; damaged: string[] }> {
  const root = mkdtempSync(join(tmpdir(), 'bench-secrets-'));
  const store = createFileStore(root);
  const bySource = new Map<string, Tally>();
  const byKind = new Map<string, Tally>();
  const missed: string[] = [];
  const damaged: string[] = [];
  const tally = (map: Map<string, Tally>, key: string) => {
    let t = map.get(key);
    if (!t) map.set(key, (t = { positives: 0, caught: 0, negatives: 0, damaged: 0, placeholders: 0, placeholdersCaught: 0 }));
    return t;
  };
  try {
    for (const [n, item] of items.entries()) {
      const ref: ArchiveRef = { source: 'ecs', regionId: 'cn-hangzhou', id: `t-bench${String(n).padStart(8, '0')}` };
      await writeArchive(store, {
        ref,
        records: [
          ecsRecord({ InvocationStatus: 'Failed', ErrorCode: 'ExitCodeNonzero', ExitCode: 1, InstanceId: instanceId(1), Output: `${item.text}\n` }),
          ecsRecord({ InstanceId: instanceId(2) }),
        ],
      });
      await summarizeArchive({ store, ref, logger: silentLogger });
      const read = async (key: string) => (await store.get(key))?.toString('utf8') ?? '';
      const json = await read(summaryKey(ref));
      const shown = [json, await read(summaryMarkdownKey(ref)), await read(reportKey(ref))].join('\n\u0000\n');
      const a = tally(bySource, item.source);
      const b = tally(byKind, `${item.source === 'detect-secrets' ? 'hold-out' : 'tuned'}: ${item.kind}`);
      if (item.secrets.length > 0) {
        for (const secret of item.secrets) {
          const leaked = probes(secret, item.text).some((p) => forms(p).some((f) => shown.includes(f)));
          const placeholder = placeholderShaped(secret);
          for (const t of [a, b]) {
            t.positives++;
            if (!leaked) t.caught++;
            if (placeholder) t.placeholders++;
            if (placeholder && !leaked) t.placeholdersCaught++;
          }
          if (leaked) missed.push(`${item.source}/${item.kind}: ${JSON.stringify(secret.slice(0, 60))}${placeholder ? ' (placeholder-shaped)' : ''}`);
        }
      } else {
        a.negatives++;
        b.negatives++;
        const texts = strings(JSON.parse(json) as unknown);
        const lines = item.text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
        if (!lines.every((l) => texts.some((t) => t.includes(l)))) {
          a.damaged++;
          b.damaged++;
          damaged.push(`${item.source}/${item.kind}: ${JSON.stringify(item.text.slice(0, 100))}${maskSecrets(item.text) === item.text ? ' (masking keeps it: shown otherwise)' : ''}`);
        }
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return { bySource, byKind, missed, damaged };
}

function seconds(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function speed(): [string, string][] {
  const rows: [string, string][] = [];
  const dir = resolve(values.data);
  if (existsSync(dir)) {
    const lines: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.jsonl'))) {
      for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const content = (JSON.parse(line) as { content?: unknown }).content;
        if (typeof content === 'string') lines.push(content);
      }
    }
    let changed = 0;
    const t = seconds(() => {
      for (let round = 0; round < 3; round++) for (const l of lines) if (maskSecrets(l) !== l && round === 0) changed++;
    });
    rows.push([`Loghub-2k messages (${lines.length.toLocaleString('en-US')})`, `${Math.round((lines.length * 3) / t).toLocaleString('en-US')} lines/s; ${changed} changed`]);
  }
  rows.push(...wholeOutputs());
  const output = Array.from({ length: 400 }, (_, i) => `[${i}] step ${i}: copying /var/lib/app/data-${i}.db to 10.0.${i % 250}.7 (exit code 0)`).join('\n').slice(0, 24 * 1024);
  const outputs = 200;
  const t24 = seconds(() => {
    for (let i = 0; i < outputs; i++) maskSecrets(output + i);
  });
  rows.push(['24 KB outputs', `${Math.round(outputs / t24).toLocaleString('en-US')} outputs/s (${((t24 / outputs) * 1000).toFixed(2)} ms each)`]);

  const fill = (unit: string, size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  const keywords = [...new Set(VENDOR_RULES.rules.flatMap((r) => r.keywords))];
  const hostile = [
    'a', 'aA1', 'password=', 'password:', 'eyJ', 'eyJa.', '-p', 'mysql -u', 'a://', 'https://a:b', 'Authorization: ', 'Bearer ', 'LTAI', '-----BEGIN ',
    '--password ', 'a_b.', '密码为', 'access_key_secret ', 'aZ09+/', 'mysql -pa ', 'curl -u a:b \\\n', 'machine h login u\n', 'https://h/hooks/',
    'Error: ', 'x:=', ...keywords.map((k) => `${k}a`), ...keywords.map((k) => `${k}= `),
  ];
  let worst = { unit: '', ms: 0 };
  for (const unit of hostile) {
    const text = fill(unit, 24 * 1024);
    maskSecrets(`${text}!`); // compiles the rules its keywords wake
    const ms = bestCpuMicros(() => maskSecrets(text), 3) / 1000;
    if (ms > worst.ms) worst = { unit, ms };
  }
  rows.push([`hostile 24 KB inputs (${hostile.length})`, `slowest ${(worst.ms * 1000).toFixed(0)} µs CPU, best of 3 (${JSON.stringify(worst.unit)} repeated)`]);

  // Fuzz: random mixes of keywords, separators and token characters; the worst ratio of 96 KB to 24 KB time.
  let x = 7;
  const rand = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) % n;
  const pieces = [...keywords, '=', ':', ' ', '\n', '"', "'", '-', '_', '.', '/', '@', '://', '\\\n', 'a', 'Z', '9', 'x'.repeat(8), 'aB3'.repeat(5)];
  let worstRatio = 0;
  let worstMs = 0;
  for (let trial = 0; trial < 20; trial++) {
    const unitParts = Array.from({ length: 1 + rand(6) }, () => pieces[rand(pieces.length)] ?? '');
    const unit = unitParts.join('');
    const small = fill(unit, 96 * 1024);
    const big = fill(unit, 384 * 1024);
    maskSecrets(fill(unit, 2048)); // compiles the rules its keywords wake
    // CPU time, the best of three runs of each: the machine's other work adds to a run, never takes from it.
    const ts = Math.max(bestCpuMicros(() => maskSecrets(small), 3), 100) / 1e6;
    const tb = bestCpuMicros(() => maskSecrets(big), 3) / 1e6;
    worstRatio = Math.max(worstRatio, tb / ts);
    worstMs = Math.max(worstMs, tb * 1000);
  }
  rows.push(['fuzz, 20 random units, 384 KB vs 96 KB', `worst CPU time ratio ${worstRatio.toFixed(1)} (linear: ~4, quadratic: ~16), slowest 384 KB ${worstMs.toFixed(1)} ms`]);
  return rows;
}

/** CPU time of `run` in µs, the best of `rounds` (the machine's other work adds to a run, never takes from it). */
function bestCpuMicros(run: () => void, rounds = 7): number {
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const a = process.cpuUsage();
    run();
    const b = process.cpuUsage(a);
    best = Math.min(best, b.user + b.system);
  }
  return best;
}

/**
 * What masking a failure's WHOLE output once costs (lib/causes/failure.ts masks the output before it is mined): real
 * outputs of failing programs (bench/data/real-outputs*.jsonl.gz, the causes benchmark's fixtures) that hold no secret
 * (masking leaves them as they are), per 2 KB of about 2 KB outputs and per 24 KB output; and the slowest of the
 * hostile 24 KB inputs below, in µs of CPU time.
 */
function wholeOutputs(): [string, string][] {
  const outputs: string[] = [];
  for (const file of ['real-outputs.jsonl.gz', 'real-outputs-holdout.jsonl.gz']) {
    const path = join(__dirname, 'data', file);
    if (!existsSync(path)) continue;
    for (const line of gunzipSync(readFileSync(path)).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const output = (JSON.parse(line) as { output?: unknown }).output;
      if (typeof output === 'string' && maskSecrets(output) === output) outputs.push(output);
    }
  }
  if (outputs.length === 0) return [];
  const rows: [string, string][] = [];
  for (const [what, min, max, repeat] of [['about 2 KB', 1500, 2600, 10], ['24 KB', 20_000, 24_576, 2]] as const) {
    const set = outputs.filter((o) => o.length >= min && o.length <= max);
    if (set.length === 0) continue;
    const chars = set.reduce((n, o) => n + o.length, 0) / set.length;
    const us = bestCpuMicros(() => {
      for (let r = 0; r < repeat; r++) for (const o of set) maskSecrets(o);
    }) / (repeat * set.length);
    const per = what === '24 KB' ? `${us.toFixed(0)} µs per output` : `${((us * 2048) / chars).toFixed(1)} µs per 2 KB (${us.toFixed(1)} µs per output)`;
    rows.push([`whole ordinary outputs, ${what} (${set.length} real outputs without secrets, mean ${Math.round(chars).toLocaleString('en-US')} characters; CPU time, best of 7)`, per]);
  }
  return rows;
}

function pct(n: number, d: number): string {
  return d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} %`;
}

function table(map: Map<string, Tally>, what: string): string[] {
  const out = [
    `| ${what} | secrets | caught | recall | recall without placeholders | ordinary texts | altered | false positives |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const row = (k: string, t: Tally) => {
    const real = t.positives - t.placeholders;
    const realCaught = t.caught - t.placeholdersCaught;
    const recall = t.positives ? (t.caught / t.positives).toFixed(3) : '–';
    const recallReal = real ? `${(realCaught / real).toFixed(3)} (${realCaught}/${real})` : '–';
    return `| ${k} | ${t.positives} | ${t.caught} | ${recall} | ${recallReal} | ${t.negatives} | ${t.damaged} | ${pct(t.damaged, t.negatives)} |`;
  };
  const total: Tally = { positives: 0, caught: 0, negatives: 0, damaged: 0, placeholders: 0, placeholdersCaught: 0 };
  const tuned: Tally = { ...total };
  for (const [k, t] of [...map].sort((a, b) => a[0].localeCompare(b[0]))) {
    out.push(row(k, t));
    for (const [sum, include] of [[total, true], [tuned, k !== 'detect-secrets']] as const) {
      if (!include) continue;
      for (const f of ['positives', 'caught', 'negatives', 'damaged', 'placeholders', 'placeholdersCaught'] as const) sum[f] += t[f];
    }
  }
  if (what === 'source') {
    out.push(row('**all**', total));
    out.push(row('**all but the hold-out**', tuned));
  }
  return out;
}

async function main(): Promise<void> {
  if (values['speed-only']) {
    console.log(speed().map(([k, v]) => `- ${k}: ${v}`).join('\n'));
    return;
  }
  const items = loadItems();
  const started = Date.now();
  const { bySource, byKind, missed, damaged } = await measure(items);
  const seconds = (Date.now() - started) / 1000;
  const lines = [
    `secret masking through summarize (${items.length} invocations, ${seconds.toFixed(1)} s; gitleaks rules ${VENDOR_RULES.upstream.version})`,
    '',
    ...table(bySource, 'source'),
    '',
    ...table(byKind, 'rule kind'),
    '',
    ...speed().map(([k, v]) => `- ${k}: ${v}`),
  ];
  console.log(lines.join('\n'));
  console.log(`\nsecrets shown (${missed.length}):\n  ${missed.join('\n  ')}`);
  console.log(`\nordinary texts altered (${damaged.length}):\n  ${damaged.join('\n  ')}`);
  if (values.write) {
    // The section between its markers is replaced; what follows the end marker (an analysis written by hand) stays.
    const file = join(__dirname, '..', 'BENCHMARKS.md');
    const text = readFileSync(file, 'utf8');
    const begin = '<!-- bench:secrets:start -->';
    const end = '<!-- bench:secrets:end -->';
    const when = new Date().toISOString().slice(0, 10);
    const block = [
      begin,
      '## Secrets shown and ordinary text altered, through summarize (`npm run bench:secrets`)',
      '',
      `${when}, Node.js ${process.version}, 2 shared cores. Each text planted as one invocation, collected into a file store and summarized; summary.json, summary.md and report.html scanned (docs/secrets.md, "How well it works"). detect-secrets is the hold-out: never tuned on.`,
      '',
      ...lines,
      end,
    ].join('\n');
    const a = text.indexOf(begin);
    const b = text.indexOf(end);
    writeFileSync(file, a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + end.length) : `${text.trimEnd()}\n\n${block}\n`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
