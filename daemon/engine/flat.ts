// Gradient buckets for distributed training: a list of tensors copied into one Float32Array and back, so that an
// all-reduce moves one buffer per bucket. On wasm the copy reads the tensors straight from the wasm heap.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Where each tensor lives in a bucket. */
export interface BucketLayout {
  shapes: number[][];
  /** Float offset of each tensor in the bucket. */
  offsets: number[];
  /** Total floats. */
  size: number;
}

export function bucketLayout(tensors: readonly tf.Tensor[]): BucketLayout {
  const shapes: number[][] = [];
  const offsets: number[] = [];
  let size = 0;
  for (const t of tensors) {
    shapes.push(t.shape.slice());
    offsets.push(size);
    size += t.size;
  }
  return { shapes, offsets, size };
}

function heapView(t: tf.Tensor): Float32Array | undefined {
  if (tf.getBackend() !== 'wasm' || t.dtype !== 'float32') return undefined;
  const backend = tf.backend() as BackendWasm;
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) return undefined;
  return new Float32Array((backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer, data.memoryOffset, t.size);
}

/**
 * Copies the tensors, in order, into one Float32Array (`into` if given: it must hold the layout's size), and
 * returns it. Float32 tensors only.
 */
export function flatten(tensors: readonly tf.Tensor[], into?: Float32Array): Float32Array {
  const layout = bucketLayout(tensors);
  const bucket = into ?? new Float32Array(layout.size);
  if (bucket.length < layout.size) throw new Error(`flatten: bucket holds ${bucket.length} floats, the tensors need ${layout.size}`);
  tensors.forEach((t, i) => {
    if (t.dtype !== 'float32') throw new Error(`flatten: tensor ${i} is ${t.dtype}, gradients must be float32`);
    bucket.set(heapView(t) ?? (t.dataSync() as Float32Array), layout.offsets[i]);
  });
  return bucket;
}

/** New tensors holding the bucket's slices, shaped by the layout (the inverse of flatten). */
export function unflatten(bucket: Float32Array, layout: BucketLayout): tf.Tensor[] {
  if (bucket.length < layout.size) throw new Error(`unflatten: bucket holds ${bucket.length} floats, the layout needs ${layout.size}`);
  return layout.shapes.map((shape, i) => {
    const size = shape.reduce((a, b) => a * b, 1);
    return tf.tensor(bucket.subarray(layout.offsets[i], layout.offsets[i] + size), shape, 'float32');
  });
}
