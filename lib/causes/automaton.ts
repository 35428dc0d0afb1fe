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
  // The trie: `next[state * stride + symbol]` the child (0 for none: no edge leads to the root); each state's edges
  // also listed (`edges`: symbol, child, …). Typed arrays, not a Map per state: the masker builds one over ~300 words
  // on its first use, in code not yet optimised (a cold start's cost).
  const stride = symbols + (symbols % 2);
  let states = 1;
  const next = new Int32Array((1 + lower.reduce((n, w) => n + w.length, 0)) * stride);
  const ends: number[][] = [[]];
  const edges: number[][] = [[]];
  lower.forEach((w, index) => {
    let state = 0;
    for (let i = 0; i < w.length; i++) {
      const s = symbol[w.charCodeAt(i)] ?? 0;
      let to = next[state * stride + s] ?? 0;
      if (to === 0) {
        to = states++;
        ends.push([]);
        edges.push([]);
        next[state * stride + s] = to;
        edges[state]?.push(s, to);
      }
      state = to;
    }
    ends[state]?.push(index);
  });
  // The failure links, breadth first: a state's row is its failure state's (complete by then), with its own edges
  // put back over it; the root's missing entries lead to the root.
  const fail = new Int32Array(states);
  const queue: number[] = [];
  for (let e = edges[0] ?? [], i = 0; i < e.length; i += 2) queue.push(e[i + 1] ?? 0);
  for (let q = 0; q < queue.length; q++) {
    const state = queue[q] as number;
    const f = fail[state] ?? 0;
    ends[state]?.push(...(ends[f] ?? []));
    next.copyWithin(state * stride, f * stride, f * stride + stride);
    const own = edges[state] ?? [];
    for (let i = 0; i < own.length; i += 2) {
      const s = own[i] ?? 0;
      const to = own[i + 1] ?? 0;
      fail[to] = next[state * stride + s] ?? 0;
      next[state * stride + s] = to;
      queue.push(to);
    }
  }
  // The states numbered again breadth first (the root, then the queue's order): the rows a text steps through most, the
  // root and the states of a word's first characters, lie side by side at the table's start. Numbered as the trie
  // was built (word by word), the rows of the first characters lay spread over the whole table (300 KB for the
  // masker's words), and most steps missed the processor's nearest cache: a scan took three times as long.
  const order = [0, ...queue];
  const renumbered = new Int32Array(states);
  order.forEach((state, k) => (renumbered[state] = k));
  // States premultiplied by the (even) row length; bit 0 of an entry set when words end in the state it leads to.
  const code = new Int32Array(states);
  for (let state = 0; state < states; state++) code[state] = (renumbered[state] ?? 0) * stride + ((ends[state]?.length ?? 0) > 0 ? 1 : 0);
  const table = new Int32Array(states * stride);
  order.forEach((state, k) => {
    for (let x = 0; x < stride; x++) table[k * stride + x] = code[next[state * stride + x] ?? 0] ?? 0;
  });
  return { words: lower, symbol, stride, table, ends: order.map((state) => ends[state] ?? []) };
}
