// loadDataset: from the config's data section to three splits of raw pixels with a seeded, stratified validation
// holdout, the `limit` caps, and the resolved normalization.
import path from 'node:path';
import type {
  ResolvedCifar10Data,
  ResolvedDataConfig,
  ResolvedFolderData,
  ResolvedIdxData,
  ResolvedNormalization,
  ResolvedSplits,
  ResolvedSyntheticData,
} from '../../schemas';
import { Rng } from '../engine/rng';
import { CIFAR10_CLASSES, CIFAR_SIDE, cifarTestFile, cifarTrainFiles, findCifarDir, gatherCifar, readCifarRecords } from './cifar';
import { DataError } from './errors';
import { resolveDataPath } from './files';
import { alignClasses, listImageFolder, readFolderImages } from './folder';
import { readIdxPair } from './idx';
import { gatherImages, holdOut, orderAndCap, range, sharedBytes } from './splits';
import { generateSynthetic, syntheticClassNames } from './synthetic';
import type { Dataset, Normalization, Split } from './types';

export interface LoadOptions {
  /** Folder that relative paths in the config are relative to (the config file's folder). */
  baseDir: string;
  /** The run's seed: decides the holdout, the order of each split and the synthetic images. */
  seed: number;
}

/** Used when the config gives no normalization: maps [0, 1] pixels to [-1, 1]. */
export const DEFAULT_NORMALIZATION = { mean: 0.5, std: 0.5 };

/** Sub-streams of the seed, so that each decision is independent of the others. */
const Stream = { Validation: 1, TestHoldout: 2, TrainOrder: 3, ValidationOrder: 4, TestOrder: 5, Synthetic: 6 } as const;

/** The config's normalization (or the default) with one entry per channel; a single value applies to all. */
export function resolveNormalization(n: ResolvedNormalization | undefined, channels: number): Normalization {
  const expand = (values: number[], field: string): number[] => {
    if (values.length === 1) return new Array<number>(channels).fill(values[0]);
    if (values.length !== channels) {
      throw new DataError(
        `data.normalization.${field} has ${values.length} values but the dataset has ${channels} channel${channels === 1 ? '' : 's'}: give 1 or ${channels}`,
        'data.config',
      );
    }
    return [...values];
  };
  if (!n)
    return {
      mean: new Array<number>(channels).fill(DEFAULT_NORMALIZATION.mean),
      std: new Array<number>(channels).fill(DEFAULT_NORMALIZATION.std),
    };
  return { mean: expand(n.mean, 'mean'), std: expand(n.std, 'std') };
}

interface Shape {
  height: number;
  width: number;
  channels: number;
}

function makeSplit(part: { images: Uint8Array; labels: Int32Array }, shape: Shape, normalization: Normalization): Split {
  return { ...part, count: part.labels.length, ...shape, normalization };
}

/** Index lists of the three splits: validation (and test, when there is no test file) held out of the training file. */
function planSplits(
  trainLabels: Int32Array,
  testLabels: Int32Array | null,
  classes: number,
  validationSplit: number,
  limit: ResolvedSplits | undefined,
  seed: number,
): { train: Int32Array; validation: Int32Array; test: Int32Array; testFromTrain: boolean } {
  let pool = range(trainLabels.length);
  let testPart: Int32Array;
  if (testLabels === null) {
    const t = holdOut(pool, trainLabels, classes, validationSplit, Rng.derive(seed, Stream.TestHoldout));
    pool = t.kept;
    testPart = t.held;
  } else {
    testPart = range(testLabels.length);
  }
  const v = holdOut(pool, trainLabels, classes, validationSplit, Rng.derive(seed, Stream.Validation));
  return {
    train: orderAndCap(v.kept, limit?.train, Rng.derive(seed, Stream.TrainOrder)),
    validation: orderAndCap(v.held, limit?.validation, Rng.derive(seed, Stream.ValidationOrder)),
    test: orderAndCap(testPart, limit?.test, Rng.derive(seed, Stream.TestOrder)),
    testFromTrain: testLabels === null,
  };
}

function counts(d: { train: Split; validation: Split; test: Split }): string {
  return `${d.train.count} train / ${d.validation.count} validation / ${d.test.count} test`;
}

function checkNotEmpty(split: Split, name: string, source: string): void {
  if (split.count === 0) {
    throw new DataError(`the ${name} split of ${source} is empty: use more data or a different validationSplit`, 'data.empty', source);
  }
}

async function loadSynthetic(cfg: ResolvedSyntheticData, seed: number): Promise<Dataset> {
  const shape = { height: cfg.imageSize, width: cfg.imageSize, channels: cfg.channels };
  const normalization = resolveNormalization(cfg.normalization, cfg.channels);
  const part = (index: number, count: number): Split =>
    makeSplit(
      generateSynthetic({
        count,
        classes: cfg.classes,
        size: cfg.imageSize,
        channels: cfg.channels,
        seed: Rng.derive(seed, Stream.Synthetic, index).nextUint32(),
      }),
      shape,
      normalization,
    );
  const splits = { train: part(0, cfg.trainSize), validation: part(1, cfg.validationSize), test: part(2, cfg.testSize) };
  return {
    classes: cfg.classes,
    ...shape,
    ...splits,
    describe: `synthetic: ${cfg.classes} classes, ${cfg.imageSize}×${cfg.imageSize}×${cfg.channels}, ${counts(splits)} (seed ${seed})`,
    classNames: syntheticClassNames(cfg.classes),
    normalization,
    augmentation: cfg.augmentation,
  };
}

