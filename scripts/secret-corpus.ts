// Writes test/fixtures/secret-bench.json, the corpus `npm run bench:secrets` measures the masker on: other projects'
// own test fixtures for their secret detectors, positives (a text and the secrets in it) and negatives (texts that
// hold none), with where each came from. Offline: it reads checkouts (or bare git directories, read at HEAD) of
//
// - gitleaks (github.com/gitleaks/gitleaks, MIT, © Zachary Rice): the literal true and false positives of the rule
//   tests in cmd/generate/config/rules/*.go (`tps`, `fps`), and the samples `utils.GenerateSampleSecrets` makes of a
//   literal secret (its formats are copied from cmd/generate/config/utils/generate.go);
// - secretlint (github.com/secretlint/secretlint, MIT, © azu): the snapshot fixtures of its rule packages,
//   `ng.*` inputs with the ranges their output.json reports, `ok.*` inputs as negatives (fixtures that need rule
//   options are left out, as are the rules about files and comments rather than secrets);
// - detect-secrets (github.com/Yelp/detect-secrets, Apache-2.0, © Yelp): the literal `(payload, should_flag)` cases
//   of tests/plugins/*_test.py. This source is the hold-out: the masker's rules are never tuned on it.
//
//   npx tsx scripts/secret-corpus.ts --gitleaks DIR --secretlint DIR --detect-secrets DIR
//
// Texts are stored base64-encoded, so that no secret scanner mistakes the fixture for a leak.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { VENDOR_RULES } from '../lib/causes/vendor-rules.generated';

export const CORPUS = join(__dirname, '..', 'test', 'fixtures', 'secret-bench.json');

export interface CorpusItem {
  /** gitleaks, secretlint, detect-secrets. */
  source: string;
  /** The upstream rule or plugin the fixture tests. */
  kind: string;
  /** Base64 of the text. */
  text: string;
  /** Base64 of each secret the text holds (none for a negative). */
  secrets: string[];
  /** The upstream file it came from. */
  origin: string;
}

