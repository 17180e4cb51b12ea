// DepthwiseConv2dNative for wasm in native code: the stock XNNPACK kernel packs the filter into a new operator for
// every new filter tensor, which in supernet training (a fresh kernel slice every step) is every call.
import { DepthwiseConv2dNative, type DepthwiseConv2dNativeAttrs, type DepthwiseConv2dNativeInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convInfo, geometry } from './geometry';
import { nativeFor } from './native';

function depthwiseConv2dNative(args: { inputs: DepthwiseConv2dNativeInputs; backend: BackendWasm; attrs: DepthwiseConv2dNativeAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const x = inputs.x!;
  const filter = inputs.filter!;
  const info = convInfo(DepthwiseConv2dNative, x.shape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true, attrs.dataFormat);
  const native = nativeFor(backend);
  const out = native.output(info.outShape);
  const geom = geometry(info);
  const scratch = native.scratch(native.fn.depthwise_scratch(...geom));
  native.fn.depthwise_forward(native.ptr(x), native.ptr(filter), native.ptr(out), ...geom, scratch);
  return out;
}

export const depthwiseConv2dNativeConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNative,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNative as unknown as KernelFunc,
};
