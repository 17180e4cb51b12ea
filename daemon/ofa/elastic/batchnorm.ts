// Elastic batch norm (OFA's DynamicBatchNorm2d): scale, shift and running statistics at the largest channel count,
// sliced with the channels. Three modes: training (batch statistics), inference (running statistics), and
// calibration (batch statistics, reported to a sink so the caller can average them: OFA's set_running_statistics).
// Training does not update the running statistics: every subnet is recalibrated before it is evaluated.
import { activation, batchNormInfer, batchNormTrain, batchNormTrainWithStats, tf, type ActivationName } from '../../engine';
import { leading, permute, type VariableStore } from './store';

export const BN_EPSILON = 1e-5;

/** Receives each batch norm's batch statistics during a calibration forward. */
export interface BnStatisticsSink {
  record(bn: ElasticBatchNorm, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number): void;
}

/**
 * train: batch statistics; infer: running statistics, computed as the stock batch-norm layer of an extracted subnet
 * does (the same numbers); fold: running statistics folded into the preceding convolution (fold.ts) — what
 * measurements run, faster, equal to infer within float rounding; a sink: calibration.
 */
export type BnMode = 'train' | 'infer' | 'fold' | BnStatisticsSink;

export class ElasticBatchNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly movingMean: tf.Variable;
  readonly movingVariance: tf.Variable;

  constructor(
    store: VariableStore,
    readonly name: string,
    readonly maxChannels: number,
  ) {
    this.gamma = store.create(`${name}/gamma`, [maxChannels], { kind: 'fill', value: 1 });
    this.beta = store.create(`${name}/beta`, [maxChannels], { kind: 'fill', value: 0 });
    this.movingMean = store.create(`${name}/movingMean`, [maxChannels], { kind: 'fill', value: 0 }, { trainable: false });
    this.movingVariance = store.create(`${name}/movingVariance`, [maxChannels], { kind: 'fill', value: 1 }, { trainable: false });
  }

  /** gamma, beta, moving mean, moving variance of the leading `channels` channels (a stock layer's weight order). */
  activeWeights(channels: number): [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D] {
    return [this.gamma, this.beta, this.movingMean, this.movingVariance].map((v) => leading(v as tf.Tensor1D, [channels])) as [
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
    ];
  }

  /** Batch norm then `act` (one fused kernel where the engine has it). */
  apply(x: tf.Tensor4D, mode: BnMode, act: ActivationName = 'linear'): tf.Tensor4D {
    const c = x.shape[3];
    const gamma = leading(this.gamma as tf.Tensor1D, [c]);
    const beta = leading(this.beta as tf.Tensor1D, [c]);
    if (mode === 'train') return batchNormTrain(x, gamma, beta, BN_EPSILON, act);
    if (mode === 'infer') {
      return batchNormInfer(x, gamma, beta, leading(this.movingMean as tf.Tensor1D, [c]), leading(this.movingVariance as tf.Tensor1D, [c]), BN_EPSILON, act);
    }
    if (mode === 'fold') {
      // One per-channel scale and shift: two elementwise passes, where tfjs's batchNorm kernel on wasm takes about six
      // times as long as both together. (After a convolution, fold.ts folds them into its weights instead.)
      const { scale, shift } = this.inferenceAffine(c);
      return activation(tf.add(tf.mul(x, scale), shift), act);
    }
    const { y, mean, variance } = batchNormTrainWithStats(x, gamma, beta, BN_EPSILON, act);
    mode.record(this, mean, variance, x.shape[0]);
    return y;
  }

  /**
   * Inference-mode batch norm of the leading `channels` channels as y = x·scale + shift: scale = gamma/√(var+ε),
   * shift = beta − mean·scale (call inside a tidy).
   */
  inferenceAffine(channels: number): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
    const [gamma, beta, mean, variance] = this.activeWeights(channels);
    const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, BN_EPSILON))) as tf.Tensor1D;
    return { scale, shift: tf.sub(beta, tf.mul(mean, scale)) as tf.Tensor1D };
  }

  /** Stores statistics of the leading channels; the others keep theirs. */
  setStatistics(mean: tf.Tensor1D, variance: tf.Tensor1D): void {
    tf.tidy(() => {
      this.movingMean.assign(this.overwriteLeading(this.movingMean, mean));
      this.movingVariance.assign(this.overwriteLeading(this.movingVariance, variance));
    });
  }

  permuteChannels(index: tf.Tensor1D): void {
    for (const v of [this.gamma, this.beta, this.movingMean, this.movingVariance]) permute(v, index, 0);
  }

  private overwriteLeading(v: tf.Variable, head: tf.Tensor1D): tf.Tensor1D {
    const n = head.shape[0];
    if (n === this.maxChannels) return head;
    return tf.concat([head, tf.slice(v as tf.Tensor1D, [n], [this.maxChannels - n])]);
  }
}

/**
 * OFA's set_running_statistics: collects each batch norm's batch statistics over calibration batches (weighted by
 * batch size, as OFA averages per-batch statistics) and stores their means as the running statistics.
 */
export class BnStatisticsAverager implements BnStatisticsSink {
  private readonly sums = new Map<ElasticBatchNorm, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>();

  record(bn: ElasticBatchNorm, mean: tf.Tensor1D, variance: tf.Tensor1D, count: number): void {
    const prev = this.sums.get(bn);
    const next = {
      mean: tf.keep(prev ? tf.add(prev.mean, tf.mul(mean, count)) : tf.mul(mean, count)) as tf.Tensor1D,
      variance: tf.keep(prev ? tf.add(prev.variance, tf.mul(variance, count)) : tf.mul(variance, count)) as tf.Tensor1D,
      count: (prev?.count ?? 0) + count,
    };
    prev?.mean.dispose();
    prev?.variance.dispose();
    this.sums.set(bn, next);
  }

  /** Stores the averages in the batch norms; throws when no batch was seen. */
  apply(): void {
    if (this.sums.size === 0) throw new Error('recalibrateBatchNorm: no batches given; pass at least one calibration batch');
    for (const [bn, s] of this.sums) tf.tidy(() => bn.setStatistics(tf.div(s.mean, s.count), tf.div(s.variance, s.count)));
  }

  dispose(): void {
    for (const s of this.sums.values()) tf.dispose([s.mean, s.variance]);
    this.sums.clear();
  }
}
