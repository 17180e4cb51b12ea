// The layered scene behind a generated stereo pair: surfaces with a shape, a planar disparity and a texture, all in
// left-view coordinates, sampled from a seed. Rendering both views from this description makes ground truth exact.
import { Rng } from '../../engine/rng';
import type { SurfaceTexture } from './texture';

/** Where a surface is, in left-view pixel coordinates (pixel centres at integers); the plane covers everything. */
export type SurfaceShape =
  | { kind: 'plane' }
  | { kind: 'rect'; x0: number; y0: number; x1: number; y1: number }
  | { kind: 'disc'; cx: number; cy: number; r: number };

/** d(x, y) = d0 + gx·x + gy·y at left-view position (x, y); |gx| < 1 so the right view sees each row once. */
export interface DisparityPlane {
  d0: number;
  gx: number;
  gy: number;
}

export interface Surface {
  shape: SurfaceShape;
  disparity: DisparityPlane;
  texture: SurfaceTexture;
}

/** Surfaces in drawing order; the first is the background plane. Larger disparity = closer = drawn over the rest. */
export interface StereoScene {
  width: number;
  height: number;
  channels: 1 | 3;
  surfaces: Surface[];
}

export interface SceneOptions {
  width: number;
  height: number;
  channels: 1 | 3;
  maxDisparity: number;
  /** Shapes in front of the background. */
  shapes: number;
  texture: SurfaceTexture['kind'];
  /** Slanted planes (background sloping like a floor, some shapes tilted); false: every surface fronto-parallel. */
  slanted: boolean;
  /** Integer disparities only (fronto-parallel): left(x) equals right(x − d) exactly wherever x is visible. */
  integerDisparity: boolean;
  seed: number;
}

/** The background stays in the far part of the range so that shapes (nearer) have room in front of it. */
const BACKGROUND_SHARE = 0.3;
/** The steepest horizontal slant of a shape: steep enough to matter, far from the |gx| = 1 fold. */
const MAX_SLANT = 0.12;

export function disparityAt(p: DisparityPlane, x: number, y: number): number {
  return p.d0 + p.gx * x + p.gy * y;
}

/** Is left-view point (x, y) on the surface's shape? */
export function covers(shape: SurfaceShape, x: number, y: number): boolean {
  switch (shape.kind) {
    case 'plane':
      return true;
    case 'rect':
      return x >= shape.x0 && x < shape.x1 && y >= shape.y0 && y < shape.y1;
    case 'disc': {
      const dx = x - shape.cx;
      const dy = y - shape.cy;
      return dx * dx + dy * dy <= shape.r * shape.r;
    }
  }
}

