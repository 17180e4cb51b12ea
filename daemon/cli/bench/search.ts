// `npm run bench -- search`: the default evolutionary search as OFA's EvolutionFinder peer runs it (population 100,
// 500 generations, a 3×400 MLP accuracy predictor with random weights, cost = MACs, OFA-MobileNetV3's space with
// resolutions 128–224) — candidates scored per second and wall time. The search runs on the CPU: the predictor is the
// wasm SIMD scorer on --threads threads (default: the cores, at most 4; the peer uses 1), or --scorer js for the
// plain-JS reference — not a tfjs backend.
import { Rng } from '../../engine/rng';
import { OFA_MBV3_UNITS } from '../../ofa/presets';
import { SearchSpace } from '../../ofa/space';
import { EfficiencyModel } from '../../search/efficiency';
import { evolve } from '../../search/evolution';
import { ArchGenome } from '../../search/genome';
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
    scorer.dispose();
    return [row];
  },
};
