// The colours of a stereo preview (events.ts `DisparityPreview`), one definition for the monitor's Disparity card and
// the run's report so that both draw the same pictures: disparity in turbo (far: dark blue, near: red), pixels
// without ground truth in a grey turbo never takes, and |predicted − truth| in KITTI's error colours (blue up to
// 3 px, yellow to red above). Pure: no DOM, no node module; pictures come out as opaque RGBA, what both an ImageData
// and a PNG encoder take.
import type { DisparityPreview } from './events';

export type Rgb = [number, number, number];

/** The byte of a preview's disparity pictures that stands for maxDisparity (0 is 0 px). */
export const DISPARITY_BYTE_MAX = 254;
/** The byte of `truth` where the pair has no ground truth. */
export const NO_TRUTH_BYTE = 255;
/** Colour of a pixel without ground truth, in the truth and the error pictures. */
export const NO_TRUTH_RGB: Rgb = [128, 128, 128];

// Turbo at 17 even stops, from Google's polynomial fit (as d3's interpolateTurbo): enough for linear interpolation
// to stay within a level or two of the fit everywhere.
const TURBO: readonly Rgb[] = [
  [35, 23, 27], [73, 62, 175], [68, 106, 238], [50, 149, 247], [38, 189, 225], [41, 221, 187], [64, 243, 146], [102, 253, 109],
  [150, 250, 80], [198, 235, 59], [238, 208, 45], [255, 171, 36], [255, 128, 29], [238, 84, 21], [201, 45, 12], [161, 18, 2], [144, 13, 0],
];

/** Turbo at t in [0, 1] (clamped). */
export function turboRgb(t: number): Rgb {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (TURBO.length - 1);
  const i = Math.min(TURBO.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [TURBO[i], TURBO[i + 1]];
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

/** The colour of a disparity byte: 0…254 over turbo, 255 (no ground truth) grey. */
export function disparityRgb(byte: number): Rgb {
  if (byte >= NO_TRUTH_BYTE) return [...NO_TRUTH_RGB];
  return turboRgb(byte / DISPARITY_BYTE_MAX);
}

/** Disparity in pixels of a byte of a preview's disparity pictures. */
export function disparityOfByte(byte: number, maxDisparity: number): number {
  return (Math.min(byte, DISPARITY_BYTE_MAX) / DISPARITY_BYTE_MAX) * maxDisparity;
}

/**
 * KITTI's error colours (devkit `disp_error_image`, on the absolute error alone): each bin doubles the last, 3 px
 * — KITTI's outlier threshold — is where blue turns yellow; `upToPx` is the bin's upper bound.
 */
export const ERROR_BINS: readonly { upToPx: number; rgb: Rgb }[] = [
  { upToPx: 0.1875, rgb: [49, 54, 149] },
  { upToPx: 0.375, rgb: [69, 117, 180] },
  { upToPx: 0.75, rgb: [116, 173, 209] },
  { upToPx: 1.5, rgb: [171, 217, 233] },
  { upToPx: 3, rgb: [224, 243, 248] },
  { upToPx: 6, rgb: [254, 224, 144] },
  { upToPx: 12, rgb: [253, 174, 97] },
  { upToPx: 24, rgb: [244, 109, 67] },
  { upToPx: 48, rgb: [215, 48, 39] },
  { upToPx: Infinity, rgb: [165, 0, 38] },
];

/** The colour of an absolute disparity error in pixels. */
export function errorRgb(absErrorPx: number): Rgb {
  const e = Number.isFinite(absErrorPx) ? Math.abs(absErrorPx) : Infinity;
  return [...(ERROR_BINS.find((b) => e < b.upToPx) ?? ERROR_BINS[ERROR_BINS.length - 1]).rgb];
}

/** The four pictures of a preview pair, in the order pages show them. */
export const PREVIEW_PICTURES = ['left', 'predicted', 'truth', 'error'] as const;
export type PreviewPicture = (typeof PREVIEW_PICTURES)[number];

/** A pair's pictures as bytes (decoded from base64 by the caller: atob in a page, Buffer in the daemon). */
export interface PreviewPairBytes {
  width: number;
  height: number;
  left: Uint8Array;
  predicted: Uint8Array;
  truth: Uint8Array;
}

/** Opaque RGBA (width × height × 4) of one picture of a pair: the grey left view, or a picture in its colours. */
export function previewPictureRgba(picture: PreviewPicture, pair: PreviewPairBytes, maxDisparity: number): Uint8ClampedArray {
  const n = pair.width * pair.height;
  for (const key of ['left', 'predicted', 'truth'] as const) {
    if (pair[key].length !== n) throw new RangeError(`preview ${key}: ${pair[key].length} bytes for a ${pair.width}×${pair.height} picture`);
  }
  const out = new Uint8ClampedArray(n * 4);
  const put = (i: number, [r, g, b]: Rgb) => {
    out[4 * i] = r;
    out[4 * i + 1] = g;
    out[4 * i + 2] = b;
    out[4 * i + 3] = 255;
  };
  for (let i = 0; i < n; i++) {
    if (picture === 'left') put(i, [pair.left[i], pair.left[i], pair.left[i]]);
    else if (picture === 'predicted') put(i, turboRgb(Math.min(pair.predicted[i], DISPARITY_BYTE_MAX) / DISPARITY_BYTE_MAX));
    else if (picture === 'truth') put(i, disparityRgb(pair.truth[i]));
    else if (pair.truth[i] === NO_TRUTH_BYTE) put(i, NO_TRUTH_RGB);
    else put(i, errorRgb(disparityOfByte(pair.predicted[i], maxDisparity) - disparityOfByte(pair.truth[i], maxDisparity)));
  }
  return out;
}

/** The mean of a preview's pairs' end-point errors (NaN without pairs). */
export function previewMeanEpe(preview: DisparityPreview): number {
  return preview.pairs.length > 0 ? preview.pairs.reduce((sum, p) => sum + p.epe, 0) / preview.pairs.length : NaN;
}

/** Bytes of base64 text (atob: a global of browsers and Node alike). */
export function base64Bytes(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** A pair of a preview with its pictures decoded. */
export function previewPairBytes(pair: DisparityPreview['pairs'][number]): PreviewPairBytes {
  return { width: pair.width, height: pair.height, left: base64Bytes(pair.left), predicted: base64Bytes(pair.predicted), truth: base64Bytes(pair.truth) };
}
