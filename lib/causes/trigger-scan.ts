/**
 * The masker's prefilter: one pass over a text that finds every occurrence of a set of trigger words (any case, as
 * gitleaks finds its rules' keywords) and every long run of token characters, so that the rules run only where one of
 * their triggers is. An ordinary output holds few of either, and most of its lines are never looked at again.
 *
 * The words are matched by an Aho–Corasick automaton ({@link buildAutomaton}: one table lookup per character, whatever
 * the number of words). Linear in the text: each character is read once.
 */

import { buildAutomaton } from './automaton';

/** Where the trigger words occur, and where the long token runs are (see {@link TriggerScanner.scan}). */
export interface ScanResult {
  /** Start offset of each occurrence, ascending by its end. */
  starts: number[];
  /** The word (its index in the scanner's list) of each occurrence, parallel to {@link starts}. */
  words: number[];
  /**
   * `[start, end)` pairs of the runs of {@link TOKEN_CHARS} of at least the scanner's run length that hold upper case,
   * lower case and digits (what random text holds; a path, a word or a number does not), ascending.
   */
  runs: number[];
  /** Offsets of the characters outside ASCII that a word list for them names (see {@link TriggerScanner}). */
  wide: number[];
}

export interface TriggerScanner {
  /** The words, in the order given (lower case). */
  readonly words: readonly string[];
  scan(text: string): ScanResult;
}

const TOKEN = 0x100;
const UPPER = 0x200;
const LOWER = 0x400;
const DIGIT = 0x800;
/** A character of the scanner's `wideChars`. */
const WIDE = 0x1000;
/** A run is reported only when it mixes upper case, lower case and digits, as random text does. */
const MIXED = UPPER | LOWER | DIGIT;

/** The characters of a token run: base64 and base64url (letters, digits, `+`, `/`, `_`, `-`). */
const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-';

/**
 * Builds a scanner for `words` (ASCII, matched in any case), reporting token runs of `minRun` characters or more and
 * the characters of `wideChars` (characters outside ASCII that start a trigger, such as `密`).
 */
export function createTriggerScanner(words: readonly string[], minRun: number, wideChars = ''): TriggerScanner {
  const { words: lower, symbol, stride, table, ends } = buildAutomaton(words, 'trigger');
  // Per UTF-16 code unit: its symbol (low 8 bits), for a token character TOKEN and its class (upper, lower, digit), and
  // WIDE for a character of `wideChars`. One load per character, no test of its range (64 K entries, 128 KB).
  const info = new Uint16Array(65536);
  for (let c = 0; c < 128; c++) info[c] = symbol[c] ?? 0;
  for (let i = 0; i < TOKEN_CHARS.length; i++) {
    const c = TOKEN_CHARS.charCodeAt(i);
    info[c] = (info[c] ?? 0) | TOKEN | (c >= 65 && c <= 90 ? UPPER : c >= 97 && c <= 122 ? LOWER : c >= 48 && c <= 57 ? DIGIT : 0);
  }
  for (const c of wideChars) {
    const code = c.charCodeAt(0);
    if (code < 128) throw new Error(`wide character ${JSON.stringify(c)} is ASCII`);
    info[code] = WIDE;
  }
  const lengths = lower.map((w) => w.length);

  return {
    words: lower,
    scan(text) {
      const out: ScanResult = { starts: [], words: [], runs: [], wide: [] };
      const n = text.length;
      let state = 0;
      let runStart = 0;
      let classes = 0;
      for (let i = 0; i < n; i++) {
        // A character outside ASCII has symbol 0: it leads back to the root, and is no token character.
        const x = info[text.charCodeAt(i)] as number;
        const entry = table[state + (x & 0xff)] as number;
        state = entry & ~1;
        if ((entry & 1) !== 0) {
          for (const w of ends[state / stride] ?? []) {
            out.starts.push(i + 1 - (lengths[w] ?? 0));
            out.words.push(w);
          }
        }
        // Without a branch on whether this is a token character (half of a text's characters are, in no order a
        // predictor learns): `token` is all ones on one and 0 elsewhere. A run ends at a character that is not one; the
        // test below is true only there, for a run long enough (rare).
        const token = -((x >>> 8) & 1);
        if (((i - runStart - minRun) | token) >= 0 && (classes & MIXED) === MIXED) out.runs.push(runStart, i);
        if ((x & WIDE) !== 0) out.wide.push(i);
        classes = (classes | x) & token;
        runStart = (runStart & token) | ((i + 1) & ~token);
      }
      if (n - runStart >= minRun && (classes & MIXED) === MIXED) out.runs.push(runStart, n);
      return out;
    },
  };
}
