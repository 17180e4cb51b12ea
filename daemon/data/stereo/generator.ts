// The seeded procedural stereo pair generator: options and their checks, scene sampling, rendering, sensor noise.
// Ground truth is exact because both views are rendered from one layered scene (see scene.ts and render.ts).
import { Rng } from '../../engine/rng';
import { DataError } from '../errors';
import { renderScene, type StereoPair } from './render';
import { sampleScene, type StereoScene } from './scene';
import type { SurfaceTexture } from './texture';

export interface StereoGeneratorOptions {
  width: number;
  height: number;
  /** Every ground-truth disparity lies in (0, maxDisparity], and ≥ 1 when maxDisparity ≥ 1 (0 would read as invalid). */
  maxDisparity: number;
  seed: number;
  /** 1: grey, 3: RGB (default 1). */
  channels?: 1 | 3;
  /** Shapes in front of the background (default 6). */
  shapes?: number;
  /** 'noise' (multi-scale value noise, default) or 'random-dot' (binary dots, one per pixel cell). */
  texture?: SurfaceTexture['kind'];
  /** Slanted planes: a sloping background and some tilted shapes (default false). */
  slanted?: boolean;
  /** Integer, fronto-parallel disparities, so left(x) = right(x − d) exactly at visible pixels (default false). */
  integerDisparity?: boolean;
  /** Standard deviation of Gaussian noise added to each view independently, in grey levels (default 0). */
  noise?: number;
}

function checkOptions(o: StereoGeneratorOptions): void {
  const bad = (what: string): never => {
    throw new DataError(`stereo generator: ${what}`, 'data.config');
  };
  if (!Number.isInteger(o.width) || o.width < 1 || !Number.isInteger(o.height) || o.height < 1) bad(`image size ${o.width}×${o.height} must be positive integers`);
  if (!Number.isFinite(o.maxDisparity) || o.maxDisparity <= 0) bad(`maxDisparity ${o.maxDisparity} must be a positive number`);
  if (o.integerDisparity && !(o.maxDisparity >= 1)) bad(`maxDisparity ${o.maxDisparity} leaves no integer disparity ≥ 1`);
  if (o.integerDisparity && o.slanted) bad('integerDisparity and slanted exclude each other: a slanted plane has fractional disparities');
  if (o.shapes !== undefined && (!Number.isInteger(o.shapes) || o.shapes < 0)) bad(`shapes ${o.shapes} must be a non-negative integer`);
  if (o.noise !== undefined && !(o.noise >= 0)) bad(`noise ${o.noise} must be ≥ 0`);
}

/** The scene a pair is rendered from (for tools that want the layers, e.g. to draw them or vary one). */
export function stereoScene(o: StereoGeneratorOptions): StereoScene {
  checkOptions(o);
  return sampleScene({
    width: o.width,
    height: o.height,
    channels: o.channels ?? 1,
    maxDisparity: o.maxDisparity,
    shapes: o.shapes ?? 6,
    texture: o.texture ?? 'noise',
    slanted: o.slanted ?? false,
    integerDisparity: o.integerDisparity ?? false,
    seed: o.seed,
  });
}

function addNoise(image: Uint8Array, sigma: number, rng: Rng): void {
  for (let i = 0; i < image.length; i++) image[i] = Math.min(255, Math.max(0, Math.round(image[i] + sigma * rng.normal())));
}

/** One stereo pair with exact ground truth, the same for the same options and seed. */
export function generateStereoPair(o: StereoGeneratorOptions): StereoPair {
  const pair = renderScene(stereoScene(o));
  const sigma = o.noise ?? 0;
  if (sigma > 0) {
    // A stream apart from the scene's, so that adding noise leaves the scene itself unchanged.
    addNoise(pair.left, sigma, Rng.derive(o.seed, 1));
    addNoise(pair.right, sigma, Rng.derive(o.seed, 2));
  }
  return pair;
}
