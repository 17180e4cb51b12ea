// MANTA's wasm kernels against tfjs's cpu backend: forward values and gradients of the convolutions, the fused
// batch norm + activation, the activations, matMul, the reductions and the data-movement kernels, on randomized
// shapes (kernel 1/3/5/7, stride 1/2, same/valid and the supernet's symmetric k//2 padding, batch 1, odd and even
// sizes). Fails above 1e-4 relative error.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { activation, batchNormTrain, batchNormTrainWithStats, conv2d, depthwiseConv2d, initEngine, sgdStep, tf, type ActivationName } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';

const TOLERANCE = 1e-4;

before(async () => {
  await initEngine({ backend: 'wasm' });
});

/** Max absolute difference relative to the reference's largest magnitude. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length, 'lengths differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / Math.max(scale, 1e-12);
}

function randomData(rng: Rng, shape: number[], scale = 1): { data: Float32Array; shape: number[] } {
  const size = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: size }, () => rng.normal() * scale), shape };
}

type Data = { data: Float32Array; shape: number[] };

/**
 * Runs `f` on fresh tensors made from `inputs` on each backend and returns the outputs, plus the gradients of
 * Σ(output · weights) with respect to every input (weights fixed and random, so every element matters).
 */
function valueAndGrads(backend: string, inputs: Data[], f: (...xs: tf.Tensor[]) => tf.Tensor, outWeights: (shape: number[]) => Data): Float32Array[] {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const xs = inputs.map((d) => tf.tensor(d.data, d.shape, 'float32'));
    const y = f(...xs);
    const w = outWeights(y.shape);
    const wt = tf.tensor(w.data, w.shape);
    const grads = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), wt)))(xs);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

function compareOnBackends(label: string, inputs: Data[], f: (...xs: tf.Tensor[]) => tf.Tensor, seed: number, names: string[]): void {
  const weights = (shape: number[]) => randomData(new Rng(seed + 1000), shape);
  const wasm = valueAndGrads('wasm', inputs, f, weights);
  const cpu = valueAndGrads('cpu', inputs, f, weights);
  tf.setBackend('wasm');
  ['y', ...names].forEach((name, i) => {
    const err = relativeError(wasm[i], cpu[i]);
    assert.ok(err <= TOLERANCE, `${label}: ${name} relative error ${err.toExponential(2)} > ${TOLERANCE}`);
  });
}

interface ConvCase {
  batch: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  /** 'symmetric': k//2 on every side, as the supernet's convolutions pad (conv2d and depthwiseConv2d of the engine). */
  pad: 'same' | 'valid' | 'symmetric';
}

/** The padding argument tfjs takes for a case. */
function padOf(c: ConvCase): 'same' | 'valid' | number {
  return c.pad === 'symmetric' ? Math.floor(c.k / 2) : c.pad;
}

/** Randomized convolution cases covering every kernel size, stride and padding, with odd sizes and batch 1. */
function convCases(seed: number, count: number): ConvCase[] {
  const rng = new Rng(seed);
  const cases: ConvCase[] = [];
  const odd = (lo: number, hi: number) => lo + 2 * rng.int(Math.floor((hi - lo) / 2) + 1);
  for (const k of [1, 3, 5, 7])
    for (const stride of [1, 2])
      for (const pad of ['same', 'valid', 'symmetric'] as const)
        for (let i = 0; i < count; i++) {
          // Symmetric padding differs from 'same' on even sizes with stride 2: those sizes are drawn too.
          const size = (lo: number, hi: number) => (pad === 'symmetric' && i % 2 === 0 ? odd(lo, hi) + 1 : odd(lo, hi));
          const h = size(Math.max(k, 3), 13);
          cases.push({ batch: rng.pick([1, 1, 2, 3]), h, w: size(Math.max(k, 3), 11), cin: odd(1, 19), cout: odd(1, 21), k, stride, pad });
        }
  return cases;
}

const describe = (c: ConvCase) => `k${c.k} s${c.stride} ${c.pad} x[${c.batch},${c.h},${c.w},${c.cin}] → ${c.cout}`;

