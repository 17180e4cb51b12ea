// Batches from a split, as pure functions of (split, options, epoch, batch index): the epoch's shuffle comes from
// Rng.derive(seed, epoch) and each batch's augmentation from Rng.derive(seed, epoch, index), so a batch is the same
// whichever thread makes it and in whatever order, and a run can resume in the middle of an epoch.
import { Rng } from '../engine/rng';
import { shuffleInPlace, range } from './splits';
import type { Augmentation, Batch, Normalization, Split } from './types';

export interface BatchOptions {
  batchSize: number;
  /** Seed of this stream. Use one not shared with other uses of Rng.derive(seed, …) in the run. */
  seed: number;
  augmentation: Augmentation;
  /**
   * Drop the last, smaller batch of an epoch (default true: every training batch has the same shape). A split
   * smaller than one batch still gives one batch per epoch.
   */
  dropLast?: boolean;
  /**
   * This worker's part of every batch: the batch (of `batchSize`) is cut into `count` equal shards and shard `index`
   * is returned, so that the workers of a job together read each batch once and no example twice. A shard is the
   * same slice of the same augmented images that the whole batch holds.
   */
  shard?: { index: number; count: number };
}

export function batchesPerEpoch(count: number, batchSize: number, dropLast = true): number {
  if (count === 0) return 0;
  return dropLast ? Math.max(1, Math.floor(count / batchSize)) : Math.ceil(count / batchSize);
}

/** The epoch's order of the split's images: a seeded permutation of 0..count-1. */
export function epochOrder(count: number, seed: number, epoch: number): Int32Array {
  return shuffleInPlace(range(count), Rng.derive(seed, epoch));
}

/** (v/255 - mean) / std for every byte value, per channel: channel c's table starts at c·256. */
export function normalizationTable(n: Normalization, channels: number): Float32Array {
  const lut = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - n.mean[c]) / n.std[c];
  }
  return lut;
}

/**
 * Writes image `src` of the split into `out` at `outAt`, normalized: shifted by (dy, dx) in -pad..pad (pixels that
 * come from outside the image are zero bytes, as with zero padding before a crop) and mirrored left-right if `flip`.
 */
export function writeImage(
  split: Split,
  src: number,
  lut: Float32Array,
  out: Float32Array,
  outAt: number,
  dy: number,
  dx: number,
  flip: boolean,
): void {
  const { height: h, width: w, channels: c, images } = split;
  const inAt = src * h * w * c;
  for (let y = 0; y < h; y++) {
    const sy = y + dy;
    const row = outAt + y * w * c;
    if (sy < 0 || sy >= h) {
      for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[row + x * c + ch] = lut[ch * 256];
      continue;
    }
    const srcRow = inAt + sy * w * c;
    for (let x = 0; x < w; x++) {
      const sx = (flip ? w - 1 - x : x) + dx;
      const o = row + x * c;
      if (sx < 0 || sx >= w) {
        for (let ch = 0; ch < c; ch++) out[o + ch] = lut[ch * 256];
      } else {
        const s = srcRow + sx * c;
        for (let ch = 0; ch < c; ch++) out[o + ch] = lut[ch * 256 + images[s + ch]];
      }
    }
  }
}

/** Batch `index` of `epoch`, given that epoch's order (from epochOrder) and the split's normalization table. */
export function makeTrainBatch(
  split: Split,
  opts: BatchOptions,
  order: Int32Array,
  lut: Float32Array,
  epoch: number,
  index: number,
): Batch {
  const start = index * opts.batchSize;
  const whole = Math.min(opts.batchSize, split.count - start);
  const { from, to } = shardRange(whole, opts.shard);
  const pixels = split.height * split.width * split.channels;
  const x = new Float32Array((to - from) * pixels);
  const y = new Int32Array(to - from);
  const rng = Rng.derive(opts.seed, epoch, index);
  const pad = opts.augmentation.cropPadding;
  // Every image of the whole batch draws its augmentation, in order, so a shard's images are augmented exactly as
  // in the whole batch; only the shard's are written.
  for (let i = 0; i < to; i++) {
    const flip = opts.augmentation.horizontalFlip ? rng.next() < 0.5 : false;
    const dy = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
    const dx = pad > 0 ? rng.int(2 * pad + 1) - pad : 0;
    if (i < from) continue;
    const src = order[start + i];
    y[i - from] = split.labels[src];
    writeImage(split, src, lut, x, (i - from) * pixels, dy, dx, flip);
  }
  return { x, y, size: to - from, epoch, index };
}

/** The images [from, to) of a batch of `size` that shard `shard.index` of `shard.count` takes. */
export function shardRange(size: number, shard: BatchOptions['shard']): { from: number; to: number } {
  if (!shard || shard.count === 1) return { from: 0, to: size };
  if (!Number.isInteger(shard.count) || shard.count < 1 || !Number.isInteger(shard.index) || shard.index < 0 || shard.index >= shard.count) {
    throw new RangeError(`shard ${shard.index} of ${shard.count} is not a shard`);
  }
  if (size % shard.count !== 0) throw new RangeError(`a batch of ${size} cannot be split into ${shard.count} equal shards`);
  const per = size / shard.count;
  return { from: shard.index * per, to: (shard.index + 1) * per };
}

/** The split in its stored order, normalized, without augmentation; the last batch may be smaller. */
export function* evalBatches(split: Split, batchSize: number, limit?: number): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, not ${batchSize}`);
  const count = Math.min(split.count, limit ?? split.count);
  const lut = normalizationTable(split.normalization, split.channels);
  const pixels = split.height * split.width * split.channels;
  for (let index = 0, start = 0; start < count; index++, start += batchSize) {
    const size = Math.min(batchSize, count - start);
    const x = new Float32Array(size * pixels);
    const y = new Int32Array(size);
    for (let i = 0; i < size; i++) {
      y[i] = split.labels[start + i];
      writeImage(split, start + i, lut, x, i * pixels, 0, 0, false);
    }
    yield { x, y, size, epoch: 0, index };
  }
}
