import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../daemon/engine';
import { ClassificationTask, classificationLoss, top1Accuracy } from '../../daemon/tasks/classification';
import { smallConfig, useBackend } from './ofa-fixtures';
import { loadDataset } from '../../daemon/data';
import { smallConfig as trainConfig } from './train-fixtures';

const logits = [
  [2.0, -1.0, 0.5],
  [0.1, 0.3, -0.2],
];
const teacher = [
  [1.0, 0.0, 0.0],
  [-1.0, 2.0, 0.5],
];
const labels = [0, 2];

function logSoftmax(row: number[]): number[] {
  const m = Math.max(...row);
  const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
  return row.map((v) => v - lse);
}

function softmax(row: number[]): number[] {
  return logSoftmax(row).map(Math.exp);
}

/** OFA's loss in plain JS: mean over the batch of −Σ target · log softmax(logits). */
function reference(smoothing: number, kdRatio: number): number {
  let total = 0;
  logits.forEach((row, n) => {
    const ls = logSoftmax(row);
    const target = row.map((_, c) => (c === labels[n] ? 1 - smoothing : 0) + smoothing / row.length);
    total += -target.reduce((s, t, c) => s + t * ls[c], 0);
    if (kdRatio > 0) total += kdRatio * -softmax(teacher[n]).reduce((s, t, c) => s + t * ls[c], 0);
  });
  return total / logits.length;
}

test('the loss is label-smoothed cross-entropy plus kdRatio × cross-entropy against the teacher’s softmax', async () => {
  await useBackend('cpu');
  const y = tf.tensor2d(logits);
  const t = tf.tensor2d(teacher);
  const idx = tf.tensor1d(labels, 'int32');
  const oneHot = tf.oneHot(idx, 3).toFloat() as tf.Tensor2D;
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-5, `${a} vs ${b}`);
  close(classificationLoss(y, idx, undefined, { labelSmoothing: 0, kdRatio: 0 }).dataSync()[0], reference(0, 0));
  close(classificationLoss(y, idx, undefined, { labelSmoothing: 0.1, kdRatio: 0 }).dataSync()[0], reference(0.1, 0));
  close(classificationLoss(y, oneHot, undefined, { labelSmoothing: 0.1, kdRatio: 0 }).dataSync()[0], reference(0.1, 0));
  close(classificationLoss(y, idx, t, { labelSmoothing: 0.1, kdRatio: 1 }).dataSync()[0], reference(0.1, 1));
  close(classificationLoss(y, idx, t, { labelSmoothing: 0.1, kdRatio: 0.5 }).dataSync()[0], reference(0.1, 0.5));
  // The teacher is a target: no gradient flows into it.
  const [gy, gt] = tf.grads((a: tf.Tensor, b: tf.Tensor) => classificationLoss(a as tf.Tensor2D, idx, b as tf.Tensor2D, { labelSmoothing: 0.1, kdRatio: 1 }))([y, t]);
  assert.ok(tf.tidy(() => tf.max(tf.abs(gy)).dataSync()[0]) > 0);
  assert.equal(tf.tidy(() => tf.max(tf.abs(gt)).dataSync()[0]), 0);
});

test('the metric is top-1 accuracy with its example count', async () => {
  await useBackend('cpu');
  const y = tf.tensor2d(logits);
  assert.deepEqual(top1Accuracy(y, tf.tensor1d(labels, 'int32')), { name: 'accuracy', value: 0.5, count: 2 });
  assert.deepEqual(top1Accuracy(y, tf.tensor1d([0, 1], 'int32')), { name: 'accuracy', value: 1, count: 2 });
});

test('the classification task ties the supernet, its space, its data, the loss and the metric together', async () => {
  await useBackend('cpu');
  const data = trainConfig({ phases: [{ phase: 'largest', epochs: 1 }] }, { trainSize: 40, validationSize: 10, testSize: 10, classes: 3 }).data;
  const dataset = await loadDataset(data, { baseDir: '.', seed: 0 });
  const task = new ClassificationTask(smallConfig(), dataset, { seed: 0 });
  try {
    assert.equal(task.kind, 'classification');
    assert.equal(task.space, task.supernet.space);
    assert.deepEqual(task.metricInfo, { name: 'accuracy', higherIsBetter: true });
    assert.equal(task.data.trainCount, dataset.train.count);
    assert.deepEqual(task.unitStack, { inputChannels: dataset.channels, classes: 3 });
    // A batch of the task's own data becomes input at any resolution of the space, and int32 labels.
    const [batch] = [...task.data.evalBatches('validation', 4)];
    const { x, y } = task.tensors(batch, 12);
    assert.deepEqual(x.shape, [4, 12, 12, dataset.channels]);
    assert.deepEqual(y.shape, [4]);
    tf.dispose([x, y]);
    const arch = task.space.smallest();
    const out = task.supernet.forward(tf.zeros([2, arch.r, arch.r, dataset.channels]) as tf.Tensor4D, arch, { training: false });
    const loss = task.loss(out, tf.tensor1d([0, 1], 'int32'), undefined, { labelSmoothing: 0, kdRatio: 0 });
    assert.equal(loss.rank, 0);
    assert.equal(task.metric(out, tf.tensor1d([0, 1], 'int32')).count, 2);
  } finally {
    task.dispose();
  }
});
