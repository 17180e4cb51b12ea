// The classification task: the supernet, its data (images and class labels, daemon/data), OFA's loss (label-smoothed
// cross-entropy plus distillation against the teacher's softmax, weighted by kdRatio) and top-1 accuracy.
import { tf } from '../../engine';
import { evalBatches, loadDataset, openBatchStream, type Batch, type Dataset, type LoadOptions, type Split } from '../../data';
import type { Arch } from '../../ofa/arch';
import type { SearchSpace, SupernetConfig } from '../../ofa/space';
import type { LossOptions, MetricInfo, MetricSum, MetricValue, Task, TaskData, TrainStreamOptions } from '../../ofa/task';
import type { ResolvedConfig } from '../../../schemas';
import { ClassificationSupernet } from './supernet';

/** Labels: class indices [N] (int32), or one-hot / soft targets [N, classes]. */
export type ClassLabels = tf.Tensor1D | tf.Tensor2D;

function targets(labels: ClassLabels, classes: number): tf.Tensor2D {
  return labels.rank === 1 ? (tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, classes).toFloat() as tf.Tensor2D) : (labels as tf.Tensor2D);
}

/** Identity whose gradient is zero: the teacher is a target, never trained through the distillation term. */
const stopGradient = tf.customGrad((...inputs) => ({ value: tf.clone(inputs[0] as tf.Tensor), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as (x: tf.Tensor2D) => tf.Tensor2D;

/** Cross-entropy of logits against soft targets, averaged over the batch (OFA's cross_entropy_loss_with_soft_target). */
export function softCrossEntropy(logits: tf.Tensor2D, soft: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.neg(tf.sum(tf.mul(soft, tf.logSoftmax(logits)), 1))));
}

/** OFA's training loss: CE with label smoothing, plus kdRatio × CE against softmax(teacher logits) when given. */
export function classificationLoss(logits: tf.Tensor2D, labels: ClassLabels, teacherLogits: tf.Tensor2D | undefined, opts: LossOptions): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const smoothed = tf.add(tf.mul(targets(labels, classes), 1 - opts.labelSmoothing), opts.labelSmoothing / classes) as tf.Tensor2D;
    let loss = softCrossEntropy(logits, smoothed);
    if (teacherLogits && opts.kdRatio > 0) {
      const soft = tf.softmax(stopGradient(teacherLogits));
      loss = tf.add(loss, tf.mul(softCrossEntropy(logits, soft), opts.kdRatio));
    }
    return loss;
  });
}

/** Top-1 accuracy of logits against labels. */
export function top1Accuracy(logits: tf.Tensor2D, labels: ClassLabels): MetricValue {
  const correct = tf.tidy(() => {
    const truth = labels.rank === 1 ? tf.cast(labels, 'int32') : tf.argMax(labels, 1);
    return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), truth), 'int32'));
  });
  const n = logits.shape[0];
  const value = correct.dataSync()[0] / n;
  correct.dispose();
  return { name: 'accuracy', value, count: n };
}

/** `x` at `resolution`×`resolution` (bilinear); x itself when it already is. */
export function resizeTo(x: tf.Tensor4D, resolution: number): tf.Tensor4D {
  if (x.shape[1] === resolution && x.shape[2] === resolution) return x;
  return tf.image.resizeBilinear(x, [resolution, resolution]);
}

/** A batch as network input (resized to `resolution` when given) and int32 labels. */
export function batchTensors(batch: Batch, split: Pick<Split, 'height' | 'width' | 'channels'>, resolution?: number): { x: tf.Tensor4D; y: tf.Tensor1D } {
  return tf.tidy(() => {
    const x = tf.tensor4d(batch.x, [batch.size, split.height, split.width, split.channels]);
    return { x: resolution === undefined ? x : resizeTo(x, resolution), y: tf.tensor1d(batch.y, 'int32') };
  });
}

/** A loaded image dataset as the task contract's data: batches of daemon/data, prepared in a worker thread. */
export function classificationData(dataset: Dataset): TaskData<Batch> {
  return {
    describe: dataset.describe,
    trainCount: dataset.train.count,
    openTrainStream: (opts: TrainStreamOptions) => openBatchStream(dataset.train, { ...opts, augmentation: dataset.augmentation }),
    evalBatches: (split, batchSize, limit) => evalBatches(dataset[split], batchSize, limit),
  };
}

export class ClassificationTask implements Task<tf.Tensor4D, tf.Tensor2D, ClassLabels, Batch> {
  readonly kind = 'classification';
  readonly metricInfo: MetricInfo = { name: 'accuracy', higherIsBetter: true };
  readonly supernet: ClassificationSupernet;
  readonly data: TaskData<Batch>;
  readonly unitStack: { inputChannels: number; classes: number };

  /** The task over a loaded dataset; the supernet's input and classifier follow the data. */
  constructor(
    config: SupernetConfig,
    readonly dataset: Dataset,
    opts: { seed: number; scope?: string },
  ) {
    this.supernet = new ClassificationSupernet(config, { classes: dataset.classes, inputChannels: dataset.channels, seed: opts.seed, scope: opts.scope });
    this.data = classificationData(dataset);
    this.unitStack = { inputChannels: dataset.channels, classes: dataset.classes };
  }

  /** Loads the config's dataset and builds the supernet over it. */
  static async create(config: ResolvedConfig, opts: Pick<LoadOptions, 'baseDir'>): Promise<ClassificationTask> {
    const dataset = await loadDataset(config.data, { baseDir: opts.baseDir, seed: config.seed });
    return new ClassificationTask(config.supernet, dataset, { seed: config.seed });
  }

  get space(): SearchSpace {
    return this.supernet.space;
  }

  tensors(batch: Batch, resolution?: number): { x: tf.Tensor4D; y: ClassLabels } {
    return batchTensors(batch, this.dataset.train, resolution);
  }

  loss(outputs: tf.Tensor2D, labels: ClassLabels, teacherOutputs: tf.Tensor2D | undefined, opts: LossOptions): tf.Scalar {
    return classificationLoss(outputs, labels, teacherOutputs, opts);
  }

  metric(outputs: tf.Tensor2D, labels: ClassLabels): MetricValue {
    return top1Accuracy(outputs, labels);
  }

  metricSums(outputs: tf.Tensor2D, labels: ClassLabels): Record<string, MetricSum> {
    const m = top1Accuracy(outputs, labels);
    return { accuracy: { sum: m.value * m.count, count: m.count } };
  }

  inputDescription(): Record<string, unknown> {
    const d = this.dataset;
    return { channels: d.channels, classes: d.classes, normalization: d.normalization, ...(d.classNames ? { classNames: d.classNames } : {}) };
  }

  exportMetadata(arch: Arch): Record<string, unknown> {
    return { arch, normalization: this.dataset.normalization, classes: this.dataset.classes };
  }

  dispose(): void {
    this.supernet.dispose();
  }
}
