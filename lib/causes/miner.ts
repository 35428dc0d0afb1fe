/**
 * The streaming template miner that groups failures by cause, after `maskVariables` (`masking.ts`).
 *
 * It follows Drain (He et al., "Drain: An Online Log Parsing Approach with Fixed Depth Tree", ICWS 2017): a message
 * is split into words; a fixed-depth tree routes it by its word count and its first words (a word holding a digit
 * takes the `<*>` branch) to a short list of templates; the most similar of them (share of equal words) takes the
 * message if the share reaches a threshold, and the positions where they differ become `<*>`; otherwise the message
 * starts a new template.
 *
 * Drain then treats every differing position as a variable, which merges `VM Started` with `VM Stopped`. Here, as
 * in Brain (Yu et al., "Brain: Log Parsing with Bidirectional Parallel Tree", IEEE TSC 2023), which tells
 * constants from variables by how often words recur, a differing position is only a variable once it has shown more
 * than `maxConstants` distinct words, or (when the stream ends, {@link TemplateMiner.settle}) when none of its words
 * came back, or at once when the differing words both hold a masked value (Brain: a word holding a variable is a
 * variable); until then its words are constants and split the template into groups. Groups only ever merge, never
 * split, so a streaming consumer keeps per-group state and merges it at the end ({@link TemplateMiner.resolve}).
 *
 * One pass, one message at a time, deterministic for a given input order, bounded: at most `maxGroups` groups
 * (a message that would start one more is {@link OVERFLOW}), at most `maxWords` words per message, at most
 * `maxConstants + 1` words remembered per differing position. One configuration for every input.
 */
import { WILDCARD } from './masking';

/** Options of {@link TemplateMiner}; the defaults are the one configuration used for every input. */
export interface MinerOptions {
  /** Groups (causes) kept; a message that would start one more is {@link OVERFLOW}. @default 5000 */
  maxGroups?: number;
  /** Share of equal words for a message to join a template. @default 0.5 */
  similarity?: number;
  /** A differing position with at most this many distinct words separates groups; with more it is a variable. @default 3 */
  maxConstants?: number;
  /** Leading words that route a message in the tree (Drain's depth minus 2). @default 2 */
  depth?: number;
  /** Children of a tree node; beyond, words share the `<*>` child. @default 100 */
  maxChildren?: number;
  /** Words mined per message; the rest is joined into the last word. @default 64 */
  maxWords?: number;
  /**
   * Whether a position where two different words both hold a masked value is a variable at once (Brain's rule). The
   * error-line grouper turns it off: there a masked word keeps what says something about the failure (a path's root
   * and file type: `/etc/<*>.toml` against `/usr/<*>`). @default true
   */
  maskedWordsVary?: boolean;
  /**
   * Whether a word names a kind of failure (a code, an error word) rather than a value. A differing position whose words
   * were each seen once becomes a variable at {@link TemplateMiner.settle} only when none of them names a kind: two
   * different causes seen once each (`connection refused` / `permission denied`, `status 404` / `status 503`) stay
   * apart. @default () => false
   */
  isKind?: (word: string) => boolean;
  /**
   * Whether a word looks like a value (digits, quotes, a path, an identifier). When given, a once-seen position becomes a
   * variable at {@link TemplateMiner.settle} only when one of its words looks like a value: two different plain words
   * seen once each (`relation` / `column`, `started` / `stopped`) stay apart. @default none (any word may be a value)
   */
  isValue?: (word: string) => boolean;
}

/** A Drain template: its words (`<*>` where messages differed) and what was seen at each differing position. */
interface Template {
  words: string[];
  /** Messages it took. */
  count: number;
  /** Differing positions: the distinct words seen (while few) and how often, or `null` once it is a variable. */
  seen: Map<number, Map<string, number> | null>;
  /** Groups of this template by the words at its differing, non-variable positions. */
  groups: Map<string, number>;
}

/** A group: a template plus its own words at the template's differing, non-variable positions. */
interface Group {
  template: Template;
  /** The words of its first message. */
  words: string[];
}

interface TreeNode {
  children: Map<string, TreeNode>;
  templates: Template[];
}

/** Messages whose template {@link TemplateMiner.add} remembers. */
const RECENT = 4096;

/** What {@link TemplateMiner.add} returns for a message that did not fit under `maxGroups`. */
export const OVERFLOW = -1;

function hasDigit(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 48 && c <= 57) return true;
  }
  return false;
}

