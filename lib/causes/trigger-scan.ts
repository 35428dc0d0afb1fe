/**
 * The masker's prefilter: one pass over a text that finds every occurrence of a set of trigger words (any case, as
 * gitleaks finds its rules' keywords) and every long run of token characters, so that the rules run only where one of
 * their triggers is. An ordinary output holds few of either, and most of its lines are never looked at again.
 *
 * The words are matched by an Aho–Corasick automaton (one table lookup per character, whatever the number of words),
 * flattened into one transition table over the characters the words use (any other character leads back to the
 * root). Linear in the text: each character is read once.
 */

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
/** A run is reported only when it mixes upper case, lower case and digits, as random text does. */
const MIXED = UPPER | LOWER | DIGIT;

/** The characters of a token run: base64 and base64url (letters, digits, `+`, `/`, `_`, `-`). */
const TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-';

/**
 * Builds a scanner for `words` (ASCII, matched in any case), reporting token runs of `minRun` characters or more and
 * the characters of `wideChars` (characters outside ASCII that start a trigger, such as `密`).
 */
export function createTriggerScanner(words: readonly string[], minRun: number, wideChars = ''): TriggerScanner {
  const lower = words.map((w) => w.toLowerCase());
  // The alphabet: each character a word uses gets a symbol (upper case shares its letter's); every other is 0.
  const symbol = new Uint8Array(128);
  let symbols = 1;
  for (const w of lower) {
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i);
      if (c >= 128) throw new Error(`trigger ${JSON.stringify(w)} is not ASCII`);
      if (symbol[c] === 0) {
        symbol[c] = symbols;
        if (c >= 97 && c <= 122) symbol[c - 32] = symbols;
        symbols++;
        if (symbols > 255) throw new Error('the trigger words use more than 255 characters');
      }
    }
  }
  // The trie, then the failure links breadth first, giving a complete transition table.
  const children: Map<number, number>[] = [new Map()];
  const ends: number[][] = [[]];
  lower.forEach((w, index) => {
    let state = 0;
    for (let i = 0; i < w.length; i++) {
      const s = symbol[w.charCodeAt(i)] ?? 0;
      let to = children[state]?.get(s);
      if (to === undefined) {
        to = children.length;
        children.push(new Map());
        ends.push([]);
        children[state]?.set(s, to);
      }
      state = to;
    }
    ends[state]?.push(index);
  });
  const states = children.length;
  const next = new Int32Array(states * symbols);
  const fail = new Int32Array(states);
  const queue: number[] = [];
  for (const [s, to] of children[0] ?? []) {
    next[s] = to;
    queue.push(to);
  }
  for (let q = 0; q < queue.length; q++) {
    const state = queue[q] as number;
    ends[state]?.push(...(ends[fail[state] ?? 0] ?? []));
    for (let s = 1; s < symbols; s++) {
      const to = children[state]?.get(s);
      const viaFail = next[(fail[state] ?? 0) * symbols + s] ?? 0;
      if (to === undefined) next[state * symbols + s] = viaFail;
      else {
        next[state * symbols + s] = to;
        fail[to] = viaFail;
        queue.push(to);
      }
    }
  }
  // States premultiplied by the (even) row length; bit 0 of an entry set when words end in the state it leads to.
  const stride = symbols + (symbols % 2);
  const table = new Int32Array(states * stride);
  for (let state = 0; state < states; state++) {
    for (let s = 0; s < symbols; s++) {
      const to = next[state * symbols + s] ?? 0;
      table[state * stride + s] = to * stride + ((ends[to]?.length ?? 0) > 0 ? 1 : 0);
    }
  }
  // Per ASCII character: its symbol (low 8 bits) and, for a token character, TOKEN and its class (upper, lower, digit).
  const info = new Uint16Array(128);
  for (let c = 0; c < 128; c++) info[c] = symbol[c] ?? 0;
  for (let i = 0; i < TOKEN_CHARS.length; i++) {
    const c = TOKEN_CHARS.charCodeAt(i);
    info[c] = (info[c] ?? 0) | TOKEN | (c >= 65 && c <= 90 ? UPPER : c >= 97 && c <= 122 ? LOWER : c >= 48 && c <= 57 ? DIGIT : 0);
  }
  const wide = new Set(Array.from(wideChars, (c) => c.charCodeAt(0)));
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
        const c = text.charCodeAt(i);
        if (c < 128) {
          // (c < 128 and every state's row is complete: both lookups are in bounds)
          const x = info[c] as number;
          const entry = table[state + (x & 0xff)] as number;
          state = entry & ~1;
          if ((entry & 1) !== 0) {
            for (const w of ends[state / stride] ?? []) {
              out.starts.push(i + 1 - (lengths[w] ?? 0));
              out.words.push(w);
            }
          }
          if ((x & TOKEN) !== 0) {
            classes |= x;
            continue;
          }
        } else {
          state = 0;
          if (wide.has(c)) out.wide.push(i);
        }
        if (i - runStart >= minRun && (classes & MIXED) === MIXED) out.runs.push(runStart, i);
        runStart = i + 1;
        classes = 0;
      }
      if (n - runStart >= minRun && (classes & MIXED) === MIXED) out.runs.push(runStart, n);
      return out;
    },
  };
}
