// Multi-objective evolutionary search (OFA's EvolutionFinder, extended to a Pareto front): a population of
// architectures evolves by mutation and crossover under the constraints; parents are chosen partly as OFA does (by
// accuracy), partly per cost stratum and partly by non-dominated rank and crowding (NSGA-II), so the search improves
// the whole front of predicted accuracy vs cost, not one point; the result is the front over every candidate scored.
// It depends only on a search space, an accuracy predictor and a cost function — never on weights. Generic over how
// a candidate is represented: an Arch with daemon/ofa's SearchSpace, or a compact genome (genome.ts) where speed
// matters.
import { Rng } from '../engine/rng';
import type { Emit } from '../protocol/events';
import { UserError } from '../protocol/user-error';
import { paretoFront, type CostAccuracy } from './pareto';

/** What the evolution needs of a search space (daemon/ofa's SearchSpace and ArchGenome provide it). */
export interface EvolutionSpace<G> {
  sample(rng: Rng): G;
  /** A copy with every choice (the resolution too) redrawn with probability `prob`. */
  mutate(g: G, rng: Rng, prob: number): G;
  /**
   * OFA's mutation: the resolution redrawn with probability `probs.resolution`, every other choice with `probs.arch`.
   * Without it the evolution mutates with `mutate` at the arch probability.
   */
  mutateWith?(g: G, rng: Rng, probs: { arch: number; resolution: number }): G;
  crossover(a: G, b: G, rng: Rng): G;
  /** Equal keys ⇔ the same subnet (inactive entries ignored). */
  key(g: G): string;
  smallest(): G;
  largest(): G;
}

/** Predicted accuracy of a batch of candidates (one call per generation). */
export interface AccuracyPredictor<G> {
  predict(items: readonly G[]): Float32Array;
}

/** The objective's cost of a candidate (lower is better) and whether it meets every constraint. */
export type CostFunction<G> = (g: G) => { cost: number; feasible: boolean };

export interface Candidate<G> {
  arch: G;
  key: string;
  /** Predicted accuracy. */
  accuracy: number;
  cost: number;
}

export interface EvolutionOptions {
  population: number;
  generations: number;
  parentRatio: number;
  mutationRatio: number;
  /** Chance that a mutation redraws each choice but the resolution (OFA's arch_mutate_prob, 0.1). */
  mutationProbability: number;
  /** Chance that a mutation redraws the resolution (OFA's resolution_mutate_prob; default 0.5). */
  resolutionMutationProbability?: number;
  seed: number;
  /**
   * Draws allowed for one feasible child (or one feasible member of the initial population) before the search gives
   * up with a user error. OFA keeps sampling forever; this bound only ends a search whose constraints (almost) no
   * subnet meets. Default 10,000. Every 100 failed draws a child gets new parents.
   */
  maxDraws?: number;
  /**
   * Parent selection mixes three rules: a share by accuracy alone (OFA's exploitation; default 0.1), a share as the
   * most accurate of equal-count cost strata (exploitation all along the front; default 0.4), the rest by
   * non-dominated rank and crowding (NSGA-II: coverage). The defaults matched or beat OFA's single-objective search
   * at its own constraint (median cost) on random-weight and capacity-shaped predictors, while returning a front.
   */
  eliteRatio?: number;
  strataRatio?: number;
  /** Emit `search.generation` about this many times over the run (default 50). */
  events?: number;
  signal?: AbortSignal;
}

export interface EvolutionResult<G> {
  /** Pareto front over every feasible candidate scored, sorted by cost. */
  front: Candidate<G>[];
  /** Best predicted accuracy in the population after each generation. */
  bestAccuracy: number[];
  /** Candidates the evolution generated and scored (OFA's count: the initial population + population × generations). */
  candidatesScored: number;
  /** Distinct subnets among them, the ones the predictor actually computed (the rest were already known). */
  uniqueCandidates: number;
  /** Draws (children and initial samples) that broke a constraint and were drawn again. */
  retries: number;
  wallMs: number;
}

export class SearchStoppedError extends Error {
  override name = 'SearchStoppedError';
}

/** Thrown when not even one architecture meets the constraints. */
export class UnsatisfiableConstraintsError extends UserError {
  constructor(message: string) {
    super(message, 'search.unsatisfiable-constraints');
  }
}

/** A distinct subnet the search has seen: a candidate plus its feasibility and bookkeeping. */
interface Entry<G> extends Candidate<G> {
  feasible: boolean;
  /** NaN until scored. */
  accuracy: number;
  /** Stamp of the last pass that visited it (dedup without a Set per pass). */
  mark: number;
}

