// The latency model of the unit stack: features tabulated per block are exactly those of the extracted subnet, the
// fit recovers the weights of synthetic timings, timings are cached per runtime (engine backend and batch, ONNX
// Runtime) and supernet shape, and ONNX Runtime times a tiny exported subnet. No timing figures are asserted: the
// latency bench checks accuracy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import type { BackendInfo } from '../../daemon/protocol/events';
import { buildFittedLatency, fitLatency, fittedModel } from '../../daemon/search/fitted-latency';
import { LAYER_FEATURES, latencyErrors, modelFeatures, scaledFeatures, unitStackSubject, validateLatencyModel, type LatencySubject } from '../../daemon/search/latency';
import { openTimingRuntime, summarizeRuns, type TimingOptions } from '../../daemon/search/latency-runtime';
import { ClassificationSupernet } from '../../daemon/tasks/classification';
import { validateConfig } from '../../schemas';

let backend: BackendInfo;
let supernet: ClassificationSupernet;
let subject: LatencySubject;
let built = 0;
const root = mkdtempSync(join(tmpdir(), 'manta-latency-'));
/** Few short timed runs: these tests check the plumbing, not the figures. */
const quick: TimingOptions = { rounds: 2, runsPerRound: 2, roundMinMs: 0, warmupRuns: 1, warmupMs: 0, rewarmRuns: 0 };

