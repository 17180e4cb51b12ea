import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import { expandedChannels, seChannels } from '../../daemon/ofa/channels';
import { ElasticBatchNorm, ElasticConv2d, ElasticDepthwiseConv2d, ElasticMBConv, ElasticSqueezeExcite, freeScope, VariableStore } from '../../daemon/ofa/elastic';
import type { BlockLayout, SupernetBlockLayout } from '../../daemon/ofa/layout';
import { ClassificationSupernet } from '../../daemon/tasks/classification';
import { images, maxAbsDiff, smallConfig, useBackend } from './ofa-fixtures';

/** Channel sorting permutes weights with tf.gather, whose stock wasm kernel differs from cpu's: test both. */
const BACKENDS = ['cpu', 'wasm'] as const;

function store(seed = 1): VariableStore {
  return new VariableStore(freeScope('elastic_test'), seed);
}

/** Entry [i, j, c] of a [k, k, C, 1] filter's values. */
function at(values: ArrayLike<number>, k: number, channels: number, i: number, j: number, c: number): number {
  void k;
  return values[(i * k + j) * channels + c];
}

test('depthwise: the kernel transforms are 7→5 and 5→3 matrices and give [k, k, C, 1] filters', async () => {
  await useBackend('cpu');
  const s = store();
  const dw = new ElasticDepthwiseConv2d(s, 'dw', [3, 5, 7], 6, 1);
  assert.deepEqual(dw.transforms.map((t) => t.shape), [[9, 9], [25, 25]]);
  assert.deepEqual(s.list().map((v) => v.name), ['dw/kernel', 'dw/transform5to3', 'dw/transform7to5']);
  for (const k of [7, 5, 3]) assert.deepEqual(dw.activeKernel(4, k).shape, [k, k, 4, 1]);
  // The largest kernel with every channel is the variable itself: no copy on the largest net's path.
  assert.equal(dw.activeKernel(6, 7), dw.kernel);
  s.dispose();
});

test('depthwise: identity transforms give the centre crop', async () => {
  await useBackend('cpu');
  const s = store();
  const dw = new ElasticDepthwiseConv2d(s, 'dw', [3, 5, 7], 5, 1);
  const w = dw.kernel.dataSync();
  for (const [k, offset] of [[5, 1], [3, 2]] as const) {
    const f = dw.activeKernel(3, k).dataSync();
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        for (let c = 0; c < 3; c++) assert.equal(at(f, k, 3, i, j, c), at(w, 7, 5, i + offset, j + offset, c));
      }
    }
  }
  s.dispose();
});

test('depthwise: learned transforms act on the flattened centre, shared across channels (OFA’s semantics)', async () => {
  await useBackend('cpu');
  const s = store();
  const dw = new ElasticDepthwiseConv2d(s, 'dw', [3, 5, 7], 4, 1);
  const rng = new Rng(4);
  const m53 = Array.from({ length: 81 }, () => rng.normal());
  const m75 = Array.from({ length: 625 }, () => rng.normal());
  dw.transforms[0].assign(tf.tensor2d(m53, [9, 9]));
  dw.transforms[1].assign(tf.tensor2d(m75, [25, 25]));
  const w = dw.kernel.dataSync();
  const C = 3;
  // Reference in plain JS: PyTorch's F.linear(filter.view(C, k²), M) is out[c, q] = Σ_p M[q, p] · in[c, p].
  const transform = (centre: number[][], m: number[], t: number): number[][] =>
    centre.map((vec) => Array.from({ length: t * t }, (_, q) => vec.reduce((acc, v, p) => acc + m[q * t * t + p] * v, 0)));
  const crop = (flat: number[][], from: number, t: number): number[][] => {
    const o = (from - t) / 2;
    return flat.map((vec) => Array.from({ length: t * t }, (_, q) => vec[(Math.floor(q / t) + o) * from + (q % t) + o]));
  };
  const full = Array.from({ length: C }, (_, c) => Array.from({ length: 49 }, (_, p) => at(w, 7, 4, Math.floor(p / 7), p % 7, c)));
  const k5 = transform(crop(full, 7, 5), m75, 5);
  const k3 = transform(crop(k5, 5, 3), m53, 3);
  for (const [k, ref] of [[5, k5], [3, k3]] as const) {
    const f = dw.activeKernel(C, k).dataSync();
    for (let c = 0; c < C; c++) {
      for (let p = 0; p < k * k; p++) {
        assert.ok(Math.abs(at(f, k, C, Math.floor(p / k), p % k, c) - ref[c][p]) < 1e-4, `k${k} c${c} p${p}`);
      }
    }
  }
  // Gradients reach the kernel and exactly the transforms on the way down to the active size.
  const x = images(2, 8, 4);
  const grads = (k: number) => tf.variableGrads(() => tf.sum(tf.square(dw.apply(x, k))) as tf.Scalar, [dw.kernel, ...dw.transforms]).grads;
  const g3 = grads(3);
  assert.deepEqual(Object.keys(g3).sort(), [dw.kernel.name, dw.transforms[0].name, dw.transforms[1].name].sort());
  for (const g of Object.values(g3)) assert.ok(tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) > 0);
  const g5 = grads(5);
  assert.ok(!(dw.transforms[0].name in g5) || tf.tidy(() => tf.max(tf.abs(g5[dw.transforms[0].name])).dataSync()[0]) === 0);
  s.dispose();
});

