// Batched inference of the accuracy predictor outside tfjs: the trained MLP's weights as Float32Arrays, the first
// layer as a gather-sum over the one-hot's active rows, the hidden layers as a blocked SIMD matmul (native/scorer.c)
// over the whole batch, whose rows can be split across helper threads sharing the module's memory. The evolution
// scores tens of thousands of candidates; a tfjs call per generation would cost more in op dispatch than in arithmetic.
import { availableParallelism, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import { scorerWasmBase64 } from './native/scorer-wasm.generated';

/** A trained MLP as plain arrays: hidden layers relu(x·W + b), then y = base + h·output. Row-major [in][out]. */
export interface MlpWeights {
  inputSize: number;
  hidden: { weight: Float32Array; bias: Float32Array; inSize: number; outSize: number }[];
  /** Weights of the final linear unit (no bias), length = last hidden size. */
  output: Float32Array;
  /** Added to every prediction (OFA's base_acc). */
  base: number;
}

/** A batch of sparse feature vectors in CSR form: row s has entries offsets[s] … offsets[s+1]-1. */
export interface SparseRows {
  count: number;
  offsets: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Packs dense feature vectors (one-hot encodings) as sparse rows: only the non-zero entries are kept. */
export function toSparseRows(features: readonly Float32Array[]): SparseRows {
  let nnz = 0;
  for (const f of features) for (let i = 0; i < f.length; i++) if (f[i] !== 0) nnz++;
  const offsets = new Int32Array(features.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let p = 0;
  features.forEach((f, s) => {
    for (let i = 0; i < f.length; i++) {
      if (f[i] !== 0) {
        indices[p] = i;
        values[p] = f[i];
        p++;
      }
    }
    offsets[s + 1] = p;
  });
  return { count: features.length, offsets, indices, values };
}

export interface Scorer {
  /** 'wasm' (SIMD kernels) or 'js' (the reference loops). */
  readonly kind: 'wasm' | 'js';
  /** Threads that compute a batch. */
  readonly threads: number;
  /** Predicted accuracy of every row. */
  score(rows: SparseRows): Float32Array;
  /** Stops helper threads (a scorer without any needs no call). */
  dispose(): void;
}

function checkRows(weights: MlpWeights, rows: SparseRows): void {
  for (let p = 0; p < rows.indices.length; p++) {
    const i = rows.indices[p];
    if (i < 0 || i >= weights.inputSize) throw new Error(`scorer: feature index ${i} outside the predictor's input size ${weights.inputSize}`);
  }
}

/** The reference forward in plain JS (float64 accumulation): the specification the wasm kernels must match. */
export function createJsScorer(weights: MlpWeights): Scorer {
  return {
    kind: 'js',
    threads: 1,
    dispose: () => undefined,
    score(rows: SparseRows): Float32Array {
      checkRows(weights, rows);
      const out = new Float32Array(rows.count);
      for (let s = 0; s < rows.count; s++) {
        const first = weights.hidden[0];
        let h = new Float64Array(first.outSize);
        for (let j = 0; j < first.outSize; j++) h[j] = first.bias[j];
        for (let p = rows.offsets[s]; p < rows.offsets[s + 1]; p++) {
          const row = rows.indices[p] * first.outSize;
          const v = rows.values[p];
          for (let j = 0; j < first.outSize; j++) h[j] += v * first.weight[row + j];
        }
        for (let j = 0; j < h.length; j++) h[j] = Math.max(0, h[j]);
        for (let l = 1; l < weights.hidden.length; l++) {
          const layer = weights.hidden[l];
          const next = new Float64Array(layer.outSize);
          for (let j = 0; j < layer.outSize; j++) next[j] = layer.bias[j];
          for (let k = 0; k < layer.inSize; k++) {
            const x = h[k];
            if (x === 0) continue;
            const row = k * layer.outSize;
            for (let j = 0; j < layer.outSize; j++) next[j] += x * layer.weight[row + j];
          }
          for (let j = 0; j < next.length; j++) next[j] = Math.max(0, next[j]);
          h = next;
        }
        let y = weights.base;
        for (let k = 0; k < h.length; k++) y += h[k] * weights.output[k];
        out[s] = y;
      }
      return out;
    },
  };
}

interface ScorerExports {
  first_layer(W: number, b: number, indices: number, values: number, offsets: number, count: number, paddedCount: number, H: number, out: number): void;
  dense_relu(input: number, Wp: number, b: number, paddedCount: number, K: number, N: number, out: number, nz: number): void;
  output_layer(input: number, w: number, base: number, count: number, K: number, y: number): void;
}

const PANEL = 16; // columns per packed panel, as in scorer.c
const ROWS = 2; // batch rows per tile, as in scorer.c
const PAGE = 65536;
const MAX_PAGES = 32768; // the module's declared maximum (2 GiB, build.mjs), required of a shared memory
/** Below this many rows per thread a helper costs more in hand-over than it saves. */
const MIN_ROWS_PER_THREAD = 8;

let compiled: WebAssembly.Module | undefined;
function scorerModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(scorerWasmBase64, 'base64'));
  return compiled;
}

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/** One wasm call: which export (0 first_layer, 1 dense_relu, 2 output_layer) and its arguments. */
type Call = [number, ...number[]];

/**
 * Helper threads of a wasm scorer: each instantiates the same module on the same shared memory and runs the calls it
 * is handed for its rows of the batch (rows are independent, so the split never changes a result). The code is
 * evaluated from a string, so it needs no file next to the bundle.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctlBuffer, argBuffer } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = [ex.first_layer, ex.dense_relu, ex.output_layer];
const ctl = new Int32Array(ctlBuffer);
const args = new Float64Array(argBuffer);
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  if (seen < 0) break;
  try {
    let p = 0;
    const calls = args[p++];
    for (let c = 0; c < calls; c++) {
      const f = args[p++];
      const argc = args[p++];
      const a = new Array(argc);
      for (let i = 0; i < argc; i++) a[i] = args[p++];
      fns[f](...a);
    }
    Atomics.store(ctl, 2, 0);
  } catch (e) {
    Atomics.store(ctl, 2, 1);
  }
  Atomics.store(ctl, 1, seen);
  Atomics.notify(ctl, 1);
}
`;

interface Helper {
  worker: Worker;
  /** [0] request seq (-1: exit), [1] done seq, [2] error flag. */
  ctl: Int32Array;
  args: Float64Array;
  seq: number;
}

