// Writes lib/causes/vendor-rules.generated.ts from gitleaks' rule configuration (config/gitleaks.toml of
// github.com/gitleaks/gitleaks, MIT, © Zachary Rice): the vendor-token and keyword-scoped rules the masker applies
// (lib/causes/vendor-rules.ts), each converted from Go's RE2 syntax to a JavaScript pattern that runs in bounded time.
// Offline: it reads a gitleaks checkout (or a bare git directory, read at HEAD) or the TOML file itself; the
// generated module is checked in, so neither CI nor a build needs the network.
//
//   npx tsx scripts/secret-rules.ts --gitleaks /path/to/gitleaks            # a checkout or a git directory
//   npx tsx scripts/secret-rules.ts --toml gitleaks.toml --version v8.30.0 --commit <sha>
//   npx tsx scripts/secret-rules.ts --check                                 # exit 1 when the module is not what the recorded input gives
//
// The conversion (see `toJsPattern`): case-insensitive regions (`(?i)`, `(?i:…)`, `(?-i:…)`) become explicit
// character classes (`[aA]`), because JavaScript before Node 23 has no inline modifiers; `(?P<name>…)` becomes a
// plain capturing group (the numbering gitleaks' secretGroup counts stays); `\z` becomes the end of the text, `.` the
// RE2 dot (any character but a newline), `(?s:.)` any character, `[[:alnum:]]` its ASCII range, `\x{…}` a `\u` escape;
// every unbounded repetition gets a bound (`*` → `{0,N}`, `+` → `{1,N}`, `{n,}` → `{n,N}`; N = 4096 for a class,
// 256 for a dot), so that a JavaScript backtracking engine does bounded work at each start (RE2 is linear; a
// backtracking engine with unbounded nested repetitions is not). Rules that only match file paths are left out.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'smol-toml';

const root = join(__dirname, '..');
export const GENERATED = join(root, 'lib', 'causes', 'vendor-rules.generated.ts');

/** Bound given to an unbounded repetition of a character class, and of a dot (which spans a whole line). */
const CLASS_BOUND = 4096;
const DOT_BOUND = 256;

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', digit: '0-9', lower: 'a-z', upper: 'A-Z', xdigit: '0-9A-Fa-f',
  space: '\\t\\n\\v\\f\\r ', blank: '\\t ', punct: '!-\\/:-@\\[-`{-~', word: '\\w', cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~', graph: '!-~', ascii: '\\x00-\\x7f',
};

/** One item of a character class: a range of code points, or an escape kept as written (`\w`, `\s`). */
type ClassItem = { lo: number; hi: number } | { escape: string };

function escapeClassChar(c: number): string {
  const ch = String.fromCharCode(c);
  if (/[\\\]^[-]/.test(ch)) return '\\' + ch;
  if (c < 0x20 || c > 0x7e) return '\\u' + c.toString(16).padStart(4, '0');
  return ch;
}

function escapeLiteral(c: number): string {
  const ch = String.fromCharCode(c);
  if (/[\\^$.|?*+()[\]{}/]/.test(ch)) return '\\' + ch;
  if (c < 0x20 || c > 0x7e) return '\\u' + c.toString(16).padStart(4, '0');
  return ch;
}

/** Adds the other case of every ASCII letter a class holds. */
function foldClass(items: ClassItem[]): ClassItem[] {
  const out = [...items];
  for (const it of items) {
    if (!('lo' in it)) continue;
    const add = (lo: number, hi: number, delta: number) => {
      const a = Math.max(it.lo, lo);
      const b = Math.min(it.hi, hi);
      if (a <= b) out.push({ lo: a + delta, hi: b + delta });
    };
    add(0x61, 0x7a, -32);
    add(0x41, 0x5a, 32);
  }
  return out;
}

function renderClass(items: ClassItem[], negated: boolean): string {
  const body = items.map((it) => ('escape' in it ? it.escape : it.lo === it.hi ? escapeClassChar(it.lo) : `${escapeClassChar(it.lo)}-${escapeClassChar(it.hi)}`)).join('');
  return `[${negated ? '^' : ''}${body}]`;
}

/**
 * Converts one RE2 pattern to a JavaScript pattern (no flags needed) with the same meaning on ASCII text and bounded
 * repetitions. Throws on a construct it does not know, so that a new upstream feature is noticed, not mistranslated.
 */
