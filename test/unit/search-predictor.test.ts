// The accuracy predictor recovers the ranking of a known (arch → score) function; Kendall's tau and RMSE are right;
// a poor predictor is reported, not passed silently.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import type { Arch } from '../../daemon/ofa/arch';
import { SearchSpace } from '../../daemon/ofa/space';
import { OFA_MBV3_UNITS } from '../../daemon/ofa/presets';
import { archPredictor, tfjsPredict, trainPredictor } from '../../daemon/search/predictor';
import { createScorer } from '../../daemon/search/scorer';
import { kendallTau, kendallTauInterval, rmse } from '../../daemon/search/stats';
import { validateConfig } from '../../schemas';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

function space(): SearchSpace {
  const r = validateConfig({
    name: 't',
    task: 'classification',
    data: { kind: 'synthetic' },
    supernet: { units: OFA_MBV3_UNITS, resolutionChoices: [24, 32] },
    training: { phases: [{ phase: 'largest', epochs: 1 }] },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return new SearchSpace(r.config.supernet);
}

/** A made-up accuracy: more capacity helps with diminishing returns, plus an interaction and a little noise. */
function syntheticAccuracy(s: SearchSpace, a: Arch, rng: Rng): number {
  let capacity = 0;
  for (let u = 0; u < s.units; u++) {
    for (let i = 0; i < a.d[u]; i++) {
      const slot = u * s.maxDepth + i;
      capacity += (a.ks[slot] / 7) * (u + 1) * 0.3 + (a.e[slot] / 6) * 0.5;
    }
  }
  capacity += a.r === 32 ? 2 : 0;
  return 0.5 + 0.4 * (1 - Math.exp(-capacity / 12)) + 0.001 * rng.normal();
}

test('kendallTau: known values, ties, reversal', () => {
  assert.equal(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(kendallTau([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  // One discordant pair of six: (5 - 1) / 6.
  assert.ok(Math.abs(kendallTau([1, 2, 3, 4], [1, 2, 4, 3]) - 4 / 6) < 1e-12);
  // tau-b with a tie in the first list: pairs (1,2) tied; concordant 5, discordant 0 → 5 / sqrt(5·6).
  assert.ok(Math.abs(kendallTau([1, 1, 2, 3], [1, 2, 3, 4]) - 5 / Math.sqrt(30)) < 1e-12);
  assert.ok(Number.isNaN(kendallTau([1, 1], [2, 3])));
  assert.throws(() => kendallTau([1], [1, 2]), /length/);
  assert.ok(Math.abs(rmse([1, 2, 3], [1, 2, 5]) - Math.sqrt(4 / 3)) < 1e-12);
});

test('the predictor trained on synthetic arch → accuracy data ranks held-out archs (tau > 0.8)', async () => {
  const s = space();
  const rng = new Rng(11);
  const samples = Array.from({ length: 400 }, () => {
    const arch = s.sample(rng);
    return { arch, features: s.encode(arch), accuracy: syntheticAccuracy(s, arch, rng) };
  });
  const trained = await trainPredictor(samples, { layers: 3, hiddenUnits: 64, epochs: 60, learningRate: 3e-3, heldOut: 0.25, tauFloor: 0.5, seed: 3 });
  assert.equal(trained.stats.heldOutSize, 100);
  assert.equal(trained.stats.trainSize, 300);
  assert.ok(trained.stats.kendallTau > 0.8, `held-out tau ${trained.stats.kendallTau}`);
  assert.equal(trained.stats.warning, undefined);
  assert.ok(trained.stats.rmse < 0.02, `held-out rmse ${trained.stats.rmse}`);
  assert.equal(trained.stats.kendallTau, kendallTau(trained.heldOut.predicted, trained.heldOut.measured));
  // The tau comes with its 95% bootstrap interval, which holds it.
  const ci = trained.stats.kendallTauCI!;
  assert.equal(ci.level, 0.95);
  assert.equal(ci.method, 'bootstrap');
  assert.ok(ci.low <= trained.stats.kendallTau && trained.stats.kendallTau <= ci.high, `${ci.low} ≤ ${trained.stats.kendallTau} ≤ ${ci.high}`);

  // Fresh archs, never measured: the fast scorer's ranking agrees with the true function too, and equals tfjs.
  const fresh = Array.from({ length: 200 }, () => s.sample(rng));
  const fast = archPredictor(s, createScorer(trained.weights)).predict(fresh);
  const reference = tfjsPredict(trained.weights, fresh.map((a) => s.encode(a)));
  for (let i = 0; i < fresh.length; i++) assert.ok(Math.abs(fast[i] - reference[i]) < 1e-4);
  const truth = fresh.map((a) => syntheticAccuracy(s, a, new Rng(0)));
  assert.ok(kendallTau(Array.from(fast), truth) > 0.8);

});

test('the same seed trains the same predictor', async () => {
  const s = space();
  const rng = new Rng(13);
  const samples = Array.from({ length: 40 }, () => {
    const arch = s.sample(rng);
    return { features: s.encode(arch), accuracy: syntheticAccuracy(s, arch, rng) };
  });
  const opts = { layers: 2, hiddenUnits: 16, epochs: 5, learningRate: 1e-3, heldOut: 0.25, tauFloor: 0.5, seed: 9 };
  const a = await trainPredictor(samples, opts);
  const b = await trainPredictor(samples, opts);
  assert.deepEqual(a.weights, b.weights);
  const c = await trainPredictor(samples, { ...opts, seed: 10 });
  assert.notDeepEqual(c.weights.output, a.weights.output);
});

test('a predictor of noise is flagged by the tau floor', async () => {
  const s = space();
  const rng = new Rng(12);
  const samples = Array.from({ length: 60 }, () => {
    const arch = s.sample(rng);
    return { features: s.encode(arch), accuracy: 0.5 + 0.1 * rng.next() };
  });
  const trained = await trainPredictor(samples, { layers: 2, hiddenUnits: 16, epochs: 10, learningRate: 1e-3, heldOut: 0.3, tauFloor: 0.9, seed: 1 });
  assert.ok(trained.stats.kendallTau < 0.9);
  assert.match(trained.stats.warning ?? '', /tauFloor 0\.9/);
  // The warning says how sure the tau is: its interval and the held-out count.
  assert.match(trained.stats.warning ?? '', /95% CI -?\d\.\d\d–-?\d\.\d\d\) on 18 held-out subnets/);
});

test('kendallTauInterval: a seeded percentile bootstrap that narrows with more pairs and covers the true tau', () => {
  // Pairs (x, x + noise) whose population tau is known: for a bivariate normal with correlation ρ, τ = 2/π·asin(ρ).
  const rho = 0.8;
  const truth = (2 / Math.PI) * Math.asin(rho);
  const draw = (n: number, rng: Rng) => {
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < n; i++) {
      const u = gaussian(rng);
      a.push(u);
      b.push(rho * u + Math.sqrt(1 - rho * rho) * gaussian(rng));
    }
    return { a, b };
  };
  const small = draw(30, new Rng(1));
  const large = draw(300, new Rng(2));
  const ciSmall = kendallTauInterval(small.a, small.b, new Rng(5));
  const ciLarge = kendallTauInterval(large.a, large.b, new Rng(5), { resamples: 400 });
  assert.ok(ciSmall.low < ciSmall.high && ciLarge.low < ciLarge.high);
  assert.ok(ciLarge.high - ciLarge.low < (ciSmall.high - ciSmall.low) / 2, `300 pairs give a much narrower interval: ${JSON.stringify(ciLarge)} vs ${JSON.stringify(ciSmall)}`);
  assert.ok(ciLarge.low < truth && truth < ciLarge.high, `the interval ${JSON.stringify(ciLarge)} covers the true tau ${truth}`);
  // Seeded: the same generator state gives the same interval; the tau itself lies inside.
  assert.deepEqual(kendallTauInterval(small.a, small.b, new Rng(5)), ciSmall);
  const tau = kendallTau(small.a, small.b);
  assert.ok(ciSmall.low <= tau && tau <= ciSmall.high);
  // Perfect agreement: the interval is the point 1. Too few pairs: undefined.
  assert.deepEqual(kendallTauInterval([1, 2, 3, 4, 5], [2, 4, 6, 8, 10], new Rng(1)), { low: 1, high: 1, level: 0.95, method: 'bootstrap' });
  assert.ok(Number.isNaN(kendallTauInterval([1, 2], [1, 2], new Rng(1)).low));
});

/** A standard normal draw (Box–Muller). */
function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
}
