/**
 * Plain Drain (P. He, J. Zhu, Z. Zheng, M. R. Lyu, "Drain: An Online Log Parsing Approach with Fixed Depth Tree",
 * ICWS 2017) with the default settings of its reference implementations (depth 4, similarity threshold 0.4, at most
 * 100 children per node, tokens split on whitespace, no masking beyond "a token with a digit routes as a wildcard").
 * A baseline of the real-output benchmark only: written from the paper, in our own words; the product does not use it.
 *
 * A message is routed by its token count, then by its first `depth - 2` tokens, to a leaf of clusters; it joins the
 * most similar cluster (share of positions whose tokens are equal) when that share reaches the threshold, turning the
 * differing positions of the template into `<*>`, else it starts a new cluster.
 */

const WILDCARD = '<*>';

interface Cluster {
  id: number;
  template: string[];
}

interface Node {
  children: Map<string, Node>;
  clusters: Cluster[];
}

const node = (): Node => ({ children: new Map(), clusters: [] });

export class PlainDrain {
  private readonly root = node();
  private next = 0;
  constructor(
    private readonly depth = 4,
    private readonly threshold = 0.4,
    private readonly maxChildren = 100,
  ) {}

  /** The cluster id of a message (ids never merge). */
  add(message: string): number {
    const tokens = message.trim().split(/\s+/).filter(Boolean);
    let at = this.child(this.root, String(tokens.length));
    for (let i = 0; i < Math.min(this.depth - 2, tokens.length); i++) {
      const t = tokens[i] ?? '';
      at = this.child(at, /\d/.test(t) ? WILDCARD : t);
    }
    let best: Cluster | undefined;
    let bestSim = -1;
    for (const c of at.clusters) {
      let same = 0;
      c.template.forEach((t, i) => {
        if (t === tokens[i]) same += 1;
      });
      const sim = tokens.length === 0 ? 1 : same / tokens.length;
      if (sim > bestSim) {
        bestSim = sim;
        best = c;
      }
    }
    if (best && bestSim >= this.threshold) {
      best.template = best.template.map((t, i) => (t === tokens[i] ? t : WILDCARD));
      return best.id;
    }
    const cluster = { id: this.next++, template: tokens };
    at.clusters.push(cluster);
    return cluster.id;
  }

  /** The child of `parent` for `key`; the wildcard child once `maxChildren` are taken. */
  private child(parent: Node, key: string): Node {
    let found = parent.children.get(key);
    if (found) return found;
    if (parent.children.size >= this.maxChildren) key = WILDCARD;
    found = parent.children.get(key);
    if (!found) parent.children.set(key, (found = node()));
    return found;
  }
}