test('Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter match cpu', () => {
  let seed = 1;
  for (const c of convCases(11, 2)) {
    const rng = new Rng(seed++);
    const x = randomData(rng, [c.batch, c.h, c.w, c.cin]);
    const filter = randomData(rng, [c.k, c.k, c.cin, c.cout], 0.3);
    compareOnBackends(`conv2d ${describe(c)}`, [x, filter], (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, padOf(c)), seed, ['dx', 'dfilter']);
  }
});

test('1×1 convolutions on MobileNet-sized layers (the GEMM path) match cpu', () => {
  const shapes: [number[], number][] = [
    [[2, 8, 8, 24], 144],
    [[3, 4, 4, 240], 40],
    [[4, 1, 1, 160], 960],
    [[1, 2, 2, 112], 672],
  ];
  let seed = 500;
  for (const [xs, cout] of shapes) {
    const rng = new Rng(seed++);
    const x = randomData(rng, xs);
    const filter = randomData(rng, [1, 1, xs[3], cout], 0.1);
    compareOnBackends(`conv2d 1×1 ${xs} → ${cout}`, [x, filter], (a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), seed, ['dx', 'dfilter']);
  }
});

test('fused 1×1 convolutions (stock conv layers) match cpu and compute exactly what Conv2D computes on wasm', () => {
  const rng = new Rng(510);
  let seed = 520;
  for (const [xs, cout, act, withBias] of [
    [[2, 8, 8, 24], 144, 'linear', false],
    [[3, 4, 4, 40], 120, 'relu', true],
    [[1, 3, 5, 17], 9, 'relu6', true],
    [[2, 2, 2, 30], 7, 'linear', true],
  ] as const) {
    const x = randomData(rng, [...xs]);
    const filter = randomData(rng, [1, 1, xs[3], cout], 0.2);
    const bias = randomData(rng, [cout]);
    const fused = (a: tf.Tensor, b: tf.Tensor, c?: tf.Tensor) =>
      tf.fused.conv2d({ x: a as tf.Tensor4D, filter: b as tf.Tensor4D, strides: 1, pad: 'same', bias: c, activation: act });
    const inputs = withBias ? [x, filter, bias] : [x, filter];
    compareOnBackends(`fused.conv2d 1×1 ${act} bias=${withBias} ${xs} → ${cout}`, inputs, fused, seed++, ['dx', 'dfilter', 'dbias'].slice(0, inputs.length));
  }
  // Bit-identical to the supernet's plain conv (the extraction test needs exact equality, not 1e-4).
  tf.setBackend('wasm');
  tf.tidy(() => {
    const x = tf.tensor4d(randomData(rng, [2, 5, 5, 40]).data, [2, 5, 5, 40]);
    const filter = tf.tensor4d(randomData(rng, [1, 1, 40, 96]).data, [1, 1, 40, 96]);
    const plain = tf.conv2d(x, filter, 1, 'same').dataSync();
    const viaFused = tf.fused.conv2d({ x, filter, strides: 1, pad: 'same' }).dataSync();
    assert.deepEqual(viaFused, plain);
  });
});

test('a gathered tensor serves as the bias of the stock fused kernels (GatherV2 records its output shape)', () => {
  // Channel sorting permutes every supernet weight with tf.gather; the stock fused kernels read a bias's rank from
  // the backend's record of it, which stock wasm GatherV2 left at rank 4.
  const rng = new Rng(530);
  const x = randomData(rng, [2, 6, 6, 5]);
  const filter = randomData(rng, [3, 3, 5, 8], 0.3);
  const a = randomData(rng, [3, 8]);
  const b = randomData(rng, [8, 8]);
  const biasValues = randomData(rng, [8]);
  const order = Int32Array.from([3, 7, 0, 5, 1, 6, 2, 4]);
  const run = (backend: string) => {
    tf.setBackend(backend);
    return tf.tidy(() => {
      const bias = tf.gather(tf.tensor1d(biasValues.data), tf.tensor1d(order, 'int32'));
      const rows = tf.gather(tf.tensor2d(b.data, [8, 8]), tf.tensor1d(order, 'int32'), 1);
      // 3×3 with bias and sigmoid: the stock XNNPACK FusedConv2D; sigmoid: the stock _FusedMatMul.
      return [
        tf.fused.conv2d({ x: tf.tensor4d(x.data, [2, 6, 6, 5]), filter: tf.tensor4d(filter.data, [3, 3, 5, 8]), strides: 1, pad: 'same', bias, activation: 'sigmoid' }),
        tf.fused.matMul({ a: tf.tensor2d(a.data, [3, 8]), b: rows, bias, activation: 'sigmoid' }),
        tf.fused.matMul({ a: tf.tensor2d(a.data, [3, 8]), b: rows, bias, activation: 'relu' }),
      ].map((t) => t.dataSync() as Float32Array);
    });
  };
  const [wasm, cpu] = [run('wasm'), run('cpu')];
  tf.setBackend('wasm');
  wasm.forEach((out, i) => assert.ok(relativeError(out, cpu[i]) <= TOLERANCE, `case ${i}: relative error ${relativeError(out, cpu[i])}`));
});

