// The stereo task: the supernet over rectified pairs (daemon/data/stereo), a multi-scale disparity loss with a
// coarse-to-fine weight schedule, distillation against the teacher's disparities, end-point error as the headline
// metric (lower is better) with D1 and the >1 px / >3 px rates beside it, pictures of predictions, and two baselines.
import { tf } from '../../engine';
import { loadStereoDataset, type StereoBatch, type StereoDataset } from '../../data/stereo';
import type { Arch } from '../../ofa/arch';
import type { SearchSpace } from '../../ofa/space';
import type { LossOptions, MetricInfo, MetricSum, MetricValue, Task, TaskData } from '../../ofa/task';
import type { DisparityPreview } from '../../protocol/events';
import type { ResolvedConfig } from '../../../schemas';
import { addStereoErrors, emptyStereoSums, finishStereoMetrics, stereoMetricTensors, type StereoErrorSums } from './metrics';
import { blockMatching, toGrey } from './block-matching';
import { VIEW_OFFSET, VIEW_SCALE } from './extract';
import { StereoSupernet } from './supernet';

type DisparityLoss = ResolvedConfig['training']['disparityLoss'];

/** Validation pairs shown in previews (the first ones of the split, so every preview shows the same pairs). */
export const PREVIEW_PAIRS = 2;

/** The per-scale loss weights at `progress` (0 … 1): linear from the start weights to the end weights. */
export function scaleWeights(loss: DisparityLoss, progress: number): number[] {
  const p = Math.min(1, Math.max(0, progress));
  return loss.startWeights.map((w, i) => w + (loss.endWeights[i] - w) * p);
}

/**
 * Ground truth at a coarser scale: the mean of the valid pixels (> 0) of each factor × factor cell, values unchanged
 * (disparities stay in full-resolution pixels); 0 (no ground truth) where a cell has none.
 */
export function poolDisparity(truth: tf.Tensor4D, factor: number): tf.Tensor4D {
  if (factor === 1) return truth;
  return tf.tidy(() => {
    const valid = tf.cast(tf.greater(truth, 0), 'float32') as tf.Tensor4D;
    const sum = tf.avgPool(tf.mul(truth, valid) as tf.Tensor4D, factor, factor, 'valid');
    const count = tf.avgPool(valid, factor, factor, 'valid');
    return tf.where(tf.greater(count, 0), tf.div(sum, tf.maximum(count, 1e-12)), tf.zerosLike(sum)) as tf.Tensor4D;
  });
}

/** Huber with δ = 1 of |d|: ½d² below 1, |d| − ½ above; as ½m² + (d − m) with m = min(d, 1), every op differentiable. */
function smoothL1(absDiff: tf.Tensor): tf.Tensor {
  const m = tf.minimum(absDiff, 1);
  return tf.add(tf.mul(tf.square(m), 0.5), tf.sub(absDiff, m));
}

/** Mean per-pixel error over the valid pixels of `truth` (> 0): smooth L1 (Huber, δ = 1) or L1. */
function maskedError(prediction: tf.Tensor4D, truth: tf.Tensor4D, kind: DisparityLoss['kind']): tf.Scalar {
  return tf.tidy(() => {
    const valid = tf.cast(tf.greater(truth, 0), 'float32');
    const diff = tf.abs(tf.sub(prediction, truth));
    const err = kind === 'l1' ? diff : smoothL1(diff);
    return tf.div(tf.sum(tf.mul(err, valid)), tf.maximum(tf.sum(valid), 1));
  });
}

/** Mean smooth-L1 distance between two disparity maps over every pixel (distillation: the teacher covers all). */
function distillError(prediction: tf.Tensor4D, teacher: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    return tf.mean(smoothL1(tf.abs(tf.sub(prediction, teacher))));
  });
}

/** The multi-scale loss: Σ_scale weight · error, predictions coarse to fine, each against the pooled ground truth. */
export function disparityLoss(predictions: tf.Tensor4D[], truth: tf.Tensor4D, teacher: tf.Tensor4D[] | undefined, opts: LossOptions, loss: DisparityLoss): tf.Scalar {
  return tf.tidy(() => {
    const weights = scaleWeights(loss, opts.progress ?? 1);
    let total: tf.Scalar = tf.scalar(0);
    predictions.forEach((p, i) => {
      const w = weights[i];
      if (w === 0) return;
      const factor = truth.shape[1] / p.shape[1];
      total = tf.add(total, tf.mul(maskedError(p, poolDisparity(truth, factor), loss.kind), w));
      if (teacher && opts.kdRatio > 0) total = tf.add(total, tf.mul(distillError(p, teacher[i]), w * opts.kdRatio));
    });
    return total;
  });
}

