// FusedConv2D for wasm (tf.fused.conv2d: what stock tfjs-layers Conv2D layers run at inference): a 1×1 stride-1
// convolution with no bias or a per-channel one and a linear, relu or relu6 activation goes to the same native GEMM
// as Conv2D (plus the native bias + activation pass), so an extracted subnet computes bit for bit what the supernet
// computes; every other case goes to the stock XNNPACK kernel it wraps.
import { FusedConv2D, type FusedConv2DAttrs, type FusedConv2DInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { convInfo, isPointwise } from './geometry';
import { ACTIVATION_CODE, gemmScratch, nativeFor } from './native';

const FUSED: Partial<Record<FusedConv2DAttrs['activation'], number>> = { linear: ACTIVATION_CODE.linear, relu: ACTIVATION_CODE.relu, relu6: ACTIVATION_CODE.relu6 };

export function fusedConv2DConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: FusedConv2DInputs; backend: BackendWasm; attrs: FusedConv2DAttrs }): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { x, filter, bias } = inputs;
    const act = FUSED[attrs.activation ?? 'linear'];
    const info = convInfo(FusedConv2D, x.shape, filter.shape, attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode, false, attrs.dataFormat);
    const biasSize = bias ? bias.shape.reduce((p, q) => p * q, 1) : 0;
    // A per-channel bias (any shape [.., 1, C]) or a scalar one; other broadcasts stay with the stock kernel.
    const perChannel = bias !== undefined && bias.dtype === 'float32' && (biasSize === 1 || (biasSize === info.outChannels && bias.shape[bias.shape.length - 1] === info.outChannels));
    const nativeCase = act !== undefined && isPointwise(info) && x.dtype === 'float32' && filter.dtype === 'float32' && (!bias || perChannel);
    if (!nativeCase) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    const native = nativeFor(backend);
    const out = native.output(info.outShape);
    const pixels = info.batchSize * info.outHeight * info.outWidth;
    const scratch = native.scratch(gemmScratch(info.outChannels));
    native.fn.conv2d_1x1(native.ptr(x), native.ptr(filter), native.ptr(out), pixels, info.inChannels, info.outChannels, scratch);
    if (bias || act !== ACTIVATION_CODE.linear) {
      native.fn.bias_activation(native.ptr(out), pixels, info.outChannels, bias ? native.ptr(bias) : 0, biasSize, act);
    }
    return out;
  };
  return { kernelName: FusedConv2D, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
