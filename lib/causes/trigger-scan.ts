/**
 * The masker's prefilter: one pass over a text that finds every occurrence of a set of trigger words (any case, as
 * gitleaks finds its rules' keywords) and every long run of token characters, so that the rules run only where one of
 * their triggers is. An ordinary output holds few of either, and most of its lines are never looked at again.
 *
 * The words are matched by an Aho–Corasick automaton ({@link buildAutomaton}: one table lookup per character, whatever
 * the number of words). Linear in the text: each character is read once. The same pass can answer the failure
 * reader's questions about the text's lines (which lines hold an error stem, whether a control character is there:
 * {@link TriggerScanner.scanLines}), so that reading an output does not scan its characters once more for them.
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
  /** Offsets of the newlines, ascending. */
  newlines: number[];
}

/** {@link ScanResult} and what the same pass found about the text's lines (see {@link TriggerScanner.scanLines}). */
export interface LineScanResult extends ScanResult {
  /** Per line of the text (split at `\n`), 1 when it holds one of the scanner's `lineWords` (any case), else 0. */
  lineWords: Uint8Array;
  /** True when the text holds a control character other than tab and newline (C0, `\r`, ESC, DEL). */
  control: boolean;
}

export interface TriggerScanner {
  /** The words, in the order given (lower case). */
  readonly words: readonly string[];
  scan(text: string): ScanResult;
  /**
   * {@link scan}, and in the same pass which lines hold one of the scanner's `lineWords` and whether the text holds a
   * control character: what the error-line reading would otherwise find in passes of its own over the same characters.
   */
  scanLines(text: string): LineScanResult;
}

const TOKEN = 0x100;
const UPPER = 0x200;
const LOWER = 0x400;
const DIGIT = 0x800;
/** A character of the scanner's `wideChars`. */
const WIDE = 0x1000;
/** A control character: C0 but tab and newline, and DEL (what `errorline.ts` resolves or drops before reading). */
const CONTROL = 0x2000;
/** The newline. */
const NEWLINE = 0x4000;
/** A run is reported only when it mixes upper case, lower case and digits, as random text does. */
const MIXED = UPPER | LOWER | DIGIT;

/** The characters of a token run: base64 and base64url (letters, digits, `+`, `/`, `_`, `-`). */
const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-';

/** In a transition table entry: words of the scanner's `lineWords` end in the state it leads to. */
const LINE_WORD = 2;

/**
 * Builds a scanner for `words` (ASCII, matched in any case), reporting token runs of `minRun` characters or more and
 * the characters of `wideChars` (characters outside ASCII that start a trigger, such as `密`). `lineWords` (ASCII, any
 * case): a second list whose occurrences are not reported one by one; {@link TriggerScanner.scanLines} says which lines
 * hold one. Both lists are one automaton, stepped once per character: {@link TriggerScanner.scan} reports exactly the
 * occurrences of `words` it would report without `lineWords`.
 */
export function createTriggerScanner(words: readonly string[], minRun: number, wideChars = '', lineWords: readonly string[] = []): TriggerScanner {
  const { words: all, symbol, stride: built, table: builtTable, ends: allEnds } = buildAutomaton([...words, ...lineWords], 'trigger');
  const lower = all.slice(0, words.length);
  // Rows laid out again four entries apart, so that an entry has two flag bits: bit 0, words of `words` end in the
  // state it leads to (their indices in `ends`); bit 1 (LINE_WORD), words of `lineWords` do.
  const stride = (built + 3) & ~3;
  const states = builtTable.length / built;
  const ends = allEnds.map((list) => list.filter((w) => w < words.length));
  const flags = allEnds.map((list, state) => ((ends[state]?.length ?? 0) > 0 ? 1 : 0) | (list.length > (ends[state]?.length ?? 0) ? LINE_WORD : 0));
  const table = new Int32Array(states * stride);
  for (let state = 0; state < states; state++) {
    for (let x = 0; x < built; x++) {
      const to = ((builtTable[state * built + x] ?? 0) & ~1) / built;
      table[state * stride + x] = to * stride + (flags[to] ?? 0);
    }
  }
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
  for (let c = 0; c < 32; c++) if (c !== 9 && c !== 10) info[c] = (info[c] ?? 0) | CONTROL;
  info[127] = (info[127] ?? 0) | CONTROL;
  info[10] = (info[10] ?? 0) | NEWLINE;
  return new Scanner(lower, info, table, stride, ends, minRun);
}

/** A scanner's tables and its one loop (a class, not closures: every scanner runs the same optimised code). */
class Scanner implements TriggerScanner {
  private readonly lengths: readonly number[];
  constructor(
    readonly words: readonly string[],
    private readonly info: Uint16Array,
    private readonly table: Int32Array,
    private readonly stride: number,
    private readonly ends: readonly (readonly number[])[],
    private readonly minRun: number,
  ) {
    this.lengths = words.map((w) => w.length);
  }

  scan(text: string): ScanResult {
    return this.scanLines(text);
  }

  scanLines(text: string): LineScanResult {
    const { info, table, stride, ends, lengths, minRun } = this;
    const n = text.length;
    // The loop only steps and notes: a flagged entry (where it was, and the entry), where a token run reaches the run
    // length, each newline, every character's flags. What they mean is worked out after it, from the few notes. (Done
    // in the loop, the rare work's code in its body made every step of the loop slower.)
    const hits: number[] = [];
    const longRuns: number[] = [];
    const newlines: number[] = [];
    let state = 0;
    // The length of the run of token characters ending here (no branch: `-(bit)` is all ones on one, else 0).
    let run = 0;
    let seen = 0;
    for (let i = 0; i < n; i++) {
      // A character outside ASCII has symbol 0: it leads back to the root, and is no token character.
      const x = info[text.charCodeAt(i)] as number;
      const entry = table[state + (x & 0xff)] as number;
      state = entry & ~3;
      if ((entry & 3) !== 0) hits.push(i, entry);
      run = (run + 1) & -((x >>> 8) & 1);
      if (run === minRun) longRuns.push(i + 1 - minRun);
      if ((x & NEWLINE) !== 0) newlines.push(i);
      seen |= x;
    }
    const out: LineScanResult = { starts: [], words: [], runs: [], wide: [], newlines, lineWords: new Uint8Array(newlines.length + 1), control: (seen & CONTROL) !== 0 };
    // The words, and the lines that hold a line word (hits ascend, and so do the newlines: one walk).
    let line = 0;
    for (let k = 0; k < hits.length; k += 2) {
      const i = hits[k] as number;
      const entry = hits[k + 1] as number;
      if ((entry & 1) !== 0) {
        for (const w of ends[(entry & ~3) / stride] ?? []) {
          out.starts.push(i + 1 - (lengths[w] ?? 0));
          out.words.push(w);
        }
      }
      if ((entry & LINE_WORD) !== 0) {
        while (line < newlines.length && (newlines[line] as number) < i) line++;
        out.lineWords[line] = 1;
      }
    }
    // Each run that reached the run length: to its end, reported when it mixes upper case, lower case and digits.
    for (const start of longRuns) {
      let end = start;
      let classes = 0;
      for (let c = info[text.charCodeAt(end)] as number; end < n && (c & TOKEN) !== 0; c = info[text.charCodeAt(++end)] as number) classes |= c;
      if ((classes & MIXED) === MIXED) out.runs.push(start, end);
    }
    if ((seen & WIDE) !== 0) for (let i = 0; i < n; i++) if (((info[text.charCodeAt(i)] as number) & WIDE) !== 0) out.wide.push(i);
    return out;
  }
}
