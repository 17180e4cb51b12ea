// Renders a layered scene into both views with a disparity z-buffer: each surface is projected into the left view
// (at x) and into the right view (at x − d) on its own, and the largest disparity (the closest point) wins per pixel.
// The right view is never made by warping the left image, so occluded and disoccluded pixels are exact.
import { covers, disparityAt, rowSpan, type StereoScene, type Surface } from './scene';
import { shade } from './texture';

/** A rectified stereo pair with the left view's ground truth. Convention: left pixel x matches right pixel x − d. */
export interface StereoPair {
  width: number;
  height: number;
  channels: 1 | 3;
  /** height·width·channels bytes each, rows top-to-bottom, channels interleaved. */
  left: Uint8Array;
  right: Uint8Array;
  /** height·width disparities of the left view, in pixels (defined everywhere: the background covers the frame). */
  disparity: Float32Array;
  /** 1 where the left pixel's surface point is seen in the right view (in frame and not occluded), else 0. */
  visible: Uint8Array;
}

/** Per pixel of one view: which surface it sees and at which left-view x (the surface point), before shading. */
interface ViewHits {
  surface: Int32Array;
  sourceX: Float64Array;
  depth: Float64Array;
}

function emptyHits(n: number): ViewHits {
  return { surface: new Int32Array(n).fill(-1), sourceX: new Float64Array(n), depth: new Float64Array(n).fill(-Infinity) };
}

/** The right-view x at which left-view point (x, y) of the surface appears: x − d(x, y). */
function toRight(s: Surface, x: number, y: number): number {
  return x - disparityAt(s.disparity, x, y);
}

/** The left-view x of the surface point seen at right-view x: solves x − d(x, y) = xr (|gx| < 1, so one solution). */
function fromRight(s: Surface, xr: number, y: number): number {
  const p = s.disparity;
  return (xr + p.d0 + p.gy * y) / (1 - p.gx);
}

/** Z-buffers one surface into row y of one view; `right` chooses the projection. Later surfaces win ties. */
function drawRow(hits: ViewHits, s: Surface, index: number, y: number, width: number, right: boolean): void {
  const span = rowSpan(s.shape, y);
  if (!span) return;
  let lo = span[0];
  let hi = span[1];
  if (right) {
    // x − d(x) is increasing in x (gx < 1), so the span's ends map to the ends of its right-view span.
    lo = Number.isFinite(lo) ? toRight(s, lo, y) : -Infinity;
    hi = Number.isFinite(hi) ? toRight(s, hi, y) : Infinity;
  }
  // One pixel of margin either side: `covers` on the exact surface point decides, not the rounded span.
  const first = Math.max(0, Math.floor(lo) - 1);
  const last = Math.min(width - 1, Math.ceil(hi) + 1);
  const row = y * width;
  for (let x = first; x <= last; x++) {
    const sx = right ? fromRight(s, x, y) : x;
    if (!covers(s.shape, sx, y)) continue;
    const d = disparityAt(s.disparity, sx, y);
    const i = row + x;
    if (d >= hits.depth[i]) {
      hits.depth[i] = d;
      hits.surface[i] = index;
      hits.sourceX[i] = sx;
    }
  }
}

function project(scene: StereoScene, right: boolean): ViewHits {
  const { width, height, surfaces } = scene;
  const hits = emptyHits(width * height);
  for (let y = 0; y < height; y++) surfaces.forEach((s, k) => drawRow(hits, s, k, y, width, right));
  return hits;
}

function shadeView(scene: StereoScene, hits: ViewHits): Uint8Array {
  const { width, height, channels, surfaces } = scene;
  const out = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    const s = surfaces[hits.surface[i]];
    const y = Math.floor(i / width);
    for (let c = 0; c < channels; c++) out[i * channels + c] = Math.min(255, Math.max(0, Math.round(shade(s.texture, hits.sourceX[i], y, c))));
  }
  return out;
}

/**
 * A left pixel is visible when the right view shows the same surface where it lands (x − d, both neighbouring
 * pixels when that is fractional): a surface's x ↦ x − d is one-to-one, so that pixel shows this very point.
 */
function visibility(scene: StereoScene, left: ViewHits, right: ViewHits): Uint8Array {
  const { width, height } = scene;
  const visible = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const xr = x - left.depth[i];
      const a = Math.floor(xr);
      const b = Math.ceil(xr);
      if (a < 0 || b > width - 1) continue;
      const s = left.surface[i];
      if (right.surface[y * width + a] === s && right.surface[y * width + b] === s) visible[i] = 1;
    }
  }
  return visible;
}

/** Both views, the left disparity map and its visibility mask, exactly as the scene defines them. */
export function renderScene(scene: StereoScene): StereoPair {
  const left = project(scene, false);
  const right = project(scene, true);
  for (const hits of [left, right]) {
    if (hits.surface.some((s) => s < 0)) throw new Error('renderScene: a pixel sees no surface (the scene needs a background plane first)');
  }
  return {
    width: scene.width,
    height: scene.height,
    channels: scene.channels,
    left: shadeView(scene, left),
    right: shadeView(scene, right),
    disparity: Float32Array.from(left.depth),
    visible: visibility(scene, left, right),
  };
}
