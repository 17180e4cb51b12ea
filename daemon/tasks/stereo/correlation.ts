// The 1-D horizontal correlation layer (DispNet-C style) from plain tfjs ops — pad, slice, multiply, mean — so it
// runs and differentiates on every backend without a custom kernel.
import { tf } from '../../engine';

/** Output channels of correlation1d: one per displacement 0, s, 2s, …, maxDisplacement. */
export function correlationChannels(maxDisplacement: number, stride = 1): number {
  checkDisplacements(maxDisplacement, stride);
  return maxDisplacement / stride + 1;
}

function checkDisplacements(maxDisplacement: number, stride: number): void {
  if (!Number.isInteger(maxDisplacement) || maxDisplacement < 0) throw new RangeError(`correlation1d: maxDisplacement ${maxDisplacement} must be a non-negative integer`);
  if (!Number.isInteger(stride) || stride < 1) throw new RangeError(`correlation1d: stride ${stride} must be a positive integer`);
  if (maxDisplacement % stride !== 0) throw new RangeError(`correlation1d: maxDisplacement ${maxDisplacement} must be a multiple of stride ${stride}`);
}

/**
 * Cost volume of rectified NHWC features: out[n, y, x, k] = mean_c left[n, y, x, c] · right[n, y, x − k·s, c], and 0
 * where x − k·s < 0 (the right view holds no match there). Shape N×H×W×(maxDisplacement/stride + 1).
 */
export function correlation1d(left: tf.Tensor4D, right: tf.Tensor4D, maxDisplacement: number, stride = 1): tf.Tensor4D {
  checkDisplacements(maxDisplacement, stride);
  if (left.shape.some((d, i) => d !== right.shape[i])) throw new RangeError(`correlation1d: left ${left.shape} and right ${right.shape} differ in shape`);
  const [n, h, w, c] = left.shape;
  return tf.tidy(() => {
    // Pad once with D zero columns on the left; the window starting at D − d is then right shifted right by d.
    const padded = tf.pad(right, [
      [0, 0],
      [0, 0],
      [maxDisplacement, 0],
      [0, 0],
    ]);
    const planes: tf.Tensor4D[] = [];
    for (let d = 0; d <= maxDisplacement; d += stride) {
      const shifted = tf.slice(padded, [0, 0, maxDisplacement - d, 0], [n, h, w, c]);
      planes.push(tf.mean(tf.mul(left, shifted), 3, true));
    }
    return planes.length === 1 ? planes[0] : tf.concat(planes, 3);
  });
}
