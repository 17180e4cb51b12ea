// The stereo dataset of a config ('stereo-synthetic' or 'stereo-folder'): stored pairs per split, their training
// and evaluation sizes, and the task's data view over them (training stream and evaluation batches).
import type { ResolvedStereoFolderData, ResolvedStereoSyntheticData } from '../../../schemas';
import { Rng } from '../../engine/rng';
import { DataError } from '../errors';
import {
  openStereoTrainStream,
  stereoEvalBatches,
  type CropSize,
  type PairSplit,
  type StereoBatch,
  type StereoTrainOptions,
  type StereoTrainStream,
  type StoredPair,
} from './batches';
import { readStereoFolder } from './folder';
import { generateStereoPair } from './generator';
import { checkMultiple } from './sizes';

export type { StereoBatch, StereoTrainOptions, StereoTrainStream } from './batches';

/** daemon/ofa's TaskData<StereoBatch> by shape (daemon/data may not import daemon/ofa; the task assigns it as is). */
export interface StereoTaskData {
  readonly describe: string;
  readonly trainCount: number;
  openTrainStream(opts: StereoTrainOptions): StereoTrainStream;
  /** Validation and test centre-cropped to evalSize; 'train' (batch-norm calibration) to trainSize, which every training pair holds. */
  evalBatches(split: 'train' | 'validation' | 'test', batchSize: number, limit?: number): Iterable<StereoBatch>;
}

export interface StereoDataset {
  /** One line for people, e.g. "stereo generator: 400 / 64 / 64 pairs of 128×64, grey, disparity ≤ 16 px". */
  describe: string;
  channels: 1 | 3;
  maxDisparity: number;
  /** Size of training batches (the crop, or the whole pair) and of validation/test batches. */
  trainSize: { width: number; height: number };
  evalSize: { width: number; height: number };
  data: StereoTaskData;
}

/** Sub-stream of the run's seed for generated pairs: Rng.derive(seed, stream, split, i) seeds pair i of a split. */
const SYNTHETIC_STREAM = 0x57e1;
const SPLIT_INDEX = { train: 0, validation: 1, test: 2 } as const;

interface Parts {
  describe: string;
  channels: 1 | 3;
  maxDisparity: number;
  trainSize: CropSize;
  evalSize: CropSize;
  splits: { train: PairSplit; validation: PairSplit; test: PairSplit };
  brightness: number;
  contrast: number;
}

function assemble(p: Parts): StereoDataset {
  const data: StereoTaskData = {
    describe: p.describe,
    trainCount: p.splits.train.pairs.length,
    openTrainStream: (opts) => openStereoTrainStream(p.splits.train, p.trainSize, { brightness: p.brightness, contrast: p.contrast }, opts),
    evalBatches: (split, batchSize, limit) => stereoEvalBatches(p.splits[split], split === 'train' ? p.trainSize : p.evalSize, batchSize, limit),
  };
  return { describe: p.describe, channels: p.channels, maxDisparity: p.maxDisparity, trainSize: p.trainSize, evalSize: p.evalSize, data };
}

/**
 * Generated pairs, kept as bytes and float disparities only (no visibility masks). Pair i of a split is seeded by
 * (seed, split, i), so a split does not change with the sizes of the others.
 */
function loadSynthetic(cfg: ResolvedStereoSyntheticData, seed: number): StereoDataset {
  checkMultiple(cfg.width, 'data.width');
  checkMultiple(cfg.height, 'data.height');
  const crop = { width: cfg.augmentation.cropWidth || cfg.width, height: cfg.augmentation.cropHeight || cfg.height };
  if (cfg.augmentation.cropWidth) checkMultiple(cfg.augmentation.cropWidth, 'data.augmentation.cropWidth');
  if (cfg.augmentation.cropHeight) checkMultiple(cfg.augmentation.cropHeight, 'data.augmentation.cropHeight');
  if (crop.width > cfg.width || crop.height > cfg.height) {
    throw new DataError(
      `the training crop ${crop.width}×${crop.height} (data.augmentation.cropWidth/cropHeight) is larger than the generated pairs (${cfg.width}×${cfg.height}): use at most ${cfg.width}×${cfg.height}, or 0 for whole pairs`,
      'data.config',
    );
  }
  const generate = (split: keyof typeof SPLIT_INDEX, count: number): PairSplit => {
    const pairs: StoredPair[] = [];
    for (let i = 0; i < count; i++) {
      const p = generateStereoPair({
        width: cfg.width,
        height: cfg.height,
        maxDisparity: cfg.maxDisparity,
        seed: Rng.derive(seed, SYNTHETIC_STREAM, SPLIT_INDEX[split], i).nextUint32(),
        channels: cfg.channels,
        shapes: cfg.shapes,
        texture: cfg.texture,
        slanted: cfg.slanted,
        noise: cfg.noise,
      });
      pairs.push({ name: `generated ${split} pair ${i}`, width: p.width, height: p.height, left: p.left, right: p.right, disparity: p.disparity });
    }
    return { channels: cfg.channels, pairs };
  };
  const splits = { train: generate('train', cfg.trainSize), validation: generate('validation', cfg.validationSize), test: generate('test', cfg.testSize) };
  const cropped = crop.width !== cfg.width || crop.height !== cfg.height ? `, crops ${crop.width}×${crop.height}` : '';
  return assemble({
    describe: `stereo generator: ${cfg.trainSize} / ${cfg.validationSize} / ${cfg.testSize} pairs of ${cfg.width}×${cfg.height}${cropped}, ${cfg.channels === 1 ? 'grey' : 'RGB'}, disparity ≤ ${cfg.maxDisparity} px`,
    channels: cfg.channels,
    maxDisparity: cfg.maxDisparity,
    trainSize: crop,
    evalSize: { width: cfg.width, height: cfg.height },
    splits,
    brightness: cfg.augmentation.brightness,
    contrast: cfg.augmentation.contrast,
  });
}

/** The config's stereo data: generated in memory, or read from a folder; every problem is a DataError. */
export async function loadStereoDataset(
  cfg: ResolvedStereoSyntheticData | ResolvedStereoFolderData,
  opts: { baseDir: string; seed: number },
): Promise<StereoDataset> {
  if (cfg.kind === 'stereo-synthetic') return loadSynthetic(cfg, opts.seed);
  const parts = await readStereoFolder(cfg, opts);
  return assemble({
    describe: parts.describe,
    channels: cfg.channels,
    maxDisparity: cfg.maxDisparity,
    trainSize: parts.trainSize,
    evalSize: parts.evalSize,
    splits: { train: parts.train, validation: parts.validation, test: parts.test },
    brightness: cfg.augmentation.brightness,
    contrast: cfg.augmentation.contrast,
  });
}
