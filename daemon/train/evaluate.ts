// Measuring one subnet of a trained supernet: recalibrate its batch norms on training images (OFA's
// set_running_statistics), then its metric and loss on a split. The trainer uses it after every phase; the search
// uses it to measure subnets for the predictor and the Pareto front.
import { tf } from '../engine';
import type { Arch } from '../ofa/arch';
import type { Task } from '../ofa/task';
import { evalBatches, type Batch, type Dataset, type Split } from '../data';

export interface EvaluateOptions {
  /** Which split to measure on (default 'validation'). */
  split?: 'validation' | 'test';
  /** Training images whose statistics become the subnet's batch-norm statistics. */
  calibrationSize: number;
  batchSize: number;
  /** Cap on the measured images (default: the whole split). */
  limit?: number;
  /** Set false when the batch norms already hold this subnet's statistics (default true). */
  recalibrate?: boolean;
}

export interface SubnetEvaluation {
  /** The task's headline metric (top-1 accuracy for classification), averaged over the measured images. */
  accuracy: number;
  metric: string;
  /** Mean loss without label smoothing or distillation. */
  loss: number;
  count: number;
}

/** Recalibrates batch norm for `arch`, then measures it on a split of `dataset`. */
export async function evaluateSubnet(task: Task, arch: Arch, dataset: Dataset, opts: EvaluateOptions): Promise<SubnetEvaluation> {
  const supernet = task.supernet;
  if (opts.recalibrate ?? true) {
    await supernet.recalibrateBatchNorm(arch, inputTensors(dataset.train, opts.batchSize, opts.calibrationSize, arch.r));
  }
  const split = opts.split === 'test' ? dataset.test : dataset.validation;
  let metricSum = 0;
  let lossSum = 0;
  let count = 0;
  let metric = 'accuracy';
  for (const batch of evalBatches(split, opts.batchSize, opts.limit)) {
    const lossValue = tf.tidy(() => {
      const { x, y } = batchTensors(batch, split, arch.r);
      const out = supernet.forward(x, arch, { training: false });
      const m = task.metric(out, y);
      metric = m.name;
      metricSum += m.value * m.count;
      return task.loss(out, y, undefined, { labelSmoothing: 0, kdRatio: 0 });
    });
    lossSum += (await lossValue.data())[0] * batch.size;
    lossValue.dispose();
    count += batch.size;
  }
  if (count === 0) throw new Error(`evaluateSubnet: the ${opts.split ?? 'validation'} split is empty`);
  return { accuracy: metricSum / count, metric, loss: lossSum / count, count };
}

/**
 * A batch as network input and int32 labels; with `resolution`, resized (bilinear) to it when the images are
 * another size.
 */
export function batchTensors(
  batch: Batch,
  split: Pick<Split, 'height' | 'width' | 'channels'>,
  resolution?: number,
): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => {
    const x = tf.tensor4d(batch.x, [batch.size, split.height, split.width, split.channels]);
    return { x: resolution === undefined ? x : resizeTo(x, resolution), y: tf.tensor1d(batch.y, 'int32') };
  });
}

/** `x` at `resolution`×`resolution`; x itself when it already is. */
export function resizeTo(x: tf.Tensor4D, resolution: number): tf.Tensor4D {
  if (x.shape[1] === resolution && x.shape[2] === resolution) return x;
  return tf.image.resizeBilinear(x, [resolution, resolution]);
}

/** The first `limit` images of a split as input tensors, each disposed once the consumer moves past it. */
function* inputTensors(split: Split, batchSize: number, limit: number, resolution: number): Generator<tf.Tensor4D> {
  let current: tf.Tensor4D | undefined;
  try {
    for (const batch of evalBatches(split, batchSize, limit)) {
      current?.dispose();
      current = tf.tidy(() => resizeTo(tf.tensor4d(batch.x, [batch.size, split.height, split.width, split.channels]), resolution));
      yield current;
    }
  } finally {
    current?.dispose();
  }
}