/** Bytes 0…254 over 0…maxDisparity (clamped); 255 where `noTruthAs255` and the value is not ground truth. */
function disparityBytes(d: ArrayLike<number>, maxDisparity: number, noTruthAs255: boolean): Uint8Array {
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (noTruthAs255 && !(Number.isFinite(v) && v > 0)) out[i] = 255;
    else out[i] = Math.round((Math.min(maxDisparity, Math.max(0, Number.isFinite(v) ? v : 0)) / maxDisparity) * 254);
  }
  return out;
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** A pair's left view as grey bytes (the mean of its channels). */
function greyBytes(view: Float32Array, pixels: number, channels: number, offset: number): Uint8Array {
  const out = new Uint8Array(pixels);
  for (let i = 0; i < pixels; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += view[(offset + i) * channels + c];
    out[i] = Math.round(Math.min(1, Math.max(0, s / channels)) * 255);
  }
  return out;
}

export class StereoTask implements Task<tf.Tensor4D, tf.Tensor4D[], tf.Tensor4D, StereoBatch> {
  readonly kind = 'stereo';
  readonly metricInfo: MetricInfo = { name: 'epe', higherIsBetter: false };
  readonly supernet: StereoSupernet;
  readonly data: TaskData<StereoBatch>;

  constructor(
    config: ResolvedConfig,
    readonly dataset: StereoDataset,
    opts: { scope?: string } = {},
  ) {
    this.supernet = new StereoSupernet(config.supernet, {
      inputChannels: dataset.channels,
      maxDisparity: dataset.maxDisparity,
      height: dataset.evalSize.height,
      width: dataset.evalSize.width,
      seed: config.seed,
      scope: opts.scope,
    });
    this.data = dataset.data;
    this.loss = (outputs, labels, teacher, lossOpts) => disparityLoss(outputs, labels, teacher, lossOpts, config.training.disparityLoss);
  }

  static async create(config: ResolvedConfig, opts: { baseDir: string }): Promise<StereoTask> {
    if (config.data.kind !== 'stereo-synthetic' && config.data.kind !== 'stereo-folder') {
      throw new Error(`internal: the stereo task got data of kind '${config.data.kind}' (the config checks refuse it)`);
    }
    const dataset = await loadStereoDataset(config.data, { baseDir: opts.baseDir, seed: config.seed });
    return new StereoTask(config, dataset);
  }

  readonly loss: (outputs: tf.Tensor4D[], labels: tf.Tensor4D, teacher: tf.Tensor4D[] | undefined, opts: LossOptions) => tf.Scalar;

  get space(): SearchSpace {
    return this.supernet.space;
  }

  /** Both views normalised and stacked on the channel axis, and the disparity (0 where there is no ground truth).
   * `resolution` is not used: resizing a pair would rescale its disparities, so stereo subnets see pairs as they are. */
  tensors(batch: StereoBatch, _resolution?: number): { x: tf.Tensor4D; y: tf.Tensor4D } {
    return tf.tidy(() => {
      const shape: [number, number, number, number] = [batch.size, batch.height, batch.width, batch.channels];
      const norm = (v: Float32Array): tf.Tensor4D => tf.mul(tf.add(tf.tensor4d(v, shape), VIEW_OFFSET), VIEW_SCALE);
      const x = tf.concat([norm(batch.left), norm(batch.right)], 3);
      const truth = Float32Array.from(batch.disparity, (d) => (Number.isFinite(d) && d > 0 ? d : 0));
      return { x, y: tf.tensor4d(truth, [batch.size, batch.height, batch.width, 1]) };
    });
  }

  metric(outputs: tf.Tensor4D[], labels: tf.Tensor4D): MetricValue {
    const sums = this.metricSums(outputs, labels);
    return { name: 'epe', value: sums.epe.count > 0 ? sums.epe.sum / sums.epe.count : NaN, count: labels.shape[0] };
  }