class Repo {
  constructor(readonly dir: string) {}
  private git(...args: string[]): string {
    return execFileSync('git', ['-C', this.dir, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  }
  private get worktree(): boolean {
    return existsSync(join(this.dir, '.git')) || existsSync(join(this.dir, 'README.md'));
  }
  files(under: string): string[] {
    return this.git('ls-tree', '-r', '--name-only', 'HEAD', under).split('\n').filter(Boolean);
  }
  read(path: string): string {
    return this.worktree && existsSync(join(this.dir, path)) ? readFileSync(join(this.dir, path), 'utf8') : this.git('show', `HEAD:${path}`);
  }
  get commit(): string {
    return this.git('rev-parse', 'HEAD').trim();
  }
  get version(): string {
    return this.git('describe', '--tags').trim();
  }
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

// ---- gitleaks ---------------------------------------------------------------------------------------------------

/** The formats of gitleaks' utils.GenerateSampleSecrets (cmd/generate/config/utils/generate.go, MIT). */
const SAMPLE_FORMATS = [
  '{i}Token="{s}"', '{i}Token = "{s}"', '{i}Token={s}', '{i}Token = {s}', '{\n    "{i}_token": "{s}"\n}',
  '{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}', '<{i}Token>\n    {s}\n</{i}Token>', '{i}_token: {s}',
  "{i}_token: '{s}'", '{i}_token: "{s}"', 'string {i}Token = "{s}";', 'var {i}Token string = "{s}"', '{i}Token := "{s}"',
  '{i}Token := `{s}`', 'String {i}Token = "{s}";', 'var {i}Token = "{s}"', '${i}Token .= "{s}"', "{i}Token = '{s}'",
  '{i}Token = "{s}"', 'System.setProperty("{I}_TOKEN", "{s}")', '  "{i}Token" => "{s}"', '{i}_TOKEN = "{s}"',
  '{i}_TOKEN := "{s}"', '{i}_TOKEN ::= "{s}"', '{i}_TOKEN :::= "{s}"', '{i}_TOKEN ?= "{s}"',
];

/** A Go string literal at `at` (backquoted or double-quoted), and where it ends. */
function goString(src: string, at: number): { value: string; end: number } | undefined {
  if (src[at] === '`') {
    const end = src.indexOf('`', at + 1);
    return end === -1 ? undefined : { value: src.slice(at + 1, end), end: end + 1 };
  }
  if (src[at] !== '"') return undefined;
  let v = '';
  for (let i = at + 1; i < src.length; i++) {
    const c = src[i];
    if (c === '"') return { value: v, end: i + 1 };
    if (c === '\n') return undefined;
    if (c === '\\') {
      const n = src[++i];
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
      if (n !== undefined && map[n] !== undefined) v += map[n];
      else return undefined;
    } else v += c;
  }
  return undefined;
}

/** The elements of a Go composite literal or call argument list starting after `open` that are string literals only. */
function literalElements(src: string, open: number): string[] {
  const out: string[] = [];
  let i = open;
  let depth = 0;
  let element = '';
  let literal: string | undefined;
  let pure = true;
  const flush = () => {
    if (pure && literal !== undefined && element.trim() === '') out.push(literal);
    element = '';
    literal = undefined;
    pure = true;
  };
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '/' && src[i + 1] === '/') {
      i = src.indexOf('\n', i);
      if (i === -1) break;
      continue;
    }
    if (c === '"' || c === '`') {
      const s = goString(src, i);
      if (!s) return out;
      if (depth === 0) {
        if (literal !== undefined || element.trim() !== '') pure = false;
        literal = s.value;
      }
      i = s.end;
      continue;
    }
    if (c === '{' || c === '(' || c === '[') depth++;
    if (c === '}' || c === ')' || c === ']') {
      if (depth === 0) {
        flush();
        return out;
      }
      depth--;
    }
    if (depth === 0 && c === ',') flush();
    else if (!/\s/.test(c) || depth > 0) {
      if (depth > 0 || literal !== undefined) pure = false;
      element += depth > 0 ? c : c.trim();
    }
    i++;
  }
  return out;
}

function gitleaksItems(repo: Repo): CorpusItem[] {
  const items: CorpusItem[] = [];
  for (const path of repo.files('cmd/generate/config/rules').filter((p) => p.endsWith('.go') && !p.endsWith('_test.go'))) {
    const src = repo.read(path);
    // Each rule function: its RuleID and the tps/fps in its body.
    const funcs = src.split(/\nfunc /).slice(1);
    for (const body of funcs) {
      const id = /RuleID:\s*"([^"]+)"/.exec(body)?.[1];
      if (!id) continue;
      const positives: string[][] = []; // [text, secret?]
      const negatives: string[] = [];
      for (const m of body.matchAll(/\b(tps|fps)\s*(?::=\s*\[\]string\{|=\s*append\(\s*(?:tps|fps)\s*,)/g)) {
        const list = literalElements(body, (m.index ?? 0) + m[0].length);
        for (const text of list) (m[1] === 'tps' ? positives.push([text]) : negatives.push(text));
      }
      // Samples of a literal secret, and single samples of one.
      for (const m of body.matchAll(/utils\.GenerateSampleSecrets?\(\s*"([^"]+)"\s*,\s*("[^"\n]*"|`[^`]*`)\s*\)/g)) {
        const ident = m[1] as string;
        const secret = goString(m[2] as string, 0)?.value;
        if (!secret) continue;
        const formats = m[0].startsWith('utils.GenerateSampleSecrets(') ? SAMPLE_FORMATS : [SAMPLE_FORMATS[0] as string];
        for (const f of formats) positives.push([f.replaceAll('{i}', ident).replaceAll('{I}', ident.toUpperCase()).replaceAll('{s}', secret), secret]);
      }
      for (const [text, secret] of positives) {
        if (text === undefined) continue;
        const value = secret ?? ruleSecret(id, text) ?? guessSecret(text);
        if (value !== '') items.push({ source: 'gitleaks', kind: id, text: b64(text), secrets: [b64(value)], origin: path });
      }
      for (const text of negatives) items.push({ source: 'gitleaks', kind: id, text: b64(text), secrets: [], origin: path });
    }
  }
  return items;
}

/**
 * The secret gitleaks' rule `id` reports in a true positive: its pattern's secret group (or first group that matched,
 * or whole match), found with the pattern as converted for the masker, without keywords, entropy or allow-lists.
 */
function ruleSecret(id: string, text: string): string | undefined {
  const rule = VENDOR_RULES.rules.find((r) => r.id === id);
  if (!rule) return undefined;
  const m = new RegExp(rule.pattern).exec(text);
  if (!m) return undefined;
  let group = rule.secretGroup;
  if (group === 0) for (let g = 1; g < m.length && group === 0; g++) if (m[g]) group = g;
  const secret = m[group] || m[0];
  // A private key's secret is its body: the BEGIN and END lines say what it is, and stay.
  const body = /-----BEGIN[^\n]*-----\s*([\s\S]*?)\s*(?:-----END|$)/.exec(secret)?.[1];
  if (body !== undefined) return body;
  // A rule that flags the kind of a file (`"type": "service_account"`) reports a word, not a value.
  return /^[a-z_]+$/.test(secret) ? '' : secret;
}

/**
 * The secret of a true positive whose secret the test does not name: the value of its last assignment, or its longest
 * run of token characters (the test lines are one assignment or one token).
 */
function guessSecret(text: string): string {
  const userinfo = /:\/\/[^\s:/@]{0,256}:([^\s/@]{1,256})@/.exec(text)?.[1];
  if (userinfo) return userinfo;
  const assigned = /[=:]\s*["'`]?([^"'`\s,;:=]{6,}=*)["'`]?[\s,;]*$/.exec(text.trim())?.[1];
  if (assigned) return assigned;
  const runs = text.match(/[A-Za-z0-9_+/=.~-]{8,}/g) ?? [text];
  return runs.reduce((a, b) => (b.length > a.length ? b : a), '');
}

// ---- secretlint -------------------------------------------------------------------------------------------------

/** secretlint rules about files, comments or options rather than secrets in text. */
const SECRETLINT_SKIP = /secretlint-rule-(?:pattern|example|filter-comments|no-homedir|no-dotenv|no-k8s-kind-secret)$/;

/**
 * The secret of what a secretlint rule reports: the value it names (`data.KEY`, `data.SECRET`…) when the report has
 * one; the password of a URL's user-info; the value of a `key = value` report; else the whole report. Identifiers
 * that some rules report (Azure tenant and client ids: a UUID named `…_id`) are not credentials, and are left out.
 */
function secretOf(range: string, data: Record<string, unknown> | undefined): string | undefined {
  if (/_id\b|client_id|tenant_id/i.test(range) && /[0-9a-f]{8}-[0-9a-f]{4}-/i.test(range)) return undefined;
  const url = /^[A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/[^\s:/@]{0,256}:([^\s/"'<>]{1,512})@[^\s@/]/.exec(range.replace(/^jdbc:/, ''));
  if (url?.[1]) return url[1];
  // A webhook URL: its credential is the path after the host and a first segment of letters (`/services/`).
  const hook = /^(?:https?:)?\/\/[^\s/]{1,256}\/(?:[A-Za-z-]{1,32}\/)?([^\s"'<>]{8,})$/.exec(range);
  if (hook?.[1]) return hook[1];
  for (const k of ['KEY', 'SECRET', 'TOKEN', 'PASSWORD', 'CREDENTIAL']) {
    const v = data?.[k];
    if (typeof v === 'string' && v !== '' && range.includes(v)) return v;
  }
  const assigned = /^[A-Za-z_][\w.-]{0,63}["']?\s{0,4}(?::=|=|:)\s{0,4}["'`]?([^"'`\s]{4,})["'`]?\s*$/.exec(range);
  if (assigned?.[1]) return assigned[1];
  return range;
}

function secretlintItems(repo: Repo): CorpusItem[] {
  const items: CorpusItem[] = [];
  const files = repo.files('packages/@secretlint').filter((p) => /secretlint-rule-[^/]+\/test\/snapshots\/(?:ng|ok)\.[^/]+\/[^/]+$/.test(p));
  const dirs = new Map<string, string[]>();
  for (const f of files) {
    const d = f.slice(0, f.lastIndexOf('/'));
    dirs.set(d, [...(dirs.get(d) ?? []), f.slice(d.length + 1)]);
  }
  for (const [dir, names] of dirs) {
    const rule = /(secretlint-rule-[^/]+)\/test/.exec(dir)?.[1] ?? '';
    if (SECRETLINT_SKIP.test(rule)) continue;
    if (names.includes('.secretlintrc.json')) continue; // depends on rule options
    const input = names.find((n) => n.startsWith('input'));
    if (!input || !names.includes('output.json')) continue;
    const text = repo.read(`${dir}/${input}`);
    const kind = rule.replace('secretlint-rule-', '');
    if (dir.includes('/ng.')) {
      if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) continue; // a binary file (PKCS#12), not text a command prints
      const output = JSON.parse(repo.read(`${dir}/output.json`)) as { messages: { range: [number, number]; data?: Record<string, unknown> }[]; sourceContent?: string };
      const content = output.sourceContent ?? text;
      const secrets = [...new Set(output.messages.map((m) => secretOf(content.slice(m.range[0], m.range[1]), m.data)))].filter((s): s is string => s !== undefined && s.trim() !== '');
      if (secrets.length === 0) continue;
      items.push({ source: 'secretlint', kind, text: b64(content), secrets: secrets.map(b64), origin: `${dir}/${input}` });
    } else {
      for (const line of text.split('\n')) if (line.trim() !== '') items.push({ source: 'secretlint', kind, text: b64(line), secrets: [], origin: `${dir}/${input}` });
    }
  }
  return items;
}

// ---- detect-secrets ---------------------------------------------------------------------------------------------

function pyString(src: string): string | undefined {
  const q = src[0];
  if (q !== '"' && q !== "'") return undefined;
  let v = '';
  for (let i = 1; i < src.length; i++) {
    const c = src[i];
    if (c === q) return i === src.length - 1 ? v : undefined;
    if (c === '\\') {
      const n = src[++i];
      const map: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', '"': '"', "'": "'" };
      if (n === undefined || map[n] === undefined) return undefined;
      v += map[n];
    } else v += c;
  }
  return undefined;
}

function detectSecretsItems(repo: Repo): CorpusItem[] {
  const items: CorpusItem[] = [];
  for (const path of repo.files('tests/plugins').filter((p) => p.endsWith('_test.py'))) {
    const src = repo.read(path);
    const kind = /tests\/plugins\/(.+)_test\.py$/.exec(path)?.[1] ?? path;
    if (kind === 'base' || kind === 'high_entropy_strings' || kind === 'ip_public') continue; // not secrets, or base classes
    for (const m of src.matchAll(/\(\s*((?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))\s*,\s*(True|False)\s*,?\s*\)/g)) {
      const text = pyString(m[1] as string);
      if (text === undefined || text.trim() === '') continue;
      const positive = m[2] === 'True';
      items.push({ source: 'detect-secrets', kind, text: b64(text), secrets: positive ? [b64(guessSecret(text))] : [], origin: path });
    }
  }
  return items;
}

if (require.main === module) {
  const { values } = parseArgs({ options: { gitleaks: { type: 'string' }, secretlint: { type: 'string' }, 'detect-secrets': { type: 'string' } } });
  if (!values.gitleaks || !values.secretlint || !values['detect-secrets']) throw new Error('give --gitleaks DIR --secretlint DIR --detect-secrets DIR');
  const repos = { gitleaks: new Repo(values.gitleaks), secretlint: new Repo(values.secretlint), 'detect-secrets': new Repo(values['detect-secrets']) };
  const items = [...gitleaksItems(repos.gitleaks), ...secretlintItems(repos.secretlint), ...detectSecretsItems(repos['detect-secrets'])];
  // One copy of each (source, text) pair; a negative of one rule that holds a positive of another rule of the same
  // upstream (`sk-ant-admin01-…` is a false positive of the API-key rule and a true one of the admin-key rule) is a
  // secret, not a negative.
  const seen = new Set<string>();
  const positives = new Map<string, string[]>();
  for (const it of items) for (const sec of it.secrets) positives.set(it.source, [...(positives.get(it.source) ?? []), Buffer.from(sec, 'base64').toString('utf8')]);
  const unique = items.filter((it) => {
    const k = `${it.source}\u0000${it.text}\u0000${it.secrets.join(',')}`;
    if (seen.has(k)) return false;
    seen.add(k);
    const text = Buffer.from(it.text, 'base64').toString('utf8');
    // Binary content (PKCS#12 files, GIFs) is not text a command prints.
    if (/[\u0000-\u0008\u000e-\u001f\ufffd]/.test(text)) return false;
    if (it.secrets.length > 0) return true;
    // A negative is a line of a cause; one longer than a summary's example (2 KB) cannot be shown whole anyway.
    if (text.length > 1000) return false;
    return !(positives.get(it.source) ?? []).some((sec) => sec.length >= 8 && text.includes(sec));
  });
  const sources = {
    gitleaks: { repository: 'https://github.com/gitleaks/gitleaks', version: repos.gitleaks.version, commit: repos.gitleaks.commit, licence: 'MIT', copyright: 'Copyright (c) 2019 Zachary Rice', files: 'cmd/generate/config/rules/*.go' },
    secretlint: { repository: 'https://github.com/secretlint/secretlint', version: repos.secretlint.version, commit: repos.secretlint.commit, licence: 'MIT', copyright: 'Copyright (c) 2020 azu', files: 'packages/@secretlint/secretlint-rule-*/test/snapshots/' },
    'detect-secrets': { repository: 'https://github.com/Yelp/detect-secrets', version: repos['detect-secrets'].version, commit: repos['detect-secrets'].commit, licence: 'Apache-2.0', copyright: 'Copyright Yelp, Inc.', files: 'tests/plugins/*_test.py', holdOut: true },
  };
  writeFileSync(CORPUS, JSON.stringify({ note: 'Generated by scripts/secret-corpus.ts; texts and secrets are base64. Attribution: see sources.', sources, items: unique }, null, 0) + '\n');
  const count = (src: string, pos: boolean) => unique.filter((i) => i.source === src && (i.secrets.length > 0) === pos).length;
  for (const src of Object.keys(sources)) console.log(`${src}: ${count(src, true)} positives, ${count(src, false)} negatives`);
}
