// Sum and Mean for wasm over one contiguous run of axes (leading axes: bias and batch-norm gradients; H and W of
// NHWC: global pooling; trailing: row sums), natively without the transpose the stock kernels do first. Other
// axis sets and dtypes go to the stock kernels.
import { Mean, Sum, util, type KernelConfig, type KernelFunc, type MeanAttrs, type MeanInputs, type SumAttrs, type SumInputs, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeFor } from './native';

type ReduceArgs = { inputs: SumInputs | MeanInputs; backend: BackendWasm; attrs: SumAttrs | MeanAttrs };

function reduceConfig(kernelName: typeof Sum | typeof Mean, stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: ReduceArgs): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    const rank = x.shape.length;
    const axes = util.parseAxisParam(attrs.axis, x.shape).sort((p, q) => p - q);
    const contiguous = axes.every((a, i) => i === 0 || a === axes[i - 1] + 1);
    if (x.dtype !== 'float32' || axes.length === 0 || !contiguous) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    const first = axes[0];
    const last = axes[axes.length - 1];
    const size = (from: number, to: number) => x.shape.slice(from, to).reduce((p, q) => p * q, 1);
    const outer = size(0, first);
    const mid = size(first, last + 1);
    const inner = size(last + 1, rank);
    const outShape = attrs.keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const native = nativeFor(backend);
    const out = native.output(outShape);
    if (outer * inner === 0) return out;
    const scale = kernelName === Mean ? 1 / mid : 1;
    native.fn.sum_middle(native.ptr(x), native.ptr(out), outer, mid, inner, mid === 0 ? 0 : scale);
    return out;
  };
  return { kernelName, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export const sumConfig = (stock: KernelConfig): KernelConfig => reduceConfig(Sum, stock);
export const meanConfig = (stock: KernelConfig): KernelConfig => reduceConfig(Mean, stock);
