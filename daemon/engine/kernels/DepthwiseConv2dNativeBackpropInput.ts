// DepthwiseConv2dNativeBackpropInput for wasm (the stock backend has none), in native code: a correlation of the
// zero-dilated, padded output gradient with the flipped filter, 4 channels at a time (native/depthwise.c).
import { DepthwiseConv2dNativeBackpropInput, type DepthwiseConv2dNativeBackpropInputAttrs, type DepthwiseConv2dNativeBackpropInputInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convInfo, geometry } from './geometry';
import { nativeFor } from './native';

function depthwiseConv2dNativeBackpropInput(args: { inputs: DepthwiseConv2dNativeBackpropInputInputs; backend: BackendWasm; attrs: DepthwiseConv2dNativeBackpropInputAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const dy = inputs.dy!;
  const filter = inputs.filter!;
  const info = convInfo(DepthwiseConv2dNativeBackpropInput, attrs.inputShape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, true, 'NHWC');
  if ((info.strideHeight > 1 && info.dilationHeight > 1) || (info.strideWidth > 1 && info.dilationWidth > 1)) {
    throw new Error(`${DepthwiseConv2dNativeBackpropInput} on wasm: stride and dilation both above 1 on one axis is not supported`);
  }
  const native = nativeFor(backend);
  const out = native.output(attrs.inputShape);
  const geom = geometry(info);
  const scratch = native.scratch(native.fn.depthwise_scratch(...geom));
  native.fn.depthwise_backprop_input(native.ptr(dy), native.ptr(filter), native.ptr(out), ...geom, scratch);
  return out;
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc,
};