test('DepthwiseConv2dNative and both its gradients match cpu', () => {
  let seed = 100;
  for (const c of convCases(12, 2)) {
    const rng = new Rng(seed++);
    const x = randomData(rng, [c.batch, c.h, c.w, c.cin]);
    const filter = randomData(rng, [c.k, c.k, c.cin, 1], 0.3);
    compareOnBackends(`depthwise ${describe(c)}`, [x, filter], (a, b) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, padOf(c)), seed, ['dx', 'dfilter']);
  }
  // Wide channel counts exercise the 16-lane blocks, and dilation the forward kernel's general path.
  const rng = new Rng(7);
  const x = randomData(rng, [2, 9, 7, 37]);
  const filter = randomData(rng, [5, 5, 37, 1], 0.3);
  compareOnBackends('depthwise k5 s1 same, 37 channels', [x, filter], (a, b) => tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), 8, ['dx', 'dfilter']);
  const forward = (backend: string) => {
    tf.setBackend(backend);
    const shape4 = (s: number[]) => s as [number, number, number, number];
    return tf.tidy(() => tf.depthwiseConv2d(tf.tensor4d(x.data, shape4(x.shape)), tf.tensor4d(filter.data, shape4(filter.shape)), 1, 'same', 'NHWC', 2).dataSync() as Float32Array);
  };
  const err = relativeError(forward('wasm'), forward('cpu'));
  tf.setBackend('wasm');
  assert.ok(err <= TOLERANCE, `dilated depthwise forward relative error ${err}`);
});

test('fused batch norm + activation (forward, statistics, gradients) matches the cpu composition', () => {
  const acts: ActivationName[] = ['linear', 'relu', 'relu6', 'hswish', 'hsigmoid'];
  let seed = 200;
  for (const act of acts)
    for (const shape of [
      [2, 5, 3, 7],
      [3, 4, 4, 24],
      [1, 1, 3, 13],
      [4, 2, 2, 33],
    ]) {
      const rng = new Rng(seed++);
      const x = randomData(rng, shape, 2);
      const c = shape[3];
      const gamma = { data: Float32Array.from({ length: c }, () => 1 + 0.3 * rng.normal()), shape: [c] };
      const beta = { data: Float32Array.from({ length: c }, () => 0.5 * rng.normal()), shape: [c] };
      const label = `batchNormTrain ${act} [${shape}]`;
      compareOnBackends(label, [x, gamma, beta], (a, g, b) => batchNormTrainWithStats(a, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5, act).y, seed, ['dx', 'dgamma', 'dbeta']);
      const stats = (backend: string) => {
        tf.setBackend(backend);
        return tf.tidy(() => {
          const r = batchNormTrainWithStats(tf.tensor(x.data, x.shape), tf.tensor1d(gamma.data), tf.tensor1d(beta.data), 1e-5, act);
          return [r.mean.dataSync() as Float32Array, r.variance.dataSync() as Float32Array];
        });
      };
      const [w, cpu] = [stats('wasm'), stats('cpu')];
      tf.setBackend('wasm');
      assert.ok(relativeError(w[0], cpu[0]) <= TOLERANCE, `${label}: mean`);
      assert.ok(relativeError(w[1], cpu[1]) <= TOLERANCE, `${label}: variance`);
    }
});

