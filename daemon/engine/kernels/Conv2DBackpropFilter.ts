// Conv2DBackpropFilter for wasm (the stock backend has none): dW = colsᵀ·dY in native code, where cols is x itself
// for a 1×1 stride-1 convolution and x's im2col patches otherwise.
import { Conv2DBackpropFilter, type Conv2DBackpropFilterAttrs, type Conv2DBackpropFilterInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convInfo, geometry } from './geometry';
import { gemmScratch, nativeFor } from './native';

/** im2col rows are processed in chunks of at most this many floats. */
const COLS_FLOATS = 1 << 18;

function conv2DBackpropFilter(args: { inputs: Conv2DBackpropFilterInputs; backend: BackendWasm; attrs: Conv2DBackpropFilterAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x!;
  const dy = inputs.dy!;
  const info = convInfo(Conv2DBackpropFilter, x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, attrs.dataFormat);
  const native = nativeFor(backend);
  const out = native.output(attrs.filterShape);
  const cols = info.filterHeight * info.filterWidth * info.inChannels;
  const floats = gemmScratch(info.outChannels) + Math.max(COLS_FLOATS, cols);
  const scratch = native.scratch(floats);
  const [N, H, W, Ci, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl] = geometry(info);
  native.fn.conv2d_backprop_filter(native.ptr(x), native.ptr(dy), native.ptr(out), N, H, W, Ci, KH, KW, OH, OW, info.outChannels, sh, sw, dh, dw, pt, pl, scratch, floats);
  return out;
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
