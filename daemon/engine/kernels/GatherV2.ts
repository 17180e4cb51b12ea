// GatherV2 for wasm: the stock kernel, with its output recorded under the shape it returns. The stock kernel
// allocates a flattened [batch, outer, indices, inner] output and only relabels the TensorInfo, so the backend's record
// keeps rank 4 — and the stock fused kernels read a bias's rank from that record: a variable assigned a gathered
// value (channel sorting permutes every supernet weight with tf.gather) then fails as the bias of a fused matMul or
// conv ("only supports rank-1 bias but got rank 4").
import { GatherV2, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export function gatherV2Config(stock: KernelConfig): KernelConfig {
  const kernelFunc = (args: Parameters<KernelFunc>[0]): TensorInfo | TensorInfo[] => {
    const out = stock.kernelFunc(args) as TensorInfo;
    const record = (args.backend as unknown as BackendWasm).dataIdMap.get(out.dataId);
    // refCount 1: the kernel's own new output, whose record no other tensor shares.
    if (record && record.refCount === 1 && util.sizeFromShape(record.shape) === util.sizeFromShape(out.shape)) record.shape = out.shape.slice();
    return out;
  };
  return { kernelName: GatherV2, backendName: 'wasm', setupFunc: stock.setupFunc, kernelFunc: kernelFunc as KernelFunc };
}
