/**
 * An Aho–Corasick automaton over a list of ASCII words matched in any case: one table lookup per character, whatever
 * the number of words. Shared by the masker's prefilter (`trigger-scan.ts`) and the error stems (`errorline.ts`); each
 * brings its own word list and its own loop over the text.
 *
 * The goto function is made complete and flattened into one transition table over the characters the words use (any
 * other character leads back to the root), states premultiplied by the row length so that a step is one load.
 */

export interface Automaton {
  /** The words, in the order given (lower case). */
  readonly words: readonly string[];
  /** Per ASCII character, its symbol (1…255; upper case shares its letter's), or 0 for a character no word uses. */
  readonly symbol: Uint8Array;
  /** The row length (the number of symbols, made even). */
  readonly stride: number;
  /**
   * `table[state + symbol]`: the next state (the root is 0, each state a multiple of {@link stride}), with bit 0 set
   * when a word ends in the state it leads to; the state itself is the entry with bit 0 cleared.
   */
  readonly table: Int32Array;
  /** Per state (`state / stride`), the words (their indices) ending there. */
  readonly ends: readonly (readonly number[])[];
}

/** Builds the automaton for `words` (ASCII); `what` names a word in the error thrown for one that is not. */
export function buildAutomaton(words: readonly string[], what = 'word'): Automaton {
  const lower = words.map((w) => w.toLowerCase());
  // The alphabet: each character a word uses gets a symbol (upper case shares its letter's); every other is 0.
  const symbol = new Uint8Array(128);
  let symbols = 1;
  for (const w of lower) {
    for (let i = 0; i < w.length; i++) {
      const c = w.charCodeAt(i);
      if (c >= 128) throw new Error(`${what} ${JSON.stringify(w)} is not ASCII`);
      if (symbol[c] === 0) {
        symbol[c] = symbols;
        if (c >= 97 && c <= 122) symbol[c - 32] = symbols;
        symbols++;
        if (symbols > 255) throw new Error(`the ${what}s use more than 255 characters`);
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
  return { words: lower, symbol, stride, table, ends };
}
