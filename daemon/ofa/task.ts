// The task contract the trainer, the measurements and the search work against: a supernet and its search space, the
// task's data as opaque batches, a loss, a metric with its direction, and what an exported subnet carries. Each task
// under daemon/tasks/ implements it; progressive shrinking, BN recalibration, checkpoints and search are written once.
import type { tf } from '../engine';
import type { TaskPreview } from '../protocol/events';
import type { Arch } from './arch';
import type { SearchSpace } from './space';

export interface ForwardOptions {
  /** Training mode: batch norm with batch statistics and dropout on. Otherwise running statistics, no dropout. */
  training: boolean;
  /** Seed of the dropout mask; needed in training mode when the supernet has dropout (reproducible steps). */
  seed?: number;
  /**
   * Inference only: batch norm folded into the convolutions (faster; equal to the plain inference, which an extracted
   * subnet computes exactly, within float rounding). Measurements use it; a supernet may ignore it.
   */
  foldBatchNorm?: boolean;
  /**
   * Dropout in training mode (default true). The frozen teacher runs with batch statistics but without dropout, as
   * OFA's teacher (teacher_model.train() with dropout_rate 0).
   */
  dropout?: boolean;
}

/**
 * What a supernet's forward pass gives: one tensor (classification logits), or several (stereo: a disparity map per
 * scale, coarse to fine). Only the task's loss and metrics look inside.
 */
export type Outputs = tf.Tensor | tf.Tensor[];

/** What the trainer and the search need from a supernet, whatever its task. */
export interface Supernet<In extends tf.Tensor = tf.Tensor4D, Out extends Outputs = tf.Tensor2D> {
  readonly space: SearchSpace;
  /** Trainable variables in a stable order; each tfjs name is `<scope>/<stable name>`. */
  readonly variables: readonly tf.Variable[];
  /** The subset of `variables` that takes L2 weight decay (all but batch norm and biases, as OFA). */
  readonly decayVariables: readonly tf.Variable[];
  /** Runs the subnet `arch` selects. Call it inside tf.tidy or a gradient function; the result belongs to the caller. */
  forward(x: In, arch: Arch, opts: ForwardOptions): Out;
  /**
   * Sets the running statistics of every batch norm the subnet uses to the mean and variance of its inputs over
   * `batches` (OFA's set_running_statistics). The batches stay the caller's.
   */
  recalibrateBatchNorm(arch: Arch, batches: Iterable<In> | AsyncIterable<In>): Promise<void>;
  /**
   * A standalone stock-layers model computing `forward(x, arch, {training: false})` (for several outputs: the last,
   * finest one). Its inputs are the task's to describe (`Task.inputDescription`).
   */
  extractSubnet(arch: Arch): tf.LayersModel;
  /**
   * A frozen copy: the same structure and the current weights (running statistics included) in variables of its own,
   * which training of this supernet leaves alone (the distillation teacher). Dispose it when done.
   */
  snapshot(): Supernet<In, Out>;
  /** Sorts elastic channels by importance without changing the largest net's function (before the expand phase). */
  reorganizeChannels(expandStage?: number): void;
  /** Every weight (trainable and batch-norm statistics) by stable name; the tensors are the caller's to dispose. */
  getWeights(): Record<string, tf.Tensor>;
  /** Loads weights by stable name (a checkpoint); every name must be present with its shape. */
  setWeights(weights: Record<string, tf.Tensor>): void;
  /** Forward multiply-accumulates per input of the subnet (OFA's counting). */
  macs(arch: Arch): number;
  /** Trainable parameters of the subnet. */
  params(arch: Arch): number;
  /** Trainable parameters of the whole supernet (including kernel transforms). */
  countParams(): number;
  dispose(): void;
}

export interface LossOptions {
  /** Label smoothing of the hard-label cross-entropy (OFA: 0.1). */
  labelSmoothing: number;
  /** Weight of the distillation term against the teacher's outputs (0: none). */
  kdRatio: number;
  /** How far training is, from 0 (first step) to 1 (the end; evaluation uses 1): for losses with a schedule. */
  progress?: number;
}

/** A metric summed over examples (or pixels): its mean is sum / count. */
export interface MetricSum {
  sum: number;
  count: number;
}

export interface MetricValue {
  name: string;
  /** The metric over the batch (for accuracy: the fraction correct). */
  value: number;
  /** Examples it was computed on, to average over batches. */
  count: number;
}

/** How the task's headline metric reads: its name and which direction is better. */
export interface MetricInfo {
  /** e.g. 'accuracy' (classification), 'epe' (stereo end-point error), 'r2'. */
  name: string;
  higherIsBetter: boolean;
}

