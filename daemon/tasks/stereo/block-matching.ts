// The classical baseline, fixed so results compare across runs: grey images, sum of absolute differences over a
// 9×9 window, every disparity 0..maxDisparity, winner-takes-all, no post-processing. Plain loops, box filters by
// prefix sums, so each disparity costs O(pixels) whatever the window.

/** Side of the square SAD window. */
export const BLOCK_MATCHING_WINDOW = 9;

/** ITU-R BT.601 luma, as most stereo tools convert colour to grey. */
export function toGrey(image: ArrayLike<number>, width: number, height: number, channels: 1 | 3): Float32Array {
  const n = width * height;
  if (image.length !== n * channels) throw new RangeError(`toGrey: ${image.length} values for a ${width}×${height}×${channels} image`);
  const grey = new Float32Array(n);
  if (channels === 1) {
    for (let i = 0; i < n; i++) grey[i] = image[i];
    return grey;
  }
  for (let i = 0; i < n; i++) grey[i] = 0.299 * image[3 * i] + 0.587 * image[3 * i + 1] + 0.114 * image[3 * i + 2];
  return grey;
}

/**
 * Mean absolute difference over the window for one disparity into `out` (Infinity where x < d: no match exists).
 * Near the borders the window is clipped to pixels where the difference exists, and the sum divided by their count,
 * so border pixels compare disparities on equal terms instead of favouring those with fewer terms.
 */
function windowCost(left: ArrayLike<number>, right: ArrayLike<number>, width: number, height: number, d: number, rowSums: Float64Array, out: Float64Array): void {
  const r = (BLOCK_MATCHING_WINDOW - 1) / 2;
  const prefix = new Float64Array(width + 1);
  // Horizontal: window sums of |L(x) − R(x − d)| over x' in [max(x − r, d), min(x + r, W − 1)].
  for (let y = 0; y < height; y++) {
    const row = y * width;
    prefix[d] = 0;
    for (let x = d; x < width; x++) prefix[x + 1] = prefix[x] + Math.abs(left[row + x] - right[row + x - d]);
    for (let x = 0; x < width; x++) {
      const a = Math.max(x - r, d);
      const b = Math.min(x + r, width - 1);
      rowSums[row + x] = b >= a ? prefix[b + 1] - prefix[a] : 0;
    }
  }
  // Vertical: a running sum down each column over rows [y − r, y + r] ∩ [0, H − 1].
  for (let x = 0; x < width; x++) {
    const cols = Math.min(x + r, width - 1) - Math.max(x - r, d) + 1;
    let sum = 0;
    for (let y = 0; y < Math.min(r, height); y++) sum += rowSums[y * width + x];
    for (let y = 0; y < height; y++) {
      if (y + r < height) sum += rowSums[(y + r) * width + x];
      if (y - r - 1 >= 0) sum -= rowSums[(y - r - 1) * width + x];
      const rows = Math.min(y + r, height - 1) - Math.max(y - r, 0) + 1;
      out[y * width + x] = x < d ? Infinity : sum / (cols * rows);
    }
  }
}

/**
 * Winner-takes-all disparities of the left view from grey images (height·width values each, e.g. from toGrey):
 * for each pixel the d in 0..maxDisparity with the least window cost, the smallest d on ties.
 */
export function blockMatching(left: ArrayLike<number>, right: ArrayLike<number>, width: number, height: number, maxDisparity: number): Float32Array {
  const n = width * height;
  if (left.length !== n || right.length !== n) throw new RangeError(`blockMatching: images of ${left.length} and ${right.length} values for ${width}×${height} (grey)`);
  if (!Number.isInteger(maxDisparity) || maxDisparity < 0) throw new RangeError(`blockMatching: maxDisparity ${maxDisparity} must be a non-negative integer`);
  const best = new Float64Array(n).fill(Infinity);
  const disparity = new Float32Array(n);
  const rowSums = new Float64Array(n);
  const cost = new Float64Array(n);
  for (let d = 0; d <= Math.min(maxDisparity, width - 1); d++) {
    windowCost(left, right, width, height, d, rowSums, cost);
    for (let i = 0; i < n; i++) {
      if (cost[i] < best[i]) {
        best[i] = cost[i];
        disparity[i] = d;
      }
    }
  }
  return disparity;
}
