// Elastic squeeze-and-excite (OFA's DynamicSE): global pool, reduce to make_divisible(C/4, 8) with ReLU, expand back
// with h-sigmoid, rescale. Weights are held at the largest C; a smaller block uses the leading rows and columns.
// The two 1×1 convs act on a pooled [N, C] tensor, so they are dense products here (same arithmetic as OFA's convs).
import { activation, tf } from '../../engine';
import { seChannels } from '../channels';
import { leading, permute, type VariableStore } from './store';

export class ElasticSqueezeExcite {
  readonly maxMid: number;
  /** [maxChannels, maxMid]. */
  readonly reduceKernel: tf.Variable;
  readonly reduceBias: tf.Variable;
  /** [maxMid, maxChannels]. */
  readonly expandKernel: tf.Variable;
  readonly expandBias: tf.Variable;

  constructor(
    store: VariableStore,
    name: string,
    readonly maxChannels: number,
  ) {
    this.maxMid = seChannels(maxChannels);
    // he_fout of the 1×1 convs: fan-out is their output channels.
    this.reduceKernel = store.create(`${name}/reduce/kernel`, [maxChannels, this.maxMid], { kind: 'normal', std: Math.sqrt(2 / this.maxMid) }, { decay: true });
    this.reduceBias = store.create(`${name}/reduce/bias`, [this.maxMid], { kind: 'fill', value: 0 });
    this.expandKernel = store.create(`${name}/expand/kernel`, [this.maxMid, maxChannels], { kind: 'normal', std: Math.sqrt(2 / maxChannels) }, { decay: true });
    this.expandBias = store.create(`${name}/expand/bias`, [maxChannels], { kind: 'fill', value: 0 });
  }

  /** Reduce kernel, reduce bias, expand kernel, expand bias for `channels` channels (stock Dense weight order). */
  activeWeights(channels: number): [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D] {
    const mid = seChannels(channels);
    return [
      leading(this.reduceKernel as tf.Tensor2D, [channels, mid]),
      leading(this.reduceBias as tf.Tensor1D, [mid]),
      leading(this.expandKernel as tf.Tensor2D, [mid, channels]),
      leading(this.expandBias as tf.Tensor1D, [channels]),
    ];
  }

  apply(x: tf.Tensor4D): tf.Tensor4D {
    const [n, , , c] = x.shape;
    const [reduceKernel, reduceBias, expandKernel, expandBias] = this.activeWeights(c);
    const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
    const hidden = tf.fused.matMul({ a: pooled, b: reduceKernel, bias: reduceBias, activation: 'relu' });
    const gate = activation(tf.fused.matMul({ a: hidden, b: expandKernel, bias: expandBias }), 'hsigmoid');
    return tf.mul(x, tf.reshape(gate, [n, 1, 1, c]));
  }

  /** Permutes the excited channels, then sorts the hidden units by importance (L1 of their expand weights), as OFA. */
  permuteChannels(index: tf.Tensor1D): void {
    permute(this.reduceKernel, index, 0);
    permute(this.expandKernel, index, 1);
    permute(this.expandBias, index, 0);
    const order = tf.tidy(() => descendingOrder(tf.sum(tf.abs(this.expandKernel), 1).dataSync()));
    const hiddenIndex = tf.tensor1d(order, 'int32');
    permute(this.expandKernel, hiddenIndex, 0);
    permute(this.reduceKernel, hiddenIndex, 1);
    permute(this.reduceBias, hiddenIndex, 0);
    hiddenIndex.dispose();
  }
}

/** Indices sorting `importance` descending; ties keep their order, so a permutation is reproducible. */
export function descendingOrder(importance: ArrayLike<number>): Int32Array {
  const order = Array.from({ length: importance.length }, (_, i) => i);
  order.sort((a, b) => importance[b] - importance[a] || a - b);
  return Int32Array.from(order);
}
