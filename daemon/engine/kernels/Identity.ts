// Identity for wasm: shares the input's memory (reference count) instead of copying it. tfjs clones every tensor it
// saves for backprop through this kernel, so the stock copy costs a full copy of every saved activation per step;
// the cpu backend shares the same way, and no tfjs kernel writes into its inputs.
import { Identity, type IdentityInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export function identityConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: IdentityInputs; backend: BackendWasm }): TensorInfo | TensorInfo[] => {
    const { inputs, backend } = args;
    const x = inputs.x!;
    if (x.dtype === 'string') return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { kernelName: Identity, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