test('pointwise conv, batch norm and SE use the leading channels of their max-size weights', async () => {
  await useBackend('cpu');
  const s = store(9);
  const conv = new ElasticConv2d(s, 'pw', 1, 8, 12, 1);
  const bn = new ElasticBatchNorm(s, 'bn', 12);
  const se = new ElasticSqueezeExcite(s, 'se', 12);
  const x = images(2, 5, 6, 3);
  const y = conv.apply(x, 7);
  assert.deepEqual(y.shape, [2, 5, 5, 7]);
  const ref = tf.conv2d(x, tf.slice(conv.kernel as tf.Tensor4D, [0, 0, 0, 0], [1, 1, 6, 7]), 1, 'same');
  assert.equal(maxAbsDiff(y, ref), 0);

  // Statistics written for 7 channels leave the other 5 as they were.
  bn.setStatistics(tf.tensor1d([1, 2, 3, 4, 5, 6, 7]), tf.fill([7], 2) as tf.Tensor1D);
  assert.deepEqual(Array.from(bn.movingMean.dataSync()), [1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(bn.movingVariance.dataSync()), [2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1]);
  const yInfer = bn.apply(y, 'infer');
  const refInfer = tf.batchNorm4d(y, tf.tensor1d([1, 2, 3, 4, 5, 6, 7]), tf.fill([7], 2) as tf.Tensor1D, tf.zeros([7]) as tf.Tensor1D, tf.ones([7]) as tf.Tensor1D, 1e-5);
  assert.ok(maxAbsDiff(yInfer, refInfer) < 1e-6);

  // SE over 8 of 12 channels: hidden make_divisible(8 / 4, 8) = 8 of the 8 allocated for 12.
  assert.equal(se.maxMid, seChannels(12));
  const h = images(2, 4, 8, 5);
  const out = se.apply(h);
  const [rk, rb, ek, eb] = se.activeWeights(8);
  assert.deepEqual([rk.shape, ek.shape], [[8, 8], [8, 8]]);
  const gate = tf.div(tf.relu6(tf.add(tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, rk), rb)), ek), eb), 3)), 6);
  assert.ok(maxAbsDiff(out, tf.mul(h, tf.reshape(gate, [2, 1, 1, 8]))) < 1e-6);
  s.dispose();
});

/** Random scales and shifts in every batch norm, so that sorting has to carry them along with the channels. */
function perturbBatchNorms(net: ClassificationSupernet, seed: number): void {
  const rng = new Rng(seed);
  const weights = net.getWeights();
  const next: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(weights)) {
    const isScale = name.endsWith('/gamma');
    if (!isScale && !name.endsWith('/beta')) {
      next[name] = t;
      continue;
    }
    next[name] = tf.tensor(Float32Array.from({ length: t.size }, () => (isScale ? 1 + 0.5 * rng.normal() : 0.5 * rng.normal())), t.shape);
  }
  net.setWeights(next);
  tf.dispose([...Object.values(weights), ...Object.values(next)]);
}

function projectImportance(net: ClassificationSupernet, block: string): Float32Array {
  const w = net.getWeights();
  const importance = tf.tidy(() => tf.sum(tf.abs(w[`${block}/project/kernel`]), [0, 1, 3]).dataSync() as Float32Array);
  tf.dispose(Object.values(w));
  return importance;
}