/** A position in the endless sequence of training batches (what a checkpoint stores). */
export interface TrainPosition {
  epoch: number;
  batch: number;
}

/** Training batches of a task, from a position; `size` is the number of examples in a batch. */
export interface TrainStream<B extends { readonly size: number }> {
  position(): TrainPosition;
  next(): Promise<B>;
  close(): Promise<void>;
}

export interface TrainStreamOptions {
  batchSize: number;
  /** Seed of the shuffling and the augmentation. */
  seed: number;
  epoch: number;
  startBatch: number;
  /** Prepare batches in a worker thread (default) or in the calling thread; both give the same batches. */
  prefetch?: 'worker' | 'sync';
  /**
   * A worker's part of every batch in a training job: batch `batchSize` cut into `count` equal shards, shard `index`
   * returned (the same examples, augmented the same way, as in the whole batch).
   */
  shard?: { index: number; count: number };
}

/**
 * A task's data as the trainer and the measurements see it: batches are the task's own plain data, turned into
 * tensors only by the task (`Task.tensors`), so the trainer never knows what an example is.
 */
export interface TaskData<B extends { readonly size: number }> {
  /** One line for people, e.g. "IDX …: 10 classes, 28×28×1, 54000 / 6000 / 10000". */
  readonly describe: string;
  /** Examples in the training split (the schedule's epochs count them). */
  readonly trainCount: number;
  openTrainStream(opts: TrainStreamOptions): TrainStream<B>;
  /** A split's batches in order, unaugmented; the first `limit` examples when given. */
  evalBatches(split: 'train' | 'validation' | 'test', batchSize: number, limit?: number): Iterable<B>;
}

/**
 * Everything the trainer, the measurements and the search ask of a task. One implementation per folder under
 * daemon/tasks/; nothing that consumes it names a particular task.
 */
export interface Task<In extends tf.Tensor = tf.Tensor, Out extends Outputs = Outputs, Labels extends tf.Tensor = tf.Tensor, B extends { readonly size: number } = { readonly size: number }> {
  readonly kind: string;
  readonly space: SearchSpace;
  readonly supernet: Supernet<In, Out>;
  readonly data: TaskData<B>;
  /** The headline metric: what `metric` returns, what the predictor learns and the search optimises. */
  readonly metricInfo: MetricInfo;
  /**
   * A batch as network input at `resolution` (the arch's `r`; the data's own size when left out) and its labels.
   * Call inside tf.tidy; the tensors are the caller's.
   */
  tensors(batch: B, resolution?: number): { x: In; y: Labels };
  /** The training loss of a batch; `teacherOutputs` (the teacher's, no gradient) add distillation. */
  loss(outputs: Out, labels: Labels, teacherOutputs: Out | undefined, opts: LossOptions): tf.Scalar;
  /** The headline metric on a batch (`metricInfo` says its direction). */
  metric(outputs: Out, labels: Labels): MetricValue;
  /**
   * Every metric the task reports for a measured network (classification: accuracy; stereo: EPE, D1, >1 px, >3 px),
   * as sums to add over batches: `manta evaluate` prints their means.
   */
  metricSums(outputs: Out, labels: Labels): Record<string, MetricSum>;
  /**
   * Pictures of what the subnet `arch` predicts on a few fixed validation examples, with the batch norms as they are
   * (call after recalibrating for `arch`); tasks without pictures leave it out.
   */
  preview?(arch: Arch): Promise<TaskPreview>;
  /**
   * Simple methods measured on a split with the task's metrics, for the report to set the searched networks against
   * (stereo: zero disparity and block matching); absent when the task has none.
   */
  baselines?(split: 'validation' | 'test'): Promise<{ name: string; metrics: Record<string, number> }[]>;
  /**
   * When the supernet is daemon/ofa's unit stack (ofa/layout: stem, elastic MBConv units, a head of `classes`
   * outputs), search/ can tabulate its costs and time its blocks for a latency table. Other supernets are costed
   * with `supernet.macs`/`params`, and their latency (when asked for) is fitted to directly timed subnets.
   */
  readonly unitStack?: { inputChannels: number; classes: number };
  /** What a user of an exported subnet needs to feed it (results.json's `input`). */
  inputDescription(): Record<string, unknown>;
  /** Metadata stored with an exported subnet (model.json's user-defined metadata). */
  exportMetadata(arch: Arch): Record<string, unknown>;
  /** Frees the supernet and whatever the data holds (worker threads). */
  dispose(): void;
}
