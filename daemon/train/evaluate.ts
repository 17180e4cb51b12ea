// Measuring one subnet of a trained supernet: recalibrate its batch norms (OFA's set_running_statistics) on a fixed
// random subset of the training images drawn with the training transforms (augmentation) — the same subset for every
// subnet of a run, prepared once — then the task's metric and loss on a split in large batches. The trainer uses it
// after every phase; the pipeline uses it to measure subnets for the predictor and the Pareto front.
import { tf } from '../engine';
import type { Arch } from '../ofa/arch';
import type { Task } from '../ofa/task';

export interface EvaluateOptions {
  /** Which split to measure on (default 'validation'). */
  split?: 'validation' | 'test';
  /** Training examples whose statistics become the subnet's batch-norm statistics (OFA: 2,000). */
  calibrationSize: number;
  /** Examples per forward pass on the measured split (calibration batches are the subset's own: calibrationBatchSize). */
  batchSize: number;
  /** Cap on the measured examples (default: the whole split). */
  limit?: number;
  /** Set false when the batch norms already hold this subnet's statistics (default true). */
  recalibrate?: boolean;
}

export interface SubnetEvaluation {
  /** The task's headline metric (top-1 accuracy for classification), averaged over the measured examples. */
  accuracy: number;
  metric: string;
  /** Mean loss without label smoothing or distillation. */
  loss: number;
  count: number;
}

/** Recalibrates batch norm for `arch`, then measures it on a split of the task's data. */
export async function evaluateSubnet(task: Task, arch: Arch, opts: EvaluateOptions): Promise<SubnetEvaluation> {
  if (opts.recalibrate ?? true) await recalibrateSubnet(task, arch, opts);
  const supernet = task.supernet;
  const split = opts.split ?? 'validation';
  let metricSum = 0;
  let count = 0;
  let metric = task.metricInfo.name;
  // The loss is summed on the device and read once at the end (the metric is the task's to read).
  let lossSum: tf.Tensor = tf.scalar(0);
  try {
    for (const batch of task.data.evalBatches(split, opts.batchSize, opts.limit)) {
      const next = tf.tidy(() => {
        const { x, y } = task.tensors(batch, arch.r);
        const out = supernet.forward(x, arch, { training: false, foldBatchNorm: true });
        const m = task.metric(out, y);
        metric = m.name;
        metricSum += m.value * m.count;
        return tf.add(lossSum, tf.mul(task.loss(out, y, undefined, { labelSmoothing: 0, kdRatio: 0 }), batch.size));
      });
      lossSum.dispose();
      lossSum = next;
      count += batch.size;
    }
    if (count === 0) throw new Error(`evaluateSubnet: the ${split} split is empty`);
    const loss = (await lossSum.data())[0] / count;
    return { accuracy: metricSum / count, metric, loss, count };
  } finally {
    lossSum.dispose();
  }
}

/**
 * Sets the batch-norm statistics of `arch` to its statistics on the calibration subset: OFA's set_running_statistics,
 * the per-batch-norm mean of the batch means and of the batch variances over the subset's batches.
 */
export async function recalibrateSubnet(task: Task, arch: Arch, opts: Pick<EvaluateOptions, 'calibrationSize'>): Promise<void> {
  const batches = await calibrationBatches(task, opts.calibrationSize);
  await task.supernet.recalibrateBatchNorm(arch, calibrationInputs(task, batches, arch.r));
}

/**
 * Seed of the calibration subset's shuffle and augmentation. Fixed, so the subset is a function of the task's training
 * split (itself drawn from the run's seed) and the size alone: the trainer, the measurements, `manta export` and
 * `manta evaluate` recalibrate a subnet to the very same statistics without being told a seed.
 */
const CALIBRATION_SEED = 0xca1b;

/** The most input values (examples × values per example) a calibration batch holds. */
const CALIBRATION_BATCH_VALUES = 4_000_000;

/** The calibration subsets drawn so far, per task (plain arrays: they go with the task; a few MB each). */
const calibrationCache = new WeakMap<Task, Map<number, Promise<{ readonly size: number }[]>>>();

/**
 * `size` training examples drawn at random (a seeded shuffle of the training split) with the training transforms, in
 * batches of calibrationBatchSize (the last one smaller): drawn once per task and size, then reused. OFA's
 * set_running_statistics averages the per-batch statistics over them, so the batching is part of the subset.
 */
export function calibrationBatches(task: Task, size: number): Promise<{ readonly size: number }[]> {
  let perTask = calibrationCache.get(task);
  if (!perTask) calibrationCache.set(task, (perTask = new Map()));
  let drawn = perTask.get(size);
  if (!drawn) {
    drawn = drawCalibrationBatches(task, size);
    perTask.set(size, drawn);
    drawn.catch(() => perTask.delete(size));
  }
  return drawn;
}

/**
 * Examples per calibration batch: as many as make about 4M input values, at most 500 (Fashion-MNIST's 28×28: 500; a
 * 256×512 stereo pair: 5) — large batches run fastest, and a batch's statistics are then close to the subset's.
 */
export function calibrationBatchSize(task: Task): number {
  const [first] = task.data.evalBatches('train', 1, 1);
  const values = first ? tf.tidy(() => task.tensors(first).x.size) : 1;
  return Math.max(1, Math.min(500, Math.floor(CALIBRATION_BATCH_VALUES / values)));
}

async function drawCalibrationBatches(task: Task, size: number): Promise<{ readonly size: number }[]> {
  const total = Math.min(size, task.data.trainCount);
  if (total < 1) throw new Error('recalibrating batch norm needs training examples; the training split is empty');
  const per = Math.min(calibrationBatchSize(task), total);
  const seed = CALIBRATION_SEED;
  const stream = task.data.openTrainStream({ batchSize: per, seed, epoch: 0, startBatch: 0, prefetch: 'sync' });
  const out: { readonly size: number }[] = [];
  try {
    // Whole batches of one epoch's shuffle (no example twice); the last is cut to the size asked for.
    for (let have = 0; have < total; ) {
      const batch = await stream.next();
      const take = Math.min(batch.size, total - have);
      out.push(take === batch.size ? batch : sliceBatch(batch, take));
      have += take;
    }
  } finally {
    await stream.close();
  }
  return out;
}

/** The first `n` examples of a batch: every typed array whose length is a multiple of the batch size is cut to n. */
function sliceBatch<B extends { readonly size: number }>(batch: B, n: number): B {
  const out: Record<string, unknown> = { ...batch, size: n };
  for (const [k, v] of Object.entries(batch)) {
    const typed = v as { length?: unknown; slice?: unknown };
    if (ArrayBuffer.isView(v) && typeof typed.length === 'number' && typed.length % batch.size === 0) {
      const typed = v as unknown as { length: number; slice(a: number, b: number): unknown };
      out[k] = typed.slice(0, (typed.length / batch.size) * n);
    }
  }
  return out as B;
}

/** The calibration batches as input tensors at `resolution`, each disposed once the consumer moves past it. */
function* calibrationInputs(task: Task, batches: readonly { readonly size: number }[], resolution: number): Generator<tf.Tensor> {
  let current: tf.Tensor | undefined;
  try {
    for (const batch of batches) {
      current?.dispose();
      current = tf.tidy(() => task.tensors(batch, resolution).x);
      yield current;
    }
  } finally {
    current?.dispose();
  }
}
