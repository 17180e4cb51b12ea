// Stereo metrics on hand-computed cases: which pixels count (finite, > 0), EPE, the >1 / >3 px rates, and D1's AND
// rule (> 3 px and > 5 %); the tensor version agrees with the typed-array one and its EPE has clean gradients.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../daemon/engine';
import { addStereoErrors, emptyStereoSums, finishStereoMetrics, maskedEpe, stereoMetrics, stereoMetricTensors } from '../../daemon/tasks/stereo';

before(async () => {
  await initEngine({ backend: 'wasm' });
});

// Pixels 0, 1, 6, 7 have ground truth; NaN, 0, +∞ and −∞ do not.
const TRUTH = [10, 100, NaN, 0, Infinity, -Infinity, 20, 2];
const PRED = [14, 104, 3, 7, 1, 9, 20.5, 3.5];

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} ≠ ${expected}`);
}

test('metrics count only pixels with ground truth and apply D1 as "> 3 px AND > 5 %"', () => {
  const m = stereoMetrics(PRED, TRUTH);
  // errors 4, 4, 0.5, 1.5: 4 at true 10 is an outlier (> 0.5), 4 at true 100 is not (≤ 5 px); 1.5 at 2 is ≤ 3 px.
  assert.deepEqual(m, { epe: 2.5, d1: 0.25, over1px: 0.75, over3px: 0.5, pixels: 4 });
  const masked = stereoMetrics(PRED, TRUTH, [0, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(masked, { epe: 2, d1: 0, over1px: 2 / 3, over3px: 1 / 3, pixels: 3 });
});

test('D1 boundaries: exactly 3 px or exactly 5 % is not an outlier', () => {
  assert.equal(stereoMetrics([13], [10]).d1, 0); // 3 px: not > 3
  assert.equal(stereoMetrics([13.01], [10]).d1, 1);
  assert.equal(stereoMetrics([84], [80]).d1, 0); // 4 px = 5 % of 80: not > 5 %
  assert.equal(stereoMetrics([85], [80]).d1, 1);
  assert.equal(stereoMetrics([1], [200]).d1, 1); // 199 px
  assert.equal(stereoMetrics([2], [1]).over1px, 0);
  assert.equal(stereoMetrics([4], [1]).over3px, 0);
});

test('a non-finite prediction at a pixel with ground truth is infinitely wrong; no ground truth gives NaN', () => {
  const m = stereoMetrics([NaN, 5], [10, 5]);
  assert.deepEqual(m, { epe: Infinity, d1: 0.5, over1px: 0.5, over3px: 0.5, pixels: 2 });
  const none = stereoMetrics([1, 2], [NaN, 0]);
  assert.equal(none.pixels, 0);
  assert.ok(Number.isNaN(none.epe) && Number.isNaN(none.d1));
  assert.throws(() => stereoMetrics([1], [1, 2]), RangeError);
});

test('summed over several maps, every pixel weighs the same', () => {
  const sums = emptyStereoSums();
  addStereoErrors(sums, PRED, TRUTH);
  addStereoErrors(sums, [1, 1, 1, 1], [1, 1, 1, 10]);
  assert.deepEqual(finishStereoMetrics(sums), stereoMetrics([...PRED, 1, 1, 1, 1], [...TRUTH, 1, 1, 1, 10]));
  assert.deepEqual(finishStereoMetrics(sums), { epe: 19 / 8, d1: 2 / 8, over1px: 4 / 8, over3px: 3 / 8, pixels: 8 });
});

test('tensor metrics equal the typed-array ones', () => {
  const cases: [number[], number[]][] = [
    [PRED, TRUTH],
    [
      [13, 13.01, 84, 85, NaN, 1],
      [10, 10, 80, 80, 3, 200],
    ],
  ];
  for (const [pred, truth] of cases) {
    const expected = stereoMetrics(pred, truth);
    const t = stereoMetricTensors(tf.tensor2d(pred, [2, pred.length / 2]), tf.tensor2d(truth, [2, truth.length / 2]));
    for (const k of ['epe', 'd1', 'over1px', 'over3px', 'pixels'] as const) {
      const v = t[k].dataSync()[0];
      if (Number.isFinite(expected[k])) close(v, expected[k], k);
      else assert.equal(v, expected[k], k);
      t[k].dispose();
    }
  }
});

test('maskedEpe is the EPE, and its gradient is sign(p − t) / n at valid pixels and 0 (not NaN) elsewhere', () => {
  const truth = tf.tensor1d(TRUTH);
  const pred = tf.tensor1d(PRED);
  close(maskedEpe(pred, truth).dataSync()[0], 2.5, 'maskedEpe');
  const grad = tf.grad((p: tf.Tensor) => maskedEpe(p, truth))(pred);
  assert.deepEqual(Array.from(grad.dataSync()), [0.25, 0.25, 0, 0, 0, 0, 0.25, 0.25]);
  tf.dispose([truth, pred, grad]);
});
