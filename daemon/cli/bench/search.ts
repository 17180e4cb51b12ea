// `npm run bench -- search`: the default evolutionary search as OFA's EvolutionFinder peer runs it (population 100,
// 500 generations, a 3×400 MLP accuracy predictor with random weights, cost = MACs, OFA-MobileNetV3's space with
// resolutions 128–224) — candidates scored per second and wall time. The search runs on the CPU: the predictor is the
// wasm SIMD scorer on --threads threads (default: the cores, at most 4; the peer uses 1), or --scorer js for the
// plain-JS reference — not a tfjs backend. --quality adds the comparison with OFA's own search loop at OFA's
// benchmark constraint (best predicted accuracy under the median MACs; same predictor and budget, 3 seeds).
import { Rng } from '../../engine/rng';
import { OFA_MBV3_UNITS } from '../../ofa/presets';
import { SearchSpace } from '../../ofa/space';
import { EfficiencyModel } from '../../search/efficiency';
import { evolve, type AccuracyPredictor } from '../../search/evolution';
import { ArchGenome, type Genome } from '../../search/genome';
import { genomePredictor, randomMlpWeights } from '../../search/predictor';
import { createScorer, defaultScorerThreads, toSparseRows } from '../../search/scorer';
import { validateConfig } from '../../../schemas';
import { median, type BenchRow, type BenchSuite } from './index';

function ofaSpace(): SearchSpace {
  const r = validateConfig({
    name: 'bench-search',
    task: 'classification',
    data: { kind: 'synthetic' },
    supernet: { units: OFA_MBV3_UNITS, resolutionChoices: [128, 160, 192, 224] },
    training: { phases: [{ phase: 'largest', epochs: 1 }] },
  });
  if (!r.ok) throw new Error(`internal: bench config invalid: ${JSON.stringify(r.problems)}`);
  return new SearchSpace(r.config.supernet);
}

/**
 * OFA's EvolutionFinder loop (single objective: best predicted accuracy under a cost constraint; its selection,
 * mutation and crossover, rejection sampling bounded here), for the quality comparison only.
 */
function ofaEvolution(
  genome: ArchGenome,
  predictor: AccuracyPredictor<Genome>,
  feasible: (g: Genome) => boolean,
  e: { population: number; generations: number; parentRatio: number; mutationRatio: number; mutationProbability: number },
  seed: number,
): number {
  const rng = new Rng(seed);
  const parentsSize = Math.round(e.parentRatio * e.population);
  const mutations = Math.round(e.mutationRatio * e.population);
  const draw = (make: () => Genome): Genome => {
    for (let t = 0; t < 10_000; t++) {
      const g = make();
      if (feasible(g)) return g;
    }
    throw new Error('internal: no feasible sample');
  };
  const score = (gs: Genome[]) => {
    const a = predictor.predict(gs);
    return gs.map((g, i) => ({ g, a: a[i] }));
  };
  let population = score(Array.from({ length: e.population }, () => draw(() => genome.sample(rng))));
  let best = -Infinity;
  for (let gen = 0; gen < e.generations; gen++) {
    const parents = population.sort((x, y) => y.a - x.a).slice(0, parentsSize);
    best = Math.max(best, parents[0].a);
    const children: Genome[] = [];
    for (let j = 0; j < mutations; j++) children.push(draw(() => genome.mutate(parents[rng.int(parentsSize)].g, rng, e.mutationProbability)));
    for (let j = mutations; j < e.population; j++) {
      children.push(draw(() => genome.crossover(parents[rng.int(parentsSize)].g, parents[rng.int(parentsSize)].g, rng)));
    }
    population = parents.concat(score(children));
  }
  return Math.max(best, ...population.map((p) => p.a));
}

/**
 * Result quality against OFA's search at OFA's benchmark constraint (the median MACs of random subnets), same
 * predictor, same budget: the best predicted accuracy under the constraint found by OFA's loop, by MANTA's search
 * given the constraint, and on MANTA's unconstrained front.
 */