/**
 * True when two differing words both hold a masked value (`LOCAL(<*>),` and `<*>,`, `rhost=<*>` and
 * `rhost=<*>.example.net`): their position is a variable at once, as in Brain, where a word that holds a variable
 * is a variable as a whole. (A masked value against a plain word, `<*>` against `****`, is left to the recurrence rule.)
 */
function bothValues(a: string, b: string): boolean {
  return a.includes(WILDCARD) && b.includes(WILDCARD);
}

/**
 * The streaming template miner (see the module comment). Feed masked messages with {@link add}, which returns a
 * group id; groups may later merge (a position seen with many words becomes a variable), so read a message's final
 * group with {@link resolve} and its template with {@link template}.
 * @example
 *   const miner = new TemplateMiner();
 *   const id = miner.add(prepareMessage('connect to 10.0.0.7 failed'));
 *   miner.template(id) // 'connect to <*> failed'
 */
export class TemplateMiner {
  private readonly root = new Map<number, TreeNode>();
  private readonly groups: Group[] = [];
  private readonly templates: Template[] = [];
  /** Union-find over group ids: a merged group points at the group it joined. */
  private parent = new Int32Array(64);
  private live = 0;
  private readonly maxGroups: number;
  private readonly similarity: number;
  private readonly maxConstants: number;
  private readonly depth: number;
  private readonly maxChildren: number;
  private readonly maxWords: number;
  private readonly maskedWordsVary: boolean;
  private readonly isKind: (word: string) => boolean;
  private readonly isValue: (word: string) => boolean;
  /** Messages mined lately and the template each went to (see {@link add}). */
  private readonly recent = new Map<string, { template: Template; words: string[] }>();

  constructor(options: MinerOptions = {}) {
    this.maxGroups = options.maxGroups ?? 5000;
    this.similarity = options.similarity ?? 0.5;
    this.maxConstants = options.maxConstants ?? 3;
    this.depth = options.depth ?? 2;
    this.maxChildren = options.maxChildren ?? 100;
    this.maxWords = options.maxWords ?? 64;
    this.maskedWordsVary = options.maskedWordsVary ?? true;
    this.isKind = options.isKind ?? (() => false);
    this.isValue = options.isValue ?? (() => true);
  }

  /** Groups now (merged ones not counted). */
  get size(): number {
    return this.live;
  }

  /** The words of a message as mined: split at whitespace, at most `maxWords`. */
  words(message: string): string[] {
    const words = message.split(' ').filter((w) => w !== '');
    if (words.length > this.maxWords) words.splice(this.maxWords - 1, words.length, words.slice(this.maxWords - 1).join(' '));
    return words;
  }

  /** Mines one masked message; returns its group id (see {@link resolve}) or {@link OVERFLOW}. */
  add(message: string): number {
    // A message mined before goes to the template it went to (whose constant words are still its words): its words,
    // the tree and the comparison with the leaf's templates are not made again. Bounded: forgotten past RECENT.
    const known = this.recent.get(message);
    const words = known ? known.words : this.words(message);
    let template = known?.template;
    if (!template) {
      const leaf = this.leaf(words, false);
      template = leaf ? this.bestMatch(leaf.templates, words) : undefined;
    }
    if (template) {
      let variablesAdded = false;
      for (let i = 0; i < words.length; i++) {
        const word = words[i] ?? '';
        const current = template.words[i] ?? '';
        if (current !== WILDCARD) {
          if (current !== word) {
            template.words[i] = WILDCARD;
            if (this.maskedWordsVary && bothValues(current, word)) {
              template.seen.set(i, null);
              variablesAdded = true;
            } else template.seen.set(i, new Map([[current, template.count], [word, 1]]));
          }
          continue;
        }
        const seen = template.seen.get(i);
        if (!seen) continue;
        seen.set(word, (seen.get(word) ?? 0) + 1);
        if (seen.size > this.maxConstants) {
          template.seen.set(i, null);
          variablesAdded = true;
        }
      }
      template.count += 1;
      if (variablesAdded) this.regroup(template);
    } else {
      if (this.live >= this.maxGroups) return OVERFLOW;
      template = { words: [...words], count: 1, seen: new Map(), groups: new Map() };
      this.leaf(words, true)?.templates.push(template);
      this.templates.push(template);
    }
    if (!known) {
      if (this.recent.size >= RECENT) this.recent.clear();
      this.recent.set(message, { template, words });
    }
    const key = this.groupKey(template, words);
    const existing = template.groups.get(key);
    if (existing !== undefined) return existing;
    if (this.live >= this.maxGroups) return OVERFLOW;
    const id = this.groups.length;
    this.groups.push({ template, words: [...words] });
    if (id >= this.parent.length) {
      const next = new Int32Array(this.parent.length * 2);
      next.set(this.parent);
      this.parent = next;
    }
    this.parent[id] = id;
    this.live += 1;
    template.groups.set(key, id);
    return id;
  }

