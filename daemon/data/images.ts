// Image files and pixel arrays: PNG (pngjs) and JPEG (jpeg-js) decoded to RGB, and an antialiased bilinear resize
// on typed arrays (plain bilinear when enlarging, a widened triangle filter when shrinking, as PIL does).
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { DataError } from './errors';

export interface RgbImage {
  width: number;
  height: number;
  /** width·height·3 bytes, RGB. */
  data: Uint8Array;
}

function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}

function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** Decodes a PNG or JPEG (told apart by content, not name) to RGB; grey is replicated, alpha dropped. */
export function decodeImage(bytes: Buffer, file: string): RgbImage {
  try {
    if (isPng(bytes)) {
      const png = PNG.sync.read(bytes); // always RGBA, 8 bits
      const n = png.width * png.height;
      const data = new Uint8Array(n * 3);
      for (let i = 0; i < n; i++) {
        data[3 * i] = png.data[4 * i];
        data[3 * i + 1] = png.data[4 * i + 1];
        data[3 * i + 2] = png.data[4 * i + 2];
      }
      return { width: png.width, height: png.height, data };
    }
    if (isJpeg(bytes)) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new DataError(`image ${file} cannot be decoded (${why.split('\n')[0]}): replace or remove it`, 'data.unreadable-image', file);
  }
  throw new DataError(`image ${file} is neither a PNG nor a JPEG: convert or remove it`, 'data.unreadable-image', file);
}

export interface PixelShape {
  /** Images in the array (1 when absent). */
  count?: number;
  height: number;
  width: number;
  channels: number;
}

/**
 * For each output coordinate along one axis: the first source index and the normalized weights of its taps (indices
 * outside the image are clamped to the edge by the caller).
 */
function filterTaps(inSize: number, outSize: number): { start: Int32Array; taps: number; weights: Float32Array } {
  const scale = inSize / outSize;
  const support = Math.max(1, scale); // widen the triangle when shrinking, so every source pixel counts
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const weights = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale - 0.5;
    const first = Math.floor(centre - support) + 1;
    let total = 0;
    for (let t = 0; t < taps; t++) {
      const w = Math.max(0, 1 - Math.abs(first + t - centre) / support);
      weights[o * taps + t] = w;
      total += w;
    }
    for (let t = 0; t < taps; t++) weights[o * taps + t] /= total;
    start[o] = first;
  }
  return { start, taps, weights };
}

/**
 * Resizes NHWC pixels to outHeight×outWidth (separably: rows, then columns). Half-pixel centres, edges repeated.
 * Uint8 input gives rounded, clamped Uint8 output; Float32 gives Float32.
 */
export function resizeBilinear<T extends Uint8Array | Float32Array>(src: T, shape: PixelShape, outHeight: number, outWidth: number): T {
  const { height: h, width: w, channels: c } = shape;
  const n = shape.count ?? 1;
  if (src.length !== n * h * w * c) throw new Error(`resizeBilinear: ${src.length} values do not make ${n}×${h}×${w}×${c}`);
  const out = (
    src instanceof Uint8Array ? new Uint8Array(n * outHeight * outWidth * c) : new Float32Array(n * outHeight * outWidth * c)
  ) as T;
  if (h === outHeight && w === outWidth) {
    out.set(src);
    return out;
  }
  const cols = filterTaps(w, outWidth);
  const rows = filterTaps(h, outHeight);
  const mid = new Float32Array(h * outWidth * c);
  const round = out instanceof Uint8Array;
  for (let img = 0; img < n; img++) {
    const inBase = img * h * w * c;
    for (let y = 0; y < h; y++) {
      for (let ox = 0; ox < outWidth; ox++) {
        const first = cols.start[ox];
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let t = 0; t < cols.taps; t++) {
            const wt = cols.weights[ox * cols.taps + t];
            if (wt === 0) continue;
            const x = Math.min(w - 1, Math.max(0, first + t));
            acc += wt * src[inBase + (y * w + x) * c + ch];
          }
          mid[(y * outWidth + ox) * c + ch] = acc;
        }
      }
    }
    const outBase = img * outHeight * outWidth * c;
    for (let oy = 0; oy < outHeight; oy++) {
      const first = rows.start[oy];
      for (let ox = 0; ox < outWidth; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let t = 0; t < rows.taps; t++) {
            const wt = rows.weights[oy * rows.taps + t];
            if (wt === 0) continue;
            const y = Math.min(h - 1, Math.max(0, first + t));
            acc += wt * mid[(y * outWidth + ox) * c + ch];
          }
          out[outBase + (oy * outWidth + ox) * c + ch] = round ? Math.min(255, Math.max(0, Math.round(acc))) : acc;
        }
      }
    }
  }
  return out;
}
