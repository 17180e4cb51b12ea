// Conv2DBackpropInput for wasm, replacing the stock scalar loop: dX = dY·Wᵀ as a native GEMM (1×1 stride-1), or
// col2im(dY·Wᵀ) for any other convolution; W is read transposed through the GEMM's strides, not copied.
import { Conv2DBackpropInput, type Conv2DBackpropInputAttrs, type Conv2DBackpropInputInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convInfo, geometry } from './geometry';
import { gemmScratch, nativeFor } from './native';

/** col2im rows are processed in chunks of at most this many floats. */
const COLS_FLOATS = 1 << 18;

function conv2DBackpropInput(args: { inputs: Conv2DBackpropInputInputs; backend: BackendWasm; attrs: Conv2DBackpropInputAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy!;
  const filter = inputs.filter!;
  const info = convInfo(Conv2DBackpropInput, attrs.inputShape, filter.shape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, attrs.dataFormat);
  const native = nativeFor(backend);
  const out = native.output(attrs.inputShape);
  const cols = info.filterHeight * info.filterWidth * info.inChannels;
  // scratch: [gemm packing][col2im rows]
  const floats = gemmScratch(cols) + Math.max(COLS_FLOATS, cols);
  const scratch = native.scratch(floats);
  const [N, H, W, Ci, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl] = geometry(info);
  native.fn.conv2d_backprop_input(native.ptr(dy), native.ptr(filter), native.ptr(out), N, H, W, Ci, KH, KW, OH, OW, info.outChannels, sh, sw, dh, dw, pt, pl, scratch, floats);
  return out;
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc,
};