before(async () => {
  // cpu: every backend times the same way; cpu runs these tiny models quickly and everywhere.
  const info = await initEngine({ backend: 'cpu' });
  backend = { backend: info.backend, version: info.version, device: info.device };
  const r = validateConfig({
    name: 't',
    task: 'classification',
    data: { kind: 'synthetic' },
    supernet: {
      stem: { width: 8 },
      firstBlock: { width: 8 },
      units: [{ width: 8 }, { width: 8 }, { width: 16, squeezeExcite: true, activation: 'hswish' }, { width: 16, stride: 1 }, { width: 16 }],
      finalExpandWidth: 16,
      featureMixWidth: 16,
      kernelChoices: [3, 5],
      expandChoices: [2, 4],
      depthChoices: [1, 2],
      resolutionChoices: [12, 16],
    },
    training: { phases: [{ phase: 'largest', epochs: 1 }] },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  supernet = new ClassificationSupernet(r.config.supernet, { classes: 5, inputChannels: 3, seed: 1 });
  subject = unitStackSubject(
    supernet.space,
    3,
    5,
    (arch) => {
      built++;
      return supernet.extractSubnet(arch);
    },
    'tiny',
  );
});

after(() => {
  supernet?.dispose();
  rmSync(root, { recursive: true, force: true });
});

test("a subnet's tabulated features are its extracted model's, and the linear estimate is their weighted sum", () => {
  const rng = new Rng(3);
  const weights = [0.01, 0.3, 0.2, 0.5, 0.05];
  const estimate = subject.linear(0.4, weights);
  for (let i = 0; i < 12; i++) {
    const arch = i === 0 ? supernet.space.smallest() : i === 1 ? supernet.space.largest() : supernet.space.sample(rng);
    const model = supernet.extractSubnet(arch);
    try {
      assert.deepEqual(subject.features(arch), modelFeatures(model), `arch ${JSON.stringify(arch)}`);
    } finally {
      model.dispose();
    }
    const f = scaledFeatures(LAYER_FEATURES, subject.features(arch));
    const expected = 0.4 + f.reduce((s, v, j) => s + v * weights[j], 0);
    assert.ok(Math.abs(estimate(arch) - expected) < 1e-9 * expected);
  }
  // More blocks, more layers and MACs: a deeper subnet never estimates faster.
  const small = supernet.space.smallest();
  assert.ok(estimate({ ...small, d: small.d.map((d, u) => (u === 0 ? 2 : d)) }) > estimate(small));
});

test('the fit recovers the weights of synthetic timings, keeps only the features that predict, and stays non-negative', () => {
  const rng = new Rng(5);
  // Synthetic subnets: per-layer cost and convolution MACs matter; the other features vary but cost nothing.
  const samples = Array.from({ length: 24 }, () => {
    const features = [100 + rng.int(200), rng.next() * 4e6, rng.next() * 1e5, rng.next() * 5e5, rng.next() * 3e6];
    return { features, measuredMs: 0.3 + 0.012 * features[0] + 0.8 * (features[1] / 1e6) };
  });
  const fit = fitLatency(LAYER_FEATURES, samples);
  assert.deepEqual(fit.used, ['layers', 'convMacs']);
  assert.ok(Math.abs(fit.intercept - 0.3) < 1e-6 && Math.abs(fit.weights.layers - 0.012) < 1e-9 && Math.abs(fit.weights.convMacs - 0.8) < 1e-6, JSON.stringify(fit));
  assert.equal(fit.weights.elementwise, 0);
  assert.ok(fit.heldOutError < 1e-6);
  // A feature that seems to make networks faster gets no negative weight.
  const falling = fitLatency(LAYER_FEATURES, samples.map((s) => ({ ...s, measuredMs: 5 - 0.5 * (s.features[1] / 1e6) })));
  for (const w of Object.values(falling.weights)) assert.ok(w >= 0);
  // The error summary: median and p90 of |estimated − measured| / measured.
  const e = latencyErrors([10, 20, 30, 40].map((err) => ({ estimatedMs: 100 + err, measuredMs: 100 })));
  assert.equal(e.medianAbsErrPct, 25);
  assert.equal(e.p90AbsErrPct, 40);
  assert.ok(Math.abs(e.meanRelativeError - 0.25) < 1e-12);
  // Timed runs per round: the best round's lower decile, the median of all.
  assert.deepEqual(summarizeRuns([[5, 6, 4, 7, 8, 9], [1, 4, 2, 3, 2, 2]]), { ms: 1.5, medianMs: 4, runs: 12 });
});

test('timings are cached per runtime and supernet shape; a corrupt cache is timed again', async () => {
  const cacheDir = join(root, 'cache');
  const files = () => readdirSync(cacheDir).filter((f) => f.endsWith('.json'));
  const engine = openTimingRuntime({ runtime: 'engine' }, backend);
  built = 0;
  const first = await buildFittedLatency(subject, engine, { cacheDir, subnets: 6, timing: quick });
  assert.equal(first.timedNow, 6);
  const builtFirst = built;
  assert.ok(builtFirst >= 6);
  assert.deepEqual(files(), [first.cacheFile!.split('/').pop()]);
  for (const s of first.samples) assert.ok(s.measuredMs > 0 && first.estimate(s.arch) > 0);

  const again = await buildFittedLatency(subject, engine, { cacheDir, subnets: 6, timing: quick });
  assert.equal(again.timedNow, 0);
  assert.equal(built, builtFirst); // nothing extracted: every timing came from the cache
  assert.deepEqual(again.fit, first.fit);
  // Another batch size is another device; another engine version another runtime; each its own file.
  const batch2 = await buildFittedLatency(subject, openTimingRuntime({ runtime: 'engine', batchSize: 2 }, backend), { cacheDir, subnets: 6, timing: quick });
  assert.equal(batch2.timedNow, 6);
  const otherVersion = await buildFittedLatency(subject, openTimingRuntime({ runtime: 'engine' }, { ...backend, version: `${backend.version}-other` }), { cacheDir, subnets: 3, timing: quick });
  assert.equal(otherVersion.timedNow, 3);
  assert.equal(files().length, 3);
  // Refresh times again; a corrupt file is timed again, not fatal.
  assert.equal((await buildFittedLatency(subject, engine, { cacheDir, subnets: 6, timing: quick, refresh: true })).timedNow, 6);
  writeFileSync(first.cacheFile!, '{"version": 3, "entr');
  assert.equal((await buildFittedLatency(subject, engine, { cacheDir, subnets: 6, timing: quick })).timedNow, 6);
});

test('ONNX Runtime times tiny exported subnets: its own cache file, positive latencies, a check against timed subnets', async () => {
  const cacheDir = join(root, 'cache-ort');
  const ort = openTimingRuntime({ runtime: 'onnxruntime', threads: 1 }, backend);
  assert.equal(ort.info.backend, 'onnxruntime');
  assert.match(ort.info.device, /1 thread\), batch 1/);
  const fit = await buildFittedLatency(subject, ort, { cacheDir, subnets: 4, timing: quick });
  assert.equal(fit.timedNow, 4);
  assert.match(fit.cacheFile!, /latency-onnxruntime-/);
  for (const s of fit.samples) assert.ok(s.measuredMs > 0);
  const rng = new Rng(9);
  const archs = [supernet.space.sample(rng), supernet.space.sample(rng)];
  const v = await validateLatencyModel(fit, ort, (arch) => supernet.extractSubnet(arch), archs, quick);
  assert.equal(v.samples.length, 2);
  for (const s of v.samples) assert.ok(s.measuredMs > 0 && s.estimatedMs > 0 && s.medianMs >= s.measuredMs);
  // A model made from a fit alone estimates through the same tabulated features.
  const copy = fittedModel(subject, ort.info, fit.fit, fit.samples, { timedNow: 0 });
  assert.equal(copy.estimate(archs[0]), fit.estimate(archs[0]));
});