  /** EPE, D1 and the >1 px / >3 px rates over the pixels with ground truth of the finest prediction. */
  metricSums(outputs: tf.Tensor4D[], labels: tf.Tensor4D): Record<string, MetricSum> {
    const m = stereoMetricTensors(outputs[outputs.length - 1], labels);
    const [epe, d1, over1px, over3px, pixels] = [m.epe, m.d1, m.over1px, m.over3px, m.pixels].map((t) => t.dataSync()[0]);
    tf.dispose([m.epe, m.d1, m.over1px, m.over3px, m.pixels]);
    const sum = (rate: number): MetricSum => ({ sum: pixels > 0 ? rate * pixels : 0, count: pixels });
    return { epe: sum(epe), d1: sum(d1), over1px: sum(over1px), over3px: sum(over3px) };
  }

  async preview(arch: Arch): Promise<DisparityPreview> {
    const maxDisparity = this.dataset.maxDisparity;
    const pairs: DisparityPreview['pairs'] = [];
    for (const batch of this.data.evalBatches('validation', PREVIEW_PAIRS, PREVIEW_PAIRS)) {
      const predicted = tf.tidy(() => {
        const { x } = this.tensors(batch);
        const out = this.supernet.forward(x, arch, { training: false });
        return out[out.length - 1];
      });
      const values = await predicted.data();
      predicted.dispose();
      const pixels = batch.height * batch.width;
      for (let i = 0; i < batch.size; i++) {
        const p = values.subarray(i * pixels, (i + 1) * pixels);
        const t = batch.disparity.subarray(i * pixels, (i + 1) * pixels);
        pairs.push({
          width: batch.width,
          height: batch.height,
          left: base64(greyBytes(batch.left, pixels, batch.channels, i * pixels)),
          predicted: base64(disparityBytes(p, maxDisparity, false)),
          truth: base64(disparityBytes(t, maxDisparity, true)),
          epe: finishStereoMetrics(addStereoErrors(emptyStereoSums(), p, t)).epe,
        });
      }
    }
    return { kind: 'disparity', maxDisparity, pairs };
  }

  /** Zero disparity everywhere, and MANTA's fixed block matching (grey, 9×9 SAD, every disparity 0…max, WTA). */
  async baselines(split: 'validation' | 'test'): Promise<{ name: string; metrics: Record<string, number> }[]> {
    const zero: StereoErrorSums = emptyStereoSums();
    const matched: StereoErrorSums = emptyStereoSums();
    const maxDisparity = Math.ceil(this.dataset.maxDisparity);
    for (const batch of this.data.evalBatches(split, 8)) {
      const pixels = batch.height * batch.width;
      for (let i = 0; i < batch.size; i++) {
        const view = (v: Float32Array): Float32Array => toGrey(v.subarray(i * pixels * batch.channels, (i + 1) * pixels * batch.channels), batch.width, batch.height, batch.channels);
        const truth = batch.disparity.subarray(i * pixels, (i + 1) * pixels);
        addStereoErrors(zero, new Float32Array(pixels), truth);
        addStereoErrors(matched, blockMatching(view(batch.left), view(batch.right), batch.width, batch.height, maxDisparity), truth);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    const metrics = (s: StereoErrorSums): Record<string, number> => {
      const m = finishStereoMetrics(s);
      return { epe: m.epe, d1: m.d1, over1px: m.over1px, over3px: m.over3px };
    };
    return [
      { name: 'zero disparity', metrics: metrics(zero) },
      { name: 'block matching (9×9 SAD, winner-takes-all)', metrics: metrics(matched) },
    ];
  }

  inputDescription(): Record<string, unknown> {
    const d = this.dataset;
    return {
      inputs: ['left', 'right'],
      channels: d.channels,
      height: d.evalSize.height,
      width: d.evalSize.width,
      values: 'each view [N, H, W, C] in [0, 1] (bytes / 255); the model normalises them',
      output: 'disparity of the left view [N, H, W, 1] in pixels (left x matches right x − d)',
      maxDisparity: d.maxDisparity,
    };
  }

  exportMetadata(arch: Arch): Record<string, unknown> {
    return { arch, task: 'stereo', ...this.inputDescription() };
  }

  dispose(): void {
    this.supernet.dispose();
  }
}
