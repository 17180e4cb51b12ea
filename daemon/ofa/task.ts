// The task contract the trainer and the search work against: a supernet, its search space, a loss and a metric.
// Classification implements it now; stereo will implement the same interfaces, so progressive shrinking, BN
// recalibration, checkpoints and search are written once.
import type { tf } from '../engine';
import type { Arch } from './arch';
import type { SearchSpace } from './space';

export interface ForwardOptions {
  /** Training mode: batch norm with batch statistics and dropout on. Otherwise running statistics, no dropout. */
  training: boolean;
  /** Seed of the dropout mask; needed in training mode when the supernet has dropout (reproducible steps). */
  seed?: number;
}

/** What the trainer and the search need from a supernet, whatever its task. */
export interface Supernet<In extends tf.Tensor = tf.Tensor4D, Out extends tf.Tensor = tf.Tensor2D> {
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
  /** A standalone stock-layers model computing `forward(x, arch, {training: false})`. */
  extractSubnet(arch: Arch): tf.LayersModel;
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
}

export interface MetricValue {
  name: string;
  /** The metric over the batch (for accuracy: the fraction correct). */
  value: number;
  /** Examples it was computed on, to average over batches. */
  count: number;
}

export interface Task<In extends tf.Tensor = tf.Tensor4D, Out extends tf.Tensor = tf.Tensor2D, Labels extends tf.Tensor = tf.Tensor> {
  readonly kind: string;
  readonly space: SearchSpace;
  readonly supernet: Supernet<In, Out>;
  /** The training loss of a batch; `teacherOutputs` (the largest subnet's, no gradient) add distillation. */
  loss(outputs: Out, labels: Labels, teacherOutputs: Out | undefined, opts: LossOptions): tf.Scalar;
  /** The task's headline metric on a batch (higher is better). */
  metric(outputs: Out, labels: Labels): MetricValue;
}
