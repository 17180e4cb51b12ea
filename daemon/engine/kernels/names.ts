// MANTA's own kernels: each name beside its Inputs and Attrs types, shared by ops.ts, the kernels and their
// gradients (tfjs's kernel_names.ts habit). The stock kernels MANTA implements for wasm keep tfjs's names.
import type { NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs';

export type ActivationName = 'relu' | 'relu6' | 'hswish' | 'hsigmoid' | 'linear';

/** Training-mode batch norm over the last axis with the batch's statistics, then an activation. */
export const BatchNormAct = 'MantaBatchNormAct';
export interface BatchNormActInputs extends NamedTensorInfoMap {
  x: TensorInfo;
  gamma: TensorInfo;
  beta: TensorInfo;
}
export interface BatchNormActAttrs extends NamedAttrMap {
  epsilon: number;
  activation: ActivationName;
}
/** Outputs: [y, mean, variance] (biased variance, as batch norm normalizes with). */

/** Gradient of BatchNormAct. Outputs: [dx, dgamma, dbeta]. */
export const BatchNormActGrad = 'MantaBatchNormActGrad';
export interface BatchNormActGradInputs extends NamedTensorInfoMap {
  dy: TensorInfo;
  x: TensorInfo;
  mean: TensorInfo;
  variance: TensorInfo;
  gamma: TensorInfo;
  beta: TensorInfo;
}
export type BatchNormActGradAttrs = BatchNormActAttrs;

/** An element-wise activation in one pass (h-swish and h-sigmoid are chains of four stock ops). */
export const Activation = 'MantaActivation';
export interface ActivationInputs extends NamedTensorInfoMap {
  x: TensorInfo;
}
export interface ActivationAttrs extends NamedAttrMap {
  activation: ActivationName;
}

/** Gradient of Activation: dx = dy · act'(x). */
export const ActivationGrad = 'MantaActivationGrad';
export interface ActivationGradInputs extends NamedTensorInfoMap {
  dy: TensorInfo;
  x: TensorInfo;
}
export type ActivationGradAttrs = ActivationAttrs;

/**
 * One SGD-with-momentum step for one variable (PyTorch semantics): g' = g + wd·w; v' = m·v + g' (g' without a
 * velocity input); d = nesterov ? g' + m·v' : v'; w' = w − lr·d. Outputs: [w', v']. Not differentiable.
 */
export const SgdMomentum = 'MantaSgdMomentum';
export interface SgdMomentumInputs extends NamedTensorInfoMap {
  value: TensorInfo;
  grad: TensorInfo;
  /** Absent on the first step. */
  velocity?: TensorInfo;
}
export interface SgdMomentumAttrs extends NamedAttrMap {
  learningRate: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}
