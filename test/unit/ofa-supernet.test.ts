import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import { ArchError, WeightsError } from '../../daemon/ofa/errors';
import { ClassificationSupernet } from '../../daemon/tasks/classification';
import { images, maxAbsDiff, smallConfig, useBackend } from './ofa-fixtures';

test('variables have stable names, init is seeded, and two supernets live side by side', async () => {
  await useBackend('cpu');
  const a = new ClassificationSupernet(smallConfig(), { classes: 5, inputChannels: 3, seed: 7 });
  const b = new ClassificationSupernet(smallConfig(), { classes: 5, inputChannels: 3, seed: 7 });
  const c = new ClassificationSupernet(smallConfig(), { classes: 5, inputChannels: 3, seed: 8 });
  try {
    assert.notEqual(a.scope, b.scope);
    const local = (net: ClassificationSupernet) => net.variables.map((v) => v.name.slice(net.scope.length + 1));
    assert.deepEqual(local(a), local(b));
    assert.ok(local(a).includes('u1b0/dw/transform7to5'));
    assert.ok(local(a).includes('u1b0/se/reduce/kernel'));
    assert.ok(!local(a).includes('stem/bn/movingMean'), 'running statistics are not trainable');
    // Weight decay on conv, dense and transform weights, not on batch norm or biases.
    const decayed = new Set(a.decayVariables.map((v) => v.name.slice(a.scope.length + 1)));
    assert.ok(decayed.has('u0b0/expand/kernel') && decayed.has('classifier/kernel'));
    assert.ok(!decayed.has('u0b0/expandBn/gamma') && !decayed.has('classifier/bias') && !decayed.has('u1b0/se/reduce/bias'));
    const x = images(2, 32);
    const arch = a.space.largest();
    assert.equal(maxAbsDiff(a.forward(x, arch, { training: true, seed: 1 }), b.forward(x, arch, { training: true, seed: 1 })), 0);
    assert.ok(maxAbsDiff(a.forward(x, arch, { training: true, seed: 1 }), c.forward(x, arch, { training: true, seed: 1 })) > 1e-4);
  } finally {
    [a, b, c].forEach((n) => n.dispose());
  }
});

