/**
 * Scores of a grouping against labelled truth, shared by the grouping benchmarks (`bench/causes.ts`).
 *
 * Grouping Accuracy (GA) is the metric of Zhu et al., "Tools and Benchmarks for Automated Log Parsing" (ICSE-SEIP
 * 2019): an item is grouped correctly when the items of its predicted group are exactly the items that share its
 * true label; GA is the share of items grouped correctly.
 */

/** Grouping Accuracy: the share of items whose predicted group is exactly their ground-truth group. */
export function groupingAccuracy(predicted: readonly (number | string)[], truth: readonly string[]): number {
  if (predicted.length !== truth.length) throw new Error(`groupingAccuracy: ${predicted.length} predictions for ${truth.length} labels`);
  const truthSize = new Map<string, number>();
  for (const t of truth) truthSize.set(t, (truthSize.get(t) ?? 0) + 1);
  const members = new Map<number | string, number[]>();
  predicted.forEach((p, i) => {
    const list = members.get(p);
    if (list) list.push(i);
    else members.set(p, [i]);
  });
  let correct = 0;
  for (const list of members.values()) {
    const first = truth[list[0] ?? 0] ?? '';
    if (list.every((i) => truth[i] === first) && truthSize.get(first) === list.length) correct += list.length;
  }
  return truth.length === 0 ? 1 : correct / truth.length;
}

/** Everything the benchmark reports of one grouping against its truth. */
export interface GroupingScore {
  items: number;
  ga: number;
  /** Distinct predicted groups. */
  groups: number;
  /** Distinct true labels. */
  truth: number;
  /** Predicted groups holding items of two or more true labels. */
  mixed: number;
  /** The true labels of the mixed groups, each mixed group as `a+b` (sorted). */
  mixedLabels: string[];
  /** True labels whose items are spread over two or more predicted groups. */
  split: number;
}

/** GA, group counts, groups that mix true labels and labels split over groups. */
export function scoreGrouping(predicted: readonly (number | string)[], truth: readonly string[]): GroupingScore {
  const labelsOf = new Map<number | string, Set<string>>();
  const groupsOf = new Map<string, Set<number | string>>();
  predicted.forEach((p, i) => {
    const t = truth[i] ?? '';
    let labels = labelsOf.get(p);
    if (!labels) labelsOf.set(p, (labels = new Set()));
    labels.add(t);
    let groups = groupsOf.get(t);
    if (!groups) groupsOf.set(t, (groups = new Set()));
    groups.add(p);
  });
  const mixedLabels = [...labelsOf.values()].filter((s) => s.size > 1).map((s) => [...s].sort().join('+'));
  return {
    items: truth.length,
    ga: groupingAccuracy(predicted, truth),
    groups: labelsOf.size,
    truth: groupsOf.size,
    mixed: mixedLabels.length,
    mixedLabels,
    split: [...groupsOf.values()].filter((s) => s.size > 1).length,
  };
}
