// Writes a stereo pair to disk as datasets store them (PNG views, PFM and KITTI-PNG disparity), for inspection and
// for exporting generated data to other tools.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { encodeKittiDisparity, KITTI_MAX_DISPARITY } from './kitti-png';
import { encodePfm } from './pfm';
import type { StereoPair } from './render';

/** An 8-bit grey or RGB image as PNG. */
export function encodeImagePng(width: number, height: number, channels: 1 | 3, data: Uint8Array): Buffer {
  if (data.length !== width * height * channels) throw new RangeError(`encodeImagePng: ${data.length} bytes for a ${width}×${height}×${channels} image`);
  const colorType = channels === 3 ? 2 : 0;
  const options = { bitDepth: 8, colorType, inputColorType: colorType, inputHasAlpha: false } as const;
  const png = new PNG({ width, height, ...options });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png, options);
}

/** The files writeStereoPair wrote, by role. */
export interface StereoPairFiles {
  left: string;
  right: string;
  /** Float ground truth (exact). */
  disparityPfm: string;
  /** KITTI's 16-bit PNG (1/256 px steps), absent when a disparity exceeds what it can hold. */
  disparityPng?: string;
  /** 255 where the left pixel is visible in the right view, else 0. */
  visible: string;
}

/** Writes `<name>_left.png`, `_right.png`, `_disp.pfm`, `_disp.png` (KITTI) and `_visible.png` into `dir`. */
export async function writeStereoPair(dir: string, name: string, pair: StereoPair): Promise<StereoPairFiles> {
  await mkdir(dir, { recursive: true });
  const { width, height, channels } = pair;
  const at = (suffix: string): string => path.join(dir, `${name}_${suffix}`);
  const files: StereoPairFiles = { left: at('left.png'), right: at('right.png'), disparityPfm: at('disp.pfm'), visible: at('visible.png') };
  await writeFile(files.left, encodeImagePng(width, height, channels, pair.left));
  await writeFile(files.right, encodeImagePng(width, height, channels, pair.right));
  await writeFile(files.disparityPfm, encodePfm({ width, height, channels: 1, data: pair.disparity }));
  if (pair.disparity.every((d) => !(d > KITTI_MAX_DISPARITY))) {
    files.disparityPng = at('disp.png');
    await writeFile(files.disparityPng, encodeKittiDisparity({ width, height, data: pair.disparity }));
  }
  await writeFile(files.visible, encodeImagePng(width, height, 1, pair.visible.map((v) => (v ? 255 : 0))));
  return files;
}
