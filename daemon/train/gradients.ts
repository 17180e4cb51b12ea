// Gradients of one step: accumulated over the K sampled subnets, then (with several workers) exchanged as flat
// float32 buckets through a GradientReducer before the single optimizer update.
import { flatten, tf } from '../engine';

/**
 * Reduces gradient buckets across workers in place (an all-reduce that averages). Every worker passes buckets of the
 * same layout (`planGradientBuckets` over the same variables), then one bucket of flags, one per variable, 1 where
 * this worker's subnets reached the variable, so that after a sum or a mean "reached anywhere" is "flag > 0"; then,
 * when the caller gives one, a control block (stop votes, worker figures) averaged like the rest.
 */
export type GradientReducer = (buckets: Float32Array[]) => void | Promise<void>;

/** Backends whose tensors are host memory already (no device copy to save). */
const HOST_MEMORY_BACKENDS = new Set(['wasm', 'cpu']);

/** Sums gradient maps, keeping one tensor per variable (the caller's tensors are disposed as they are added). */
export class GradientAccumulator {
  private readonly sums = new Map<string, tf.Tensor>();

  add(grads: Record<string, tf.Tensor | null>): void {
    for (const [name, g] of Object.entries(grads)) {
      if (!g) continue;
      const previous = this.sums.get(name);
      if (!previous) {
        this.sums.set(name, g);
        continue;
      }
      this.sums.set(name, tf.add(previous, g));
      previous.dispose();
      g.dispose();
    }
  }

  /** The sums by variable name; the caller owns them afterwards. */
  take(): Map<string, tf.Tensor> {
    const out = new Map(this.sums);
    this.sums.clear();
    return out;
  }

  dispose(): void {
    for (const t of this.sums.values()) t.dispose();
    this.sums.clear();
  }
}

export interface BucketSlot {
  name: string;
  shape: number[];
  size: number;
  bucket: number;
  /** Offset in floats within its bucket. */
  offset: number;
}

export interface GradientBucketLayout {
  slots: BucketSlot[];
  /** Floats per gradient bucket (the reach-flag bucket, one float per slot, comes after these). */
  bucketSizes: number[];
}

/** Default bucket size: 1 Mi floats (4 MiB), large enough to amortize a message, small enough to overlap. */
export const DEFAULT_BUCKET_FLOATS = 1 << 20;

/**
 * Packs variables, in the given (stable) order, into buckets of at most `maxFloats` floats; a variable larger than
 * that gets a bucket of its own.
 */
export function planGradientBuckets(
  variables: readonly { name: string; shape: number[] }[],
  maxFloats = DEFAULT_BUCKET_FLOATS,
): GradientBucketLayout {
  const slots: BucketSlot[] = [];
  const bucketSizes: number[] = [];
  for (const v of variables) {
    const size = v.shape.reduce((a, b) => a * b, 1);
    const current = bucketSizes.length - 1;
    if (current < 0 || (bucketSizes[current] > 0 && bucketSizes[current] + size > maxFloats)) bucketSizes.push(0);
    const bucket = bucketSizes.length - 1;
    slots.push({ name: v.name, shape: [...v.shape], size, bucket, offset: bucketSizes[bucket] });
    bucketSizes[bucket] += size;
  }
  return { slots, bucketSizes };
}

/**
 * Copies `grads` into flat buckets (zeros for variables without a gradient) plus the reach-flag bucket, lets
 * `reducer` reduce them, and returns the reduced gradients of the variables reached on any worker. The input
 * tensors are disposed.
 */
export async function reduceGradients(
  grads: Map<string, tf.Tensor>,
  layout: GradientBucketLayout,
  reducer: GradientReducer,
  control?: Float32Array,
): Promise<Map<string, tf.Tensor>> {
  const buckets = layout.bucketSizes.map((n) => new Float32Array(n));
  const reached = new Float32Array(layout.slots.length);
  // On a device backend (tfjs-node-gpu, webgpu) one read-back per bucket: the bucket's gradients are concatenated on
  // the device first. On wasm and cpu the tensors already live in host memory, so each is copied straight in.
  const perBucket = !HOST_MEMORY_BACKENDS.has(tf.getBackend());
  const members = layout.bucketSizes.map(() => [] as { slot: BucketSlot; g: tf.Tensor }[]);
  layout.slots.forEach((slot, i) => {
    const g = grads.get(slot.name);
    if (!g) return;
    reached[i] = 1;
    if (perBucket) members[slot.bucket].push({ slot, g });
    else flatten([g], buckets[slot.bucket].subarray(slot.offset, slot.offset + slot.size));
  });
  if (perBucket) {
    members.forEach((list, b) => {
      if (list.length === 0) return;
      const flat = tf.tidy(() => tf.concat(list.map(({ g }) => tf.reshape(g, [-1]))));
      const data = flat.dataSync() as Float32Array;
      flat.dispose();
      let at = 0;
      for (const { slot } of list) {
        buckets[b].set(data.subarray(at, at + slot.size), slot.offset);
        at += slot.size;
      }
    });
  }
  for (const g of grads.values()) g.dispose();
  await reducer(control ? [...buckets, reached, control] : [...buckets, reached]);
  const out = new Map<string, tf.Tensor>();
  layout.slots.forEach((slot, i) => {
    if (reached[i] > 0) {
      const view = buckets[slot.bucket].subarray(slot.offset, slot.offset + slot.size);
      out.set(slot.name, tf.tensor(view, slot.shape, 'float32'));
    }
  });
  return out;
}
