// Transpose for wasm: a native tiled copy (rank ≤ 4, 4-byte types). The stock kernel moves one element per
// index computation, ~10 ns each, and runs inside every Sum or Mean over leading axes.
import { Transpose, type KernelConfig, type KernelFunc, type TensorInfo, type TransposeAttrs, type TransposeInputs } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeFor } from './native';

export function transposeConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: TransposeInputs; backend: BackendWasm; attrs: TransposeAttrs }): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    const rank = x.shape.length;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || rank > 4) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    const outShape = attrs.perm.map((p) => x.shape[p]);
    const native = nativeFor(backend);
    const out = backend.makeOutput(outShape, x.dtype);
    if (outShape.some((d) => d === 0)) return out;
    const pad = 4 - rank;
    const d = [...Array(pad).fill(1), ...x.shape];
    const p = [...Array.from({ length: pad }, (_, i) => i), ...attrs.perm.map((q) => q + pad)];
    native.fn.transpose4d(native.ptr(x), native.ptr(out), d[0], d[1], d[2], d[3], p[0], p[1], p[2], p[3]);
    return out;
  };
  return { kernelName: Transpose, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
