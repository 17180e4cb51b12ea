// daemon/engine/kernels/native/: MANTA's hand-written SIMD kernels (the C here, built by build.mjs into
// manta-kernels.wasm) and their binding to a tfjs wasm backend. The module imports that backend's WebAssembly.Memory,
// so the kernels read inputs and write outputs where tfjs keeps the tensors — no copies in or out. Pointers are byte
// offsets into that heap.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs';
import { MANTA_KERNELS_WASM_BASE64 } from './wasm-bytes.generated';

type Ptr = number;

/** The module's exports, as declared in the C sources. */
export interface NativeExports {
  gemm(M: number, N: number, K: number, a: Ptr, sam: number, sak: number, b: Ptr, sbk: number, sbn: number, c: Ptr, ldc: number, accumulate: number, scratch: Ptr): void;
  conv2d_1x1(x: Ptr, w: Ptr, y: Ptr, P: number, Ci: number, Co: number, scratch: Ptr): void;
  conv2d_backprop_filter(x: Ptr, dy: Ptr, dfilter: Ptr, ...geomAndScratch: number[]): void;
  conv2d_backprop_input(dy: Ptr, w: Ptr, dx: Ptr, ...geomAndScratch: number[]): void;
  /** Floats of scratch the depthwise kernels need for this geometry. */
  depthwise_scratch(...geom: number[]): number;
  /** (…, geometry, scratch) for the three depthwise kernels. */
  depthwise_forward(x: Ptr, f: Ptr, y: Ptr, ...geomAndScratch: number[]): void;
  depthwise_backprop_input(dy: Ptr, f: Ptr, dx: Ptr, ...geomAndScratch: number[]): void;
  depthwise_backprop_filter(x: Ptr, dy: Ptr, df: Ptr, ...geomAndScratch: number[]): void;
  batchnorm_act_forward(x: Ptr, gamma: Ptr, beta: Ptr, y: Ptr, mean: Ptr, variance: Ptr, P: number, C: number, eps: number, act: number, scratch: Ptr): void;
  batchnorm_act_backward(dy: Ptr, x: Ptr, mean: Ptr, variance: Ptr, gamma: Ptr, beta: Ptr, dx: Ptr, dgamma: Ptr, dbeta: Ptr, P: number, C: number, eps: number, act: number, scratch: Ptr): void;
  activation_forward(x: Ptr, y: Ptr, n: number, act: number): void;
  activation_backward(dy: Ptr, x: Ptr, dx: Ptr, n: number, act: number): void;
  sgd_momentum(w: Ptr, g: Ptr, v: Ptr, wOut: Ptr, vOut: Ptr, n: number, lr: number, momentum: number, weightDecay: number, nesterov: number): void;
  bias_activation(y: Ptr, rows: number, cols: number, bias: Ptr, biasLen: number, act: number): void;
  sum_middle(x: Ptr, y: Ptr, outer: number, mid: number, inner: number, scale: number): void;
  transpose4d(x: Ptr, y: Ptr, d0: number, d1: number, d2: number, d3: number, p0: number, p1: number, p2: number, p3: number): void;
  slice4d(x: Ptr, y: Ptr, d0: number, d1: number, d2: number, d3: number, b0: number, b1: number, b2: number, b3: number, s0: number, s1: number, s2: number, s3: number): void;
}

/** The parts of the emscripten module behind BackendWasm that the binding uses (tfjs does not type them). */
interface EmscriptenHeap {
  asm: { memory: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

/** The native kernels bound to one backend, with the heap helpers every kernel file needs. */
export interface NativeBinding {
  fn: NativeExports;
  backend: BackendWasm;
  /** Heap byte offset of a tensor's data. */
  ptr(t: TensorInfo): Ptr;
  /** A float32 output tensor allocated by the backend (uninitialised: kernels write every element). */
  output(shape: number[]): TensorInfo;
  /** Scratch of at least `floats` floats, reused by every kernel (one runs at a time); valid until the next call. */
  scratch(floats: number): Ptr;
}

let compiled: WebAssembly.Module | undefined;
const bindings = new WeakMap<BackendWasm, NativeBinding>();

function heapOf(backend: BackendWasm): EmscriptenHeap {
  // tfjs types `wasm` as an EmscriptenModule without these members; they exist on the module at run time.
  return backend.wasm as unknown as EmscriptenHeap;
}

/** The kernels bound to this backend, instantiated on first use. */
export function nativeFor(backend: BackendWasm): NativeBinding {
  const existing = bindings.get(backend);
  if (existing) return existing;
  const heap = heapOf(backend);
  if (!(heap.asm?.memory instanceof WebAssembly.Memory)) {
    throw new Error('the tfjs wasm backend does not expose its memory (backend.wasm.asm.memory): MANTA needs @tensorflow/tfjs-backend-wasm 4.22');
  }
  compiled ??= new WebAssembly.Module(Buffer.from(MANTA_KERNELS_WASM_BASE64, 'base64'));
  const instance = new WebAssembly.Instance(compiled, { env: { memory: heap.asm.memory } });
  let scratchPtr = 0;
  let scratchFloats = 0;
  const binding: NativeBinding = {
    fn: instance.exports as unknown as NativeExports,
    backend,
    ptr: (t) => backend.dataIdMap.get(t.dataId)!.memoryOffset,
    output: (shape) => backend.makeOutput(shape, 'float32'),
    scratch(floats) {
      if (floats > scratchFloats) {
        if (scratchPtr) heap._free(scratchPtr);
        scratchFloats = Math.max(floats, Math.ceil(scratchFloats * 1.5), 1 << 16);
        scratchPtr = heap._malloc(scratchFloats * 4);
        if (!scratchPtr) throw new Error(`wasm heap exhausted allocating ${scratchFloats * 4} bytes of kernel scratch`);
      }
      return scratchPtr;
    },
  };
  bindings.set(backend, binding);
  return binding;
}

/** Activation codes shared with activation.h. */
export const ACTIVATION_CODE = { linear: 0, relu: 1, relu6: 2, hswish: 3, hsigmoid: 4 } as const;

/** Floats of scratch gemm needs for an N-column right-hand side (GEMM_SCRATCH in gemm.h). */
export function gemmScratch(n: number): number {
  return 256 * Math.ceil(n / 8) * 8;
}
