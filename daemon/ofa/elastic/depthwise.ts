// Elastic depthwise convolution (OFA's DynamicSeparableConv2d): one kernel at the largest size; a smaller kernel is
// the centre of the next larger one passed through a learned (k²×k²) transform shared by all channels — 7→5, then
// 5→3 — so small kernels are not plain crops. The transforms start as identities, i.e. as centre crops.
import { depthwiseConv2d, tf } from '../../engine';
import { leading, permute, type VariableStore } from './store';

export class ElasticDepthwiseConv2d {
  /** [K, K, maxChannels, 1] with K the largest kernel. */
  readonly kernel: tf.Variable;
  /** Transform from kernel `kernels[i + 1]` to `kernels[i]`, [kernels[i]², kernels[i]²]. */
  readonly transforms: tf.Variable[] = [];
  readonly maxKernel: number;

  constructor(
    store: VariableStore,
    name: string,
    /** Kernel sizes offered, ascending. */
    readonly kernels: readonly number[],
    readonly maxChannels: number,
    readonly stride: number,
  ) {
    this.maxKernel = kernels[kernels.length - 1];
    const K = this.maxKernel;
    // he_fout of a depthwise conv: fan-out k·k·channels, as OFA initialises its grouped Conv2d.
    this.kernel = store.create(`${name}/kernel`, [K, K, maxChannels, 1], { kind: 'normal', std: Math.sqrt(2 / (K * K * maxChannels)) }, { decay: true });
    for (let i = 0; i + 1 < kernels.length; i++) {
      const small = kernels[i];
      this.transforms.push(store.create(`${name}/transform${kernels[i + 1]}to${small}`, [small * small, small * small], { kind: 'identity' }, { decay: true }));
    }
  }

  /** The [k, k, channels, 1] filter of kernel size k for the leading `channels` channels. */
  activeKernel(channels: number, k: number): tf.Tensor4D {
    const K = this.maxKernel;
    if (k === K) return leading(this.kernel as tf.Tensor4D, [K, K, channels, 1]);
    const index = this.kernels.indexOf(k);
    if (index < 0) throw new Error(`internal: kernel ${k} is not one of [${this.kernels.join(', ')}]`);
    // Walk down from the largest kernel: crop the centre of the current one, transform, repeat until size k.
    let filter = this.kernel as tf.Tensor4D;
    for (let i = this.kernels.length - 2; i >= index; i--) {
      const target = this.kernels[i];
      const start = (this.kernels[i + 1] - target) / 2;
      const centre = tf.slice(filter, [start, start, 0, 0], [target, target, channels, 1]);
      // [t, t, C, 1] → [t², C]: positions are rows, so the transform is a left product (no transposes).
      const transformed = tf.matMul(this.transforms[i] as tf.Tensor2D, tf.reshape(centre, [target * target, channels]));
      filter = tf.reshape(transformed, [target, target, channels, 1]);
    }
    return filter;
  }

  apply(x: tf.Tensor4D, k: number): tf.Tensor4D {
    return depthwiseConv2d(x, this.activeKernel(x.shape[3], k), this.stride);
  }

  permuteChannels(index: tf.Tensor1D): void {
    permute(this.kernel, index, 2);
  }
}
