// The numeric building blocks of elastic networks. Each has one signature for every backend; on wasm (once
// initEngine has registered MANTA's kernels) the fused ones run as single native kernels with registered
// gradients, elsewhere as stock tfjs compositions — callers never branch on the backend.
import * as tf from '@tensorflow/tfjs';
import {
  Activation,
  BatchNormAct,
  SgdMomentum,
  type ActivationAttrs,
  type ActivationInputs,
  type ActivationName,
  type BatchNormActAttrs,
  type BatchNormActInputs,
  type SgdMomentumAttrs,
  type SgdMomentumInputs,
  wasmKernelsRegistered,
} from './kernels';

export type { ActivationName };

function fused(): boolean {
  return wasmKernelsRegistered() && tf.getBackend() === 'wasm';
}

function composedActivation<T extends tf.Tensor>(x: T, kind: ActivationName): T {
  switch (kind) {
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    // Multiplied by 1/6 (not divided by 6), in this order: bit-identical to the native kernel and to the stock
    // layers an extracted subnet composes h-swish from (rescaling by 1/6, then multiply).
    case 'hswish':
      return tf.mul(x, tf.mul(tf.relu6(tf.add(x, 3)), 1 / 6));
    case 'hsigmoid':
      return tf.mul(tf.relu6(tf.add(x, 3)), 1 / 6);
    case 'linear':
      return x;
  }
}

export function activation<T extends tf.Tensor>(x: T, kind: ActivationName): T {
  if ((kind === 'hswish' || kind === 'hsigmoid') && fused()) {
    const inputs: ActivationInputs = { x };
    const attrs: ActivationAttrs = { activation: kind };
    return tf.engine().runKernel(Activation, inputs as unknown as tf.NamedTensorMap, attrs) as T;
  }
  return composedActivation(x, kind);
}

/** The output of training-mode batch norm with the batch statistics it used (for running averages). */
export interface BatchNormTrainResult<T extends tf.Tensor> {
  y: T;
  /** Per-channel batch mean. */
  mean: tf.Tensor1D;
  /** Per-channel biased batch variance (what the normalization divides by). */
  variance: tf.Tensor1D;
}

/**
 * Training-mode batch norm followed by an activation, returning the batch statistics too: normalizes with the
 * batch's own mean and variance over every axis but the last (N, H, W for NHWC), as OFA trains.
 */
export function batchNormTrainWithStats<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon = 1e-5,
  act: ActivationName = 'linear',
): BatchNormTrainResult<T> {
  if (fused()) {
    const inputs: BatchNormActInputs = { x, gamma, beta };
    const attrs: BatchNormActAttrs = { epsilon, activation: act };
    const [y, mean, variance] = tf.engine().runKernel(BatchNormAct, inputs as unknown as tf.NamedTensorMap, attrs) as [T, tf.Tensor1D, tf.Tensor1D];
    return { y, mean, variance };
  }
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const normalized = tf.batchNorm(x, mean, variance, beta, gamma, epsilon) as T;
  return { y: composedActivation(normalized, act), mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
}

/** Training-mode batch norm (batch statistics over N, H, W for NHWC, as OFA trains), then an optional activation. */
export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon = 1e-5, act: ActivationName = 'linear'): tf.Tensor4D {
  return batchNormTrainWithStats(x, gamma, beta, epsilon, act).y;
}

/** Inference-mode batch norm with given (recalibrated) statistics, then an optional activation. */
export function batchNormInfer(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  epsilon = 1e-5,
  act: ActivationName = 'linear',
): tf.Tensor4D {
  return activation(tf.batchNorm4d(x, mean, variance, beta, gamma, epsilon), act);
}

/**
 * Zero padding of k//2 on every side (OFA's and PyTorch's convolutions), not tfjs's 'same', which pads a stride-2
 * convolution of an even-sized input only at the bottom and right: with it the same weights computed another function.
 * A number is tfjs's symmetric explicit padding; the output is ceil(size / stride), as with 'same'.
 */
export function symmetricPadding(kernelSize: number): number {
  return Math.floor(kernelSize / 2);
}

/** Convolution padded by k//2 on every side, NHWC, filter [k, k, in, out]. On wasm a 1×1 one is a single native GEMM each way. */
export function conv2d(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  return tf.conv2d(x, filter, stride, symmetricPadding(filter.shape[0]));
}

/** Depthwise convolution padded by k//2 on every side, NHWC, filter [k, k, channels, 1]. */
export function depthwiseConv2d(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  return tf.depthwiseConv2d(x, filter, stride, symmetricPadding(filter.shape[0]));
}

export interface SgdStepOptions {
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  /** Added to the gradient as weightDecay·w (0 for variables without decay). */
  weightDecay: number;
}

/**
 * One SGD-with-momentum step of one variable with PyTorch's semantics (g' = g + wd·w; v' = m·v + g', or g' without
 * a velocity yet; d = nesterov ? g' + m·v' : v'; w' = w − lr·d). Returns new tensors: the caller assigns `value`
 * to its variable and keeps `velocity` for the next step. One native pass on wasm instead of 4–8 kernels.
 */
export function sgdStep(value: tf.Tensor, grad: tf.Tensor, velocity: tf.Tensor | undefined, opts: SgdStepOptions): { value: tf.Tensor; velocity: tf.Tensor } {
  if (fused() && value.dtype === 'float32' && grad.dtype === 'float32') {
    const inputs: SgdMomentumInputs = velocity ? { value, grad, velocity } : { value, grad };
    const attrs: SgdMomentumAttrs = { learningRate: opts.learningRate, momentum: opts.momentum, weightDecay: opts.weightDecay, nesterov: opts.nesterov };
    const [newValue, newVelocity] = tf.engine().runKernel(SgdMomentum, inputs as unknown as tf.NamedTensorMap, attrs) as tf.Tensor[];
    return { value: newValue, velocity: newVelocity };
  }
  return tf.tidy(() => {
    const g = opts.weightDecay !== 0 ? tf.add(grad, tf.mul(value, opts.weightDecay)) : grad;
    const v = velocity ? tf.add(tf.mul(velocity, opts.momentum), g) : tf.clone(g);
    const d = opts.nesterov ? tf.add(g, tf.mul(v, opts.momentum)) : v;
    return { value: tf.sub(value, tf.mul(d, opts.learningRate)), velocity: v };
  });
}
