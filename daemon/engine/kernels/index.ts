// daemon/engine/kernels/: MANTA's tfjs kernels — the wasm training kernels tfjs lacks, faster replacements of stock
// wasm kernels, fused kernels with their gradients (one file each), all registered from one list in register.ts.
export { registerWasmKernels, wasmKernelsRegistered } from './register';
export * from './names';
