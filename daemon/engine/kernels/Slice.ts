// Slice for wasm: a native strided copy straight from the heap. The stock kernel first copies the WHOLE input out
// of the heap (readSync), which for the weight slices of a supernet costs more than everything else in a step.
import { Slice, slice_util, type KernelConfig, type KernelFunc, type SliceAttrs, type SliceInputs, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeFor } from './native';

export function sliceConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: SliceInputs; backend: BackendWasm; attrs: SliceAttrs }): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length > 4) {
      return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const [begin, size] = slice_util.parseSliceParams(x, attrs.begin, attrs.size);
    const native = nativeFor(backend);
    const out = backend.makeOutput(size, x.dtype);
    if (size.some((s) => s === 0)) return out;
    const pad = 4 - x.shape.length;
    const d = [...Array(pad).fill(1), ...x.shape];
    const b = [...Array(pad).fill(0), ...begin];
    const s = [...Array(pad).fill(1), ...size];
    native.fn.slice4d(native.ptr(x), native.ptr(out), d[0], d[1], d[2], d[3], b[0], b[1], b[2], b[3], s[0], s[1], s[2], s[3]);
    return out;
  };
  return { kernelName: Slice, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
