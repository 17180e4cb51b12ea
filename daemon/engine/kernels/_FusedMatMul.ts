// _FusedMatMul for wasm (tf.fused.matMul: dense layers with bias and relu/relu6): the native GEMM plus a native
// bias + activation pass. The stock kernel builds an XNNPACK operator per weight tensor, re-packing the weights
// whenever the variable changes — every step in training (34 ms for a 960×1280 layer).
import { _FusedMatMul, type _FusedMatMulAttrs, type _FusedMatMulInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { nativeMatMul, nativeMatMulSupports } from './BatchMatMul';
import { ACTIVATION_CODE, nativeFor } from './native';

const FUSED: Partial<Record<_FusedMatMulAttrs['activation'], number>> = { linear: ACTIVATION_CODE.linear, relu: ACTIVATION_CODE.relu, relu6: ACTIVATION_CODE.relu6 };

export function fusedMatMulConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: _FusedMatMulInputs; backend: BackendWasm; attrs: _FusedMatMulAttrs }): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const { a, b, bias } = inputs;
    const act = FUSED[attrs.activation ?? 'linear'];
    const n = attrs.transposeB ? b!.shape[b!.shape.length - 2] : b!.shape[b!.shape.length - 1];
    const biasSize = bias ? bias.shape.reduce((p, q) => p * q, 1) : 0;
    if (act === undefined || !nativeMatMulSupports(a!, b!) || (bias && bias.dtype !== 'float32') || (bias && biasSize !== n && biasSize !== 1)) {
      return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const out = nativeMatMul(backend, a!, b!, attrs.transposeA, attrs.transposeB);
    if (bias || act !== ACTIVATION_CODE.linear) {
      const native = nativeFor(backend);
      const rows = out.shape.slice(0, -1).reduce((p, q) => p * q, 1);
      native.fn.bias_activation(native.ptr(out), rows, n, bias ? native.ptr(bias) : 0, biasSize, act);
    }
    return out;
  };
  return { kernelName: _FusedMatMul, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