/** The left-view x interval the shape covers on row y (possibly empty; a superset is fine, `covers` decides). */
export function rowSpan(shape: SurfaceShape, y: number): [number, number] | undefined {
  switch (shape.kind) {
    case 'plane':
      return [-Infinity, Infinity];
    case 'rect':
      return y >= shape.y0 && y < shape.y1 ? [shape.x0, shape.x1] : undefined;
    case 'disc': {
      const dy = y - shape.cy;
      if (Math.abs(dy) > shape.r) return undefined;
      const half = Math.sqrt(shape.r * shape.r - dy * dy);
      return [shape.cx - half, shape.cx + half];
    }
  }
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

function sampleTexture(rng: Rng, opts: SceneOptions): SurfaceTexture {
  const colour = Array.from({ length: opts.channels }, () => 60 + rng.int(196));
  return { kind: opts.texture, salt: rng.nextUint32() | 0, offsetU: rng.int(4096), offsetV: rng.int(4096), colour };
}

/**
 * Every disparity is kept ≥ 1 px (or the whole range, if it is narrower): 0 means "no ground truth" in KITTI's PNGs
 * and in the metrics, so a generated map must never hold it.
 */
function nearest(opts: SceneOptions): number {
  return Math.min(1, opts.maxDisparity);
}

/** An integer disparity in [1, ⌊maxDisparity⌋] (the generator asks maxDisparity ≥ 1 of integer mode). */
function integral(d: number, opts: SceneOptions): number {
  return Math.min(Math.floor(opts.maxDisparity), Math.max(1, Math.round(d)));
}

function sampleBackground(rng: Rng, opts: SceneOptions): DisparityPlane {
  const lo = nearest(opts);
  const far = Math.max(lo, BACKGROUND_SHARE * opts.maxDisparity);
  if (opts.integerDisparity) return { d0: integral(uniform(rng, lo, far), opts), gx: 0, gy: 0 };
  if (!opts.slanted || opts.height < 2) return { d0: uniform(rng, lo, far), gx: 0, gy: 0 };
  // A floor: farthest at the top row, nearer towards the bottom, as a road or a table seen from above.
  const top = uniform(rng, lo, (lo + far) / 2);
  const bottom = uniform(rng, top, far);
  return { d0: top, gx: 0, gy: (bottom - top) / (opts.height - 1) };
}

/** A shape's planar disparity, fitted into [lo, hi] over the shape's bounding box (half-sizes hw, hh around cx, cy). */
function sampleShapeDisparity(rng: Rng, opts: SceneOptions, cx: number, cy: number, hw: number, hh: number): DisparityPlane {
  const lo = Math.max(nearest(opts), BACKGROUND_SHARE * opts.maxDisparity);
  const hi = opts.maxDisparity;
  const centre = uniform(rng, lo, hi);
  if (opts.integerDisparity) return { d0: integral(centre, opts), gx: 0, gy: 0 };
  if (!opts.slanted || rng.next() < 0.4) return { d0: centre, gx: 0, gy: 0 };
  let gx = uniform(rng, -MAX_SLANT, MAX_SLANT);
  let gy = uniform(rng, -MAX_SLANT, MAX_SLANT);
  // A plane's extremes over a box are at its corners: shrink the slope until the spread fits, then move it inside.
  let spread = Math.abs(gx) * hw + Math.abs(gy) * hh;
  if (2 * spread > hi - lo) {
    const k = (hi - lo) / (2 * spread);
    gx *= k;
    gy *= k;
    spread *= k;
  }
  const dc = Math.min(hi - spread, Math.max(lo + spread, centre));
  return { d0: dc - gx * cx - gy * cy, gx, gy };
}

function sampleShape(rng: Rng, opts: SceneOptions): Surface {
  const size = Math.min(opts.width, opts.height) * uniform(rng, 0.08, 0.3);
  const cx = uniform(rng, 0, opts.width);
  const cy = uniform(rng, 0, opts.height);
  let shape: SurfaceShape;
  let hw: number;
  let hh: number;
  if (rng.next() < 0.5) {
    hw = size * uniform(rng, 0.6, 1.4);
    hh = size * uniform(rng, 0.6, 1.4);
    shape = { kind: 'rect', x0: cx - hw, y0: cy - hh, x1: cx + hw, y1: cy + hh };
  } else {
    hw = hh = size;
    shape = { kind: 'disc', cx, cy, r: size };
  }
  const disparity = sampleShapeDisparity(rng, opts, cx, cy, hw, hh);
  return { shape, disparity, texture: sampleTexture(rng, opts) };
}

/** A scene from the seed: the background plane, then `shapes` rectangles and discs in front of it. */
export function sampleScene(opts: SceneOptions): StereoScene {
  const rng = new Rng(opts.seed);
  const surfaces: Surface[] = [{ shape: { kind: 'plane' }, disparity: sampleBackground(rng, opts), texture: sampleTexture(rng, opts) }];
  for (let i = 0; i < opts.shapes; i++) surfaces.push(sampleShape(rng, opts));
  return { width: opts.width, height: opts.height, channels: opts.channels, surfaces };
}
