// The correlation layer: equal to a direct loop on every backend, its gradient equal to finite differences, and on
// features with a known horizontal shift the best channel is that shift.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import { correlation1d, correlationChannels } from '../../daemon/tasks/stereo';

const BACKENDS = ['wasm', 'cpu'] as const;

function randomArray(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** The definition, as loops: out[n, y, x, k] = mean_c L[n, y, x, c] · R[n, y, x − k·s, c], 0 where x − k·s < 0. */
function directCorrelation(l: Float32Array, r: Float32Array, [n, h, w, c]: number[], maxD: number, stride: number): Float64Array {
  const k = maxD / stride + 1;
  const out = new Float64Array(n * h * w * k);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let j = 0; j < k; j++) {
          const xr = x - j * stride;
          if (xr < 0) continue;
          let sum = 0;
          for (let ch = 0; ch < c; ch++) sum += l[((b * h + y) * w + x) * c + ch] * r[((b * h + y) * w + xr) * c + ch];
          out[((b * h + y) * w + x) * k + j] = sum / c;
        }
  return out;
}

test('correlation1d equals the direct loop on wasm and cpu, for several displacements and strides', async () => {
  const shape = [2, 3, 11, 5];
  const rng = new Rng(1);
  const l = randomArray(2 * 3 * 11 * 5, rng);
  const r = randomArray(2 * 3 * 11 * 5, rng);
  for (const backend of BACKENDS) {
    await initEngine({ backend });
    for (const [maxD, stride] of [
      [0, 1],
      [4, 1],
      [6, 2],
      [12, 3],
    ]) {
      const out = correlation1d(tf.tensor4d(l, [2, 3, 11, 5]), tf.tensor4d(r, [2, 3, 11, 5]), maxD, stride);
      assert.deepEqual(out.shape, [2, 3, 11, correlationChannels(maxD, stride)]);
      const got = out.dataSync();
      const want = directCorrelation(l, r, shape, maxD, stride);
      want.forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-5, `${backend} D=${maxD} s=${stride} [${i}]: ${got[i]} ≠ ${v}`));
      out.dispose();
    }
  }
  assert.throws(() => correlationChannels(5, 2), RangeError);
  assert.throws(() => correlationChannels(-1), RangeError);
});

test('the gradient of correlation1d (tf.grads) matches central finite differences on both inputs', async () => {
  await initEngine({ backend: 'wasm' });
  const shape: [number, number, number, number] = [1, 2, 9, 3];
  const size = 2 * 9 * 3;
  const [maxD, stride] = [4, 2];
  const rng = new Rng(2);
  const l = randomArray(size, rng);
  const r = randomArray(size, rng);
  const weights = randomArray(size / 3 * correlationChannels(maxD, stride), rng);
  // The objective in double precision from the layer's output, so finite differences are not swamped by rounding.
  const objective = (a: Float32Array, b: Float32Array): number => {
    const out = tf.tidy(() => correlation1d(tf.tensor4d(a, shape), tf.tensor4d(b, shape), maxD, stride).dataSync());
    let s = 0;
    out.forEach((v, i) => (s += v * weights[i]));
    return s;
  };
  const w = tf.tensor4d(weights, [1, 2, 9, correlationChannels(maxD, stride)]);
  const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(correlation1d(a as tf.Tensor4D, b as tf.Tensor4D, maxD, stride), w)));
  const [gl, gr] = grads([tf.tensor4d(l, shape), tf.tensor4d(r, shape)]).map((g) => g.dataSync());
  const eps = 1e-2;
  for (const [which, x, g] of [
    ['left', l, gl],
    ['right', r, gr],
  ] as const) {
    for (let i = 0; i < size; i++) {
      const plus = Float32Array.from(x);
      const minus = Float32Array.from(x);
      plus[i] += eps;
      minus[i] -= eps;
      const fd = which === 'left' ? (objective(plus, r) - objective(minus, r)) / (2 * eps) : (objective(l, plus) - objective(l, minus)) / (2 * eps);
      assert.ok(Math.abs(fd - g[i]) < 1e-3 * Math.max(1, Math.abs(fd)), `d/d${which}[${i}]: tf.grads ${g[i]} vs finite difference ${fd}`);
    }
  }
  w.dispose();
});

test('on features shifted by a known disparity, the argmax channel recovers it at interior pixels', async () => {
  await initEngine({ backend: 'wasm' });
  const [h, w, c, shift, maxD] = [6, 48, 16, 5, 12];
  const rng = new Rng(3);
  const left = randomArray(h * w * c, rng);
  // right(x) = left(x + shift): left pixel x matches right pixel x − shift. Past the edge: unrelated features.
  const right = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ch = 0; ch < c; ch++) right[(y * w + x) * c + ch] = x + shift < w ? left[(y * w + x + shift) * c + ch] : rng.normal();
  const best = tf.tidy(() => tf.argMax(correlation1d(tf.tensor4d(left, [1, h, w, c]), tf.tensor4d(right, [1, h, w, c]), maxD), 3).dataSync());
  let hits = 0;
  let interior = 0;
  for (let y = 0; y < h; y++)
    for (let x = shift; x < w; x++) {
      interior++;
      if (best[y * w + x] === shift) hits++;
    }
  assert.ok(hits >= 0.98 * interior, `${hits} of ${interior} interior pixels recover the shift`);
});
