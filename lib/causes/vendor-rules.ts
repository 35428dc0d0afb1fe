/**
 * The vendor-token and keyword-scoped rules of gitleaks (github.com/gitleaks/gitleaks, MIT), applied the way gitleaks
 * applies them, to replace what they find instead of reporting it. The rules themselves are generated
 * (`vendor-rules.generated.ts`, written by scripts/secret-rules.ts from gitleaks' config/gitleaks.toml, with the
 * upstream version recorded); this module only runs them:
 *
 * - a rule runs only when the text holds one of its keywords (any case), as in gitleaks: most outputs hold none, and
 *   most rules never run on a given output;
 * - its secret is the capture group the rule names (`secretGroup`), or else the first group that matched, or else the
 *   whole match; only the secret is replaced, so `api_key = "<redacted>"` still says what was there;
 * - a secret whose Shannon entropy is at or below the rule's `entropy` is kept, and so is a generic rule's secret
 *   without a digit (gitleaks' own filter against words);
 * - the rule's allow-lists (on the secret, the match or the line) and the global one (regexes on the secret,
 *   stop-words anywhere in it) keep what they name: placeholders, variables, `EXAMPLE` keys.
 *
 * Linear time: the generated patterns have bounded repetitions only (the script bounds RE2's unbounded ones), so each
 * start costs a bounded amount; a rule's pattern is compiled the first time one of its keywords is seen.
 */

import { createTriggerScanner, type TriggerScanner } from './trigger-scan';

/** The shape of the generated module (see scripts/secret-rules.ts). */
export interface GeneratedRules {
  upstream: { name: string; repository: string; file: string; version: string; commit: string; licence: string; copyright: string };
  /** Upstream rules not converted, and why. */
  skipped: string[];
  global: { regexes: string[]; stopwords: string[] };
  rules: {
    id: string;
    keywords: string[];
    pattern: string;
    /** How many key characters (`[\w.-]`) before the match gitleaks' pattern would have included in it. */
    leftContext: number;
    secretGroup: number;
    entropy: number;
    allow: { target: string; regexes: string[]; stopwords: string[] }[];
  }[];
}

/**
 * How far from a match one of its rule's keywords may be (characters). gitleaks runs a rule on a whole file when the
 * file holds a keyword anywhere; an output is not a file about one service, so the keyword must be near the value
 * (`sourcegraph` once in an output must not make every 40-digit commit id a Sourcegraph token).
 */
const KEYWORD_REACH = 200;

/** Shannon entropy of a string, in bits per character. */
export function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    h -= p * Math.log2(p);
  }
  return h;
}

interface CompiledRule {
  id: string;
  keywords: string[];
  pattern: string;
  regex?: RegExp;
  leftContext: number;
  secretGroup: number;
  entropy: number;
  generic: boolean;
  allow: { target: string; regexes: RegExp[]; stopwords: string[] }[];
  /** How far before a keyword a match may start ({@link keywordLead}); undefined: searched near the keywords. */
  lead?: number | undefined;
  sticky?: RegExp;
  /** {@link requiredLiterals} of its pattern, and where each was found last in the current call (-1: none after). */
  required: string[][];
  nextAt: number[];
  nextFrom: number[];
  lastFrom: number;
  lastIn: number;
  /** The call of findAt that last tried the rule (sticky), and where: a keyword's other occurrences there are not tried again. */
  triedIn: number;
  triedAt: number;
  matchedFrom: number;
  matchedUntil: number;
}

/** A span of text to replace. */
export interface Span {
  start: number;
  end: number;
  rule: string;
}

/** Runs a set of generated rules; {@link createVendorRules} builds it once per module. */
export interface VendorRules {
  /**
   * The spans of `text` the rules find secrets in (`secrets`), and those a rule's allow-list or the global one
   * named as not secret (`allowed`: known public keys, placeholders), in no particular order (they may overlap).
   */
  find(text: string): { secrets: Span[]; allowed: Span[] };
  /** The rules' keywords, each once (lower case): a caller that scans for them itself passes what it found to {@link findAt}. */
  keywords: readonly string[];
  /** {@link find} given where the keywords occur: `starts[i]` is where keyword `keywords[words[i]]` starts (other word numbers are ignored). */
  findAt(text: string, starts: readonly number[], words: readonly number[]): { secrets: Span[]; allowed: Span[] };
  /** Where the rules came from. */
  upstream: GeneratedRules['upstream'];
  /** How many rules there are. */
  size: number;
}