  /**
   * Ends a stream (or a part of it): a differing position where every word was seen only once is a variable too
   * (unless one of them names a kind: {@link MinerOptions.isKind}), so its groups merge. Call before reading the final groups; mining may go on afterwards.
   */
  settle(): void {
    for (const template of this.templates) {
      let variablesAdded = false;
      for (const [i, seen] of template.seen) {
        if (seen && seen.size > 1 && [...seen.values()].every((n) => n === 1) && ![...seen.keys()].some(this.isKind) && [...seen.keys()].some(this.isValue)) {
          template.seen.set(i, null);
          variablesAdded = true;
        }
      }
      if (variablesAdded) this.regroup(template);
    }
  }

  /** What the miner holds: templates, groups now, and the words remembered at differing positions. */
  stats(): { templates: number; groups: number; words: number } {
    let words = 0;
    for (const t of this.templates) for (const seen of t.seen.values()) words += seen?.size ?? 0;
    return { templates: this.templates.length, groups: this.live, words };
  }

  /** The group a group id ended up in (itself unless it merged). */
  resolve(id: number): number {
    if (id < 0) return id;
    let root = id;
    while (this.parent[root] !== root) root = this.parent[root] ?? root;
    let at = id;
    while (at !== root) {
      const next = this.parent[at] ?? root;
      this.parent[at] = root;
      at = next;
    }
    return root;
  }

  /** The template text of a group: its words joined by one space, `<*>` at variable positions. */
  template(id: number): string {
    const group = this.groups[this.resolve(id)];
    if (!group) return '';
    const { template } = group;
    return template.words.map((w, i) => (w !== WILDCARD || template.seen.get(i) === null ? w : (group.words[i] ?? w))).join(' ');
  }

  /** The key of a message's group within a template: its words at the differing, non-variable positions. */
  private groupKey(template: Template, words: readonly string[]): string {
    let key = '';
    for (const [i, seen] of template.seen) if (seen !== null) key += `${i}\u0000${words[i] ?? ''}\u0000`;
    return key;
  }

  /** After a position became a variable: groups of the template that now have the same key merge. */
  private regroup(template: Template): void {
    const regrouped = new Map<string, number>();
    for (const id of template.groups.values()) {
      const group = this.groups[id];
      if (!group) continue;
      const key = this.groupKey(template, group.words);
      const into = regrouped.get(key);
      if (into === undefined) regrouped.set(key, id);
      else {
        this.parent[id] = into;
        this.live -= 1;
      }
    }
    template.groups = regrouped;
  }

  /** The tree node whose templates a message is compared with; `create` adds the missing branches. */
  private leaf(words: readonly string[], create: boolean): TreeNode | undefined {
    let node: TreeNode | undefined = this.root.get(words.length);
    if (!node) {
      if (!create) return undefined;
      node = { children: new Map(), templates: [] };
      this.root.set(words.length, node);
    }
    const levels = Math.min(this.depth, words.length);
    for (let i = 0; i < levels; i++) {
      const word = words[i] ?? '';
      const key = hasDigit(word) || word.includes(WILDCARD) ? WILDCARD : word;
      let next: TreeNode | undefined = node.children.get(key);
      if (!next && !create) next = node.children.get(WILDCARD);
      if (!next && create) {
        const branch = node.children.size < this.maxChildren ? key : WILDCARD;
        next = node.children.get(branch);
        if (!next) {
          next = { children: new Map(), templates: [] };
          node.children.set(branch, next);
        }
      }
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  /** Drain's choice: the template with the largest share of equal words (ties: more variables), if enough. */
  private bestMatch(templates: readonly Template[], words: readonly string[]): Template | undefined {
    let best: Template | undefined;
    let bestSim = -1;
    let bestVars = -1;
    for (const t of templates) {
      let same = 0;
      let vars = 0;
      for (let i = 0; i < words.length; i++) {
        const w = t.words[i];
        if (w === words[i]) same += 1;
        else if (w === WILDCARD) vars += 1;
      }
      const sim = words.length === 0 ? 1 : same / words.length;
      if (sim > bestSim || (sim === bestSim && vars > bestVars)) {
        best = t;
        bestSim = sim;
        bestVars = vars;
      }
    }
    return best && bestSim >= this.similarity ? best : undefined;
  }
}