const ARG_SLOTS = 512;

function startHelper(module: WebAssembly.Module, memory: WebAssembly.Memory): Helper {
  const ctlBuffer = new SharedArrayBuffer(16);
  const argBuffer = new SharedArrayBuffer(ARG_SLOTS * 8);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctlBuffer, argBuffer } });
  worker.unref(); // a scorer never keeps the process alive
  return { worker, ctl: new Int32Array(ctlBuffer), args: new Float64Array(argBuffer), seq: 0 };
}

function post(h: Helper, calls: Call[]): void {
  let p = 0;
  h.args[p++] = calls.length;
  for (const [f, ...a] of calls) {
    h.args[p++] = f;
    h.args[p++] = a.length;
    for (const v of a) h.args[p++] = v;
  }
  h.seq++;
  Atomics.store(h.ctl, 0, h.seq);
  Atomics.notify(h.ctl, 0);
}

function awaitHelper(h: Helper): void {
  let done: number;
  while ((done = Atomics.load(h.ctl, 1)) !== h.seq) Atomics.wait(h.ctl, 1, done, 100);
  if (Atomics.load(h.ctl, 2) !== 0) throw new Error('scorer: a helper thread failed');
}

/** Threads the wasm scorer uses by default: both cores of a 2-core machine, at most 4. */
export function defaultScorerThreads(): number {
  return Math.max(1, Math.min(4, typeof availableParallelism === 'function' ? availableParallelism() : cpus().length));
}

/**
 * The wasm SIMD scorer. Weights are copied once into the module's memory, hidden sizes padded to a multiple of 16
 * with zero columns (relu(0) = 0, so padding changes nothing); batch buffers grow on demand. With `threads` > 1 the
 * memory is shared and helper threads take equal slices of each batch's rows.
 */
