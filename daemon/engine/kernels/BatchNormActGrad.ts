// BatchNormActGrad for wasm: the gradients of BatchNormAct (dx, dγ, dβ) in two native passes over x and dy, the
// pre-activation recomputed from x and the saved statistics rather than stored.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BatchNormActGrad, type BatchNormActGradAttrs, type BatchNormActGradInputs } from './names';
import { ACTIVATION_CODE, nativeFor } from './native';

function batchNormActGrad(args: { inputs: BatchNormActGradInputs; backend: BackendWasm; attrs: BatchNormActGradAttrs }): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { dy, x, mean, variance, gamma, beta } = inputs;
  const channels = x.shape[x.shape.length - 1];
  const pixels = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const native = nativeFor(backend);
  const dx = native.output(x.shape);
  const dgamma = native.output([channels]);
  const dbeta = native.output([channels]);
  const scratch = native.scratch(8 * channels); // scale, shift, k0, k1, then 2C doubles of sums
  native.fn.batchnorm_act_backward(
    native.ptr(dy), native.ptr(x), native.ptr(mean), native.ptr(variance), native.ptr(gamma), native.ptr(beta),
    native.ptr(dx), native.ptr(dgamma), native.ptr(dbeta), pixels, channels, attrs.epsilon, ACTIVATION_CODE[attrs.activation], scratch,
  );
  return [dx, dgamma, dbeta];
}

export const batchNormActGradConfig: KernelConfig = {
  kernelName: BatchNormActGrad,
  backendName: 'wasm',
  kernelFunc: batchNormActGrad as unknown as KernelFunc,
};
