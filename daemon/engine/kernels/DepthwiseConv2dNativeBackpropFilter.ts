// DepthwiseConv2dNativeBackpropFilter for wasm (the stock backend has none), in native code: per group of 4
// channels, a kernel row's gradients summed in registers over a zero-padded copy of the input (native/depthwise.c).
import { DepthwiseConv2dNativeBackpropFilter, type DepthwiseConv2dNativeBackpropFilterAttrs, type DepthwiseConv2dNativeBackpropFilterInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convInfo, geometry } from './geometry';
import { nativeFor } from './native';

function depthwiseConv2dNativeBackpropFilter(args: { inputs: DepthwiseConv2dNativeBackpropFilterInputs; backend: BackendWasm; attrs: DepthwiseConv2dNativeBackpropFilterAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x!;
  const dy = inputs.dy!;
  const info = convInfo(DepthwiseConv2dNativeBackpropFilter, x.shape, attrs.filterShape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true, 'NHWC');
  const native = nativeFor(backend);
  const out = native.output(attrs.filterShape);
  const geom = geometry(info);
  const scratch = native.scratch(native.fn.depthwise_scratch(...geom));
  native.fn.depthwise_backprop_filter(native.ptr(x), native.ptr(dy), native.ptr(out), ...geom, scratch);
  return out;
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc,
};