export function createWasmScorer(weights: MlpWeights, opts: { threads?: number } = {}): Scorer {
  if (weights.hidden.length === 0) throw new Error('scorer: the predictor needs at least one hidden layer');
  const threads = Math.max(1, Math.floor(opts.threads ?? 1));
  const memory = new WebAssembly.Memory({ initial: 1, maximum: MAX_PAGES, shared: true });
  const exports = new WebAssembly.Instance(scorerModule(), { env: { memory } }).exports as unknown as ScorerExports;
  const fns = [exports.first_layer, exports.dense_relu, exports.output_layer] as ((...a: number[]) => void)[];

  // Static layout (in floats): first-layer weights and bias, each dense layer's packed panels and bias, output.
  const padded = weights.hidden.map((l) => roundUp(l.outSize, PANEL));
  let top = 0;
  const alloc = (floats: number): number => {
    const at = top;
    top += roundUp(floats, 4); // keep every array 16-byte aligned
    return at;
  };
  const H0 = padded[0];
  const w0 = alloc(weights.inputSize * H0);
  const b0 = alloc(H0);
  const dense = weights.hidden.slice(1).map((layer, i) => {
    const K = padded[i];
    const N = padded[i + 1];
    return { layer, K, N, w: alloc(K * N), b: alloc(N) };
  });
  const Hlast = padded[padded.length - 1];
  const wOut = alloc(Hlast);
  const staticFloats = top;
  grow(memory, staticFloats * 4);

  const f32 = new Float32Array(memory.buffer);
  const first = weights.hidden[0];
  for (let i = 0; i < weights.inputSize; i++) {
    f32.set(first.weight.subarray(i * first.outSize, (i + 1) * first.outSize), w0 + i * H0);
  }
  f32.set(first.bias, b0);
  for (const d of dense) {
    // Panel-major packing: panel t holds columns t·16 … t·16+15 of every row k, contiguously.
    const { layer, K } = d;
    for (let k = 0; k < layer.inSize; k++) {
      for (let j = 0; j < layer.outSize; j++) {
        const panel = Math.floor(j / PANEL);
        f32[d.w + panel * K * PANEL + k * PANEL + (j % PANEL)] = layer.weight[k * layer.outSize + j];
      }
    }
    f32.set(layer.bias, d.b);
  }
  f32.set(weights.output, wOut);
  const maxWidth = Math.max(...padded);

  let helpers: Helper[] = [];
  if (threads > 1) {
    try {
      helpers = Array.from({ length: threads - 1 }, () => startHelper(scorerModule(), memory));
    } catch {
      helpers = []; // no worker threads here: one thread computes everything, the same numbers
    }
  }

  /** The wasm calls that score rows [start, start + count) (start even), given the batch's buffers. */
  const callsFor = (start: number, count: number, b: { actA: number; actB: number; offsets: number; indices: number; values: number; nz: number; y: number }): Call[] => {
    const padCount = roundUp(count, ROWS);
    const calls: Call[] = [[0, w0 * 4, b0 * 4, b.indices * 4, b.values * 4, (b.offsets + start) * 4, count, padCount, H0, (b.actA + start * H0) * 4]];
    let input = b.actA;
    let output = b.actB;
    let width = H0;
    for (const d of dense) {
      calls.push([1, (input + start * width) * 4, d.w * 4, d.b * 4, padCount, d.K, d.N, (output + start * d.N) * 4, b.nz * 4]);
      [input, output] = [output, input];
      width = d.N;
    }
    calls.push([2, (input + start * width) * 4, wOut * 4, weights.base, count, Hlast, (b.y + start) * 4]);
    return calls;
  };

  return {
    kind: 'wasm',
    threads: 1 + helpers.length,
    score(rows: SparseRows): Float32Array {
      checkRows(weights, rows);
      const count = rows.count;
      if (count === 0) return new Float32Array(0);
      // Row slices per thread, each a multiple of the tile height; small batches stay on this thread.
      const parts = Math.max(1, Math.min(1 + helpers.length, Math.floor(count / MIN_ROWS_PER_THREAD)));
      const slice = roundUp(Math.ceil(count / parts), ROWS);
      const paddedCount = roundUp(count, ROWS) + ROWS * parts;
      // Dynamic layout after the weights: two activation buffers, the sparse rows, a skip list per thread, outputs.
      top = staticFloats;
      const buffers = {
        actA: alloc(paddedCount * maxWidth),
        actB: alloc(paddedCount * maxWidth),
        offsets: alloc(count + 1),
        indices: alloc(rows.indices.length),
        values: alloc(rows.values.length),
        y: alloc(paddedCount),
      };
      const nz = Array.from({ length: parts }, () => alloc(maxWidth));
      grow(memory, top * 4);
      const heapF = new Float32Array(memory.buffer);
      const heapI = new Int32Array(memory.buffer);
      heapI.set(rows.offsets.subarray(0, count + 1), buffers.offsets);
      heapI.set(rows.indices, buffers.indices);
      heapF.set(rows.values, buffers.values);

      const busy: Helper[] = [];
      for (let t = 1; t < parts; t++) {
        const start = t * slice;
        if (start >= count) break;
        const h = helpers[t - 1];
        post(h, callsFor(start, Math.min(slice, count - start), { ...buffers, nz: nz[t] }));
        busy.push(h);
      }
      for (const [f, ...a] of callsFor(0, Math.min(slice, count), { ...buffers, nz: nz[0] })) fns[f](...a);
      for (const h of busy) awaitHelper(h);
      return new Float32Array(memory.buffer).slice(buffers.y, buffers.y + count);
    },
    dispose(): void {
      for (const h of helpers) {
        Atomics.store(h.ctl, 0, -1);
        Atomics.notify(h.ctl, 0);
        void h.worker.terminate();
      }
      helpers = [];
    },
  };
}

function grow(memory: WebAssembly.Memory, bytes: number): void {
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / PAGE));
}

/**
 * The fastest scorer available here: wasm SIMD (on `threads` threads, default: the machine's cores up to 4) when this
 * runtime has it, else the JS reference.
 */
export function createScorer(weights: MlpWeights, prefer: 'wasm' | 'js' = 'wasm', threads = defaultScorerThreads()): Scorer {
  if (prefer === 'wasm') {
    try {
      return createWasmScorer(weights, { threads });
    } catch (e) {
      // A runtime without wasm SIMD cannot compile the module; the JS loops give the same numbers, slower.
      if (!(e instanceof WebAssembly.CompileError)) throw e;
    }
  }
  return createJsScorer(weights);
}
