// KITTI disparity PNGs: 16-bit greyscale, value / 256, 0 = no ground truth (NaN in memory); and the pair writer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { DataError } from '../../daemon/data/errors';
import {
  encodeKittiDisparity,
  generateStereoPair,
  KITTI_MAX_DISPARITY,
  parseKittiDisparity,
  readKittiDisparity,
  readPfm,
  writeKittiDisparity,
  writeStereoPair,
} from '../../daemon/data/stereo';

/** The raw 16-bit samples of a greyscale PNG, read independently of the module under test. */
function rawSamples(bytes: Buffer): number[] {
  const png = PNG.sync.read(bytes, { skipRescale: true });
  const data: unknown = png.data;
  assert.ok(data instanceof Uint16Array);
  assert.equal(png.depth, 16);
  assert.equal(png.colorType, 0);
  return Array.from({ length: png.width * png.height }, (_, i) => data[4 * i]);
}

test('KITTI PNG round trip is exact on the 1/256 grid and maps invalid to 0 and back to NaN', () => {
  const data = Float32Array.from([0, 1 / 256, 10.5, 255.99609375, NaN, -3, Infinity, 100.25, 12.3, 1e-5, 0.75, 64]);
  const bytes = encodeKittiDisparity({ width: 4, height: 3, data });
  assert.deepEqual(rawSamples(bytes), [0, 1, 2688, 65535, 0, 0, 0, 25664, 3149, 1, 192, 16384]);
  const back = parseKittiDisparity(bytes, 'disp.png');
  assert.deepEqual([back.width, back.height], [4, 3]);
  const expected = [NaN, 1 / 256, 10.5, 255.99609375, NaN, NaN, NaN, 100.25, 3149 / 256, 1 / 256, 0.75, 64];
  assert.deepEqual(Array.from(back.data), expected.map(Math.fround));
  // Off-grid values come back within half a step.
  assert.ok(Math.abs(back.data[8] - 12.3) <= 1 / 512);
});

test('a KITTI PNG made by another writer decodes as value / 256', () => {
  const png = new PNG({ width: 2, height: 1, bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(Uint16Array.from([2688, 0]).buffer);
  const bytes = PNG.sync.write(png, { bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  assert.deepEqual(Array.from(parseKittiDisparity(bytes, 'other.png').data), [10.5, NaN]);
});

test('non-disparity and broken PNGs are DataErrors naming the file', () => {
  const rgb = new PNG({ width: 2, height: 2 });
  const eightBit = PNG.sync.write(rgb);
  assert.throws(() => parseKittiDisparity(eightBit, 'img.png'), (e: unknown) => e instanceof DataError && e.reason === 'data.bad-format' && /img\.png is 8-bit colour/.test(e.message));
  const good = encodeKittiDisparity({ width: 8, height: 8, data: new Float32Array(64).fill(3) });
  assert.throws(
    () => parseKittiDisparity(good.subarray(0, good.length - 20), 'cut.png'),
    (e: unknown) => e instanceof DataError && e.reason === 'data.unreadable-image' && /cut\.png/.test(e.message),
  );
  assert.throws(() => parseKittiDisparity(Buffer.from('not a png'), 'junk.png'), (e: unknown) => e instanceof DataError && /junk\.png/.test(e.message));
  assert.throws(() => encodeKittiDisparity({ width: 1, height: 1, data: Float32Array.from([KITTI_MAX_DISPARITY + 1]) }), RangeError);
});

test('KITTI files and generated pairs go to disk and read back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'manta-kitti-'));
  try {
    const map = { width: 3, height: 1, data: Float32Array.from([1.5, NaN, 7]) };
    await writeKittiDisparity(join(dir, 'd.png'), map);
    assert.deepEqual(await readKittiDisparity(join(dir, 'd.png')), map);
    await assert.rejects(readKittiDisparity(join(dir, 'none.png')), (e: unknown) => e instanceof DataError && e.reason === 'data.missing-file');

    const pair = generateStereoPair({ width: 40, height: 24, maxDisparity: 12, seed: 5, channels: 3 });
    const files = await writeStereoPair(join(dir, 'pairs'), '000001', pair);
    assert.deepEqual((await readPfm(files.disparityPfm)).data, pair.disparity);
    assert.ok(files.disparityPng);
    const png16 = await readKittiDisparity(files.disparityPng);
    pair.disparity.forEach((d, i) => assert.ok(Math.abs(png16.data[i] - d) <= 1 / 512 || (d < 1 / 512 && Number.isNaN(png16.data[i]))));
    const left = PNG.sync.read(readFileSync(files.left));
    assert.deepEqual([left.width, left.height], [40, 24]);
    for (let i = 0; i < 40 * 24; i++) for (let c = 0; c < 3; c++) assert.equal(left.data[4 * i + c], pair.left[3 * i + c]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
