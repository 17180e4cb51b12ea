// The plain-data shapes of datasets and batches: typed arrays only (no tfjs), so that they can cross into worker
// threads and be prepared off the training loop.

/** Per-channel normalization of pixels scaled to [0, 1]: (x - mean) / std; one entry per channel. */
export interface Normalization {
  mean: number[];
  std: number[];
}

export interface Augmentation {
  /** Random crop of this many pixels after zero padding on every side (0: none). */
  cropPadding: number;
  /** Mirror half of the images left-right. */
  horizontalFlip: boolean;
}

/** One split of a dataset: N images, NHWC, raw bytes 0..255, and their class labels. */
export interface Split {
  /** N·H·W·C bytes, NHWC; backed by a SharedArrayBuffer when the loader made it, so workers read it without a copy. */
  images: Uint8Array;
  /** N class indices in 0..classes-1. */
  labels: Int32Array;
  count: number;
  height: number;
  width: number;
  channels: number;
  /** How these pixels become network input (carried here so a split alone can be batched). */
  normalization: Normalization;
}

export interface Dataset {
  classes: number;
  height: number;
  width: number;
  channels: number;
  train: Split;
  validation: Split;
  test: Split;
  /** One line for people, e.g. "IDX train-images-idx3-ubyte.gz: 10 classes, 28×28×1, 54000 / 6000 / 10000". */
  describe: string;
  /** Class names when the source has them (folder names, CIFAR-10's names, the synthetic patterns). */
  classNames?: string[];
  normalization: Normalization;
  /** Training-time augmentation from the config (evaluation never augments). */
  augmentation: Augmentation;
}

/** A batch ready for the network: B·H·W·C normalized floats and B labels. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  /** B: the number of images in this batch. */
  size: number;
  /** Which epoch and which batch of it this is (eval batches: epoch 0). */
  epoch: number;
  index: number;
}
