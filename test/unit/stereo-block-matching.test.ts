// The block-matching baseline: equal to a brute-force 9×9 SAD winner-takes-all, exact on a pure shift, and far
// better than predicting zero disparity on generated pairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../daemon/engine/rng';
import { generateStereoPair } from '../../daemon/data/stereo';
import { BLOCK_MATCHING_WINDOW, blockMatching, stereoMetrics, toGrey } from '../../daemon/tasks/stereo';

/** Brute force with the same convention: mean |L − R| over the window clipped to pixels where x' − d ≥ 0. */
function bruteForce(l: ArrayLike<number>, r: ArrayLike<number>, w: number, h: number, maxD: number): Float32Array {
  const half = (BLOCK_MATCHING_WINDOW - 1) / 2;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let best = Infinity;
      for (let d = 0; d <= Math.min(maxD, x); d++) {
        let sum = 0;
        let count = 0;
        for (let yy = Math.max(0, y - half); yy <= Math.min(h - 1, y + half); yy++)
          for (let xx = Math.max(d, x - half); xx <= Math.min(w - 1, x + half); xx++) {
            sum += Math.abs(l[yy * w + xx] - r[yy * w + xx - d]);
            count++;
          }
        if (sum / count < best - 1e-9) {
          best = sum / count;
          out[y * w + x] = d;
        }
      }
    }
  return out;
}

test('blockMatching equals a brute-force SAD winner-takes-all', () => {
  const rng = new Rng(4);
  const [w, h] = [23, 14];
  const l = Float32Array.from({ length: w * h }, () => rng.int(256));
  const r = Float32Array.from({ length: w * h }, () => rng.int(256));
  for (const maxD of [0, 3, 10, 40]) assert.deepEqual(blockMatching(l, r, w, h, maxD), bruteForce(l, r, w, h, maxD), `maxD ${maxD}`);
});

test('blockMatching recovers a pure horizontal shift exactly wherever the match is in view', () => {
  const rng = new Rng(5);
  const [w, h, shift] = [64, 20, 7];
  const l = Float32Array.from({ length: w * h }, () => rng.int(256));
  const r = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) r[y * w + x] = x + shift < w ? l[y * w + x + shift] : rng.int(256);
  const d = blockMatching(l, r, w, h, 16);
  for (let y = 0; y < h; y++) for (let x = shift + 4; x < w; x++) assert.equal(d[y * w + x], shift, `(${x}, ${y})`);
});

test('toGrey uses BT.601 luma and passes grey through', () => {
  assert.deepEqual(Array.from(toGrey([255, 0, 0, 0, 0, 255], 2, 1, 3)), [0.299 * 255, 0.114 * 255].map(Math.fround));
  assert.deepEqual(Array.from(toGrey(Uint8Array.from([7, 9]), 2, 1, 1)), [7, 9]);
});

test('on generated pairs block matching beats predicting zero disparity by a wide margin', () => {
  const [width, height, maxDisparity] = [192, 128, 32];
  const zeros = new Float32Array(width * height);
  for (const [seed, extra] of [
    [41, { channels: 1 as const }],
    [42, { channels: 3 as const, slanted: true }],
    [43, { channels: 1 as const, texture: 'random-dot' as const, integerDisparity: true }],
  ] as const) {
    const pair = generateStereoPair({ width, height, maxDisparity, seed, shapes: 6, ...extra });
    const grey = (img: Uint8Array): Float32Array => toGrey(img, width, height, pair.channels);
    const start = performance.now();
    const predicted = blockMatching(grey(pair.left), grey(pair.right), width, height, maxDisparity);
    const ms = performance.now() - start;
    const all = stereoMetrics(predicted, pair.disparity);
    const zeroAll = stereoMetrics(zeros, pair.disparity);
    // Non-occluded pixels (the generator's visibility mask): where a match exists at all, as KITTI's "noc" maps.
    const noc = stereoMetrics(predicted, pair.disparity, pair.visible);
    const zeroNoc = stereoMetrics(zeros, pair.disparity, pair.visible);
    const row =
      `seed ${seed}: EPE all ${all.epe.toFixed(2)} vs zero ${zeroAll.epe.toFixed(2)}, noc ${noc.epe.toFixed(2)} vs ${zeroNoc.epe.toFixed(2)}; ` +
      `D1 all ${(100 * all.d1).toFixed(1)} %, noc ${(100 * noc.d1).toFixed(1)} %; ${ms.toFixed(0)} ms`;
    console.log(row);
    assert.ok(noc.epe < 0.2 * zeroNoc.epe, row);
    // Occluded pixels and the left band where x < d have no match at all, so over all pixels the bar is lower.
    assert.ok(all.epe < 0.5 * zeroAll.epe, row);
  }
});
