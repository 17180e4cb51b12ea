// The built-in dataset: procedurally generated images whose class is a combination of shape, fill pattern and
// colour (no one attribute decides it), drawn with random position, size, rotation and brightness over a noisy
// gradient background with smaller distractor shapes and lines. Learnable by a small CNN, not trivially.
import { Rng } from '../engine/rng';
import { sharedBytes } from './splits';

const SHAPES = ['disc', 'square', 'triangle', 'cross', 'ring'] as const;
const PATTERNS = ['solid', 'h-striped', 'v-striped', 'checkered'] as const;
const COLOURS = ['red', 'green', 'blue', 'yellow', 'magenta'] as const;
const RGB: readonly (readonly [number, number, number])[] = [
  [220, 50, 40],
  [40, 180, 60],
  [50, 90, 230],
  [230, 200, 40],
  [190, 60, 200],
];
/** Grey levels standing in for the colours when there is one channel (distinct, unlike the colours' luminance). */
const GREY = [95, 135, 175, 215, 250];

/** The most classes the attribute combinations can tell apart (5 shapes × 4 patterns × 5 colours). */
export const SYNTHETIC_MAX_CLASSES = SHAPES.length * PATTERNS.length * COLOURS.length;

export interface SyntheticClass {
  shape: number;
  pattern: number;
  colour: number;
}

/**
 * Class k's attributes: a bijection of 0..99 onto the combinations in which neighbouring classes differ in every
 * attribute, so the first ten already share shapes, patterns and colours between classes.
 */
export function syntheticClass(k: number): SyntheticClass {
  const a = k % SHAPES.length;
  const b = Math.floor(k / SHAPES.length) % PATTERNS.length;
  const c = Math.floor(k / (SHAPES.length * PATTERNS.length)) % COLOURS.length;
  return { shape: a, pattern: (a + b) % PATTERNS.length, colour: (a + b + c) % COLOURS.length };
}

export function syntheticClassNames(classes: number): string[] {
  return Array.from({ length: classes }, (_, k) => {
    const { shape, pattern, colour } = syntheticClass(k);
    return `${COLOURS[colour]} ${PATTERNS[pattern]} ${SHAPES[shape]}`;
  });
}

export interface SyntheticOptions {
  count: number;
  classes: number;
  size: number;
  channels: 1 | 3;
  /** Seed of this split (derive one per split). */
  seed: number;
}

/** Is (u, v), in units of the shape's radius and in the shape's rotated frame, inside the shape? */
function inside(shape: number, u: number, v: number): boolean {
  switch (shape) {
    case 0:
      return u * u + v * v <= 1;
    case 1:
      return Math.abs(u) <= 0.8 && Math.abs(v) <= 0.8;
    case 2:
      return v <= 0.7 && v >= -0.95 && Math.abs(u) <= ((v + 0.95) / 1.65) * 0.95;
    case 3:
      return (Math.abs(u) <= 0.3 && Math.abs(v) <= 0.95) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 0.95);
    default: {
      const r2 = u * u + v * v;
      return r2 <= 1 && r2 >= 0.3;
    }
  }
}

/** Is the pattern "on" at (pu, pv) pixels in the shape's frame? Off pixels take the dark shade of the colour. */
function patternOn(pattern: number, pu: number, pv: number, period: number): boolean {
  switch (pattern) {
    case 0:
      return true;
    case 1:
      return (Math.floor(pv / period) & 1) === 0;
    case 2:
      return (Math.floor(pu / period) & 1) === 0;
    default:
      return ((Math.floor(pu / period) + Math.floor(pv / period)) & 1) === 0;
  }
}

const NOISE_MASK = (1 << 16) - 1;
let noiseValues: Float32Array | undefined;
/** 65536 standard normal values from a fixed seed, shared by every image (drawing them per pixel costs 5× more). */
function noiseTable(): Float32Array {
  if (!noiseValues) {
    const rng = new Rng(0x6e015e);
    noiseValues = new Float32Array(NOISE_MASK + 1);
    for (let i = 0; i < noiseValues.length; i++) noiseValues[i] = rng.normal();
  }
  return noiseValues;
}

interface Canvas {
  px: Float32Array;
  size: number;
  channels: number;
}

function drawShape(
  cv: Canvas,
  shape: number,
  pattern: number,
  colour: readonly number[],
  dark: readonly number[],
  cx: number,
  cy: number,
  radius: number,
  angle: number,
  period: number,
): void {
  const { px, size, channels } = cv;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const ext = radius * 1.42;
  const x0 = Math.max(0, Math.floor(cx - ext));
  const x1 = Math.min(size - 1, Math.ceil(cx + ext));
  const y0 = Math.max(0, Math.floor(cy - ext));
  const y1 = Math.min(size - 1, Math.ceil(cy + ext));
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      const pu = cos * dx + sin * dy;
      const pv = -sin * dx + cos * dy;
      if (!inside(shape, pu / radius, pv / radius)) continue;
      const c = patternOn(pattern, pu + 64, pv + 64, period) ? colour : dark; // +64: no flip of parity at 0
      const at = (y * size + x) * channels;
      for (let ch = 0; ch < channels; ch++) px[at + ch] = c[ch];
    }
  }
}

