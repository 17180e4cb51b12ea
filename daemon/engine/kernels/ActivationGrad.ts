// ActivationGrad for wasm: dx = dy · act'(x) in one native pass.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ActivationGrad, type ActivationGradAttrs, type ActivationGradInputs } from './names';
import { ACTIVATION_CODE, nativeFor } from './native';

function activationGrad(args: { inputs: ActivationGradInputs; backend: BackendWasm; attrs: ActivationGradAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const native = nativeFor(backend);
  const dx = native.output(inputs.x.shape);
  const n = inputs.x.shape.reduce((a, b) => a * b, 1);
  native.fn.activation_backward(native.ptr(inputs.dy), native.ptr(inputs.x), native.ptr(dx), n, ACTIVATION_CODE[attrs.activation]);
  return dx;
}

export const activationGradConfig: KernelConfig = {
  kernelName: ActivationGrad,
  backendName: 'wasm',
  kernelFunc: activationGrad as unknown as KernelFunc,
};