/** The line around [start, end), at most {@link LINE_REACH} characters on either side (a hostile line is long). */
function lineAround(text: string, start: number, end: number): string {
  const from = Math.max(0, start - LINE_REACH);
  const a = text.lastIndexOf('\n', start - 1);
  const b = text.indexOf('\n', end);
  return text.slice(a < from ? from : a + 1, b === -1 || b > end + LINE_REACH ? Math.min(text.length, end + LINE_REACH) : b);
}
const LINE_REACH = 1024;

/** The literal a pattern starts with, lower case (`[aA]`, gitleaks' case-insensitive letter, read as `a`). */
function literalPrefix(pattern: string): string {
  let out = '';
  let i = 0;
  while (i < pattern.length) {
    const pair = /^\[([a-zA-Z])([a-zA-Z])\]/.exec(pattern.slice(i, i + 4));
    if (pair && pair[1]?.toLowerCase() === pair[2]?.toLowerCase()) {
      out += pair[1]?.toLowerCase() ?? '';
      i += 4;
      continue;
    }
    const c = pattern[i] ?? '';
    const quantified = /[*+?{]/.test(pattern[i + 2] ?? '');
    if (c === '\\' && /[.\-_~/:=]/.test(pattern[i + 1] ?? '') && !quantified) {
      out += pattern[i + 1] ?? '';
      i += 2;
      continue;
    }
    if (/[A-Za-z0-9_\-~:=<>!@#%&,;'" ]/.test(c) && !/[*+?{]/.test(pattern[i + 1] ?? '')) {
      out += c.toLowerCase();
      i++;
      continue;
    }
    break;
  }
  return out;
}

/** The offset of the `)` that closes the group opening at `open`, or -1. */
function groupEnd(pattern: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** A group's body split at its top-level `|`. */
function branches(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let from = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(body.slice(from, i));
      from = i + 1;
    }
  }
  out.push(body.slice(from));
  return out;
}

/**
 * How many characters before one of its keywords a rule's match can start, when every match starts with a keyword
 * (after `\b`, or after one character of an `(?:^|[…])` boundary): most rules are a vendor prefix (`ghp_`, `AKIA`) or
 * a keyword and an assignment (`adafruit … = VALUE`). Such a rule is tried only at its keywords' occurrences
 * (sticky), never searched through the text. `undefined`: the keyword may be anywhere in the match, or outside it.
 */
export function keywordLead(pattern: string, keywords: readonly string[]): number | undefined {
  const startsWithKeyword = (literal: string): boolean =>
    keywords.some((k) => literal.startsWith(k) || (literal.length >= 2 && k.startsWith(literal)));
  let p = pattern;
  let lead = 0;
  for (let guard = 0; guard < 16; guard++) {
    if (p.startsWith('\\b')) {
      p = p.slice(2);
      continue;
    }
    const boundary = /^\(\?:(?:\^\|\[(?:[^\]\\]|\\.)+\]|\[(?:[^\]\\]|\\.)+\]\|\^)\)/.exec(p);
    if (boundary) {
      lead += 1;
      p = p.slice(boundary[0].length);
      continue;
    }
    if (!p.startsWith('(')) break;
    const end = groupEnd(p, 0);
    if (end < 0 || /^[*?{]/.test(p.slice(end + 1))) return undefined;
    const body = p.startsWith('(?:') ? p.slice(3, end) : p.slice(1, end);
    const alternatives = branches(body);
    if (alternatives.length > 1) {
      const anchored = alternatives.every((b) => startsWithKeyword(literalPrefix(b.replace(/^\\b/, '').replace(/^\((?:\?:)?/, ''))));
      return anchored ? lead : undefined;
    }
    p = p.startsWith('(?:') ? p.slice(3) : p.slice(1);
  }
  return startsWithKeyword(literalPrefix(p)) ? lead : undefined;
}

/** A branch that is only literal characters (a letter, digit, `-`, `_`, `:` …, or an escaped punctuation mark), as text. */
function literalText(branch: string): string | undefined {
  let out = '';
  for (let i = 0; i < branch.length; i++) {
    const c = branch[i] ?? '';
    if (c === '\\') {
      const next = branch[i + 1] ?? '';
      if (!/[.\-_~/:=@#%&,;'"!<> ]/.test(next)) return undefined;
      out += next;
      i++;
    } else if (/[A-Za-z0-9\-_~:=@#%&,;'"!<> ]/.test(c)) out += c;
    else return undefined;
  }
  return out === '' ? undefined : out;
}

/**
 * Literals every match of a pattern holds: for each group of the pattern's top-level sequence (not quantified to
 * allow none) whose branches are all literal text (`(?:-u|--user)`), those texts, one of which is in every match
 * (case as written: the patterns run without the `i` flag, gitleaks' case-insensitive letters being classes). A
 * pattern with a top-level `|`, and every other kind of item, says nothing here. Used as a necessary condition:
 * a rule whose match must hold `-u` or `--user` is not tried where neither follows.
 * @example requiredLiterals('\\bcurl\\b[^\\n]{0,256}(?:-u|--user)=(\\w+)') // [['-u', '--user']]
 */
export function requiredLiterals(pattern: string): string[][] {
  if (branches(pattern).length > 1) return [];
  const out: string[][] = [];
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i];
    let end = i + 1;
    let group: string | undefined;
    if (c === '\\') end = i + 2;
    else if (c === '[') {
      end = i + 1;
      while (end < pattern.length && pattern[end] !== ']') end += pattern[end] === '\\' ? 2 : 1;
      end += 1;
    } else if (c === '(') {
      const close = groupEnd(pattern, i);
      if (close < 0) return out;
      end = close + 1;
      const body = pattern.slice(i + 1, close);
      // A lookaround consumes nothing; a named or plain group's body starts after its opening.
      if (!/^\?(?:[=!]|<[=!])/.test(body)) group = body.startsWith('?:') ? body.slice(2) : body.startsWith('?<') ? body.slice(body.indexOf('>') + 1) : body;
    }
    // Its quantifier, if any: one that allows none (`?`, `*`, `{0,…}`) makes the item not required.
    const q = /^(?:[?*+]|\{(\d+)(?:,\d*)?\})\??/.exec(pattern.slice(end));
    const optional = q !== null && (q[0][0] === '?' || q[0][0] === '*' || q[1] === '0');
    if (group !== undefined && !optional) {
      const texts = branches(group).map(literalText);
      if (texts.every((t): t is string => t !== undefined)) out.push(texts);
    }
    i = end + (q ? q[0].length : 0);
  }
  return out;
}

/*
 * FLAGS: the patterns run with `m`: gitleaks' `^` and `$` mean the start and end of the fragment it scans, a file;
 * in a whole output (many lines) they mean a line's (`https://…@gems.contribsys.com` ends its line, not the output).
 * `\z`, the end of the text, is converted to `(?![\s\S])` and stays so.
 */

/** Compiles the generated rules into a finder (patterns compiled lazily, on first use). */
export function createVendorRules(generated: GeneratedRules): VendorRules {
  const rules: CompiledRule[] = generated.rules.map((r) => ({
    id: r.id,
    keywords: r.keywords,
    pattern: r.pattern,
    leftContext: r.leftContext,
    secretGroup: r.secretGroup,
    entropy: r.entropy,
    generic: r.id.startsWith('generic'),
    triedIn: 0,
    triedAt: -1,
    required: requiredLiterals(r.pattern),
    nextAt: [],
    nextFrom: [],
    lastFrom: -1,
    lastIn: 0,
    matchedFrom: -1,
    matchedUntil: -1,
    allow: r.allow.map((a) => ({ target: a.target, regexes: a.regexes.map((p) => new RegExp(p)), stopwords: a.stopwords })),
  }));
  const globalRegexes = generated.global.regexes.map((p) => new RegExp(p));
  const globalStopwords = generated.global.stopwords;
  // Every keyword once; a keyword's rules; how far before a keyword each rule's match may start.
  const keywords = [...new Set(rules.flatMap((r) => r.keywords))];
  const numberOf = new Map(keywords.map((k, i) => [k, i]));
  const rulesOf: CompiledRule[][] = keywords.map(() => []);
  for (const r of rules) for (const k of new Set(r.keywords)) rulesOf[numberOf.get(k) ?? -1]?.push(r);
  for (const r of rules) r.lead = keywordLead(r.pattern, r.keywords);
  // For find() alone (the masker scans for the keywords itself and calls findAt): built on its first call.
  let scanner: TriggerScanner | undefined;

  /** The match as gitleaks would have reported it: with the key characters before it that its pattern allowed. */
  const wholeMatch = (r: CompiledRule, text: string, index: number, match: string): string => {
    let from = index;
    while (from > 0 && index - from < r.leftContext && /[\w.-]/.test(text[from - 1] ?? '')) from--;
    return text.slice(from, index) + match;
  };

  /** Whether an allow-list keeps a finding: `'value'` when it names the value itself, `'context'` for the match or line. */
  const allowed = (r: CompiledRule, secret: string, text: string, index: number, match: string, start: number, end: number): false | 'value' | 'context' => {
    const lower = secret.toLowerCase();
    if (globalRegexes.some((re) => re.test(secret))) return 'value';
    if (globalStopwords.some((w) => lower.includes(w))) return 'context';
    for (const a of r.allow) {
      const target = a.target === 'match' ? wholeMatch(r, text, index, match) : a.target === 'line' ? lineAround(text, start, end) : secret;
      if (a.regexes.some((re) => re.test(target)) || a.stopwords.some((w) => lower.includes(w))) return a.target === 'secret' ? 'value' : 'context';
    }
    return false;
  };

  /** Judges one match of rule `r` (`shift`: groups before the rule's own, `offset`: where `m`'s subject starts in `text`). */
  const judge = (r: CompiledRule, m: RegExpExecArray, shift: number, offset: number, text: string, out: { secrets: Span[]; allowed: Span[] }): [number, number] => {
    const match = m[shift] ?? m[0];
    if (match === '') return [-1, -1];
    let group = r.secretGroup === 0 ? 0 : r.secretGroup + shift;
    if (group === 0) for (let g = shift + 1; g < m.length && group === 0; g++) if (m[g] !== undefined && m[g] !== '') group = g;
    if (group === 0) group = shift;
    const secret = m[group] ?? match;
    if (secret === '') return [-1, -1];
    const [s0, e0] = m.indices?.[group] ?? [m.index, m.index + m[0].length];
    const start = s0 + offset;
    const end = e0 + offset;
    const index = (m.indices?.[shift]?.[0] ?? m.index) + offset;
    if (r.entropy > 0 && shannonEntropy(secret) <= r.entropy) return [start, end];
    if (r.generic && !/\d/.test(secret)) return [start, end];
    const verdict = allowed(r, secret, text, index, match, start, end);
    if (verdict !== false) {
      // Only a vendor rule's verdict on the value itself says the value is harmless; the generic rule's
      // allow-lists are about the code around it.
      if (verdict === 'value' && !r.generic) out.allowed.push({ start, end, rule: r.id });
      return [start, end];
    }
    out.secrets.push({ start, end, rule: r.id });
    return [start, end];
  };

  let call = 0;
  const findAt = (text: string, starts: readonly number[], words: readonly number[]): { secrets: Span[]; allowed: Span[] } => {
    const out = { secrets: [] as Span[], allowed: [] as Span[] };
    if (starts.length === 0) return out;
    // A rule anchored at its keywords is tried where each occurs (sticky: a failed try costs a few characters);
    // another one is searched in a window of KEYWORD_REACH characters around them, cut where whitespace is.
    let windows: Map<CompiledRule, number[]> | undefined;
    call++;
    for (let i = 0; i < starts.length; i++) {
      const list = rulesOf[words[i] ?? -1];
      if (list === undefined) continue;
      const at = starts[i] ?? 0;
      for (const r of list) {
        if (r.lead === undefined) {
          windows ??= new Map();
          const w = windows.get(r) ?? [];
          const from = Math.max(0, at - KEYWORD_REACH);
          const to = Math.min(text.length, at + KEYWORD_REACH);
          if (w.length > 0 && from <= (w[w.length - 1] ?? 0)) w[w.length - 1] = Math.max(to, w[w.length - 1] ?? 0);
          else w.push(from, to);
          windows.set(r, w);
          continue;
        }
        const from = Math.max(0, at - r.lead);
        // Not again where the rule was tried, nor inside the secret it found last (a token of 82 characters holds
        // its own keyword's next occurrences).
        if (r.triedIn === call && (r.triedAt === from || (from >= r.matchedFrom && from < r.matchedUntil))) continue;
        if (r.triedIn !== call) r.matchedUntil = r.matchedFrom = -1;
        r.triedIn = call;
        r.triedAt = from;
        // A match holds one of each group of literals the pattern requires: where none follows, it would find nothing.
        if (r.required.length > 0 && !holdsRequired(r, text, from, call)) continue;
        r.sticky ??= r.lead === 0 ? new RegExp(r.pattern, 'ydm') : new RegExp(`[\\s\\S]{0,${r.lead}}?(${r.pattern})`, 'ydm');
        r.sticky.lastIndex = from;
        const m = r.sticky.exec(text);
        if (m) {
          const secret = judge(r, m, r.lead === 0 ? 0 : 1, 0, text, out);
          r.matchedFrom = secret[0];
          r.matchedUntil = secret[1];
        }
      }
    }
    for (const [r, w] of windows ?? []) {
      r.regex ??= new RegExp(r.pattern, 'gdm'); // d: where each group is; m: see FLAGS
      const re = r.regex;
      for (let i = 0; i < w.length; i += 2) {
        // Cut where whitespace is, never inside a token.
        const from = cutAtSpace(text, w[i] ?? 0, -1);
        const part = text.slice(from, cutAtSpace(text, w[i + 1] ?? 0, 1));
        re.lastIndex = 0;
        for (let m = re.exec(part); m; m = re.exec(part)) {
          if (m[0] === '') re.lastIndex++;
          else judge(r, m, 0, from, text, out);
        }
      }
    }
    return out;
  };

  return {
    upstream: generated.upstream,
    size: rules.length,
    keywords,
    findAt,
    find(text) {
      const found = (scanner ??= createTriggerScanner(keywords, Number.MAX_SAFE_INTEGER)).scan(text);
      return findAt(text, found.starts, found.words);
    },
  };
}

/**
 * True when, for each group of `r.required`, one of its literals occurs in `text` at or after `from`. Each literal's
 * last place found is kept for the call (`call`): the rule's tries come in ascending order, so each literal is looked
 * for over the text once per call, not once per try (linear, however many times the keyword occurs). A try before the
 * last one of the call (keywords of different lengths ending in order but starting out of it) looks again: a literal
 * not found after the last place may stand after this one.
 */
export function holdsRequired(r: { required: string[][]; nextAt: number[]; nextFrom: number[]; lastFrom?: number; lastIn?: number }, text: string, from: number, call: number): boolean {
  const back = r.lastIn === call && from < (r.lastFrom ?? 0);
  r.lastIn = call;
  r.lastFrom = from;
  let k = 0;
  for (const group of r.required) {
    let found = false;
    for (const literal of group) {
      // nextFrom[k]: the call of the last look, nextAt[k]: where the literal was found then (-1: not after that place).
      if (back || r.nextFrom[k] !== call || ((r.nextAt[k] ?? -1) >= 0 && (r.nextAt[k] ?? -1) < from)) {
        r.nextFrom[k] = call;
        r.nextAt[k] = text.indexOf(literal, from);
      }
      if ((r.nextAt[k] ?? -1) >= from) found = true;
      k++;
    }
    if (!found) return false;
  }
  return true;
}

/** `at` moved to the nearest whitespace in direction `dir` (-1: before, 1: after), at most 256 characters away. */
function cutAtSpace(text: string, at: number, dir: -1 | 1): number {
  for (let i = 0, p = at; i < 256; i++, p += dir) {
    if (p <= 0 || p >= text.length) return Math.max(0, Math.min(text.length, p));
    const c = text.charCodeAt(dir < 0 ? p - 1 : p);
    if (c === 32 || c === 10 || c === 9 || c === 13) return p;
  }
  return at;
}
