// Stereo batches from stored pairs, as pure functions of (split, options, epoch, batch index) like daemon/data's image
// batches: the epoch's shuffle from Rng.derive(seed, epoch), each batch's crops and photometric draws from
// Rng.derive(seed, epoch, index), so a batch, or a shard of it, is the same in whichever worker and order it is made.
import { Rng } from '../../engine/rng';
import { batchesPerEpoch, epochOrder, shardRange } from '../batches';

/** One rectified pair as read or generated: bytes per view, float disparities of the left view (NaN: none). */
export interface StoredPair {
  /** Where it came from, for error messages (a file name, or "generated pair 12 of train"). */
  name: string;
  width: number;
  height: number;
  /** height·width·channels bytes each, rows top-to-bottom, channels interleaved. */
  left: Uint8Array;
  right: Uint8Array;
  /** height·width disparities in pixels; NaN where there is no ground truth. */
  disparity: Float32Array;
}

export interface PairSplit {
  channels: 1 | 3;
  pairs: readonly StoredPair[];
}

export interface StereoBatch {
  readonly size: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** size·height·width·channels floats each, NHWC, in [0, 1] (byte / 255), after augmentation. */
  left: Float32Array;
  right: Float32Array;
  /** size·height·width left-view disparities in pixels; NaN where there is no ground truth. */
  disparity: Float32Array;
}

export interface CropSize {
  width: number;
  height: number;
}

/** Photometric augmentation: brightness shift up to ±brightness, contrast factor in [1 − contrast, 1 + contrast]. */
export interface Photometric {
  brightness: number;
  contrast: number;
}

/** daemon/ofa's TrainStreamOptions by shape (daemon/data may not import daemon/ofa). */
export interface StereoTrainOptions {
  batchSize: number;
  seed: number;
  epoch: number;
  startBatch: number;
  prefetch?: 'worker' | 'sync';
  shard?: { index: number; count: number };
}

/** daemon/ofa's TrainStream<StereoBatch> by shape. */
export interface StereoTrainStream {
  position(): { epoch: number; batch: number };
  next(): Promise<StereoBatch>;
  close(): Promise<void>;
}

function emptyBatch(size: number, crop: CropSize, channels: 1 | 3): StereoBatch {
  const pixels = crop.width * crop.height;
  return {
    size,
    height: crop.height,
    width: crop.width,
    channels,
    left: new Float32Array(size * pixels * channels),
    right: new Float32Array(size * pixels * channels),
    disparity: new Float32Array(size * pixels),
  };
}

/** byte → [0, 1] after contrast `c` about mid-grey and shift `b`, clamped; c = 1, b = 0 gives exactly byte / 255. */
function photometricTable(c: number, b: number): Float32Array {
  const lut = new Float32Array(256);
  const offset = 0.5 * (1 - c) + b;
  for (let v = 0; v < 256; v++) lut[v] = Math.min(1, Math.max(0, c * (v / 255) + offset));
  return lut;
}

const IDENTITY = photometricTable(1, 0);

/**
 * Copies the window at (x0, y0) of `pair` into example `at` of `out`: both views through `lut`, and the disparity
 * unchanged — the same window everywhere, so left pixel x still matches right pixel x − d inside it.
 */
function writeWindow(pair: StoredPair, channels: number, x0: number, y0: number, lut: Float32Array, out: StereoBatch, at: number): void {
  const { width: w, height: h } = out;
  const viewAt = at * h * w * channels;
  const rowValues = w * channels;
  for (let y = 0; y < h; y++) {
    const src = ((y0 + y) * pair.width + x0) * channels;
    const dst = viewAt + y * rowValues;
    for (let i = 0; i < rowValues; i++) {
      out.left[dst + i] = lut[pair.left[src + i]];
      out.right[dst + i] = lut[pair.right[src + i]];
    }
    const dsrc = (y0 + y) * pair.width + x0;
    out.disparity.set(pair.disparity.subarray(dsrc, dsrc + w), at * h * w + y * w);
  }
}