test('fused batch norm sums over many rows (a 32×32 stem batch) stay exact to float32 rounding', () => {
  // Float32 running sums over N·H·W = 8192 rows drifted by ~1e-5 relative: enough to flip a relu whose pre-activation
  // is within ~1e-6 of zero, and with it a whole channel's gradient (what the OFA parity test caught). A mean far
  // from zero (30 standard deviations) and a gradient with a large common part make the drift visible.
  const shape = [8, 32, 32, 16];
  const rng = new Rng(77);
  const c = shape[3];
  const rows = shape[0] * shape[1] * shape[2];
  const x = { data: Float32Array.from({ length: rows * c }, () => 3 + 0.1 * rng.normal()), shape };
  const dy = Float32Array.from({ length: rows * c }, () => 1 + 0.1 * rng.normal());
  const gamma = Float32Array.from({ length: c }, () => 1 + 0.1 * rng.normal());
  const beta = Float32Array.from({ length: c }, () => 0.1 * rng.normal());
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let i = 0; i < rows * c; i++) mean[i % c] += x.data[i] / rows;
  for (let i = 0; i < rows * c; i++) variance[i % c] += (x.data[i] - mean[i % c]) ** 2 / rows;
  const dbeta = new Float64Array(c);
  for (let i = 0; i < rows * c; i++) dbeta[i % c] += dy[i];
  tf.setBackend('wasm');
  const [m, v, dg, db] = tf.tidy(() => {
    const xt = tf.tensor(x.data, shape);
    const [g, b] = [tf.tensor1d(gamma), tf.tensor1d(beta)];
    const r = batchNormTrainWithStats(xt, g, b, 1e-5, 'linear');
    const [, dgt, dbt] = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => batchNormTrain(a as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D))([xt, g, b], tf.tensor(dy, shape));
    return [r.mean, r.variance, dgt, dbt].map((t) => t.dataSync() as Float32Array);
  });
  const worst = (actual: Float32Array, expected: Float64Array) => Math.max(...Array.from(expected, (e, i) => Math.abs(actual[i] - e) / Math.abs(e)));
  assert.ok(worst(m, mean) <= 1e-6, `mean relative error ${worst(m, mean).toExponential(2)}`);
  assert.ok(worst(v, variance) <= 1e-6, `variance relative error ${worst(v, variance).toExponential(2)}`);
  assert.ok(worst(db, dbeta) <= 1e-6, `dbeta relative error ${worst(db, dbeta).toExponential(2)}`);
  // Σdz·x̂ cancels (x̂ has mean zero), and centring on the float32 mean shifts it by (mean − m)·Σdz: the reference
  // centres on the kernel's own mean, and the error is measured against Σ|dz·x̂| ≈ 0.8·rows.
  const dgamma = new Float64Array(c);
  for (let i = 0; i < rows * c; i++) dgamma[i % c] += (dy[i] * (x.data[i] - m[i % c])) / Math.sqrt(variance[i % c] + 1e-5);
  const dgammaError = Math.max(...Array.from(dgamma, (e, i) => Math.abs(dg[i] - e))) / rows;
  assert.ok(dgammaError <= 1e-6, `dgamma error ${dgammaError.toExponential(2)} per row`);
});

test('batchNormTrain and activation run as single fused kernels on wasm', async () => {
  tf.setBackend('wasm');
  const x = tf.randomNormal([2, 4, 4, 8]);
  const g = tf.ones([8]) as tf.Tensor1D;
  const b = tf.zeros([8]) as tf.Tensor1D;
  const profile = await tf.profile(() => {
    tf.tidy(() => activation(batchNormTrainWithStats(x, g, b, 1e-5, 'hswish').y, 'hsigmoid'));
  });
  assert.deepEqual(
    profile.kernels.map((k) => k.name),
    ['MantaBatchNormAct', 'MantaActivation'],
  );
  tf.dispose([x, g, b]);
});

test('stand-alone h-swish and h-sigmoid match the cpu composition', () => {
  let seed = 300;
  for (const act of ['hswish', 'hsigmoid'] as const)
    for (const shape of [[3, 5, 7, 9], [17], [2, 1280]]) {
      const x = randomData(new Rng(seed++), shape, 4);
      compareOnBackends(`${act} [${shape}]`, [x], (a) => activation(a, act), seed, ['dx']);
    }
});

