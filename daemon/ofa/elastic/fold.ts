// A convolution followed by batch norm and an activation, as every elastic block has them. In training, calibration
// and plain inference the batch norm runs on its own; in 'fold' mode (measurements) it is folded into the convolution —
// its scale multiplies the filter, its shift becomes the bias — so the measured forward pass runs one bias-and-
// activation pass after each convolution instead of a batch norm's (a 1×1 convolution on wasm: one native GEMM and
// one native bias + activation pass).
import { activation, depthwiseConv2d, symmetricPadding, tf, type ActivationName } from '../../engine';
import type { BnMode, ElasticBatchNorm } from './batchnorm';
import type { ElasticConv2d } from './conv';
import type { ElasticDepthwiseConv2d } from './depthwise';

/** Activations tf.fused.conv2d applies itself; the others (h-swish) follow as their own pass. */
const FUSABLE: ReadonlySet<ActivationName> = new Set(['linear', 'relu', 'relu6']);

/** act(bn(conv(x))) with `outChannels` output channels. */
export function convBn(conv: ElasticConv2d, bn: ElasticBatchNorm, x: tf.Tensor4D, outChannels: number, mode: BnMode, act: ActivationName = 'linear'): tf.Tensor4D {
  if (mode !== 'fold') return bn.apply(conv.apply(x, outChannels), mode, act);
  const { scale, shift } = bn.inferenceAffine(outChannels);
  const filter = tf.mul(conv.activeKernel(x.shape[3], outChannels), scale) as tf.Tensor4D; // scales each output channel
  const fused = FUSABLE.has(act) ? (act as 'linear' | 'relu' | 'relu6') : 'linear';
  const y = tf.fused.conv2d({ x, filter, strides: conv.stride, pad: symmetricPadding(conv.kernelSize), bias: shift, activation: fused });
  return fused === act ? y : activation(y, act);
}

/** act(bn(depthwise(x))) with kernel size `k`. */
export function depthwiseBn(dw: ElasticDepthwiseConv2d, bn: ElasticBatchNorm, x: tf.Tensor4D, k: number, mode: BnMode, act: ActivationName = 'linear'): tf.Tensor4D {
  if (mode !== 'fold') return bn.apply(dw.apply(x, k), mode, act);
  const c = x.shape[3];
  const { scale, shift } = bn.inferenceAffine(c);
  const filter = tf.mul(dw.activeKernel(c, k), tf.reshape(scale, [1, 1, c, 1])) as tf.Tensor4D;
  // tfjs-wasm's fused depthwise kernel is slower than the plain one and an add: kept apart.
  return activation(tf.add(depthwiseConv2d(x, filter, dw.stride), shift), act);
}
