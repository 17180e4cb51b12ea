// Conv2D for wasm: 1×1 stride-1 convolutions (the expand and project layers of every MBConv block) as one native
// GEMM on the NHWC tensors as they lie; every other convolution goes to the stock XNNPACK kernel it wraps.
import { Conv2D, type Conv2DAttrs, type Conv2DInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convInfo, isPointwise } from './geometry';
import { gemmScratch, nativeFor } from './native';

export function conv2DConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: Conv2DInputs; backend: BackendWasm; attrs: Conv2DAttrs }): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const x = inputs.x!;
    const filter = inputs.filter!;
    const info = convInfo(Conv2D, x.shape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, attrs.dataFormat);
    if (!isPointwise(info)) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    const native = nativeFor(backend);
    const out = native.output(info.outShape);
    const pixels = info.batchSize * info.outHeight * info.outWidth;
    const scratch = native.scratch(gemmScratch(info.outChannels));
    native.fn.conv2d_1x1(native.ptr(x), native.ptr(filter), native.ptr(out), pixels, info.inChannels, info.outChannels, scratch);
    return out;
  };
  return { kernelName: Conv2D, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