test('forward gives logits of every subnet; dropout follows its seed; inputs are checked', async () => {
  await useBackend('cpu');
  const net = new ClassificationSupernet(smallConfig({ dropout: 0.5 }), { classes: 5, inputChannels: 3, seed: 2 });
  try {
    const rng = new Rng(1);
    for (let i = 0; i < 4; i++) {
      const arch = net.space.sample(rng);
      const y = net.forward(images(3, arch.r), arch, { training: i % 2 === 0, seed: i });
      assert.deepEqual(y.shape, [3, 5]);
      assert.ok(y.dataSync().every(Number.isFinite));
    }
    const arch = net.space.largest();
    const x = images(4, 32);
    assert.equal(maxAbsDiff(net.forward(x, arch, { training: true, seed: 3 }), net.forward(x, arch, { training: true, seed: 3 })), 0);
    assert.ok(maxAbsDiff(net.forward(x, arch, { training: true, seed: 3 }), net.forward(x, arch, { training: true, seed: 4 })) > 1e-4);
    assert.throws(() => net.forward(x, arch, { training: true }), /needs opts\.seed/);
    assert.throws(() => net.forward(images(4, 24), arch, { training: false }), /24×24 but the arch's resolution is 32/);
    assert.throws(() => net.forward(images(4, 32, 1), arch, { training: false }), /input must be \[N, H, W, 3\]/);
    assert.throws(() => net.forward(x, { ...arch, r: 30 }, { training: false }), ArchError);
    const before = tf.memory().numTensors;
    tf.dispose(net.forward(x, arch, { training: true, seed: 1 }));
    assert.equal(tf.memory().numTensors, before, 'forward leaks no tensors');
  } finally {
    net.dispose();
  }
});

test('gradients reach the active subnet’s variables and no others', async () => {
  await useBackend('cpu');
  const net = new ClassificationSupernet(smallConfig({ dropout: 0 }), { classes: 5, inputChannels: 3, seed: 2 });
  try {
    const arch = net.space.smallest(); // depth 2: block slots 2 and 3 of each unit are idle
    const x = images(2, arch.r);
    const { grads } = tf.variableGrads(() => tf.mean(tf.square(net.forward(x, arch, { training: true }))) as tf.Scalar, net.variables as tf.Variable[]);
    const nonzero = (name: string) => {
      const g = grads[`${net.scope}/${name}`];
      return g !== undefined && tf.tidy(() => tf.max(tf.abs(g)).dataSync()[0]) > 0;
    };
    assert.ok(nonzero('stem/conv/kernel'));
    assert.ok(nonzero('u0b0/dw/kernel'));
    assert.ok(nonzero('u0b0/dw/transform5to3') && nonzero('u0b0/dw/transform7to5'));
    assert.ok(nonzero('u1b1/se/expand/kernel'));
    assert.ok(nonzero('classifier/bias'));
    assert.ok(!nonzero('u0b2/dw/kernel') && !nonzero('u4b3/project/kernel'));
    tf.dispose(Object.values(grads));
  } finally {
    net.dispose();
  }
});

test('recalibration stores each batch norm’s size-weighted average of batch means and variances (OFA)', async () => {
  await useBackend('cpu');
  const net = new ClassificationSupernet(smallConfig(), { classes: 5, inputChannels: 3, seed: 2 });
  try {
    const arch = net.space.smallest();
    const batches = [images(3, arch.r, 3, 61), images(5, arch.r, 3, 62)];
    await net.recalibrateBatchNorm(arch, batches);
    const w = net.getWeights();
    // The stem's batch norm sees the stem conv's output directly (padded by k//2 = 1 on every side, as OFA's).
    const stats = batches.map((b) => tf.moments(tf.conv2d(b, w['stem/conv/kernel'] as tf.Tensor4D, 2, 1), [0, 1, 2]));
    const expectMean = tf.div(tf.add(tf.mul(stats[0].mean, 3), tf.mul(stats[1].mean, 5)), 8);
    const expectVar = tf.div(tf.add(tf.mul(stats[0].variance, 3), tf.mul(stats[1].variance, 5)), 8);
    assert.ok(maxAbsDiff(w['stem/bn/movingMean'], expectMean) < 1e-5);
    assert.ok(maxAbsDiff(w['stem/bn/movingVariance'], expectVar) < 1e-5);
    // Only the active slice changes: u1b0's expand BN has 16·6 = 96 channels, the smallest uses 8·3 → 24.
    const mean = w['u1b0/expandBn/movingMean'].dataSync();
    const variance = w['u1b0/expandBn/movingVariance'].dataSync();
    assert.equal(mean.length, 48);
    assert.ok(mean.slice(0, 24).some((v) => v !== 0));
    assert.ok(mean.slice(24).every((v) => v === 0) && variance.slice(24).every((v) => v === 1));
    // Idle blocks keep their statistics.
    assert.ok(w['u0b3/dwBn/movingMean'].dataSync().every((v) => v === 0));
    tf.dispose(Object.values(w));
    // Inference after recalibration on one batch equals training-mode batch norm on that batch (dropout off).
    const net0 = new ClassificationSupernet(smallConfig({ dropout: 0 }), { classes: 5, inputChannels: 3, seed: 2 });
    await net0.recalibrateBatchNorm(arch, [batches[1]]);
    assert.ok(maxAbsDiff(net0.forward(batches[1], arch, { training: false }), net0.forward(batches[1], arch, { training: true })) < 1e-4);
    net0.dispose();
    await assert.rejects(net.recalibrateBatchNorm(arch, []), /no batches/);
  } finally {
    net.dispose();
  }
});

test('getWeights/setWeights round-trip a supernet and reject foreign weights', async () => {
  await useBackend('cpu');
  const a = new ClassificationSupernet(smallConfig(), { classes: 5, inputChannels: 3, seed: 1 });
  const b = new ClassificationSupernet(smallConfig(), { classes: 5, inputChannels: 3, seed: 2 });
  const other = new ClassificationSupernet(smallConfig({ featureMixWidth: 72 }), { classes: 5, inputChannels: 3, seed: 1 });
  try {
    const arch = a.space.sample(new Rng(4));
    const x = images(4, arch.r);
    await a.recalibrateBatchNorm(arch, [x]);
    const weights = a.getWeights();
    assert.ok('u0b0/dwBn/movingVariance' in weights);
    b.setWeights(weights);
    assert.equal(maxAbsDiff(a.forward(x, arch, { training: false }), b.forward(x, arch, { training: false })), 0);
    // The returned tensors are the caller's: disposing them leaves the supernet intact.
    tf.dispose(Object.values(weights));
    assert.ok(a.forward(x, arch, { training: false }).dataSync().every(Number.isFinite));

    const theirs = other.getWeights();
    assert.throws(() => a.setWeights(theirs), (e: Error) => e instanceof WeightsError && /featureMix\/kernel' have shape \[48, 72\], the supernet \[48, 64\]/.test(e.message));
    const partial = a.getWeights();
    delete partial['classifier/bias'];
    assert.throws(() => a.setWeights(partial), /lack 'classifier\/bias'/);
    assert.throws(() => a.setWeights({ ...partial, 'classifier/bias': tf.zeros([5]), extra: tf.zeros([1]) }), /have 'extra'/);
  } finally {
    [a, b, other].forEach((n) => n.dispose());
  }
});

test('config() describes the supernet as plain JSON', async () => {
  await useBackend('cpu');
  const net = new ClassificationSupernet(smallConfig(), { classes: 5, inputChannels: 3, seed: 1 });
  try {
    const description = net.config();
    assert.deepEqual(JSON.parse(JSON.stringify(description)), description);
    assert.equal(description.layout.blocks.length, 1 + 5 * 4);
    assert.deepEqual(description.choices.kernel, [3, 5, 7]);
    assert.equal(description.params, net.countParams());
    const u3 = description.layout.blocks.find((b) => b.name === 'u3b0');
    assert.deepEqual([u3?.stride, u3?.se, u3?.activation, u3?.residual], [1, true, 'hswish', false]);
    assert.equal(description.layout.blocks.find((b) => b.name === 'u3b1')?.residual, true);
  } finally {
    net.dispose();
  }
});
