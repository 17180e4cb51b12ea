// The one place that changes tfjs's kernel registry: MANTA's wasm training kernels, listed explicitly, and the
// gradients of MANTA's own kernels. Stock wasm kernels that MANTA replaces are wrapped or overridden here.
import { BatchMatMul, Conv2D, FusedConv2D, GatherV2, Identity, Mean, Slice, Sum, Transpose, _FusedMatMul, getKernel, registerGradient, registerKernel, unregisterKernel, type GradConfig, type KernelConfig } from '@tensorflow/tfjs';
import { activationConfig } from './Activation';
import { activationGradConfig } from './ActivationGrad';
import { activationGradientConfig } from './Activation_grad';
import { batchMatMulConfig } from './BatchMatMul';
import { fusedMatMulConfig } from './_FusedMatMul';
import { batchNormActConfig } from './BatchNormAct';
import { batchNormActGradConfig } from './BatchNormActGrad';
import { batchNormActGradientConfig } from './BatchNormAct_grad';
import { conv2DConfig } from './Conv2D';
import { fusedConv2DConfig } from './FusedConv2D';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput';
import { depthwiseConv2dNativeConfig } from './DepthwiseConv2dNative';
import { depthwiseConv2dNativeBackpropFilterConfig } from './DepthwiseConv2dNativeBackpropFilter';
import { depthwiseConv2dNativeBackpropInputConfig } from './DepthwiseConv2dNativeBackpropInput';
import { identityConfig } from './Identity';
import { meanConfig, sumConfig } from './reduce';
import { gatherV2Config } from './GatherV2';
import { sgdMomentumConfig } from './SgdMomentum';
import { sliceConfig } from './Slice';
import { transposeConfig } from './Transpose';

/** A kernel config, or one built around the stock wasm kernel of the same name (which it calls for the cases it leaves alone). */
type WasmKernel = KernelConfig | { wraps: string; build: (stock: KernelConfig) => KernelConfig };

const wasmKernels: WasmKernel[] = [
  // Training kernels the stock wasm backend lacks.
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  // Faster replacements of stock wasm kernels.
  conv2DBackpropInputConfig, // stock: a scalar loop
  depthwiseConv2dNativeConfig, // stock: XNNPACK, re-packing every new filter slice
  { wraps: Conv2D, build: conv2DConfig }, // 1×1 as a native GEMM; the rest stays with XNNPACK
  { wraps: FusedConv2D, build: fusedConv2DConfig }, // the same GEMM for stock layers' 1×1 convs (extracted subnets)
  { wraps: Identity, build: identityConfig }, // stock: copies (and tfjs clones every tensor saved for backprop)
  { wraps: Slice, build: sliceConfig }, // stock: reads the whole input out of the heap first
  { wraps: BatchMatMul, build: batchMatMulConfig }, // stock: transposed operands go to a scalar loop
  { wraps: _FusedMatMul, build: fusedMatMulConfig }, // stock: re-packs the weights into a new XNNPACK operator per step
  { wraps: Transpose, build: transposeConfig }, // stock: ~10 ns per element
  { wraps: Sum, build: sumConfig }, // stock: transposes the reduced axes to the end first
  { wraps: Mean, build: meanConfig },
  // Fixes of stock wasm kernels.
  { wraps: GatherV2, build: gatherV2Config }, // stock: records its output under a flattened rank-4 shape
  // MANTA's fused kernels.
  batchNormActConfig,
  batchNormActGradConfig,
  activationConfig,
  activationGradConfig,
  sgdMomentumConfig,
];

const gradients: GradConfig[] = [batchNormActGradientConfig, activationGradientConfig];

let registered = false;

function stockKernel(name: string): KernelConfig {
  const stock = getKernel(name, 'wasm');
  if (!stock) throw new Error(`the tfjs wasm backend has no ${name} kernel to wrap: MANTA needs @tensorflow/tfjs-backend-wasm 4.22`);
  return stock;
}

/** Registers MANTA's wasm kernels and gradients once (idempotent). Call after the wasm backend is registered. */
export function registerWasmKernels(): void {
  if (registered) return;
  for (const entry of wasmKernels) {
    const config = 'wraps' in entry ? entry.build(stockKernel(entry.wraps)) : entry;
    if (getKernel(config.kernelName, 'wasm')) unregisterKernel(config.kernelName, 'wasm');
    registerKernel(config);
  }
  for (const config of gradients) registerGradient(config);
  registered = true;
}

/** Whether MANTA's wasm kernels are in the registry (ops.ts routes fused ops to them only then). */
export function wasmKernelsRegistered(): boolean {
  return registered;
}