for (const backend of BACKENDS) test(`an MBConv block computes the same function after sorting its channels (expand, BN, depthwise, SE, project) (${backend})`, async () => {
  await useBackend(backend);
  const s = store(12);
  const layout: SupernetBlockLayout = {
    name: 'b',
    unit: 0,
    slot: 0,
    maxIn: 8,
    maxMid: 48,
    maxOut: 8,
    kernels: [3, 5, 7],
    stride: 1,
    activation: 'hswish',
    se: true,
    expand: true,
    residual: true,
  };
  const block = new ElasticMBConv(s, layout);
  const rng = new Rng(13);
  const random = (n: number, f: () => number) => tf.tensor1d(Float32Array.from({ length: n }, f));
  for (const bn of block.batchNorms()) {
    bn.gamma.assign(random(bn.maxChannels, () => 1 + 0.5 * rng.normal()));
    bn.beta.assign(random(bn.maxChannels, () => 0.5 * rng.normal()));
    bn.setStatistics(random(bn.maxChannels, () => 0.3 * rng.normal()), random(bn.maxChannels, () => 0.5 + rng.next()));
  }
  block.se?.reduceBias.assign(random(block.se.maxMid, () => 0.3 * rng.normal()));
  block.se?.expandBias.assign(random(48, () => 0.3 * rng.normal()));
  const active: BlockLayout = { ...layout, in: 8, mid: 48, out: 8, kernel: 7, seMid: seChannels(48), inSize: 6, outSize: 6 };
  const x = images(3, 6, 8, 21);
  const before = { infer: block.apply(x, active, 'infer'), train: block.apply(x, active, 'train') };
  const kernelBefore = block.expandConv?.kernel.dataSync().slice();
  block.reorganize(0, [3, 4, 6]);
  assert.notDeepEqual(block.expandConv?.kernel.dataSync(), kernelBefore);
  assert.ok(maxAbsDiff(before.infer, block.apply(x, active, 'infer')) < 1e-5);
  assert.ok(maxAbsDiff(before.train, block.apply(x, active, 'train')) < 1e-5);
  s.dispose();
});

for (const backend of BACKENDS) test(`channel sorting keeps the largest net’s function and puts important channels first (${backend})`, async () => {
  await useBackend(backend);
  const net = new ClassificationSupernet(smallConfig({ dropout: 0 }), { classes: 5, inputChannels: 3, seed: 3 });
  try {
    perturbBatchNorms(net, 5);
    const largest = net.space.largest();
    const x = images(8, largest.r);
    await net.recalibrateBatchNorm(largest, [x]);
    const before = { infer: net.forward(x, largest, { training: false }), train: net.forward(x, largest, { training: true, seed: 1 }) };
    const small = net.space.smallest();
    const xs = images(4, small.r);
    const smallBefore = net.forward(xs, small, { training: false });
    const importanceBefore = projectImportance(net, 'u1b0');

    net.reorganizeChannels();

    // Same function; only the order of the project convs' sums changes. A freshly initialised deep BN net amplifies
    // such rounding about 10³× (a 1e-7 relative change of its input moves the logits by ~1e-4 relative), so the
    // whole-net check allows 1e-3 relative; a wrongly coupled tensor changes the logits by O(1). The block-level test
    // below checks the permutation exactly.
    for (const [mode, y] of Object.entries(before)) {
      const after = net.forward(x, largest, { training: mode === 'train', seed: 1 });
      const scale = tf.tidy(() => tf.max(tf.abs(y)).dataSync()[0]);
      assert.ok(maxAbsDiff(y, after) <= 1e-3 * scale, `${mode}: ${maxAbsDiff(y, after)} at scale ${scale}`);
    }
    // Sorted: the L1 importance of every block's expanded channels is non-increasing.
    for (const b of net.layout.blocks.filter((b) => b.expand)) {
      const imp = projectImportance(net, b.name);
      for (let c = 1; c < imp.length; c++) assert.ok(imp[c] <= imp[c - 1], `${b.name} channel ${c}`);
    }
    assert.deepEqual([...projectImportance(net, 'u1b0')].sort(), [...importanceBefore].sort());
    // A narrower subnet now runs on other (the most important) channels, so it computes something else.
    assert.ok(maxAbsDiff(smallBefore, net.forward(xs, small, { training: false })) > 1e-3);
  } finally {
    net.dispose();
  }
});

for (const backend of BACKENDS) test(`staged sorting (OFA’s expand stage 1) keeps channels inside the width of the smaller ratio (${backend})`, async () => {
  await useBackend(backend);
  const net = new ClassificationSupernet(smallConfig(), { classes: 5, inputChannels: 3, seed: 3 });
  try {
    perturbBatchNorms(net, 6);
    const block = net.layout.blocks.find((b) => b.name === 'u3b1');
    assert.ok(block);
    // Expand ratios [3, 4, 6] sorted down: stage 1 sorts [0, width(4)) and [width(4), width(6)) separately.
    const inner = expandedChannels(block.maxIn, 4);
    const before = projectImportance(net, block.name);
    net.reorganizeChannels(1);
    const after = projectImportance(net, block.name);
    assert.deepEqual([...after.slice(0, inner)], [...before.slice(0, inner)].sort((a, b) => b - a));
    assert.deepEqual([...after.slice(inner)], [...before.slice(inner)].sort((a, b) => b - a));
  } finally {
    net.dispose();
  }
});