function drawLine(cv: Canvas, rng: Rng, colour: readonly number[]): void {
  const { px, size, channels } = cv;
  const xa = rng.next() * size;
  const ya = rng.next() * size;
  const xb = rng.next() * size;
  const yb = rng.next() * size;
  const steps = 2 * size;
  for (let s = 0; s <= steps; s++) {
    const x = Math.floor(xa + ((xb - xa) * s) / steps);
    const y = Math.floor(ya + ((yb - ya) * s) / steps);
    if (x < 0 || y < 0 || x >= size || y >= size) continue;
    const at = (y * size + x) * channels;
    for (let ch = 0; ch < channels; ch++) px[at + ch] = colour[ch];
  }
}

/** The colour of palette entry `index` in this many channels, scaled by `gain` and jittered per channel. */
function tint(index: number, channels: number, gain: number, jitter: number, rng: Rng): number[] {
  const base = channels === 3 ? RGB[index] : [GREY[index]];
  return base.map((v) => v * gain + (rng.next() * 2 - 1) * jitter);
}

/**
 * Generates `count` images (size×size×channels, NHWC bytes) with labels balanced across classes (counts differ by at
 * most one) in a seeded random order. Deterministic in the options.
 */
export function generateSynthetic(opts: SyntheticOptions): { images: Uint8Array; labels: Int32Array } {
  const { count, classes, size: s, channels } = opts;
  if (classes > SYNTHETIC_MAX_CLASSES)
    throw new Error(`synthetic data tells at most ${SYNTHETIC_MAX_CLASSES} classes apart, not ${classes}`);
  const rng = new Rng(opts.seed);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = i % classes;
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = labels[i];
    labels[i] = labels[j];
    labels[j] = t;
  }
  const pixels = s * s * channels;
  const images = sharedBytes(count * pixels);
  const cv: Canvas = { px: new Float32Array(pixels), size: s, channels };
  const period = Math.max(2, Math.round(s / 11));
  const noise = 18;
  const base = new Float32Array(channels);
  for (let i = 0; i < count; i++) {
    const px = cv.px;
    // Background: a dark colour with a random linear gradient.
    for (let ch = 0; ch < channels; ch++) base[ch] = rng.next() * 110;
    const gx = ((rng.next() * 2 - 1) * 50) / s;
    const gy = ((rng.next() * 2 - 1) * 50) / s;
    for (let y = 0, at = 0; y < s; y++) {
      const row = gy * (y - s / 2) - (gx * s) / 2;
      for (let x = 0; x < s; x++) {
        const g = row + gx * x;
        for (let ch = 0; ch < channels; ch++) px[at++] = base[ch] + g;
      }
    }
    // Distractors behind the object: small solid shapes of any kind and colour.
    const distractors = rng.int(3);
    for (let d = 0; d < distractors; d++) {
      const colour = tint(rng.int(COLOURS.length), channels, 0.6 + 0.4 * rng.next(), 30, rng);
      const radius = s * (0.08 + 0.07 * rng.next());
      drawShape(cv, rng.int(SHAPES.length), 0, colour, colour, rng.next() * s, rng.next() * s, radius, rng.next() * Math.PI, period);
    }
    // The object that names the class.
    const cls = syntheticClass(labels[i]);
    const gain = 0.7 + 0.4 * rng.next();
    const colour = tint(cls.colour, channels, gain, 25, rng);
    const dark = colour.map((v) => v * 0.3);
    const radius = s * (0.22 + 0.12 * rng.next());
    const cx = s / 2 + (rng.next() * 2 - 1) * 0.17 * s;
    const cy = s / 2 + (rng.next() * 2 - 1) * 0.17 * s;
    const angle = (rng.next() * 2 - 1) * (Math.PI / 7);
    drawShape(cv, cls.shape, cls.pattern, colour, dark, cx, cy, radius, angle, period);
    // Sometimes a line across everything.
    if (rng.next() < 0.4) drawLine(cv, rng, tint(rng.int(COLOURS.length), channels, 0.8, 40, rng));
    // Noise: read in sequence from the fixed Gaussian table at a random start (one generator call per image).
    const table = noiseTable();
    let at = rng.nextUint32() & NOISE_MASK;
    const out = i * pixels;
    for (let p = 0; p < pixels; p++) {
      const v = px[p] + table[at] * noise;
      at = (at + 1) & NOISE_MASK;
      images[out + p] = v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0;
    }
  }
  return { images, labels };
}
