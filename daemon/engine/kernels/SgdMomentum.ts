// SgdMomentum for wasm: the whole optimizer update of one variable in one native pass (see names.ts).
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { SgdMomentum, type SgdMomentumAttrs, type SgdMomentumInputs } from './names';
import { nativeFor } from './native';

function sgdMomentum(args: { inputs: SgdMomentumInputs; backend: BackendWasm; attrs: SgdMomentumAttrs }): TensorInfo[] {
  const { inputs, backend, attrs } = args;
  const { value, grad, velocity } = inputs;
  const native = nativeFor(backend);
  const newValue = native.output(value.shape);
  const newVelocity = native.output(value.shape);
  const n = value.shape.reduce((a, b) => a * b, 1);
  native.fn.sgd_momentum(
    native.ptr(value), native.ptr(grad), velocity ? native.ptr(velocity) : 0, native.ptr(newValue), native.ptr(newVelocity),
    n, attrs.learningRate, attrs.momentum, attrs.weightDecay, attrs.nesterov ? 1 : 0,
  );
  return [newValue, newVelocity];
}

export const sgdMomentumConfig: KernelConfig = {
  kernelName: SgdMomentum,
  backendName: 'wasm',
  kernelFunc: sgdMomentum as unknown as KernelFunc,
};