test('BatchMatMul with every transpose combination, batched and broadcast, matches cpu', () => {
  let seed = 400;
  const rng = new Rng(41);
  for (const transposeA of [false, true])
    for (const transposeB of [false, true])
      for (const [batchA, batchB] of [
        [[], []],
        [[3], [3]],
        [[1], [2]],
      ]) {
        const m = 1 + rng.int(37);
        const k = 1 + rng.int(29);
        const n = 1 + rng.int(41);
        const a = randomData(rng, [...batchA, ...(transposeA ? [k, m] : [m, k])]);
        const b = randomData(rng, [...batchB, ...(transposeB ? [n, k] : [k, n])]);
        const label = `matMul tA=${transposeA} tB=${transposeB} a[${a.shape}] b[${b.shape}]`;
        const product = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, transposeA, transposeB);
        if (batchA.length === 0 || batchA[0] === batchB[0]) {
          compareOnBackends(label, [a, b], product, seed++, ['da', 'db']);
          continue;
        }
        // tfjs has no gradient for a broadcast batch: compare the product only.
        const forward = (backend: string) => {
          tf.setBackend(backend);
          return tf.tidy(() => product(tf.tensor(a.data, a.shape), tf.tensor(b.data, b.shape)).dataSync() as Float32Array);
        };
        const err = relativeError(forward('wasm'), forward('cpu'));
        tf.setBackend('wasm');
        assert.ok(err <= TOLERANCE, `${label}: relative error ${err}`);
      }
});

test('Sum, Mean, Transpose, Slice and Identity match cpu', () => {
  const rng = new Rng(51);
  const x = randomData(rng, [3, 5, 7, 11]);
  let seed = 600;
  const cases: [string, (t: tf.Tensor) => tf.Tensor][] = [
    ['sum leading', (t) => tf.sum(t, [0, 1, 2])],
    ['sum middle keepDims', (t) => tf.sum(t, [1, 2], true)],
    ['sum last', (t) => tf.sum(t, -1)],
    ['sum all', (t) => tf.sum(t)],
    ['sum non-contiguous', (t) => tf.sum(t, [0, 2])],
    ['mean middle', (t) => tf.mean(t, [1, 2])],
    ['mean leading keepDims', (t) => tf.mean(t, [0], true)],
    ['transpose 0312', (t) => tf.transpose(t, [0, 3, 1, 2])],
    ['transpose 3210', (t) => tf.transpose(t, [3, 2, 1, 0])],
    ['transpose 2d', (t) => tf.transpose(tf.reshape(t, [15, 77]))],
    ['slice 4d', (t) => tf.slice(t, [1, 2, 0, 3], [2, 3, 7, 5])],
    ['slice 2d', (t) => tf.slice(tf.reshape(t, [105, 11]), [4, 2], [50, 9])],
    ['clone', (t) => tf.clone(t)],
  ];
  for (const [label, f] of cases) compareOnBackends(label, [x], f, seed++, ['dx']);
});

test('fused matMul with bias and relu/relu6 (dense layers) matches cpu, gradients included', () => {
  let seed = 700;
  const rng = new Rng(71);
  for (const act of ['linear', 'relu', 'relu6'] as const)
    for (const [transposeA, transposeB] of [
      [false, false],
      [false, true],
      [true, false],
    ]) {
      const m = 1 + rng.int(33);
      const k = 1 + rng.int(40);
      const n = 1 + rng.int(45);
      const a = randomData(rng, transposeA ? [k, m] : [m, k]);
      const b = randomData(rng, transposeB ? [n, k] : [k, n]);
      const bias = randomData(rng, [n]);
      compareOnBackends(
        `fused.matMul ${act} tA=${transposeA} tB=${transposeB} [${m}×${k}]·[${k}×${n}]`,
        [a, b, bias],
        (x, y, z) => tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, transposeA, transposeB, bias: z, activation: act }),
        seed++,
        ['da', 'db', 'dbias'],
      );
    }
});

