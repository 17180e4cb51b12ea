// Splitting a labelled file into parts: a seeded, stratified holdout (validation, or test when there is no test
// file), a seeded order for each part, and the `limit` caps, all on index lists before any pixel is copied.
import { Rng } from '../engine/rng';

/** Bytes backed by a SharedArrayBuffer, so that batch workers can read them without a copy. */
export function sharedBytes(length: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(length));
}

/** In-place Fisher–Yates on a typed array (Rng.shuffle takes plain arrays). */
export function shuffleInPlace(a: Int32Array, rng: Rng): Int32Array {
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/**
 * Splits `indices` (into a file whose labels are `labels`) into a kept part and a held-out part of
 * round(fraction·N) items (at least 1 and at most N-1 when N ≥ 2), apportioned across classes by largest remainder
 * so every class keeps its share. Both parts come back in a seeded random order.
 */
export function holdOut(
  indices: Int32Array,
  labels: ArrayLike<number>,
  classes: number,
  fraction: number,
  rng: Rng,
): { kept: Int32Array; held: Int32Array } {
  const n = indices.length;
  let target = Math.round(n * fraction);
  if (n >= 2) target = Math.min(n - 1, Math.max(1, target));
  else target = 0;
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < n; i++) byClass[labels[indices[i]]].push(indices[i]);
  const quota = byClass.map((members) => (members.length * target) / Math.max(1, n));
  const take = quota.map(Math.floor);
  let missing = target - take.reduce((a, b) => a + b, 0);
  const byRemainder = quota.map((q, c) => ({ c, r: q - Math.floor(q) })).sort((a, b) => b.r - a.r || a.c - b.c);
  for (const { c } of byRemainder) {
    if (missing <= 0) break;
    if (take[c] < byClass[c].length) {
      take[c]++;
      missing--;
    }
  }
  const held = new Int32Array(target);
  const kept = new Int32Array(n - target);
  let h = 0;
  let k = 0;
  for (let c = 0; c < classes; c++) {
    const members = shuffleInPlace(Int32Array.from(byClass[c]), rng);
    for (let i = 0; i < members.length; i++) {
      if (i < take[c]) held[h++] = members[i];
      else kept[k++] = members[i];
    }
  }
  return { kept: shuffleInPlace(kept, rng), held: shuffleInPlace(held, rng) };
}

/** The first `limit` of a seeded random order of `indices` (all of them without a limit). */
export function orderAndCap(indices: Int32Array, limit: number | undefined, rng: Rng): Int32Array {
  const ordered = shuffleInPlace(Int32Array.from(indices), rng);
  return limit !== undefined && limit < ordered.length ? ordered.slice(0, limit) : ordered;
}

export function range(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/** Copies the images and labels at `indices` (of images of `pixels` bytes each) into a new shared split. */
export function gatherImages(
  source: Uint8Array,
  sourceLabels: ArrayLike<number>,
  pixels: number,
  indices: Int32Array,
): { images: Uint8Array; labels: Int32Array } {
  const images = sharedBytes(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    images.set(source.subarray(j * pixels, (j + 1) * pixels), i * pixels);
    labels[i] = sourceLabels[j];
  }
  return { images, labels };
}
