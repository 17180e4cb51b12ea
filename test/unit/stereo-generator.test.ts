// The procedural stereo generator: deterministic per seed, disparities in range, and ground truth that is exact —
// at every visible left pixel, left(x) equals right(x − d) — with occlusions that agree with the disparity map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataError } from '../../daemon/data/errors';
import { generateStereoPair, stereoScene, type StereoGeneratorOptions, type StereoPair } from '../../daemon/data/stereo';

const BASE: StereoGeneratorOptions = { width: 96, height: 64, maxDisparity: 24, seed: 11 };

/** Is some other left pixel of row y, closer than d, projected onto the same right pixel x − d? (Integer maps.) */
function closerPixelLandsOn(pair: StereoPair, x: number, y: number): boolean {
  const { width, disparity } = pair;
  const d = disparity[y * width + x];
  for (let x2 = x + 1; x2 < width; x2++) {
    const d2 = disparity[y * width + x2];
    if (d2 > d && x2 - d2 === x - d) return true;
  }
  return false;
}

test('the generator is deterministic per seed and differs between seeds', () => {
  const a = generateStereoPair({ ...BASE, channels: 3, slanted: true });
  const b = generateStereoPair({ ...BASE, channels: 3, slanted: true });
  const c = generateStereoPair({ ...BASE, channels: 3, slanted: true, seed: 12 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.left, c.left);
  assert.notDeepEqual(a.disparity, c.disparity);
  assert.deepEqual(stereoScene(BASE), stereoScene(BASE));
  assert.equal(a.left.length, 96 * 64 * 3);
  assert.equal(a.disparity.length, 96 * 64);
});

test('disparities lie in (0, maxDisparity], use the range, and are integers in integer mode', () => {
  for (const extra of [{}, { slanted: true }, { integerDisparity: true }, { texture: 'random-dot' as const }]) {
    for (const seed of [1, 2, 3, 4]) {
      const pair = generateStereoPair({ ...BASE, ...extra, seed });
      let max = 0;
      for (const d of pair.disparity) {
        assert.ok(Number.isFinite(d) && d >= 1 && d <= BASE.maxDisparity, `disparity ${d} (${JSON.stringify(extra)}, seed ${seed})`);
        if ('integerDisparity' in extra) assert.equal(d, Math.round(d));
        max = Math.max(max, d);
      }
      assert.ok(max > 0.4 * BASE.maxDisparity, `nearest surface at ${max}`);
    }
  }
});

test('integer mode: every visible left pixel equals its right match exactly, and occlusions agree with the map', () => {
  for (const channels of [1, 3] as const) {
    for (const texture of ['noise', 'random-dot'] as const) {
      for (const seed of [21, 22, 23]) {
        const pair = generateStereoPair({ ...BASE, channels, texture, seed, integerDisparity: true, shapes: 8 });
        const { width, height, left, right, disparity, visible } = pair;
        let shown = 0;
        let occluded = 0;
        let occludedMismatch = 0;
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            const i = y * width + x;
            const xr = x - disparity[i];
            const same = xr >= 0 && Array.from({ length: channels }, (_, c) => left[i * channels + c] === right[(y * width + xr) * channels + c]).every(Boolean);
            if (visible[i]) {
              shown++;
              assert.ok(xr >= 0, `visible pixel (${x}, ${y}) lands outside the right view`);
              assert.ok(same, `left (${x}, ${y}) ≠ right (${xr}, ${y}) at d = ${disparity[i]} (${channels} ch, ${texture}, seed ${seed})`);
              // Independent of the generator's bookkeeping: no closer left pixel may land on the same right pixel.
              assert.ok(!closerPixelLandsOn(pair, x, y), `(${x}, ${y}) is marked visible but is occluded`);
            } else if (xr >= 0) {
              occluded++;
              if (!same) occludedMismatch++;
            } else {
              assert.equal(visible[i], 0);
            }
            if (xr >= 0 && closerPixelLandsOn(pair, x, y)) assert.equal(visible[i], 0, `(${x}, ${y}) is hidden by a closer pixel`);
          }
        }
        assert.ok(shown > 0.7 * width * height, `only ${shown} visible pixels`);
        // The occlusion mask means something: hidden pixels see another surface, which mostly looks different.
        assert.ok(occluded > 20, `only ${occluded} occluded pixels`);
        assert.ok(occludedMismatch > 0.5 * occluded, `${occludedMismatch} of ${occluded} occluded pixels differ`);
      }
    }
  }
});

test('slanted scenes: the fractional ground truth matches the right view up to interpolation', () => {
  const pair = generateStereoPair({ ...BASE, width: 128, height: 80, slanted: true, shapes: 8, seed: 31 });
  const { width, height, left, right, disparity, visible } = pair;
  let err = 0;
  let wrong = 0;
  let n = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!visible[i]) continue;
      const xr = x - disparity[i];
      const a = Math.floor(xr);
      const f = xr - a;
      const sample = a + 1 < width ? (1 - f) * right[y * width + a] + f * right[y * width + a + 1] : right[y * width + a];
      err += Math.abs(left[i] - sample);
      // A deliberately wrong disparity (2 px off) as the yardstick of what a mismatch looks like.
      const xw = Math.max(0, Math.round(xr) - 2);
      wrong += Math.abs(left[i] - right[y * width + xw]);
      n++;
    }
  }
  assert.ok(n > 0.7 * width * height);
  assert.ok(err / n < 0.4 * (wrong / n), `mean |left − right(x − d)| = ${(err / n).toFixed(2)} vs ${(wrong / n).toFixed(2)} two pixels off`);
  assert.ok(disparity.some((d) => d !== Math.round(d)), 'slanted scenes have fractional disparities');
});

test('sensor noise changes the views but not the scene; contradictory options are refused', () => {
  const clean = generateStereoPair({ ...BASE, integerDisparity: true });
  const noisy = generateStereoPair({ ...BASE, integerDisparity: true, noise: 4 });
  assert.deepEqual(noisy.disparity, clean.disparity);
  assert.deepEqual(noisy.visible, clean.visible);
  assert.notDeepEqual(noisy.left, clean.left);
  let diff = 0;
  for (let i = 0; i < clean.left.length; i++) diff += Math.abs(noisy.left[i] - clean.left[i]);
  assert.ok(diff / clean.left.length < 5);
  const refuses = (o: StereoGeneratorOptions, pattern: RegExp): void =>
    assert.throws(() => generateStereoPair(o), (e: unknown) => e instanceof DataError && e.reason === 'data.config' && pattern.test(e.message));
  refuses({ ...BASE, integerDisparity: true, slanted: true }, /exclude each other/);
  refuses({ ...BASE, width: 0 }, /image size/);
  refuses({ ...BASE, maxDisparity: -1 }, /maxDisparity/);
  refuses({ ...BASE, maxDisparity: 0.5, integerDisparity: true }, /no integer disparity/);
});

test('a 512×256 RGB pair generates quickly', () => {
  const start = performance.now();
  const pair = generateStereoPair({ width: 512, height: 256, maxDisparity: 64, seed: 3, channels: 3, shapes: 10, slanted: true });
  const ms = performance.now() - start;
  assert.equal(pair.left.length, 512 * 256 * 3);
  assert.ok(ms < 5000, `${ms.toFixed(0)} ms`);
});
