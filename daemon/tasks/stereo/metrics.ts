// Stereo error metrics as the KITTI devkit defines them — EPE, D1, >1 px and >3 px rates — over pixels with ground
// truth, on typed arrays (evaluation) and on tensors (training-time, the EPE differentiable).
import { tf } from '../../engine';

/**
 * Ground truth exists where the disparity is finite and > 0: NaN (MANTA's "no ground truth"), ±∞ (Middlebury's PFM
 * convention) and 0 (KITTI's PNG convention, should a raw map arrive) are all masked out.
 */
export function hasGroundTruth(d: number): boolean {
  return Number.isFinite(d) && d > 0;
}

/** D1's outlier rule (KITTI devkit): wrong by more than 3 px AND by more than 5 % of the true disparity. */
export const D1_ABSOLUTE_PX = 3;
export const D1_RELATIVE = 0.05;

/** Rates are fractions in [0, 1]; every value is NaN when no pixel has ground truth. */
export interface StereoMetrics {
  /** End-point error: mean |prediction − truth| in pixels. */
  epe: number;
  /** Fraction of D1 outliers. */
  d1: number;
  /** Fraction with error > 1 px. */
  over1px: number;
  /** Fraction with error > 3 px. */
  over3px: number;
  /** Pixels counted. */
  pixels: number;
}

/** Running sums over several maps, so a data set's metrics weigh every pixel once (as the devkit sums its counts). */
export interface StereoErrorSums {
  absError: number;
  d1: number;
  over1px: number;
  over3px: number;
  pixels: number;
}

export function emptyStereoSums(): StereoErrorSums {
  return { absError: 0, d1: 0, over1px: 0, over3px: 0, pixels: 0 };
}

/**
 * Adds one map's errors to `sums`. `mask` (optional, e.g. the generator's visibility) restricts the pixels further.
 * A non-finite prediction at a pixel with ground truth counts as infinitely wrong, so a NaN cannot hide an error.
 */
export function addStereoErrors(sums: StereoErrorSums, prediction: ArrayLike<number>, truth: ArrayLike<number>, mask?: ArrayLike<number>): StereoErrorSums {
  if (prediction.length !== truth.length) throw new RangeError(`stereo metrics: ${prediction.length} predictions for ${truth.length} ground-truth pixels`);
  if (mask && mask.length !== truth.length) throw new RangeError(`stereo metrics: mask of ${mask.length} for ${truth.length} pixels`);
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    if (!hasGroundTruth(t) || (mask && !mask[i])) continue;
    const p = prediction[i];
    const err = Number.isFinite(p) ? Math.abs(p - t) : Infinity;
    sums.pixels++;
    sums.absError += err;
    if (err > 1) sums.over1px++;
    if (err > 3) sums.over3px++;
    if (err > D1_ABSOLUTE_PX && err > D1_RELATIVE * t) sums.d1++;
  }
  return sums;
}

export function finishStereoMetrics(sums: StereoErrorSums): StereoMetrics {
  const n = sums.pixels;
  if (n === 0) return { epe: NaN, d1: NaN, over1px: NaN, over3px: NaN, pixels: 0 };
  return { epe: sums.absError / n, d1: sums.d1 / n, over1px: sums.over1px / n, over3px: sums.over3px / n, pixels: n };
}

/** The metrics of one predicted map against its ground truth. */
export function stereoMetrics(prediction: ArrayLike<number>, truth: ArrayLike<number>, mask?: ArrayLike<number>): StereoMetrics {
  return finishStereoMetrics(addStereoErrors(emptyStereoSums(), prediction, truth, mask));
}

/** The tensor metrics: scalars, rates as fractions; NaN when no pixel has ground truth (0 / 0). */
export interface StereoMetricTensors {
  epe: tf.Scalar;
  d1: tf.Scalar;
  over1px: tf.Scalar;
  over3px: tf.Scalar;
  pixels: tf.Scalar;
}

/** Where `truth` has ground truth (float 1/0), and `truth` with the rest set to 0 so no NaN reaches a gradient. */
function groundTruthMask(truth: tf.Tensor): { mask: tf.Tensor; safeTruth: tf.Tensor } {
  const valid = tf.logicalAnd(tf.isFinite(truth), tf.greater(truth, 0));
  return { mask: tf.cast(valid, 'float32'), safeTruth: tf.where(valid, truth, tf.zerosLike(truth)) };
}

/**
 * Masked end-point error as a differentiable loss: mean |prediction − truth| over pixels with ground truth (any
 * shape, the two alike). Invalid pixels are zeroed before the difference, so their gradient is 0, never NaN.
 */
export function maskedEpe(prediction: tf.Tensor, truth: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const { mask, safeTruth } = groundTruthMask(truth);
    const err = tf.mul(tf.abs(tf.sub(prediction, safeTruth)), mask);
    return tf.div(tf.sum(err), tf.sum(mask));
  });
}

/** The metrics on tensors (same shapes, any rank), as `stereoMetrics` computes them, for on-device evaluation. */
export function stereoMetricTensors(prediction: tf.Tensor, truth: tf.Tensor): StereoMetricTensors {
  return tf.tidy(() => {
    const { mask, safeTruth } = groundTruthMask(truth);
    // A non-finite prediction is infinitely wrong, as in the typed-array version.
    const finite = tf.isFinite(prediction);
    const err = tf.where(finite, tf.abs(tf.sub(prediction, safeTruth)), tf.fill(prediction.shape, Infinity));
    const pixels = tf.sum<tf.Scalar>(mask);
    const rate = (outlier: tf.Tensor): tf.Scalar => tf.div(tf.sum(tf.mul(tf.cast(outlier, 'float32'), mask)), pixels);
    const d1 = tf.logicalAnd(tf.greater(err, D1_ABSOLUTE_PX), tf.greater(err, tf.mul(safeTruth, D1_RELATIVE)));
    return {
      // Multiplying ∞ by a 0 mask would give NaN: select instead.
      epe: tf.div<tf.Scalar>(tf.sum(tf.where(tf.cast(mask, 'bool'), err, tf.zerosLike(err))), pixels),
      d1: rate(d1),
      over1px: rate(tf.greater(err, 1)),
      over3px: rate(tf.greater(err, 3)),
      pixels,
    };
  });
}