test('sgdStep (one fused kernel on wasm) matches the cpu composition of PyTorch SGD semantics', () => {
  const rng = new Rng(81);
  const shape = [37, 11];
  const w = randomData(rng, shape);
  const g = randomData(rng, shape);
  const v = randomData(rng, shape);
  for (const nesterov of [false, true])
    for (const weightDecay of [0, 3e-5])
      for (const withVelocity of [false, true]) {
        const opts = { learningRate: 0.05, momentum: 0.9, nesterov, weightDecay };
        const run = (backend: string) => {
          tf.setBackend(backend);
          return tf.tidy(() => {
            const r = sgdStep(tf.tensor(w.data, shape), tf.tensor(g.data, shape), withVelocity ? tf.tensor(v.data, shape) : undefined, opts);
            return [r.value.dataSync() as Float32Array, r.velocity.dataSync() as Float32Array];
          });
        };
        const [wasm, cpu] = [run('wasm'), run('cpu')];
        tf.setBackend('wasm');
        const label = `sgd nesterov=${nesterov} wd=${weightDecay} velocity=${withVelocity}`;
        assert.ok(relativeError(wasm[0], cpu[0]) <= TOLERANCE, `${label}: value`);
        assert.ok(relativeError(wasm[1], cpu[1]) <= TOLERANCE, `${label}: velocity`);
        // and against the formula itself, element 5
        const i = 5;
        const gi = g.data[i] + weightDecay * w.data[i];
        const vi = withVelocity ? 0.9 * v.data[i] + gi : gi;
        const expected = w.data[i] - 0.05 * (nesterov ? gi + 0.9 * vi : vi);
        assert.ok(Math.abs(wasm[0][i] - expected) < 1e-6, `${label}: formula`);
      }
});

test('a small MBConv network trains on wasm with the gradients cpu computes', () => {
  // Stem conv (stride 2), an inverted-residual block with sliced weights, a kernel-transformed 5×5 depthwise, SE
  // and h-swish, then pooling and a dense classifier: every kernel above, composed as the supernet composes them.
  const rng = new Rng(91);
  const x = randomData(rng, [3, 13, 13, 3]);
  const weights = [
    randomData(rng, [3, 3, 3, 8], 0.3), // stem
    randomData(rng, [1, 1, 8, 48], 0.3), // expand (max width 48, 40 used)
    randomData(rng, [7, 7, 48, 1], 0.2), // depthwise at the largest kernel
    { data: Float32Array.from({ length: 625 }, (_, i) => (i % 26 === 0 ? 1 : 0) + 0.05 * rng.normal()), shape: [25, 25] }, // 7→5
    randomData(rng, [40, 10], 0.3), // SE reduce
    randomData(rng, [10, 40], 0.3), // SE expand
    randomData(rng, [1, 1, 48, 8], 0.3), // project
    randomData(rng, [8, 5], 0.5), // classifier
  ];
  const net = (input: tf.Tensor, stem: tf.Tensor, expand: tf.Tensor, dw: tf.Tensor, t75: tf.Tensor, seR: tf.Tensor, seE: tf.Tensor, project: tf.Tensor, cls: tf.Tensor) => {
    const ones = (c: number) => tf.ones([c]) as tf.Tensor1D;
    const zeros = (c: number) => tf.zeros([c]) as tf.Tensor1D;
    let h = batchNormTrain(conv2d(input as tf.Tensor4D, stem as tf.Tensor4D, 2), ones(8), zeros(8), 1e-5, 'hswish');
    const mid = 40;
    let y = batchNormTrain(conv2d(h, tf.slice(expand, [0, 0, 0, 0], [1, 1, 8, mid]) as tf.Tensor4D, 1), ones(mid), zeros(mid), 1e-5, 'relu');
    const centre = tf.reshape(tf.slice(dw, [1, 1, 0, 0], [5, 5, mid, 1]), [25, mid]);
    const k5 = tf.reshape(tf.matMul(t75 as tf.Tensor2D, centre as tf.Tensor2D), [5, 5, mid, 1]) as tf.Tensor4D;
    y = batchNormTrain(depthwiseConv2d(y, k5, 1), ones(mid), zeros(mid), 1e-5, 'hswish');
    const pooled = tf.reshape(tf.mean(y, [1, 2]), [y.shape[0], mid]) as tf.Tensor2D;
    const gate = activation(tf.matMul(tf.relu(tf.matMul(pooled, seR as tf.Tensor2D)), seE as tf.Tensor2D), 'hsigmoid');
    y = tf.mul(y, tf.reshape(gate, [y.shape[0], 1, 1, mid])) as tf.Tensor4D;
    y = batchNormTrain(conv2d(y, tf.slice(project, [0, 0, 0, 0], [1, 1, mid, 8]) as tf.Tensor4D, 1), ones(8), zeros(8));
    h = tf.add(h, y) as tf.Tensor4D;
    return tf.matMul(tf.reshape(tf.mean(h, [1, 2]), [h.shape[0], 8]) as tf.Tensor2D, cls as tf.Tensor2D);
  };
  compareOnBackends('MBConv network', [x, ...weights], net, 92, ['dinput', 'dstem', 'dexpand', 'ddepthwise', 'dtransform', 'dseReduce', 'dseExpand', 'dproject', 'dclassifier']);
});