export function toJsPattern(re2: string): string {
  let i = 0;
  let out = '';
  // The flags of the current group: case-insensitive, dot matches newline.
  let flags = { i: false, s: false };
  const stack: { i: boolean; s: boolean }[] = [];
  /** Whether the last atom written was a dot (its unbounded repetition gets the smaller bound). */
  let lastWasDot = false;
  const readFlags = (spec: string, base: { i: boolean; s: boolean }) => {
    const f = { ...base };
    let on = true;
    for (const c of spec) {
      if (c === '-') on = false;
      else if (c === 'i') f.i = on;
      else if (c === 's') f.s = on;
      else if (c === 'U' || c === 'm') throw new Error(`flag ${c} is not supported`);
    }
    return f;
  };
  const readEscape = (): { code?: number; text: string } => {
    // at a backslash
    const c = re2[i + 1];
    if (c === undefined) throw new Error('trailing backslash');
    if (c === 'x') {
      if (re2[i + 2] === '{') {
        const end = re2.indexOf('}', i);
        const code = parseInt(re2.slice(i + 3, end), 16);
        i = end + 1;
        return { code, text: '' };
      }
      const code = parseInt(re2.slice(i + 2, i + 4), 16);
      i += 4;
      return { code, text: '' };
    }
    i += 2;
    const simple: Record<string, number> = { n: 10, r: 13, t: 9, f: 12, v: 11, a: 7 };
    if (simple[c] !== undefined) return { code: simple[c], text: '' };
    if ('dDwWsS'.includes(c)) return { text: '\\' + c };
    if (c === 'b' || c === 'B') return { text: '\\' + c };
    if (c === 'z') return { text: '(?![\\s\\S])' };
    if (c === 'A') return { text: '^' };
    if (c === 'p' || c === 'P' || c === 'Q' || c === 'C') throw new Error(`escape \\${c} is not supported`);
    if (/[A-Za-z0-9]/.test(c)) throw new Error(`escape \\${c} is not supported`);
    return { code: c.charCodeAt(0), text: '' };
  };
  while (i < re2.length) {
    const c = re2[i] as string;
    if (c === '\\') {
      const e = readEscape();
      lastWasDot = false;
      if (e.code === undefined) out += e.text;
      else if (flags.i && /[A-Za-z]/.test(String.fromCharCode(e.code))) out += renderClass(foldClass([{ lo: e.code, hi: e.code }]), false);
      else out += escapeLiteral(e.code);
      continue;
    }
    if (c === '[') {
      i++;
      let negated = false;
      if (re2[i] === '^') {
        negated = true;
        i++;
      }
      const items: ClassItem[] = [];
      let first = true;
      while (i < re2.length && (re2[i] !== ']' || first)) {
        first = false;
        let lo: number | undefined;
        if (re2.startsWith('[:', i)) {
          const end = re2.indexOf(':]', i);
          const name = re2.slice(i + 2, end);
          const expansion = POSIX[name];
          if (expansion === undefined) throw new Error(`class [:${name}:] is not supported`);
          items.push({ escape: expansion });
          i = end + 2;
          continue;
        }
        if (re2[i] === '\\') {
          const e = readEscape();
          if (e.code === undefined) {
            items.push({ escape: e.text });
            continue;
          }
          lo = e.code;
        } else {
          lo = re2.charCodeAt(i);
          i++;
        }
        if (re2[i] === '-' && re2[i + 1] !== ']' && re2[i + 1] !== undefined) {
          i++;
          let hi: number;
          if (re2[i] === '\\') {
            const e = readEscape();
            if (e.code === undefined) throw new Error('a range ends with a class escape');
            hi = e.code;
          } else {
            hi = re2.charCodeAt(i);
            i++;
          }
          items.push({ lo, hi });
        } else {
          items.push({ lo, hi: lo });
        }
      }
      if (re2[i] !== ']') throw new Error('unterminated class');
      i++;
      out += renderClass(flags.i ? foldClass(items) : items, negated);
      lastWasDot = false;
      continue;
    }
    if (c === '(') {
      stack.push(flags);
      if (re2[i + 1] !== '?') {
        out += '(';
        i++;
        continue;
      }
      const close = re2.indexOf(')', i);
      const colon = re2.indexOf(':', i);
      if (re2.startsWith('(?P<', i) || (re2.startsWith('(?<', i) && re2[i + 3] !== '=' && re2[i + 3] !== '!')) {
        i = re2.indexOf('>', i) + 1;
        out += '(';
        continue;
      }
      if (re2.startsWith('(?:', i)) {
        out += '(?:';
        i += 3;
        continue;
      }
      const spec = re2.slice(i + 2, Math.min(close, colon === -1 ? close : colon));
      if (!/^[a-zA-Z-]*$/.test(spec)) throw new Error(`group (?${spec} is not supported`);
      if (colon !== -1 && colon < close) {
        flags = readFlags(spec, flags);
        out += '(?:';
        i = colon + 1;
      } else {
        // `(?i)`: changes the flags of the current group from here on.
        stack.pop();
        flags = readFlags(spec, flags);
        i = close + 1;
      }
      continue;
    }
    if (c === ')') {
      const f = stack.pop();
      if (f === undefined) throw new Error('unbalanced )');
      flags = f;
      out += ')';
      i++;
      lastWasDot = false;
      continue;
    }
    if (c === '.') {
      out += flags.s ? '[\\s\\S]' : '[^\\n]';
      i++;
      lastWasDot = true;
      continue;
    }
    if (c === '*' || c === '+') {
      const bound = lastWasDot ? DOT_BOUND : CLASS_BOUND;
      out += c === '*' ? `{0,${bound}}` : `{1,${bound}}`;
      i++;
      continue;
    }
    if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(re2.slice(i));
      if (m) {
        const min = Number(m[1]);
        if (m[2] !== undefined && m[3] === '') out += `{${min},${Math.max(min, lastWasDot ? DOT_BOUND : CLASS_BOUND)}}`;
        else out += m[0];
        i += m[0].length;
        continue;
      }
      out += '\\{';
      i++;
      continue;
    }
    if (c === '?' || c === '|' || c === '^' || c === '$') {
      out += c;
      i++;
      if (c === '|' || c === '^' || c === '$') lastWasDot = false;
      continue;
    }
    // A literal character.
    const code = re2.charCodeAt(i);
    out += flags.i && /[A-Za-z]/.test(c) ? renderClass(foldClass([{ lo: code, hi: code }]), false) : escapeLiteral(code);
    i++;
    lastWasDot = false;
  }
  if (stack.length !== 0) throw new Error('unbalanced (');
  new RegExp(out); // throws on a pattern JavaScript does not accept
  return out;
}

