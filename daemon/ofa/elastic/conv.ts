// Elastic convolution (OFA's DynamicConv2d): one kernel at the largest channel counts; a smaller layer is its
// leading input and output channels. Used for the stem, the 1×1 expand and project convs and the final expand.
import { conv2d, tf } from '../../engine';
import { leading, permute, type VariableStore } from './store';

export class ElasticConv2d {
  /** [k, k, maxIn, maxOut]. */
  readonly kernel: tf.Variable;

  constructor(
    store: VariableStore,
    name: string,
    readonly kernelSize: number,
    readonly maxIn: number,
    readonly maxOut: number,
    readonly stride: number,
  ) {
    this.kernel = store.create(`${name}/kernel`, [kernelSize, kernelSize, maxIn, maxOut], { kind: 'normal', std: Math.sqrt(2 / (kernelSize * kernelSize * maxOut)) }, { decay: true });
  }

  activeKernel(inChannels: number, outChannels: number): tf.Tensor4D {
    return leading(this.kernel as tf.Tensor4D, [this.kernelSize, this.kernelSize, inChannels, outChannels]);
  }

  /** Convolves x (its channel count picks the input slice) into `outChannels` channels. */
  apply(x: tf.Tensor4D, outChannels: number): tf.Tensor4D {
    return conv2d(x, this.activeKernel(x.shape[3], outChannels), this.stride);
  }

  permuteInputs(index: tf.Tensor1D): void {
    permute(this.kernel, index, 2);
  }

  permuteOutputs(index: tf.Tensor1D): void {
    permute(this.kernel, index, 3);
  }
}
