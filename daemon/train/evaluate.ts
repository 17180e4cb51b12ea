// Measuring one subnet of a trained supernet: recalibrate its batch norms on training examples (OFA's
// set_running_statistics), then the task's metric and loss on a split. The trainer uses it after every phase; the
// pipeline uses it to measure subnets for the predictor and the Pareto front.
import { tf } from '../engine';
import type { Arch } from '../ofa/arch';
import type { Task } from '../ofa/task';

export interface EvaluateOptions {
  /** Which split to measure on (default 'validation'). */
  split?: 'validation' | 'test';
  /** Training examples whose statistics become the subnet's batch-norm statistics. */
  calibrationSize: number;
  batchSize: number;
  /** Cap on the measured examples (default: the whole split). */
  limit?: number;
  /** Set false when the batch norms already hold this subnet's statistics (default true). */
  recalibrate?: boolean;
}

export interface SubnetEvaluation {
  /** The task's headline metric (top-1 accuracy for classification), averaged over the measured examples. */
  accuracy: number;
  metric: string;
  /** Mean loss without label smoothing or distillation. */
  loss: number;
  count: number;
}

/** Recalibrates batch norm for `arch`, then measures it on a split of the task's data. */
export async function evaluateSubnet(task: Task, arch: Arch, opts: EvaluateOptions): Promise<SubnetEvaluation> {
  const supernet = task.supernet;
  if (opts.recalibrate ?? true) {
    await supernet.recalibrateBatchNorm(arch, calibrationInputs(task, opts.batchSize, opts.calibrationSize, arch.r));
  }
  const split = opts.split ?? 'validation';
  let metricSum = 0;
  let lossSum = 0;
  let count = 0;
  let metric = task.metricInfo.name;
  for (const batch of task.data.evalBatches(split, opts.batchSize, opts.limit)) {
    const lossValue = tf.tidy(() => {
      const { x, y } = task.tensors(batch, arch.r);
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
  if (count === 0) throw new Error(`evaluateSubnet: the ${split} split is empty`);
  return { accuracy: metricSum / count, metric, loss: lossSum / count, count };
}

/** The first `limit` training examples as input tensors, each disposed once the consumer moves past it. */
function* calibrationInputs(task: Task, batchSize: number, limit: number, resolution: number): Generator<tf.Tensor> {
  let current: tf.Tensor | undefined;
  try {
    for (const batch of task.data.evalBatches('train', batchSize, limit)) {
      current?.dispose();
      current = tf.tidy(() => task.tensors(batch, resolution).x);
      yield current;
    }
  } finally {
    current?.dispose();
  }
}