export async function evolve<G>(
  space: EvolutionSpace<G>,
  predictor: AccuracyPredictor<G>,
  costOf: CostFunction<G>,
  opts: EvolutionOptions,
  emit?: Emit,
): Promise<EvolutionResult<G>> {
  const started = performance.now();
  const rng = Rng.derive(opts.seed, 0xe70); // the evolution's own stream
  const maxDraws = opts.maxDraws ?? 10_000;
  const mutationProbs = { arch: opts.mutationProbability, resolution: opts.resolutionMutationProbability ?? 0.5 };
  const mutate = (g: G): G => (space.mutateWith ? space.mutateWith(g, rng, mutationProbs) : space.mutate(g, rng, opts.mutationProbability));
  const populationSize = opts.population;
  const parentsSize = Math.max(1, Math.round(opts.parentRatio * populationSize));
  const mutations = Math.round(opts.mutationRatio * populationSize);

  // Every distinct subnet seen, costed once and scored once: children that repeat a known subnet (common once the
  // population converges) cost a lookup, not a prediction.
  const known = new Map<string, Entry<G>>();
  let front: Entry<G>[] = [];
  let unique = 0;
  let candidatesScored = 0;
  let retries = 0;
  let stamp = 0;

  const look = (arch: G): Entry<G> => {
    const key = space.key(arch);
    let entry = known.get(key);
    if (!entry) {
      const c = costOf(arch);
      entry = { arch, key, cost: c.cost, feasible: c.feasible, accuracy: NaN, mark: 0 };
      known.set(key, entry);
    }
    return entry;
  };

  /** Scores a generation's children in one predictor call, only those never scored before. */
  const score = (children: Entry<G>[]): void => {
    const fresh: Entry<G>[] = [];
    const pass = ++stamp;
    for (const c of children) {
      if (Number.isNaN(c.accuracy) && c.mark !== pass) {
        c.mark = pass;
        fresh.push(c);
      }
    }
    if (fresh.length > 0) {
      const acc = predictor.predict(fresh.map((c) => c.arch));
      for (let i = 0; i < fresh.length; i++) fresh[i].accuracy = acc[i];
      unique += fresh.length;
      // The front over everything scored, kept as we go (the front of a union is the front of the fronts).
      front = paretoFront(front.concat(fresh));
    }
    candidatesScored += children.length;
  };

  /**
   * A feasible child, drawn again until one is (OFA's loop), from parents that `pick` chooses afresh every 100 failed
   * draws; after `maxDraws` failures the constraints are taken as (nearly) unsatisfiable.
   */
  const childOf = <P>(pick: () => P, make: (parents: P) => G, what: string): Entry<G> => {
    let parents = pick();
    for (let t = 1; t <= maxDraws; t++) {
      const c = look(make(parents));
      if (c.feasible) return c;
      retries++;
      if (t % 100 === 0) parents = pick();
    }
    throw new UnsatisfiableConstraintsError(
      `the evolution drew ${maxDraws} ${what} of subnets that meet search.constraints and none of them met the constraints; loosen the constraints`,
    );
  };

  // The initial population: the smallest and largest subnets when they qualify (they anchor the front's ends), then
  // random feasible samples — drawn until found as OFA does, within a bound (maxDraws per member).
  const initial: Entry<G>[] = [];
  for (const arch of [space.smallest(), space.largest()]) {
    const c = look(arch);
    if (c.feasible && !initial.includes(c)) initial.push(c);
  }
  for (let missed = 0; initial.length < populationSize && missed < maxDraws; ) {
    const c = look(space.sample(rng));
    if (c.feasible) {
      initial.push(c);
      missed = 0;
    } else {
      retries++;
      missed++;
    }
  }
  if (initial.length === 0) {
    throw new UnsatisfiableConstraintsError(
      `no subnet meets search.constraints (not the smallest, cost ${look(space.smallest()).cost}, nor any of ${maxDraws} random ones); loosen the constraints`,
    );
  }
  while (initial.length < populationSize) initial.push(initial[rng.int(initial.length)]); // rare: a very tight constraint

  score(initial);
  let population = initial;
  const bestAccuracy: number[] = [];
  const every = Math.max(1, Math.ceil(opts.generations / (opts.events ?? 50)));
  let lastYield = performance.now();

  for (let g = 0; g < opts.generations; g++) {
    if (opts.signal?.aborted) throw new SearchStoppedError('search stopped');
    const parents = selectParents(population, parentsSize, { elite: opts.eliteRatio ?? 0.1, strata: opts.strataRatio ?? 0.4 }, ++stamp);
    const children: Entry<G>[] = [];
    const parent = (): Entry<G> => parents[rng.int(parents.length)];
    for (let j = 0; j < mutations; j++) children.push(childOf(parent, (p) => mutate(p.arch), 'mutations'));
    for (let j = mutations; j < populationSize; j++) {
      children.push(childOf(() => [parent(), parent()] as const, ([a, b]) => space.crossover(a.arch, b.arch, rng), 'crossovers'));
    }
    score(children);
    population = parents.concat(children);

    let best = -Infinity;
    for (const p of population) if (p.accuracy > best) best = p.accuracy;
    bestAccuracy.push(best);
    if (emit && ((g + 1) % every === 0 || g === opts.generations - 1)) {
      emit('search.generation', { generation: g + 1, generations: opts.generations, bestPredictedAccuracy: best, frontSize: front.length, candidatesScored });
    }
    if (performance.now() - lastYield > 100) {
      // Let a long search answer stop requests and flush telemetry.
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
  }

  return {
    front: front.map(({ arch, key, cost, accuracy }) => ({ arch, key, cost, accuracy })),
    bestAccuracy,
    candidatesScored,
    uniqueCandidates: unique,
    retries,
    wallMs: performance.now() - started,
  };
}

/**
 * Parent selection among the distinct candidates of a population: `shares.elite` of them by accuracy alone,
 * `shares.strata` as the most accurate of equal-count cost strata, the rest by NSGA-II — non-dominated rank
 * (accuracy up, cost down), the last rank that fits cut by crowding distance so the parents spread along the front.
 */
export function selectParents<C extends Candidate<unknown> & { mark?: number }>(
  pool: readonly C[],
  count: number,
  shares: { elite: number; strata: number } = { elite: 0, strata: 0 },
  pass = NaN,
): C[] {
  const distinct: C[] = [];
  if (Number.isNaN(pass)) {
    const seen = new Set<string>();
    for (const c of pool) {
      if (!seen.has(c.key)) {
        seen.add(c.key);
        distinct.push(c);
      }
    }
  } else {
    // Entries are one object per subnet: a stamp marks the ones taken (no Set of keys per generation).
    for (const c of pool) {
      if (c.mark !== pass) {
        c.mark = pass;
        distinct.push(c);
      }
    }
  }
  count = Math.min(count, distinct.length);
  const chosen: C[] = [];
  let rest = distinct;
  const globalElites = Math.min(count, Math.round(count * shares.elite));
  if (globalElites > 0) {
    const byAccuracy = [...rest].sort((a, b) => b.accuracy - a.accuracy);
    chosen.push(...byAccuracy.slice(0, globalElites));
    rest = byAccuracy.slice(globalElites);
  }
  const strata = Math.min(count - chosen.length, Math.round(count * shares.strata));
  if (strata > 0) {
    // Elitism along the cost axis: the most accurate candidate of each of `strata` equal-count cost strata.
    const byCost = [...rest].sort((a, b) => a.cost - b.cost);
    const picked: C[] = [];
    for (let b = 0; b < strata; b++) {
      const lo = Math.floor((b * byCost.length) / strata);
      const hi = Math.floor(((b + 1) * byCost.length) / strata);
      let best: C | undefined;
      for (let i = lo; i < hi; i++) if (!best || byCost[i].accuracy > best.accuracy) best = byCost[i];
      if (best) picked.push(best);
    }
    chosen.push(...picked);
    const taken = new Set(picked);
    rest = rest.filter((c) => !taken.has(c));
  }
  if (chosen.length === count) return chosen;
  for (const rank of nonDominatedRanks(rest)) {
    if (chosen.length + rank.length <= count) {
      chosen.push(...rank);
      if (chosen.length === count) break;
      continue;
    }
    const distance = crowdingDistance(rank);
    const order = rank.map((_, i) => i).sort((a, b) => distance[b] - distance[a] || a - b);
    for (const i of order.slice(0, count - chosen.length)) chosen.push(rank[i]);
    break;
  }
  return chosen;
}

/**
 * Fronts of non-dominated sorting, best first. With two objectives a sweep in cost order suffices: a point joins the
 * first rank none of whose members dominates it, and a rank's members seen so far are summed up by its best accuracy
 * (and the least cost at which it was reached) — O(n · ranks) instead of O(n²).
 */
export function nonDominatedRanks<T extends CostAccuracy>(points: readonly T[]): T[][] {
  const order = points.map((_, i) => i).sort((a, b) => points[a].cost - points[b].cost || points[b].accuracy - points[a].accuracy);
  const ranks: T[][] = [];
  const bestAccuracy: number[] = [];
  const costAtBest: number[] = [];
  for (const i of order) {
    const p = points[i];
    // Every earlier point has cost ≤ p.cost; one dominates p iff it is more accurate, or as accurate and cheaper.
    let r = 0;
    while (r < ranks.length && (bestAccuracy[r] > p.accuracy || (bestAccuracy[r] === p.accuracy && costAtBest[r] < p.cost))) r++;
    if (r === ranks.length) {
      ranks.push([]);
      bestAccuracy.push(-Infinity);
      costAtBest.push(Infinity);
    }
    ranks[r].push(p);
    if (p.accuracy > bestAccuracy[r]) {
      bestAccuracy[r] = p.accuracy;
      costAtBest[r] = p.cost;
    }
  }
  return ranks;
}

/** NSGA-II crowding distance within one rank: the ends are infinite, inner points the normalized gap around them. */
export function crowdingDistance(rank: readonly CostAccuracy[]): number[] {
  const d = new Array<number>(rank.length).fill(0);
  for (const field of ['cost', 'accuracy'] as const) {
    const order = rank.map((_, i) => i).sort((a, b) => rank[a][field] - rank[b][field]);
    const span = rank[order[order.length - 1]][field] - rank[order[0]][field];
    d[order[0]] = Infinity;
    d[order[order.length - 1]] = Infinity;
    if (span === 0) continue;
    for (let k = 1; k < order.length - 1; k++) d[order[k]] += (rank[order[k + 1]][field] - rank[order[k - 1]][field]) / span;
  }
  return d;
}