/**
 * Drops the lazy `[\w.-]{0,50}?` that starts gitleaks' keyword-scoped rules (once, or twice when the rule nests a
 * case-insensitive group after it). It only widens a match to the left to report the whole key name; the secret, which
 * is what is masked, is the same without it. Kept, it makes a backtracking engine try up to 50 × 50 widths at every
 * position of a long word (2 s on a hostile 24 KB output); dropped, a match starts at its keyword. How far a match
 * could have reached to the left is returned, so that an allow-list on the match still sees the key name.
 */
export function dropKeyPrefix(re2: string): { pattern: string; leftContext: number } {
  const prefix = '[\\w.-]{0,50}?';
  let pattern = re2;
  let leftContext = 0;
  const lead = pattern.startsWith('(?i)') ? '(?i)' : '';
  if (pattern.startsWith(lead + prefix)) {
    pattern = lead + pattern.slice(lead.length + prefix.length);
    leftContext += 50;
  }
  if (pattern.startsWith('(?i:' + prefix)) {
    pattern = '(?i:' + pattern.slice(4 + prefix.length);
    leftContext += 50;
  }
  return { pattern, leftContext };
}

interface UpstreamRule {
  id: string;
  description?: string;
  regex?: string;
  entropy?: number;
  keywords?: string[];
  secretGroup?: number;
  path?: string;
  allowlists?: { regexes?: string[]; stopwords?: string[]; regexTarget?: string; condition?: string; paths?: string[]; description?: string }[];
}

/** What the generated module records of where its rules came from. */
interface Source {
  toml: string;
  version: string;
  commit: string;
}

