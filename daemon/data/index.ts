// daemon/data/: dataset readers, the synthetic generator, augmentation and batching, on plain typed arrays (no tfjs).
export type { Augmentation, Batch, Dataset, Normalization, Split } from './types';
export { DataError, type DataErrorReason } from './errors';
export { loadDataset, resolveNormalization, DEFAULT_NORMALIZATION, type LoadOptions } from './load';
export { batchesPerEpoch, epochOrder, evalBatches, makeTrainBatch, normalizationTable, type BatchOptions } from './batches';
export {
  batchWorkerPath,
  openBatchStream,
  SyncBatchStream,
  WorkerBatchStream,
  type BatchStream,
  type BatchStreamOptions,
  type StreamPosition,
} from './stream';
export { decodeImage, resizeBilinear, type PixelShape, type RgbImage } from './images';
export { generateSynthetic, syntheticClass, syntheticClassNames, SYNTHETIC_MAX_CLASSES } from './synthetic';
export { parseIdx, readIdxImages, readIdxLabels } from './idx';
export { CIFAR_RECORD, CIFAR10_CLASSES } from './cifar';
