// The fast scorer (wasm SIMD and JS) against tfjs's forward of the same MLP, and the committed wasm against a rebuild.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../daemon/engine/rng';
import { SearchSpace } from '../../daemon/ofa/space';
import { initialMlpWeights, randomMlpWeights, tfjsPredict } from '../../daemon/search/predictor';
import { createJsScorer, createWasmScorer, toSparseRows, type MlpWeights } from '../../daemon/search/scorer';
import { validateConfig } from '../../schemas';
import { OFA_MBV3_UNITS } from '../../daemon/ofa/presets';

function ofaSpace(): SearchSpace {
  const r = validateConfig({
    name: 't',
    task: 'classification',
    data: { kind: 'synthetic' },
    supernet: { units: OFA_MBV3_UNITS, resolutionChoices: [24, 28, 32] },
    training: { phases: [{ phase: 'largest', epochs: 1 }] },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return new SearchSpace(r.config.supernet);
}

function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

test('wasm and JS scorers equal tfjs predictions on encoded archs (3×400, random and odd sizes)', () => {
  const space = ofaSpace();
  const rng = new Rng(7);
  const archs = Array.from({ length: 101 }, () => space.sample(rng)); // odd count: exercises the padded tile
  const features = archs.map((a) => space.encode(a));
  const cases: [string, MlpWeights][] = [
    ['3×400 peer init', randomMlpWeights(space.featureLength, 3, 400, new Rng(1))],
    ['2×37 glorot init', initialMlpWeights(space.featureLength, 2, 37, new Rng(2))],
    ['1×5', randomMlpWeights(space.featureLength, 1, 5, new Rng(3))],
    ['4×100 with base', { ...randomMlpWeights(space.featureLength, 4, 100, new Rng(4)), base: 0.73 }],
  ];
  for (const [name, weights] of cases) {
    const reference = tfjsPredict(weights, features);
    const rows = toSparseRows(features);
    const wasm = createWasmScorer(weights).score(rows);
    const js = createJsScorer(weights).score(rows);
    assert.equal(wasm.length, features.length);
    assert.ok(maxRelDiff(wasm, reference) < 1e-4, `${name}: wasm differs from tfjs by ${maxRelDiff(wasm, reference)}`);
    assert.ok(maxRelDiff(js, reference) < 1e-4, `${name}: js differs from tfjs by ${maxRelDiff(js, reference)}`);
    // Not constant: the predictions really depend on the arch.
    assert.ok(new Set(Array.from(reference, (v) => v.toFixed(5))).size > 10, `${name}: predictions are constant`);
  }
});

test('the wasm scorer handles non-binary feature values, empty batches and reuse across batch sizes', () => {
  const weights = randomMlpWeights(12, 3, 24, new Rng(5));
  const rng = new Rng(6);
  const scorer = createWasmScorer(weights);
  assert.equal(scorer.score(toSparseRows([])).length, 0);
  for (const n of [1, 2, 3, 64, 5]) {
    const features = Array.from({ length: n }, () => Float32Array.from({ length: 12 }, () => (rng.next() < 0.4 ? rng.normal() : 0)));
    const got = scorer.score(toSparseRows(features));
    assert.ok(maxRelDiff(got, tfjsPredict(weights, features)) < 1e-4);
  }
  assert.throws(() => scorer.score({ count: 1, offsets: Int32Array.from([0, 1]), indices: Int32Array.from([12]), values: Float32Array.from([1]) }), /outside/);
});

test('helper threads split a batch by rows and give exactly the single-thread numbers', () => {
  const space = ofaSpace();
  const weights = randomMlpWeights(space.featureLength, 3, 400, new Rng(8));
  const rng = new Rng(9);
  const single = createWasmScorer(weights, { threads: 1 });
  const pair = createWasmScorer(weights, { threads: 2 });
  const triple = createWasmScorer(weights, { threads: 3 });
  try {
    assert.equal(single.threads, 1);
    assert.equal(pair.threads, 2);
    assert.equal(triple.threads, 3);
    for (const n of [1, 7, 16, 17, 50, 101, 333]) {
      const rows = toSparseRows(Array.from({ length: n }, () => space.encode(space.sample(rng))));
      const one = single.score(rows);
      assert.deepEqual(pair.score(rows), one, `batch of ${n}`);
      assert.deepEqual(triple.score(rows), one, `batch of ${n}`);
    }
  } finally {
    pair.dispose();
    triple.dispose();
  }
});

const clang = spawnSync('clang-14', ['--version']).status === 0;
test('the committed scorer.wasm is what scorer.c builds to', { skip: clang ? false : 'clang-14 not installed (apt-get install clang-14 lld-14)' }, () => {
  const native = join(__dirname, '../../daemon/search/native');
  const out = mkdtempSync(join(tmpdir(), 'manta-scorer-'));
  try {
    execFileSync(process.execPath, [join(native, 'build.mjs'), '--out', out], { stdio: 'pipe' });
    assert.deepEqual(readFileSync(join(out, 'scorer.wasm')), readFileSync(join(native, 'scorer.wasm')), 'rebuild scorer.wasm: node daemon/search/native/build.mjs');
    assert.equal(readFileSync(join(out, 'scorer-wasm.generated.ts'), 'utf8'), readFileSync(join(native, 'scorer-wasm.generated.ts'), 'utf8'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