async function quality(
  genome: ArchGenome,
  predictor: AccuracyPredictor<Genome>,
  efficiency: EfficiencyModel,
  e: { population: number; generations: number; parentRatio: number; mutationRatio: number; mutationProbability: number },
  log: (line: string) => void,
): Promise<Record<string, number>> {
  const rng = new Rng(7);
  const macs = (g: Genome): number => efficiency.costs(genome.toArch(g)).macs;
  const sample = Array.from({ length: 2000 }, () => macs(genome.sample(rng))).sort((a, b) => a - b);
  const limit = sample[sample.length >> 1];
  const seeds = [1, 2, 3];
  let ofa = 0;
  let constrained = 0;
  let front = 0;
  for (const seed of seeds) {
    ofa += ofaEvolution(genome, predictor, (g) => macs(g) <= limit, e, seed);
    const underLimit = efficiency.costFunction('macs', { maxMacs: limit });
    const c = await evolve(genome, predictor, (g) => underLimit(genome.toArch(g)), { ...e, seed });
    constrained += c.front[c.front.length - 1].accuracy;
    const unconstrained = efficiency.costFunction('macs', {});
    const u = await evolve(genome, predictor, (g) => unconstrained(genome.toArch(g)), { ...e, seed });
    front += Math.max(...u.front.filter((p) => p.cost <= limit).map((p) => p.accuracy));
    log(`search: quality seed ${seed} done`);
  }
  const n = seeds.length;
  return { qualityMaxMacs: limit, ofaBestAtLimit: ofa / n, mantaBestAtLimit: constrained / n, mantaFrontBestAtLimit: front / n };
}

export const suite: BenchSuite = {
  name: 'search',
  describe: 'evolutionary search with a 3×400 MLP predictor (OFA EvolutionFinder defaults): candidates scored per second',
  async run(opts, log) {
    const population = Number(opts.extra.population ?? 100);
    const generations = Number(opts.extra.generations ?? 500);
    const prefer = opts.extra.scorer === 'js' ? 'js' : 'wasm';
    if (opts.backend) log(`search: --backend ${opts.backend} is ignored: the search scores with its own ${prefer} kernels, not a tfjs backend`);
    const space = ofaSpace();
    const genome = new ArchGenome(space);
    const efficiency = new EfficiencyModel(space, 3, 10);
    const threads = opts.extra.threads !== undefined ? Math.max(1, Number(opts.extra.threads)) : defaultScorerThreads();
    const scorer = createScorer(randomMlpWeights(space.featureLength, 3, 400, new Rng(1)), prefer, threads);
    const predictor = genomePredictor(genome, scorer);
    const macs = efficiency.costFunction('macs', {});
    const cost = (g: Uint8Array) => macs(genome.toArch(g));
    const evolution = { population, generations, parentRatio: 0.25, mutationRatio: 0.5, mutationProbability: 0.1 };

    // The predictor alone: batches of 100 distinct random archs, as a generation sends them.
    const rng = new Rng(2);
    const batches = Array.from({ length: 50 }, () => toSparseRows(Array.from({ length: 100 }, () => space.encode(space.sample(rng)))));
    const mlpRates: number[] = [];
    for (let rep = -1; rep < opts.repeat; rep++) {
      const t0 = performance.now();
      for (const b of batches) scorer.score(b);
      if (rep >= 0) mlpRates.push((batches.length * 100) / ((performance.now() - t0) / 1000));
    }

    const walls: number[] = [];
    const rates: number[] = [];
    const unique: number[] = [];
    let fronts = 0;
    for (let rep = -1; rep < opts.repeat; rep++) {
      const result = await evolve(genome, predictor, cost, { ...evolution, seed: Math.max(0, rep) });
      if (rep < 0) continue; // warm-up
      walls.push(result.wallMs);
      rates.push(result.candidatesScored / (result.wallMs / 1000));
      unique.push(result.uniqueCandidates);
      fronts = result.front.length;
      log(`search: run ${rep + 1}/${opts.repeat}: ${result.wallMs.toFixed(0)} ms, ${result.candidatesScored} candidates (${result.uniqueCandidates} distinct), front ${result.front.length}`);
    }
    const row: BenchRow = {
      suite: 'search',
      candidatesPerSec: Math.round(median(rates)),
      generations,
      population,
      wallMs: +median(walls).toFixed(1),
      scorer: scorer.kind,
      threads: scorer.threads,
      distinctCandidates: Math.round(median(unique)),
      predictorCandidatesPerSec: Math.round(median(mlpRates)),
      frontSize: fronts,
    };
    if (opts.extra.quality) Object.assign(row, await quality(genome, predictor, efficiency, evolution, log));
    scorer.dispose();
    return [row];
  },
};
