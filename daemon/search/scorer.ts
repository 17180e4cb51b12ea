// Batched inference of the accuracy predictor outside tfjs: the trained MLP's weights as Float32Arrays, the first
// layer as a gather-sum over the one-hot's active rows, the hidden layers as a blocked SIMD matmul (native/scorer.c)
// over the whole batch. The evolution scores tens of thousands of candidates; a tfjs call per generation would cost
// more in op dispatch than in arithmetic.
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
  /** Predicted accuracy of every row. */
  score(rows: SparseRows): Float32Array;
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

let compiled: WebAssembly.Module | undefined;
function scorerModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(scorerWasmBase64, 'base64'));
  return compiled;
}

const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;

/**
 * The wasm SIMD scorer. Weights are copied once into the module's memory, hidden sizes padded to a multiple of 16
 * with zero columns (relu(0) = 0, so padding changes nothing); batch buffers grow on demand.
 */
export function createWasmScorer(weights: MlpWeights): Scorer {
  if (weights.hidden.length === 0) throw new Error('scorer: the predictor needs at least one hidden layer');
  const memory = new WebAssembly.Memory({ initial: 1 });
  const exports = new WebAssembly.Instance(scorerModule(), { env: { memory } }).exports as unknown as ScorerExports;

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

  return {
    kind: 'wasm',
    score(rows: SparseRows): Float32Array {
      checkRows(weights, rows);
      const count = rows.count;
      if (count === 0) return new Float32Array(0);
      const paddedCount = roundUp(count, ROWS);
      // Dynamic layout after the weights: two activation buffers, the sparse rows, the skip list and the outputs.
      top = staticFloats;
      const actA = alloc(paddedCount * maxWidth);
      const actB = alloc(paddedCount * maxWidth);
      const offsets = alloc(count + 1);
      const indices = alloc(rows.indices.length);
      const values = alloc(rows.values.length);
      const nz = alloc(maxWidth);
      const y = alloc(count);
      grow(memory, top * 4);
      const heapF = new Float32Array(memory.buffer);
      const heapI = new Int32Array(memory.buffer);
      heapI.set(rows.offsets.subarray(0, count + 1), offsets);
      heapI.set(rows.indices, indices);
      heapF.set(rows.values, values);

      exports.first_layer(w0 * 4, b0 * 4, indices * 4, values * 4, offsets * 4, count, paddedCount, H0, actA * 4);
      let input = actA;
      let output = actB;
      for (const d of dense) {
        exports.dense_relu(input * 4, d.w * 4, d.b * 4, paddedCount, d.K, d.N, output * 4, nz * 4);
        [input, output] = [output, input];
      }
      exports.output_layer(input * 4, wOut * 4, weights.base, count, Hlast, y * 4);
      return heapF.slice(y, y + count);
    },
  };
}

function grow(memory: WebAssembly.Memory, bytes: number): void {
  const missing = bytes - memory.buffer.byteLength;
  if (missing > 0) memory.grow(Math.ceil(missing / PAGE));
}

/** The fastest scorer available here: wasm SIMD when this runtime has it, else the JS reference. */
export function createScorer(weights: MlpWeights, prefer: 'wasm' | 'js' = 'wasm'): Scorer {
  if (prefer === 'wasm') {
    try {
      return createWasmScorer(weights);
    } catch (e) {
      // A runtime without wasm SIMD cannot compile the module; the JS loops give the same numbers, slower.
      if (!(e instanceof WebAssembly.CompileError)) throw e;
    }
  }
  return createJsScorer(weights);
}
