// The Pareto front, the genome operators against the search space's, the cost tables against the exact counts, and
// the evolution: constraints respected, a non-dominated front that beats random search, bounded retries, seeded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../daemon/engine/rng';
import type { Arch } from '../../daemon/ofa/arch';
import { SearchSpace } from '../../daemon/ofa/space';
import { OFA_MBV3_UNITS } from '../../daemon/ofa/presets';
import { EfficiencyModel } from '../../daemon/search/efficiency';
import { evolve, nonDominatedRanks, UnsatisfiableConstraintsError, type AccuracyPredictor, type EvolutionSpace } from '../../daemon/search/evolution';
import { ArchGenome, type Genome } from '../../daemon/search/genome';
import { dominates, paretoFront, spreadAlongFront } from '../../daemon/search/pareto';
import type { TelemetryEvents } from '../../daemon/protocol/events';
import { validateConfig, type MantaConfig } from '../../schemas';

function space(extra: Partial<MantaConfig['supernet']> = {}): SearchSpace {
  const r = validateConfig({
    name: 't',
    task: 'classification',
    data: { kind: 'synthetic' },
    supernet: { units: OFA_MBV3_UNITS, resolutionChoices: [24, 28, 32], ...extra },
    training: { phases: [{ phase: 'largest', epochs: 1 }] },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return new SearchSpace(r.config.supernet);
}

test('paretoFront keeps exactly the non-dominated points, sorted by cost', () => {
  const rng = new Rng(1);
  for (let trial = 0; trial < 50; trial++) {
    // Coarse values make ties and duplicates common.
    const points = Array.from({ length: 1 + rng.int(60) }, (_, id) => ({ id, cost: rng.int(10), accuracy: rng.int(10) / 10 }));
    const front = paretoFront(points);
    for (const p of points) {
      const dominated = points.some((q) => dominates(q, p));
      const onFront = front.some((f) => f.cost === p.cost && f.accuracy === p.accuracy);
      assert.equal(onFront, !dominated, `point ${JSON.stringify(p)}`);
    }
    for (let i = 1; i < front.length; i++) {
      assert.ok(front[i].cost > front[i - 1].cost && front[i].accuracy > front[i - 1].accuracy);
    }
    assert.ok(front.every((f) => points.includes(f)));
  }
  assert.deepEqual(paretoFront([]), []);
  assert.deepEqual(paretoFront([{ cost: NaN, accuracy: 1 }, { cost: 1, accuracy: 0.5 }]), [{ cost: 1, accuracy: 0.5 }]);
  const line = Array.from({ length: 10 }, (_, i) => ({ cost: i, accuracy: i }));
  assert.deepEqual(spreadAlongFront(line, 4).map((p) => p.cost), [0, 3, 6, 9]);
  assert.deepEqual(spreadAlongFront(line, 20), line);
});

test('non-dominated ranks partition the points, each rank dominated only by earlier ones', () => {
  const rng = new Rng(2);
  const points = Array.from({ length: 80 }, () => ({ cost: rng.next(), accuracy: rng.next() }));
  const ranks = nonDominatedRanks(points);
  assert.equal(ranks.flat().length, points.length);
  ranks.forEach((rank, r) => {
    for (const p of rank) {
      assert.ok(!rank.some((q) => dominates(q, p)));
      if (r > 0) assert.ok(ranks[r - 1].some((q) => dominates(q, p)));
    }
  });
});

test('genome operators: encoding, keys and round trips equal the search space’s', () => {
  const s = space({ widthChoices: [0.5, 0.75, 1] });
  const genome = new ArchGenome(s);
  const rng = new Rng(3);
  const keys = new Map<string, string>();
  for (let i = 0; i < 300; i++) {
    const g = i % 3 === 0 ? genome.sample(rng) : genome.mutate(genome.sample(rng), rng, 0.3);
    const arch = genome.toArch(g);
    s.validate(arch);
    assert.deepEqual(genome.fromArch(arch), g);
    const dense = s.encode(arch);
    const set: number[] = [];
    dense.forEach((v, j) => v !== 0 && set.push(j));
    const got: number[] = [];
    genome.features(g, got);
    assert.deepEqual(got.sort((a, b) => a - b), set);
    // Equal genome keys exactly when the space says it is the same subnet.
    const k = genome.key(g);
    const spaceKey = s.key(arch);
    if (keys.has(k)) assert.equal(keys.get(k), spaceKey);
    keys.set(k, spaceKey);
  }
  assert.equal(new Set(keys.values()).size, keys.size);
  assert.deepEqual(genome.toArch(genome.smallest()), s.smallest());
  assert.deepEqual(genome.toArch(genome.largest()), s.largest());
  const g = genome.sample(rng);
  assert.deepEqual(genome.mutate(g, rng, 0), g);
  assert.deepEqual(genome.crossover(g, g, rng), g);
  const other = genome.sample(rng);
  const child = genome.crossover(g, other, rng);
  child.forEach((v, i) => assert.ok(v === g[i] || v === other[i]));
});

test('the tabulated MACs and params equal the exact layout counts', () => {
  for (const s of [space(), space({ widthChoices: [0.5, 1], depthChoices: [1, 2, 3], expandChoices: [2, 3, 6] })]) {
    for (const [channels, classes] of [[3, 10], [1, 7]]) {
      const eff = new EfficiencyModel(s, channels, classes);
      const rng = new Rng(4);
      for (const arch of [s.smallest(), s.largest(), ...Array.from({ length: 100 }, () => s.sample(rng))]) {
        const fast = eff.costs(arch);
        assert.deepEqual({ macs: fast.macs, params: fast.params }, eff.exactCosts(arch));
      }
    }
  }
});

/** A known accuracy function of the genome (diminishing returns in capacity), standing in for a trained predictor. */
function knownPredictor(genome: ArchGenome, s: SearchSpace): AccuracyPredictor<Genome> {
  return {
    predict(items) {
      return Float32Array.from(items, (g) => {
        const a = genome.toArch(g);
        let capacity = 0;
        for (let u = 0; u < s.units; u++) for (let i = 0; i < a.d[u]; i++) capacity += a.ks[u * s.maxDepth + i] * (u + 2) + a.e[u * s.maxDepth + i] * 3;
        return 1 - Math.exp(-capacity / 300) + (a.r / 32) * 0.05;
      });
    },
  };
}

const evoOptions = { population: 40, generations: 60, parentRatio: 0.25, mutationRatio: 0.5, mutationProbability: 0.1, seed: 5 };

test('the evolution returns a non-dominated front that respects the constraints and beats random search', async () => {
  const s = space();
  const genome = new ArchGenome(s);
  const eff = new EfficiencyModel(s, 3, 10);
  const predictor = knownPredictor(genome, s);
  const maxMacs = (eff.costs(s.smallest()).macs + eff.costs(s.largest()).macs) / 2;
  const archCost = eff.costFunction('macs', { maxMacs });
  const events: TelemetryEvents['search.generation'][] = [];
  const result = await evolve(genome, predictor, (g) => archCost(genome.toArch(g)), evoOptions, (kind, data) => {
    if (kind === 'search.generation') events.push(data as TelemetryEvents['search.generation']);
  });

  assert.ok(result.front.length >= 5, `front of ${result.front.length}`);
  for (const p of result.front) {
    const exact = eff.exactCosts(genome.toArch(p.arch));
    assert.ok(exact.macs <= maxMacs, `front point over the MACs constraint: ${exact.macs} > ${maxMacs}`);
    assert.equal(p.cost, exact.macs);
    assert.ok(Math.abs(p.accuracy - predictor.predict([p.arch])[0]) < 1e-6);
  }
  for (let i = 1; i < result.front.length; i++) {
    assert.ok(result.front[i].cost > result.front[i - 1].cost && result.front[i].accuracy > result.front[i - 1].accuracy);
  }
  assert.equal(result.candidatesScored, evoOptions.population * (evoOptions.generations + 1));
  assert.ok(result.uniqueCandidates <= result.candidatesScored);
  assert.equal(result.bestAccuracy.length, evoOptions.generations);

  // Random search with the same number of distinct candidates does no better: no random feasible arch dominates
  // the front, and the front's most accurate point is at least as good as random search's.
  const rng = new Rng(6);
  let randomBest = -Infinity;
  for (let i = 0; i < result.uniqueCandidates; i++) {
    const g = genome.sample(rng);
    const c = archCost(genome.toArch(g));
    if (!c.feasible) continue;
    const acc = predictor.predict([g])[0];
    randomBest = Math.max(randomBest, acc);
    const point = { cost: c.cost, accuracy: acc };
    assert.ok(!result.front.some((f) => dominates(point, f) && dominates(point, { cost: f.cost * 1.02, accuracy: f.accuracy + 1e-3 })), 'random search found a clearly better point');
  }
  assert.ok(result.front[result.front.length - 1].accuracy >= randomBest);

  // Progress is reported sparsely and ends with the last generation.
  assert.ok(events.length > 0 && events.length <= 51);
  assert.equal(events[events.length - 1].generation, evoOptions.generations);
  assert.equal(events[events.length - 1].candidatesScored, result.candidatesScored);
});

test('the evolution is seeded, and works on Archs with the search space directly', async () => {
  const s = space();
  const genome = new ArchGenome(s);
  const eff = new EfficiencyModel(s, 3, 10);
  const cost = eff.costFunction('params', {});
  const predictor = knownPredictor(genome, s);
  const run = (seed: number) => evolve(genome, predictor, (g) => cost(genome.toArch(g)), { ...evoOptions, generations: 20, seed });
  const a = await run(1);
  const b = await run(1);
  const c = await run(2);
  assert.deepEqual(a.front.map((p) => p.key), b.front.map((p) => p.key));
  assert.notDeepEqual(a.front.map((p) => p.key), c.front.map((p) => p.key));

  const archPredictor: AccuracyPredictor<Arch> = { predict: (archs) => predictor.predict(archs.map((x) => genome.fromArch(x))) };
  const direct = await evolve(s, archPredictor, cost, { ...evoOptions, generations: 20 });
  assert.ok(direct.front.length > 0);
  for (const p of direct.front) s.validate(p.arch);
});

test('constraints: bounded retries under a tight one, a clear error when none can be met', async () => {
  const s = space();
  const genome = new ArchGenome(s);
  const eff = new EfficiencyModel(s, 3, 10);
  const predictor = knownPredictor(genome, s);
  // Only subnets within 3% of the smallest's MACs qualify: rare among random samples; the search must still end.
  const tight = eff.costs(s.smallest()).macs * 1.03;
  const cost = eff.costFunction('macs', { maxMacs: tight });
  const result = await evolve(genome, predictor, (g) => cost(genome.toArch(g)), { ...evoOptions, generations: 10 });
  assert.ok(result.front.length >= 1);
  assert.ok(result.front.every((p) => p.cost <= tight));
  assert.ok(result.retries > 0);

  const impossible = eff.costFunction('macs', { maxMacs: eff.costs(s.smallest()).macs - 1 });
  await assert.rejects(
    evolve(genome, predictor, (g) => impossible(genome.toArch(g)), { ...evoOptions, generations: 5 }),
    (e: unknown) => e instanceof UnsatisfiableConstraintsError && /loosen the constraints/.test(e.message),
  );
});

/** A toy space of the numbers 0…999 where a child is any number (OFA's sampling redraws it until it is feasible). */
const numbers: EvolutionSpace<number> = {
  sample: (rng) => rng.int(1000),
  mutate: (_g, rng) => rng.int(1000),
  crossover: (_a, _b, rng) => rng.int(1000),
  key: (g) => String(g),
  smallest: () => 0,
  largest: () => 999,
};
const score: AccuracyPredictor<number> = { predict: (items) => Float32Array.from(items, (g) => g / 1000) };

test('an infeasible child is drawn again until it is feasible (OFA), not replaced by a copy of its parent', async () => {
  // One number in 50 is feasible: a bounded retry (the old 20 draws) mostly kept parents; redrawing finds new ones.
  const seenByPredictor: number[] = [];
  const predictor: AccuracyPredictor<number> = { predict: (items) => (seenByPredictor.push(...items), score.predict(items)) };
  const result = await evolve(numbers, predictor, (g) => ({ cost: g, feasible: g % 50 === 0 }), { ...evoOptions, population: 10, generations: 8, seed: 4 });
  assert.ok(seenByPredictor.every((g) => g % 50 === 0), 'only feasible subnets are scored');
  assert.equal(result.uniqueCandidates, 20, 'every feasible number was found by redrawing');
  assert.ok(result.retries > 100, `infeasible draws were redrawn (${result.retries})`);
  // Accuracy and cost both rise with the number: every feasible one is on the front, and nothing else.
  assert.deepEqual(result.front.map((c) => c.arch), Array.from({ length: 20 }, (_, i) => i * 50));
});

test('a constraint no child can meet ends with a user error after a bounded number of draws, not a hang', async () => {
  // The initial population qualifies (0), but no mutation or crossover ever does.
  const onlyZero = (g: number) => ({ cost: g, feasible: g === 0 });
  const stuck: EvolutionSpace<number> = { ...numbers, sample: () => 0, mutate: () => 1, crossover: () => 1 };
  await assert.rejects(evolve(stuck, score, onlyZero, { ...evoOptions, population: 4, generations: 3, maxDraws: 500 }), (e: unknown) => {
    assert.ok(e instanceof UnsatisfiableConstraintsError, String(e));
    assert.match((e as Error).message, /drew 500 mutations .* none of them met the constraints; loosen the constraints/);
    return true;
  });
});

test('mutation redraws the resolution with its own probability (OFA: 0.5), the other choices with the arch probability', () => {
  const s = space();
  const genome = new ArchGenome(s);
  const rng = new Rng(8);
  let resolutionChanged = 0;
  let otherChanged = 0;
  const n = 3000;
  for (let i = 0; i < n; i++) {
    const g = genome.sample(rng);
    const m = genome.mutateWith(g, rng, { arch: 0, resolution: 0.5 });
    const r = g.length - 1; // the resolution gene is the last
    if (m[r] !== g[r]) resolutionChanged++;
    for (let j = 0; j < r; j++) if (m[j] !== g[j]) otherChanged++;
  }
  // Redrawn half the time among 3 resolutions: it changes in 0.5 × 2/3 of the mutations.
  assert.ok(Math.abs(resolutionChanged / n - 1 / 3) < 0.04, `resolution changed in ${resolutionChanged} of ${n}`);
  assert.equal(otherChanged, 0);
  // The evolution's default: OFA's 0.5 for the resolution; the config's schema says so too.
  const r = validateConfig({ name: 't', task: 'classification', data: { kind: 'synthetic' }, supernet: { units: OFA_MBV3_UNITS }, training: { phases: [{ phase: 'largest', epochs: 1 }] } });
  assert.ok(r.ok, JSON.stringify(r.ok ? '' : r.problems));
  assert.equal(r.config.search.evolution.resolutionMutationProbability, 0.5);
  assert.equal(r.config.search.evolution.mutationProbability, 0.1);
});