/** Training batch `index` of `epoch` (given that epoch's order): random crops and photometric changes, or a shard. */
export function stereoTrainBatch(
  split: PairSplit,
  crop: CropSize,
  photometric: Photometric,
  opts: Pick<StereoTrainOptions, 'batchSize' | 'seed' | 'shard'>,
  order: Int32Array,
  epoch: number,
  index: number,
): StereoBatch {
  const start = index * opts.batchSize;
  const whole = Math.min(opts.batchSize, split.pairs.length - start);
  const { from, to } = shardRange(whole, opts.shard);
  const out = emptyBatch(to - from, crop, split.channels);
  const rng = Rng.derive(opts.seed, epoch, index);
  // Every example of the whole batch draws its four numbers, in order, so that a shard's examples are cropped and
  // coloured exactly as in the whole batch; only the shard's are written.
  for (let i = 0; i < to; i++) {
    const pair = split.pairs[order[start + i]];
    const x0 = rng.int(pair.width - crop.width + 1);
    const y0 = rng.int(pair.height - crop.height + 1);
    const shift = (2 * rng.next() - 1) * photometric.brightness;
    const factor = 1 + (2 * rng.next() - 1) * photometric.contrast;
    if (i < from) continue;
    // One table for both views: a change of one view against the other would be a false stereo cue.
    writeWindow(pair, split.channels, x0, y0, photometricTable(factor, shift), out, i - from);
  }
  return out;
}

/** The split in stored order, centre-cropped to `size`, unaugmented; the last batch may be smaller. */
export function* stereoEvalBatches(split: PairSplit, size: CropSize, batchSize: number, limit?: number): Generator<StereoBatch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, not ${batchSize}`);
  const count = Math.min(split.pairs.length, limit ?? split.pairs.length);
  for (let start = 0; start < count; start += batchSize) {
    const out = emptyBatch(Math.min(batchSize, count - start), size, split.channels);
    for (let i = 0; i < out.size; i++) {
      const pair = split.pairs[start + i];
      const x0 = Math.floor((pair.width - size.width) / 2);
      const y0 = Math.floor((pair.height - size.height) / 2);
      writeWindow(pair, split.channels, x0, y0, IDENTITY, out, i);
    }
    yield out;
  }
}

/**
 * Training batches from a position, made on demand in the calling thread: a stereo batch is a few crops and table
 * look-ups, cheap beside a training step, so `prefetch` is ignored (both modes give these same batches anyway).
 */
export function openStereoTrainStream(split: PairSplit, crop: CropSize, photometric: Photometric, opts: StereoTrainOptions): StereoTrainStream {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new RangeError(`batchSize must be a positive integer, not ${opts.batchSize}`);
  const perEpoch = batchesPerEpoch(split.pairs.length, opts.batchSize);
  if (perEpoch === 0) throw new RangeError('cannot batch an empty split');
  if (!Number.isInteger(opts.epoch) || opts.epoch < 0) throw new RangeError(`epoch must be a non-negative integer, not ${opts.epoch}`);
  if (!Number.isInteger(opts.startBatch) || opts.startBatch < 0 || opts.startBatch >= perEpoch) {
    throw new RangeError(`startBatch must be in 0..${perEpoch - 1}, not ${opts.startBatch}`);
  }
  // A shard that cannot be cut evenly is an error now, not at the first next().
  shardRange(Math.min(opts.batchSize, split.pairs.length), opts.shard);
  let at = { epoch: opts.epoch, batch: opts.startBatch };
  let order: { epoch: number; order: Int32Array } | undefined;
  let closed = false;
  const take = (): StereoBatch => {
    if (closed) throw new Error('stereo training stream: next() after close()');
    const { epoch, batch } = at;
    if (order?.epoch !== epoch) order = { epoch, order: epochOrder(split.pairs.length, opts.seed, epoch) };
    const out = stereoTrainBatch(split, crop, photometric, opts, order.order, epoch, batch);
    at = batch + 1 < perEpoch ? { epoch, batch: batch + 1 } : { epoch: epoch + 1, batch: 0 };
    return out;
  };
  return {
    position: () => ({ ...at }),
    next: () => {
      try {
        return Promise.resolve(take());
      } catch (e) {
        return Promise.reject(e);
      }
    },
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
}
