// KITTI's disparity PNGs: 16-bit greyscale, disparity = value / 256, value 0 = no ground truth (NaN in memory).
import { writeFile } from 'node:fs/promises';
import { PNG } from 'pngjs';
import { DataError } from '../errors';
import { readDataFile } from '../files';

/**
 * A disparity map of the left view in pixels, rows top-to-bottom. Convention throughout daemon/data/stereo: a pixel
 * without ground truth is NaN — one array carries both, and NaN cannot be mistaken for a disparity the way 0 can.
 */
export interface DisparityMap {
  width: number;
  height: number;
  /** height·width disparities; NaN where there is no ground truth. */
  data: Float32Array;
}

/** KITTI's fixed-point scale: 1/256 px steps. */
export const KITTI_DISPARITY_SCALE = 256;
/** The largest disparity a KITTI PNG can hold. */
export const KITTI_MAX_DISPARITY = 65535 / KITTI_DISPARITY_SCALE;

const PNG_OPTIONS = { bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false } as const;

/** Decodes a KITTI disparity PNG (16-bit greyscale); every problem is a DataError naming `file`. */
export function parseKittiDisparity(bytes: Buffer, file: string): DisparityMap {
  let png: ReturnType<typeof PNG.sync.read>;
  try {
    // skipRescale keeps the 16-bit samples (as RGBA in a Uint16Array) instead of scaling them to 8 bits.
    png = PNG.sync.read(bytes, { skipRescale: true });
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new DataError(`KITTI disparity PNG ${file} cannot be decoded (${why})`, 'data.unreadable-image', file);
  }
  if (png.depth !== 16 || png.colorType !== 0) {
    const kind = `${png.depth}-bit ${png.colorType === 0 ? 'greyscale' : 'colour'}`;
    throw new DataError(
      `KITTI disparity PNG ${file} is ${kind}, not 16-bit greyscale: is it an image or an optical-flow map rather than a disparity map?`,
      'data.bad-format',
      file,
    );
  }
  // The typings say Buffer, but a 16-bit decode without rescaling hands back 16-bit samples.
  const samples: unknown = png.data;
  if (!(samples instanceof Uint16Array)) {
    throw new DataError(`KITTI disparity PNG ${file} did not decode to 16-bit samples`, 'data.unreadable-image', file);
  }
  const n = png.width * png.height;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = samples[4 * i];
    data[i] = v === 0 ? NaN : v / KITTI_DISPARITY_SCALE;
  }
  return { width: png.width, height: png.height, data };
}

/**
 * Encodes a disparity map as a KITTI PNG: NaN, ±∞ and values ≤ 0 become 0 (no ground truth); a positive disparity
 * too small to round above 0 is stored as 1/256 so that it stays valid. Disparities above KITTI_MAX_DISPARITY throw.
 */
export function encodeKittiDisparity(map: DisparityMap): Buffer {
  const { width, height, data } = map;
  if (data.length !== width * height) throw new RangeError(`encodeKittiDisparity: ${data.length} values for a ${width}×${height} map`);
  const samples = new Uint16Array(width * height);
  for (let i = 0; i < samples.length; i++) {
    const d = data[i];
    if (!Number.isFinite(d) || d <= 0) continue;
    if (d > KITTI_MAX_DISPARITY) throw new RangeError(`encodeKittiDisparity: disparity ${d} at pixel ${i} exceeds KITTI's maximum ${KITTI_MAX_DISPARITY}`);
    samples[i] = Math.max(1, Math.round(d * KITTI_DISPARITY_SCALE));
  }
  const png = new PNG({ width, height, ...PNG_OPTIONS });
  // pngjs reads 16-bit input in the machine's byte order from the buffer's start, so the buffer must be unshared.
  png.data = Buffer.from(samples.buffer, 0, samples.byteLength);
  return PNG.sync.write(png, PNG_OPTIONS);
}

export async function readKittiDisparity(file: string): Promise<DisparityMap> {
  return parseKittiDisparity(await readDataFile(file, 'KITTI disparity PNG'), file);
}

export async function writeKittiDisparity(file: string, map: DisparityMap): Promise<void> {
  await writeFile(file, encodeKittiDisparity(map));
}
