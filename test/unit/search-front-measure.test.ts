// Measurement worth fitting a predictor to, and the front as the best of everything measured:
// - the final front is the Pareto set of every measured subnet (measured set and re-measured searched points) under
//   the constraints, one entry per subnet (a re-measured point wins over its earlier measurement);
// - batch-norm recalibration uses a fixed, seeded, random subset of the training images with the training
//   augmentation, drawn once and reused for every subnet;
// - the measurements' inference, batch norm folded into the convolutions, computes what the extracted model does.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../daemon/engine';
import { loadDataset } from '../../daemon/data';
import { Rng } from '../../daemon/engine/rng';
import type { Arch } from '../../daemon/ofa/arch';
import { measureInParallel, measureProcesses } from '../../daemon/pipeline/measure-pool';
import { measureSubnets } from '../../daemon/pipeline/measure-subnets';
import { bestOfMeasured } from '../../daemon/pipeline/stages/front';
import { calibrationBatches, evaluateSubnet, recalibrateSubnet } from '../../daemon/train/evaluate';
import { makeTask, smallConfig } from './train-fixtures';

const PHASES = { phases: [{ phase: 'largest', epochs: 1 }] };

before(async () => {
  await initEngine({ backend: 'wasm' });
});

test('the front is the Pareto set of every measured subnet under the constraints, each subnet once', () => {
  const arch = (n: number): Arch => ({ ks: [n], e: [3], d: [1], w: 1, r: 16 });
  const cost = (a: Arch) => ({ cost: a.ks[0], feasible: a.ks[0] <= 8 });
  const candidates = [
    // The predictor's measured set (validation only).
    { arch: arch(1), validationAccuracy: 0.5, source: 'measured' },
    { arch: arch(3), validationAccuracy: 0.8, source: 'measured' }, // beats the searched point at cost 4
    { arch: arch(5), validationAccuracy: 0.7, source: 'measured' }, // re-measured below: the later figure counts
    { arch: arch(9), validationAccuracy: 0.99, source: 'measured' }, // best of all, but over the bound
    // The evolution's front, re-measured.
    { arch: arch(4), validationAccuracy: 0.75, testAccuracy: 0.74, source: 'searched' },
    { arch: arch(5), validationAccuracy: 0.85, testAccuracy: 0.84, source: 'searched' },
    { arch: arch(7), validationAccuracy: 0.9, testAccuracy: 0.88, source: 'searched' },
  ];
  const front = bestOfMeasured(candidates, (a) => String(a.ks[0]), cost, (v) => v);
  assert.deepEqual(
    front.map((c) => [c.arch.ks[0], c.validationAccuracy, c.source]),
    [
      [1, 0.5, 'measured'],
      [3, 0.8, 'measured'],
      [5, 0.85, 'searched'],
      [7, 0.9, 'searched'],
    ],
  );
  // Lower-is-better metrics go in as negated fitness: the least error wins.
  const errors = bestOfMeasured(candidates, (a) => String(a.ks[0]), cost, (v) => -v);
  assert.deepEqual(errors.map((c) => c.arch.ks[0]), [1]);
});

