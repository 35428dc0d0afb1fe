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
  /** Where the rules came from. */
  upstream: GeneratedRules['upstream'];
  /** How many rules there are. */
  size: number;
}

function lineAround(text: string, start: number, end: number): string {
  const a = text.lastIndexOf('\n', start - 1) + 1;
  const b = text.indexOf('\n', end);
  return text.slice(a, b === -1 ? text.length : b);
}

/**
 * The keywords as a trie over lower-case ASCII codes, flattened into one transition table: `next[state * 128 + c]`
 * is the state after character `c`, 0 for none (the root is state 1); `word[state]` the keyword ending there.
 */
interface KeywordTrie {
  next: Int32Array;
  word: (string | undefined)[];
}

function keywordTrie(keywords: readonly string[]): KeywordTrie {
  const rows: number[][] = [[], []]; // state 0 unused, 1 the root
  const word: (string | undefined)[] = [undefined, undefined];
  for (const k of keywords) {
    let state = 1;
    for (let i = 0; i < k.length; i++) {
      const c = k.charCodeAt(i);
      if (c >= 128) throw new Error(`keyword ${JSON.stringify(k)} is not ASCII`);
      const row = rows[state] as number[];
      let to = row[c];
      if (to === undefined) {
        to = rows.length;
        rows.push([]);
        word.push(undefined);
        row[c] = to;
      }
      state = to;
    }
    word[state] = k;
  }
  const next = new Int32Array(rows.length * 128);
  rows.forEach((row, state) => row.forEach((to, c) => (next[state * 128 + c] = to)));
  return { next, word };
}

/**
 * Every occurrence of every keyword in `text`, case-insensitively (ASCII): keyword → its start offsets, ascending.
 * One walk of the trie from each position, as deep as the longest keyword at most: linear in the text.
 */
function findKeywords(trie: KeywordTrie, text: string): Map<string, number[]> {
  const at = new Map<string, number[]>();
  const { next, word } = trie;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let state = 1;
    for (let j = i; j < n; j++) {
      let c = text.charCodeAt(j);
      if (c >= 128) break;
      if (c >= 65 && c <= 90) c += 32;
      state = next[state * 128 + c] ?? 0;
      if (state === 0) break;
      const w = word[state];
      if (w !== undefined) {
        const list = at.get(w);
        if (list) list.push(i);
        else at.set(w, [i]);
      }
    }
  }
  return at;
}

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
    allow: r.allow.map((a) => ({ target: a.target, regexes: a.regexes.map((p) => new RegExp(p)), stopwords: a.stopwords })),
  }));
  const globalRegexes = generated.global.regexes.map((p) => new RegExp(p));
  const globalStopwords = generated.global.stopwords;
  // Every keyword once, longest first; a keyword's rules; keywords inside another keyword (found when it is).
  const rulesOf = new Map<string, CompiledRule[]>();
  for (const r of rules) for (const k of r.keywords) rulesOf.set(k, [...(rulesOf.get(k) ?? []), r]);
  const trie = keywordTrie([...rulesOf.keys()]);

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

  return {
    upstream: generated.upstream,
    size: rules.length,
    find(text) {
      // Where each keyword occurs (any case): none, for most texts, and then no rule runs.
      const at = findKeywords(trie, text);
      if (at.size === 0) return { secrets: [], allowed: [] };
      const present = new Set<CompiledRule>();
      for (const k of at.keys()) for (const r of rulesOf.get(k) ?? []) present.add(r);
      /** True when one of the rule's keywords occurs within {@link KEYWORD_REACH} characters of [start, end). */
      const near = (r: CompiledRule, start: number, end: number): boolean =>
        r.keywords.some((k) => {
          const list = at.get(k) ?? [];
          // The first occurrence at or after start − reach (binary search).
          let lo = 0;
          let hi = list.length;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if ((list[mid] ?? 0) < start - KEYWORD_REACH) lo = mid + 1;
            else hi = mid;
          }
          return lo < list.length && (list[lo] ?? Infinity) <= end + KEYWORD_REACH;
        });
      const spans: Span[] = [];
      const allowedSpans: Span[] = [];
      for (const r of present) {
        r.regex ??= new RegExp(r.pattern, 'gd'); // d: where each group is
        const re = r.regex;
        re.lastIndex = 0;
        for (let m = re.exec(text); m; m = re.exec(text)) {
          if (m[0] === '') {
            re.lastIndex++;
            continue;
          }
          let group = r.secretGroup;
          if (group === 0) for (let g = 1; g < m.length && group === 0; g++) if (m[g] !== undefined && m[g] !== '') group = g;
          const secret = m[group] ?? m[0];
          const where = m.indices?.[group] ?? [m.index, m.index + m[0].length];
          if (secret === '') continue;
          const [start, end] = where;
          if (!near(r, m.index, m.index + m[0].length)) continue;
          if (r.entropy > 0 && shannonEntropy(secret) <= r.entropy) continue;
          if (r.generic && !/\d/.test(secret)) continue;
          const verdict = allowed(r, secret, text, m.index, m[0], start, end);
          if (verdict !== false) {
            // Only a vendor rule's verdict on the value itself says the value is harmless; the generic rule's
            // allow-lists are about the code around it.
            if (verdict === 'value' && !r.generic) allowedSpans.push({ start, end, rule: r.id });
            continue;
          }
          spans.push({ start, end, rule: r.id });
        }
      }
      return { secrets: spans, allowed: allowedSpans };
    },
  };
}
