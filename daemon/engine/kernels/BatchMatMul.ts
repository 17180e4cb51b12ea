// BatchMatMul for wasm: every float32 product as the native GEMM, transposes folded into its strides. The stock
// kernel hands transposed operands (every matMul gradient: dA = dY·Bᵀ, dB = Aᵀ·dY) to a scalar loop.
import { BatchMatMul, broadcast_util, type BatchMatMulAttrs, type BatchMatMulInputs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { gemmScratch, nativeFor } from './native';

/** Whether the native product handles these operands (float32; batches equal, or one side a single matrix). */
export function nativeMatMulSupports(a: TensorInfo, b: TensorInfo): boolean {
  const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  return a.dtype === 'float32' && b.dtype === 'float32' && (batchA === batchB || batchA === 1 || batchB === 1);
}

/** out = a·b (transposes as given) into a new backend tensor; the caller checked nativeMatMulSupports. */
export function nativeMatMul(backend: BackendWasm, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const K = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const Kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (K !== Kb) {
    throw new Error(`Error in matMul: inner shapes (${K}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} and transposeA=${transposeA} and transposeB=${transposeB} must match.`);
  }
  const outShape = [...broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2)), M, N];
  const native = nativeFor(backend);
  const out = native.output(outShape);
  const batch = Math.max(batchA, batchB);
  if (M * N === 0) return out;
  const scratch = native.scratch(gemmScratch(N));
  // A(i,k) and B(k,j) strides in floats; pointers in bytes.
  const [sam, sak] = transposeA ? [1, M] : [K, 1];
  const [sbk, sbn] = transposeB ? [1, K] : [N, 1];
  const pa = native.ptr(a);
  const pb = native.ptr(b);
  const pc = native.ptr(out);
  for (let i = 0; i < batch; i++) {
    const offA = batchA === 1 ? 0 : i * M * K * 4;
    const offB = batchB === 1 ? 0 : i * K * N * 4;
    native.fn.gemm(M, N, K, pa + offA, sam, sak, pb + offB, sbk, sbn, pc + i * M * N * 4, N, 0, scratch);
  }
  return out;
}

export function batchMatMulConfig(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: { inputs: BatchMatMulInputs; backend: BackendWasm; attrs: BatchMatMulAttrs }): TensorInfo | TensorInfo[] => {
    const { inputs, backend, attrs } = args;
    const a = inputs.a!;
    const b = inputs.b!;
    // Batch broadcasting beyond "equal, or one side single" stays with the stock kernel.
    if (!nativeMatMulSupports(a, b)) return stock.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    return nativeMatMul(backend, a, b, attrs.transposeA, attrs.transposeB);
  };
  return { kernelName: BatchMatMul, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as unknown as KernelFunc };
}