test('batch norms are recalibrated on a fixed, seeded, random and augmented subset of the training images', async () => {
  const config = smallConfig(PHASES, { augmentation: { horizontalFlip: true, cropPadding: 2 } });
  const dataset = await loadDataset(config.data, { baseDir: '.', seed: config.seed });
  const task = makeTask(config, dataset);
  try {
    const drawn = (await calibrationBatches(task, 100)) as unknown as { x: Float32Array; size: number }[];
    assert.deepEqual(drawn.map((b) => b.size), [100], 'one batch: 16×16×3 images fit 500 to a batch');
    // Drawn once: the same arrays for every subnet of the run.
    assert.equal(await calibrationBatches(task, 100), drawn);
    // Not the first images in stored order, and not unaugmented: few images of the subset equal a stored one as is.
    const stored = [...task.data.evalBatches('train', 1024)][0] as { x: Float32Array };
    const pixels = 16 * 16 * 3;
    assert.notDeepEqual(drawn[0].x.subarray(0, pixels), stored.x.subarray(0, pixels));
    let equalToStored = 0;
    for (let i = 0; i < 100; i++) {
      const img = Buffer.from(drawn[0].x.buffer, drawn[0].x.byteOffset + i * pixels * 4, pixels * 4);
      for (let j = 0; j < 1024; j++) if (img.equals(Buffer.from(stored.x.buffer, stored.x.byteOffset + j * pixels * 4, pixels * 4))) equalToStored++;
    }
    assert.ok(equalToStored < 50, `most of the subset is augmented (${equalToStored} of 100 equal a stored image as is)`);
    // A larger subset starts with the same images, augmented the same way; another task on the same data draws the same.
    const larger = (await calibrationBatches(task, 200)) as unknown as { x: Float32Array }[];
    assert.deepEqual(larger[0].x.subarray(0, 100 * pixels), drawn[0].x);
    const twin = makeTask(config, dataset);
    try {
      assert.deepEqual(((await calibrationBatches(twin, 100)) as unknown as { x: Float32Array }[])[0].x, drawn[0].x);
    } finally {
      twin.dispose();
    }
    // The same subset gives the same statistics: measuring a subnet twice, in between another, at another batch size
    // of the measured split, gives the same accuracy.
    const arch = task.space.sample(new Rng(3));
    const a = await evaluateSubnet(task, arch, { calibrationSize: 100, batchSize: 32 });
    await recalibrateSubnet(task, task.space.largest(), { calibrationSize: 100 });
    const b = await evaluateSubnet(task, arch, { calibrationSize: 100, batchSize: 32 });
    assert.deepEqual(b, a);
    const c = await evaluateSubnet(task, arch, { calibrationSize: 100, batchSize: 100 });
    assert.equal(c.accuracy, a.accuracy);
  } finally {
    task.dispose();
  }
});

test('inference with batch norm folded into the convolutions equals the extracted model (stock batch-norm layers)', async () => {
  const config = smallConfig(PHASES);
  const dataset = await loadDataset(config.data, { baseDir: '.', seed: config.seed });
  const task = makeTask(config, dataset);
  try {
    // Statistics that are not the identity: recalibrate, then perturb gamma and beta.
    const arch = task.space.largest();
    await recalibrateSubnet(task, arch, { calibrationSize: 64 });
    const weights = task.supernet.getWeights();
    const rng = new Rng(2);
    const changed: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(weights)) {
      if (/\/(gamma|beta)$/.test(name)) changed[name] = tf.tensor(Float32Array.from(t.dataSync(), (v) => v + (rng.next() - 0.5)), t.shape);
    }
    task.supernet.setWeights({ ...weights, ...changed });
    // The extracted model computes batch norm with the stock layer (tf.batchNorm): the reference.
    const model = task.supernet.extractSubnet(arch);
    const batch = [...task.data.evalBatches('validation', 16, 16)][0];
    const x = task.tensors(batch, arch.r).x;
    const ours = task.supernet.forward(x as tf.Tensor4D, arch, { training: false, foldBatchNorm: true });
    const reference = model.predict(x) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(ours, reference))).dataSync()[0];
    const scale = tf.max(tf.abs(reference)).dataSync()[0];
    assert.ok(diff <= 1e-4 * Math.max(1, scale), `max difference ${diff} (logits up to ${scale})`);
    tf.dispose([x, ours, reference, ...Object.values(weights), ...Object.values(changed)]);
    model.dispose();
  } finally {
    task.dispose();
  }
});

test('subnets measured by two processes give the figures one process gives, in the list\'s order', async () => {
  const config = smallConfig(PHASES, { trainSize: 256, validationSize: 64 });
  const dataset = await loadDataset(config.data, { baseDir: '.', seed: config.seed });
  const task = makeTask(config, dataset);
  try {
    const rng = new Rng(4);
    const archs = Array.from({ length: 6 }, () => task.space.sample(rng));
    const opts = { calibrationSize: 64, batchSize: 32 };
    const alone = await measureSubnets(task, archs, opts);
    const done: number[] = [];
    const warnings: string[] = [];
    const shared = await measureInParallel(task, archs, { ...opts, config, configDir: '.', processes: 2, warn: (m) => warnings.push(m) }, (_m, n) => void done.push(n));
    assert.deepEqual(shared, alone);
    assert.deepEqual(done, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(warnings, []);
  } finally {
    task.dispose();
  }
  // One process per core on a single-threaded backend (at most 4), one elsewhere or for a short list.
  assert.equal(measureProcesses('wasm', 300, 2), 2);
  assert.equal(measureProcesses('wasm', 300, 16), 4);
  assert.equal(measureProcesses('tensorflow', 300, 16), 1);
  assert.equal(measureProcesses('wasm', 8, 2), 1);
});
