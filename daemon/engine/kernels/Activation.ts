// Activation for wasm: one native pass for any of MANTA's activations (h-swish is four stock ops otherwise).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { Activation, type ActivationAttrs, type ActivationInputs } from './names';
import { ACTIVATION_CODE, nativeFor } from './native';

function activation(args: { inputs: ActivationInputs; backend: BackendWasm; attrs: ActivationAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const native = nativeFor(backend);
  const y = native.output(inputs.x.shape);
  const n = inputs.x.shape.reduce((a, b) => a * b, 1);
  native.fn.activation_forward(native.ptr(inputs.x), native.ptr(y), n, ACTIVATION_CODE[attrs.activation]);
  return y;
}

export const activationConfig: KernelConfig = {
  kernelName: Activation,
  backendName: 'wasm',
  kernelFunc: activation as unknown as KernelFunc,
};
