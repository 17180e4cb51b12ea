// The classification task: the supernet, OFA's loss (label-smoothed cross-entropy plus distillation against the
// largest subnet's softmax, weighted by kdRatio) and top-1 accuracy.
import { tf } from '../../engine';
import type { SearchSpace } from '../../ofa/space';
import { ClassificationSupernet, type ClassificationSupernetOptions } from './supernet';
import type { SupernetConfig } from '../../ofa/space';
import type { LossOptions, MetricValue, Task } from '../../ofa/task';

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

export class ClassificationTask implements Task<tf.Tensor4D, tf.Tensor2D, ClassLabels> {
  readonly kind = 'classification';
  readonly supernet: ClassificationSupernet;

  constructor(config: SupernetConfig, opts: ClassificationSupernetOptions) {
    this.supernet = new ClassificationSupernet(config, opts);
  }

  get space(): SearchSpace {
    return this.supernet.space;
  }

  loss(outputs: tf.Tensor2D, labels: ClassLabels, teacherOutputs: tf.Tensor2D | undefined, opts: LossOptions): tf.Scalar {
    return classificationLoss(outputs, labels, teacherOutputs, opts);
  }

  metric(outputs: tf.Tensor2D, labels: ClassLabels): MetricValue {
    return top1Accuracy(outputs, labels);
  }
}
