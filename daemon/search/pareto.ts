// The Pareto front of accuracy (higher is better) against a cost (lower is better): the points no other point beats
// on both. Pure function on plain data, used by the evolution, the results and the report.

export interface CostAccuracy {
  cost: number;
  accuracy: number;
}

/**
 * The non-dominated points, sorted by cost ascending (so accuracy ascends too). A point is dominated when another has
 * cost ≤ and accuracy ≥ with at least one strict. Of exact duplicates (same cost and accuracy) the first one given
 * is kept. Points with a NaN cost or accuracy are ignored. The returned items are the input objects themselves.
 */
export function paretoFront<T extends CostAccuracy>(points: readonly T[]): T[] {
  const order = points
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => !Number.isNaN(p.cost) && !Number.isNaN(p.accuracy))
    .sort((x, y) => x.p.cost - y.p.cost || y.p.accuracy - x.p.accuracy || x.i - y.i);
  const front: T[] = [];
  let best = -Infinity;
  for (const { p } of order) {
    // Sorted by cost then accuracy descending: a point is on the front iff it beats every cheaper-or-equal one seen.
    if (p.accuracy > best) {
      front.push(p);
      best = p.accuracy;
    }
  }
  return front;
}

/** Whether `a` dominates `b` (no worse on both, better on one). */
export function dominates(a: CostAccuracy, b: CostAccuracy): boolean {
  return a.cost <= b.cost && a.accuracy >= b.accuracy && (a.cost < b.cost || a.accuracy > b.accuracy);
}

/**
 * Picks at most `count` points of a front spread evenly along the cost axis (always keeping both ends), for
 * re-measurement and export when the front is larger than the config's frontSize. The input must be a front sorted
 * by cost (as paretoFront returns it).
 */
export function spreadAlongFront<T extends CostAccuracy>(front: readonly T[], count: number): T[] {
  if (front.length <= count) return [...front];
  if (count <= 0) return [];
  if (count === 1) return [front[front.length - 1]];
  const picked = new Set<number>();
  for (let i = 0; i < count; i++) picked.add(Math.round((i * (front.length - 1)) / (count - 1)));
  return [...picked].sort((a, b) => a - b).map((i) => front[i]);
}