test('dilated depthwise gradients are the adjoints of the dilated forward (tfjs has no dilated reference)', () => {
  tf.setBackend('wasm');
  const rng = new Rng(95);
  for (const [shape, k, dilation, pad] of [
    [[2, 11, 9, 6], 3, 2, 'same'],
    [[1, 13, 12, 17], 5, 2, 'valid'],
    [[2, 9, 10, 4], 3, 3, 'same'],
  ] as const) {
    const x = tf.tensor4d(randomData(rng, [...shape]).data, [...shape]);
    const filter = tf.tensor4d(randomData(rng, [k, k, shape[3], 1]).data, [k, k, shape[3], 1]);
    const y = tf.depthwiseConv2d(x, filter, 1, pad, 'NHWC', dilation);
    const dy = tf.tensor(randomData(rng, y.shape).data, y.shape);
    const attrs = { strides: 1, dilations: dilation, pad };
    const dx = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, { ...attrs, inputShape: [...shape] }) as tf.Tensor;
    const df = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: [k, k, shape[3], 1] }) as tf.Tensor;
    const dot = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(a, b)).dataSync()[0];
    const lhs = dot(y, dy);
    const label = `k${k} dilation ${dilation} ${pad} [${shape}]`;
    assert.ok(Math.abs(lhs - dot(x, dx)) <= TOLERANCE * Math.abs(lhs) + 1e-3, `${label}: <conv(x), dy> != <x, dx>`);
    assert.ok(Math.abs(lhs - dot(filter, df)) <= TOLERANCE * Math.abs(lhs) + 1e-3, `${label}: <conv(x), dy> != <f, df>`);
    tf.dispose([x, filter, y, dy, dx, df]);
  }
});

test('tfjs-layers convolution layers (which pass null dilations) run on the wasm kernels and match cpu', () => {
  const rng = new Rng(97);
  const x = randomData(rng, [2, 7, 7, 8]);
  const dwKernel = randomData(rng, [3, 3, 8, 1]);
  const pwKernel = randomData(rng, [1, 1, 8, 16]);
  const run = (backend: string) => {
    tf.setBackend(backend);
    return tf.tidy(() => {
      const input = tf.input({ shape: [7, 7, 8] });
      const dw = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false });
      const pw = tf.layers.conv2d({ filters: 16, kernelSize: 1, useBias: false });
      const model = tf.model({ inputs: input, outputs: pw.apply(dw.apply(input)) as tf.SymbolicTensor });
      dw.setWeights([tf.tensor(dwKernel.data, dwKernel.shape)]);
      pw.setWeights([tf.tensor(pwKernel.data, pwKernel.shape)]);
      const y = model.predict(tf.tensor(x.data, x.shape)) as tf.Tensor;
      const out = y.dataSync() as Float32Array;
      model.dispose();
      return out;
    });
  };
  const [wasm, cpu] = [run('wasm'), run('cpu')];
  tf.setBackend('wasm');
  assert.ok(relativeError(wasm, cpu) <= TOLERANCE, `relative error ${relativeError(wasm, cpu)}`);
});
