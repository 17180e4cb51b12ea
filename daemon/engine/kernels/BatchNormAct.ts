// BatchNormAct for wasm: training-mode batch norm (batch statistics over every axis but the last) fused with the
// activation after it, in one native kernel; outputs y and the batch's mean and (biased) variance.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BatchNormAct, type BatchNormActAttrs, type BatchNormActInputs } from './names';
import { ACTIVATION_CODE, nativeFor } from './native';

function batchNormAct(args: { inputs: BatchNormActInputs; backend: BackendWasm; attrs: BatchNormActAttrs }): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { x, gamma, beta } = inputs;
  const channels = x.shape[x.shape.length - 1];
  const pixels = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const native = nativeFor(backend);
  const y = native.output(x.shape);
  const mean = native.output([channels]);
  const variance = native.output([channels]);
  const scratch = native.scratch(2 * channels);
  native.fn.batchnorm_act_forward(native.ptr(x), native.ptr(gamma), native.ptr(beta), native.ptr(y), native.ptr(mean), native.ptr(variance), pixels, channels, attrs.epsilon, ACTIVATION_CODE[attrs.activation], scratch);
  return [y, mean, variance];
}

export const batchNormActConfig: KernelConfig = {
  kernelName: BatchNormAct,
  backendName: 'wasm',
  kernelFunc: batchNormAct as unknown as KernelFunc,
};