function readSource(values: { gitleaks?: string; toml?: string; version?: string; commit?: string }): Source {
  if (values.gitleaks) {
    const dir = values.gitleaks;
    const file = join(dir, 'config', 'gitleaks.toml');
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim();
    const toml = existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : git('show', 'HEAD:config/gitleaks.toml');
    return { toml, version: values.version ?? git('describe', '--tags'), commit: values.commit ?? git('rev-parse', 'HEAD') };
  }
  if (!values.toml || !values.version || !values.commit) throw new Error('give --gitleaks DIR, or --toml FILE with --version and --commit');
  return { toml: readFileSync(values.toml, 'utf8'), version: values.version, commit: values.commit };
}

/** The generated module's text. */
export function vendorRulesModule(source: Source): string {
  const config = parse(source.toml) as unknown as { allowlist?: { regexes?: string[]; stopwords?: string[] }; rules: UpstreamRule[] };
  const rules: unknown[] = [];
  const skipped: string[] = [];
  for (const r of config.rules) {
    if (r.regex === undefined) {
      skipped.push(`${r.id}: matches file paths only`);
      continue;
    }
    try {
      const allow = (r.allowlists ?? [])
        .filter((a) => (a.paths ?? []).length === 0) // a text has no path: path-scoped allow-lists never apply
        .map((a) => ({
          target: a.regexTarget === 'match' || a.regexTarget === 'line' ? a.regexTarget : 'secret',
          regexes: (a.regexes ?? []).map(toJsPattern),
          stopwords: (a.stopwords ?? []).map((w) => w.toLowerCase()),
        }));
      const { pattern, leftContext } = dropKeyPrefix(r.regex);
      rules.push({
        id: r.id,
        keywords: (r.keywords ?? []).map((k) => k.toLowerCase()),
        pattern: toJsPattern(pattern),
        leftContext,
        secretGroup: r.secretGroup ?? 0,
        entropy: r.entropy ?? 0,
        allow,
      });
    } catch (e) {
      skipped.push(`${r.id}: ${(e as Error).message}`);
    }
  }
  const global = {
    regexes: (config.allowlist?.regexes ?? []).map(toJsPattern),
    stopwords: (config.allowlist?.stopwords ?? []).map((w) => w.toLowerCase()),
  };
  const upstream = {
    name: 'gitleaks',
    repository: 'https://github.com/gitleaks/gitleaks',
    file: 'config/gitleaks.toml',
    version: source.version,
    commit: source.commit,
    licence: 'MIT',
    copyright: 'Copyright (c) 2019 Zachary Rice',
  };
  return [
    '// Generated by scripts/secret-rules.ts from gitleaks\' config/gitleaks.toml: do not edit.',
    `// Upstream: ${upstream.repository} ${upstream.version} (${upstream.commit}), ${upstream.licence}, ${upstream.copyright}.`,
    '// The patterns are gitleaks\' RE2 patterns converted to JavaScript with bounded repetitions (see the script).',
    '// `npx tsx scripts/secret-rules.ts --gitleaks DIR` rewrites it (`--check` tells whether it is current).',
    '',
    "import type { GeneratedRules } from './vendor-rules';",
    '',
    `export const VENDOR_RULES: GeneratedRules = ${JSON.stringify({ upstream, skipped, global, rules }, null, 1)};`,
    '',
  ].join('\n');
}

/** The source the checked-in module was generated from, read back from it (for `--check`). */
function recordedInput(): { version: string; commit: string } {
  const text = readFileSync(GENERATED, 'utf8');
  const m = /Upstream: \S+ (\S+) \(([0-9a-f]{40})\)/.exec(text);
  if (!m) throw new Error(`${GENERATED} records no upstream`);
  return { version: m[1] as string, commit: m[2] as string };
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { gitleaks: { type: 'string' }, toml: { type: 'string' }, version: { type: 'string' }, commit: { type: 'string' }, check: { type: 'boolean' } },
  });
  if (values.check) {
    const recorded = recordedInput();
    const source = readSource({ ...values, ...recorded });
    const same = readFileSync(GENERATED, 'utf8') === vendorRulesModule(source);
    console.log(same ? `${GENERATED} is current` : `${GENERATED} differs from what ${recorded.version} gives`);
    process.exit(same ? 0 : 1);
  }
  const source = readSource(values);
  const text = vendorRulesModule(source);
  writeFileSync(GENERATED, text);
  const count = (text.match(/"pattern":/g) ?? []).length;
  console.log(`wrote ${GENERATED}: ${count} rules from gitleaks ${source.version}`);
}