async function loadIdx(cfg: ResolvedIdxData, opts: LoadOptions): Promise<Dataset> {
  const file = (p: string): string => resolveDataPath(opts.baseDir, p);
  const [train, test] = await Promise.all([
    readIdxPair(file(cfg.trainImages), file(cfg.trainLabels), cfg.classes),
    readIdxPair(file(cfg.testImages), file(cfg.testLabels), cfg.classes),
  ]);
  if (train.images.height !== test.images.height || train.images.width !== test.images.width) {
    throw new DataError(
      `${file(cfg.testImages)} holds ${test.images.height}×${test.images.width} images but ${file(cfg.trainImages)} holds ${train.images.height}×${train.images.width}: they must match`,
      'data.mismatch',
      file(cfg.testImages),
    );
  }
  const shape = { height: train.images.height, width: train.images.width, channels: 1 };
  const normalization = resolveNormalization(cfg.normalization, 1);
  const pixels = shape.height * shape.width;
  const plan = planSplits(train.labels, test.labels, cfg.classes, cfg.validationSplit, cfg.limit, opts.seed);
  const splits = {
    train: makeSplit(gatherImages(train.images.pixels, train.labels, pixels, plan.train), shape, normalization),
    validation: makeSplit(gatherImages(train.images.pixels, train.labels, pixels, plan.validation), shape, normalization),
    test: makeSplit(gatherImages(test.images.pixels, test.labels, pixels, plan.test), shape, normalization),
  };
  checkNotEmpty(splits.train, 'train', file(cfg.trainImages));
  return {
    classes: cfg.classes,
    ...shape,
    ...splits,
    describe: `IDX ${path.basename(cfg.trainImages)}: ${cfg.classes} classes, ${shape.height}×${shape.width}×1, ${counts(splits)}`,
    normalization,
    augmentation: cfg.augmentation,
  };
}

async function loadCifar10(cfg: ResolvedCifar10Data, opts: LoadOptions): Promise<Dataset> {
  const dir = await findCifarDir(resolveDataPath(opts.baseDir, cfg.dir));
  const [train, test] = await Promise.all([cifarTrainFiles(dir).then(readCifarRecords), readCifarRecords([cifarTestFile(dir)])]);
  const shape = { height: CIFAR_SIDE, width: CIFAR_SIDE, channels: 3 };
  const normalization = resolveNormalization(cfg.normalization, 3);
  const plan = planSplits(train.labels, test.labels, 10, cfg.validationSplit, cfg.limit, opts.seed);
  const gather = (records: typeof train, indices: Int32Array): Split => {
    const images = sharedBytes(indices.length * CIFAR_SIDE * CIFAR_SIDE * 3);
    const labels = new Int32Array(indices.length);
    gatherCifar(records, indices, images, labels);
    return makeSplit({ images, labels }, shape, normalization);
  };
  const splits = { train: gather(train, plan.train), validation: gather(train, plan.validation), test: gather(test, plan.test) };
  checkNotEmpty(splits.train, 'train', dir);
  return {
    classes: 10,
    ...shape,
    ...splits,
    describe: `CIFAR-10 ${dir} (${train.files.length} training batch${train.files.length === 1 ? '' : 'es'}): 10 classes, 32×32×3, ${counts(splits)}`,
    classNames: [...CIFAR10_CLASSES],
    normalization,
    augmentation: cfg.augmentation,
  };
}

async function loadFolder(cfg: ResolvedFolderData, opts: LoadOptions): Promise<Dataset> {
  const trainRoot = resolveDataPath(opts.baseDir, cfg.train);
  const train = await listImageFolder(trainRoot, 'training folder');
  const test =
    cfg.test === undefined
      ? null
      : alignClasses(await listImageFolder(resolveDataPath(opts.baseDir, cfg.test), 'test folder'), train.classNames);
  const classes = train.classNames.length;
  const shape = { height: cfg.imageSize, width: cfg.imageSize, channels: 3 };
  const normalization = resolveNormalization(cfg.normalization, 3);
  const plan = planSplits(train.labels, test?.labels ?? null, classes, cfg.validationSplit, cfg.limit, opts.seed);
  // Only the images a split keeps are decoded, so a small `limit` makes a large folder quick to load.
  const splits = {
    train: makeSplit(await readFolderImages(train, plan.train, cfg.imageSize), shape, normalization),
    validation: makeSplit(await readFolderImages(train, plan.validation, cfg.imageSize), shape, normalization),
    test: makeSplit(await readFolderImages(test ?? train, plan.test, cfg.imageSize), shape, normalization),
  };
  checkNotEmpty(splits.train, 'train', trainRoot);
  const heldOut = plan.testFromTrain ? ', test held out of training' : '';
  return {
    classes,
    ...shape,
    ...splits,
    describe: `image folder ${trainRoot}: ${classes} classes, ${cfg.imageSize}×${cfg.imageSize}×3, ${counts(splits)}${heldOut}`,
    classNames: train.classNames,
    normalization,
    augmentation: cfg.augmentation,
  };
}

/** Reads (or generates) the configured dataset. Bad files are DataErrors naming the file. */
export async function loadDataset(data: ResolvedDataConfig, opts: LoadOptions): Promise<Dataset> {
  switch (data.kind) {
    case 'synthetic':
      return loadSynthetic(data, opts.seed);
    case 'idx':
      return loadIdx(data, opts);
    case 'cifar10':
      return loadCifar10(data, opts);
    case 'folder':
      return loadFolder(data, opts);
    case 'stereo-synthetic':
    case 'stereo-folder':
      throw new DataError(`data kind '${data.kind}' holds stereo pairs, for task 'stereo'; set "task": "stereo" or use an image dataset`, 'data.config');
  }
}
