// The stereo dataset: generated splits (shapes, counts, determinism, a test split independent of the training size),
// training crops that keep left, right and disparity aligned, photometric changes shared by both views, shards that
// are slices of the whole batch, folders written by `manta stereo-data` read back exactly (PFM) or to 1/256 (KITTI),
// and bad folders reported as DataErrors naming the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stereoDataCommand, stereoDataPair } from '../../daemon/cli/commands/stereo-data';
import { DataError } from '../../daemon/data/errors';
import { encodeImagePng, loadStereoDataset, type StereoBatch, type StereoDataset, type StereoTaskData, type StereoPair } from '../../daemon/data/stereo';
import type { TaskData, TrainStreamOptions } from '../../daemon/ofa/task';
import type { ResolvedStereoAugmentation, ResolvedStereoFolderData, ResolvedStereoSyntheticData } from '../../schemas';
import { tempDir } from '../fixtures/data/builders';

const PLAIN: ResolvedStereoAugmentation = { cropWidth: 0, cropHeight: 0, brightness: 0, contrast: 0 };

function synthetic(extra: Partial<ResolvedStereoSyntheticData> = {}): ResolvedStereoSyntheticData {
  return {
    kind: 'stereo-synthetic',
    width: 128,
    height: 64,
    maxDisparity: 12,
    channels: 1,
    texture: 'noise',
    shapes: 4,
    slanted: true,
    noise: 2,
    trainSize: 8,
    validationSize: 3,
    testSize: 2,
    augmentation: PLAIN,
    ...extra,
  };
}

function folder(root: string, extra: Partial<ResolvedStereoFolderData> = {}): ResolvedStereoFolderData {
  return {
    kind: 'stereo-folder',
    path: root,
    left: 'left',
    right: 'right',
    disparity: 'disparity',
    maxDisparity: 16,
    channels: 1,
    validationSize: 1,
    testSize: 1,
    evaluationWidth: 0,
    evaluationHeight: 0,
    augmentation: PLAIN,
    ...extra,
  };
}

const STREAM: TrainStreamOptions = { batchSize: 4, seed: 21, epoch: 0, startBatch: 0, prefetch: 'sync' };

async function take(data: StereoTaskData, opts: TrainStreamOptions, n: number): Promise<StereoBatch[]> {
  const stream = data.openTrainStream(opts);
  const out: StereoBatch[] = [];
  for (let i = 0; i < n; i++) out.push(await stream.next());
  await stream.close();
  return out;
}

/** Example `i` of a batch as a one-example view. */
function example(b: StereoBatch, i: number): { left: Float32Array; right: Float32Array; disparity: Float32Array } {
  const view = b.height * b.width * b.channels;
  const map = b.height * b.width;
  return {
    left: b.left.subarray(i * view, (i + 1) * view),
    right: b.right.subarray(i * view, (i + 1) * view),
    disparity: b.disparity.subarray(i * map, (i + 1) * map),
  };
}

/** The window (x0, y0, w, h) of an H×W×C array, row by row. */
function crop(a: Float32Array, width: number, channels: number, x0: number, y0: number, w: number, h: number): Float32Array {
  const out = new Float32Array(w * h * channels);
  for (let y = 0; y < h; y++) out.set(a.subarray(((y0 + y) * width + x0) * channels, ((y0 + y) * width + x0 + w) * channels), y * w * channels);
  return out;
}

/** Does the window (x0, y0) of an H×W×C array equal `want` (w×h×C)? Stops at the first difference. */
function windowIs(a: Float32Array, width: number, channels: number, x0: number, y0: number, want: Float32Array, w: number, h: number): boolean {
  const row = w * channels;
  for (let y = 0; y < h; y++) {
    const at = ((y0 + y) * width + x0) * channels;
    for (let i = 0; i < row; i++) if (a[at + i] !== want[y * row + i]) return false;
  }
  return true;
}

function sameFloats(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Which full pair, and which window of it, a training example is, found by one of its arrays (searched
 * exhaustively): the left view for an unaugmented crop (texture makes the window unique; a disparity map may be
 * constant along a row), the disparity map for a whole pair whose views are changed photometrically.
 */
function locate(full: StereoBatch[], b: StereoBatch, i: number, by: 'left' | 'disparity'): { pair: StereoBatch; x0: number; y0: number } {
  const want = example(b, i)[by];
  const channels = by === 'left' ? b.channels : 1;
  for (const pair of full) {
    for (let y0 = 0; y0 + b.height <= pair.height; y0++) {
      for (let x0 = 0; x0 + b.width <= pair.width; x0++) {
        if (windowIs(pair[by], pair.width, channels, x0, y0, want, b.width, b.height)) return { pair, x0, y0 };
      }
    }
  }
  throw new Error(`example ${i}: its ${by} crop is no window of any training pair`);
}

/** Every training pair whole and unaugmented, one per batch. */
async function fullTrainPairs(cfg: ResolvedStereoSyntheticData, seed: number): Promise<StereoBatch[]> {
  const ds = await loadStereoDataset({ ...cfg, augmentation: PLAIN }, { baseDir: '.', seed });
  return [...ds.data.evalBatches('train', 1)];
}

test('generated splits: sizes, counts, value ranges, determinism, and a test split that ignores trainSize', async () => {
  const cfg = synthetic({ augmentation: { ...PLAIN, cropWidth: 64, brightness: 0.2, contrast: 0.2 } });
  const ds: StereoDataset = await loadStereoDataset(cfg, { baseDir: '.', seed: 5 });
  const asTaskData: TaskData<StereoBatch> = ds.data; // the shape daemon/ofa's contract asks for
  assert.equal(asTaskData.trainCount, 8);
  assert.deepEqual(ds.trainSize, { width: 64, height: 64 });
  assert.deepEqual(ds.evalSize, { width: 128, height: 64 });
  assert.equal(ds.channels, 1);
  assert.equal(ds.maxDisparity, 12);
  assert.match(ds.describe, /stereo generator: 8 \/ 3 \/ 2 pairs of 128×64, crops 64×64, grey, disparity ≤ 12 px/);

  const batches = await take(ds.data, STREAM, 3);
  for (const b of batches) {
    assert.deepEqual([b.size, b.height, b.width, b.channels], [4, 64, 64, 1]);
    assert.equal(b.left.length, 4 * 64 * 64);
    assert.equal(b.disparity.length, 4 * 64 * 64);
    assert.ok(b.left.every((v) => v >= 0 && v <= 1) && b.right.every((v) => v >= 0 && v <= 1));
    assert.ok(b.disparity.every((d) => d >= 1 && d <= 12));
  }
  const validation = [...ds.data.evalBatches('validation', 2)];
  assert.deepEqual(validation.map((b) => [b.size, b.width, b.height]), [[2, 128, 64], [1, 128, 64]]);
  assert.deepEqual([...ds.data.evalBatches('test', 8, 1)].map((b) => b.size), [1]);

  // Same seed: the same pairs and batches; a resumed stream continues where the first was; another seed differs.
  const again = await loadStereoDataset(cfg, { baseDir: '.', seed: 5 });
  assert.deepEqual(await take(again.data, STREAM, 3), batches);
  const stream = again.data.openTrainStream({ ...STREAM, epoch: 1, startBatch: 0 });
  assert.deepEqual(stream.position(), { epoch: 1, batch: 0 });
  assert.deepEqual(await stream.next(), batches[2]); // 8 pairs, batch 4: two batches an epoch
  assert.deepEqual(stream.position(), { epoch: 1, batch: 1 });
  assert.notDeepEqual((await take(again.data, { ...STREAM, seed: 22 }, 1))[0].left, batches[0].left);
  const otherRun = await loadStereoDataset(cfg, { baseDir: '.', seed: 6 });
  assert.notDeepEqual([...otherRun.data.evalBatches('test', 2)], [...ds.data.evalBatches('test', 2)]);

  const fewerTrain = await loadStereoDataset({ ...cfg, trainSize: 5 }, { baseDir: '.', seed: 5 });
  assert.deepEqual([...fewerTrain.data.evalBatches('test', 2)], [...ds.data.evalBatches('test', 2)]);
  assert.deepEqual([...fewerTrain.data.evalBatches('validation', 3)], [...ds.data.evalBatches('validation', 3)]);
});

test('a training crop is one window of the pair in both views and the disparity map', async () => {
  const cfg = synthetic({ width: 128, height: 128, augmentation: { ...PLAIN, cropWidth: 64, cropHeight: 64 } });
  const ds = await loadStereoDataset(cfg, { baseDir: '.', seed: 3 });
  const full = await fullTrainPairs(cfg, 3);
  const windows = new Set<string>();
  for (const b of await take(ds.data, STREAM, 2)) {
    for (let i = 0; i < b.size; i++) {
      const { pair, x0, y0 } = locate(full, b, i, 'left');
      windows.add(`${x0},${y0}`);
      const ex = example(b, i);
      assert.ok(sameFloats(ex.disparity, crop(pair.disparity, pair.width, 1, x0, y0, 64, 64)), `disparity of example ${i}`);
      assert.ok(sameFloats(ex.right, crop(pair.right, pair.width, 1, x0, y0, 64, 64)), `right view of example ${i}`);
    }
  }
  assert.ok(windows.size > 4, 'crops land at different places');
});

test('photometric changes are one draw for both views, clamped to [0, 1]', async () => {
  const cfg = synthetic({ augmentation: { ...PLAIN, brightness: 0.4, contrast: 0.4 } });
  const ds = await loadStereoDataset(cfg, { baseDir: '.', seed: 4 });
  const full = await fullTrainPairs(cfg, 4);
  let changed = 0;
  for (const b of await take(ds.data, STREAM, 2)) {
    for (let i = 0; i < b.size; i++) {
      const { pair } = locate(full, b, i, 'disparity');
      const ex = example(b, i);
      // The output as a function of the input byte, learnt on the left view, must hold on the right view too.
      const table = new Map<number, number>();
      for (const [src, out] of [[pair.left, ex.left], [pair.right, ex.right]] as const) {
        for (let p = 0; p < src.length; p++) {
          const v = Math.round(src[p] * 255);
          assert.ok(out[p] >= 0 && out[p] <= 1);
          const seen = table.get(v);
          if (seen === undefined) table.set(v, out[p]);
          else assert.equal(out[p], seen, `byte ${v} maps to one value in both views (example ${i})`);
        }
      }
      if ([...table].some(([v, out]) => Math.abs(out - v / 255) > 1e-3)) changed++;
    }
  }
  assert.ok(changed >= 6, `${changed} of 8 examples changed photometrically`);
});

test('shards of a batch are its slices: the same examples, cropped and coloured alike', async () => {
  const cfg = synthetic({ augmentation: { cropWidth: 64, cropHeight: 0, brightness: 0.3, contrast: 0.3 } });
  const ds = await loadStereoDataset(cfg, { baseDir: '.', seed: 8 });
  const whole = await take(ds.data, STREAM, 3);
  const shards = [
    await take(ds.data, { ...STREAM, shard: { index: 0, count: 2 } }, 3),
    await take(ds.data, { ...STREAM, shard: { index: 1, count: 2 } }, 3),
  ];
  for (let k = 0; k < 3; k++) {
    const parts = shards.map((s) => s[k]);
    assert.deepEqual(parts.map((p) => p.size), [2, 2]);
    for (const key of ['left', 'right', 'disparity'] as const) {
      const joined = new Float32Array(whole[k][key].length);
      joined.set(parts[0][key], 0);
      joined.set(parts[1][key], parts[0][key].length);
      assert.deepEqual(joined, whole[k][key], `${key} of batch ${k}`);
    }
  }
  assert.throws(() => ds.data.openTrainStream({ ...STREAM, shard: { index: 0, count: 3 } }), RangeError);
});

/** Runs `manta stereo-data` in-process (its report lines go to stdout and stderr). */
async function stereoData(folderPath: string, ...flags: string[]): Promise<void> {
  assert.equal(await stereoDataCommand([folderPath, ...flags]), 0);
}

/** The generated pair an example is (found by its left view), or -1. */
function whichPair(pairs: StereoPair[], ex: { left: Float32Array }): number {
  return pairs.findIndex((p) => p.left.length === ex.left.length && p.left.every((v, i) => Math.fround(v / 255) === ex.left[i]));
}

test('folders written by `manta stereo-data` read back: views exactly, PFM disparities exactly, KITTI to 1/256', async () => {
  const tmp = tempDir('manta-stereo-');
  try {
    await stereoData(path.join(tmp.dir, 'pairs'), '--count', '6', '--channels', '3', '--seed', '3', '--format', 'both');
    await stereoData(path.join(tmp.dir, 'held'), '--count', '2', '--channels', '3', '--seed', '9', '--format', 'both');
    const generator = { width: 128, height: 64, maxDisparity: 16, channels: 3 as const, noise: 2, integerDisparity: false };
    const pairs = Array.from({ length: 6 }, (_, i) => stereoDataPair({ ...generator, seed: 3 }, i));
    const held = Array.from({ length: 2 }, (_, i) => stereoDataPair({ ...generator, seed: 9 }, i));

    for (const [disparity, tolerance] of [['disparity', 0], ['disparity_kitti', 0.5 / 256 + 1e-6]] as const) {
      const cfg = folder('pairs', { disparity, channels: 3, validationSize: 2, test: 'held' });
      const ds = await loadStereoDataset(cfg, { baseDir: tmp.dir, seed: 1 });
      assert.equal(ds.data.trainCount, 4);
      assert.deepEqual(ds.trainSize, { width: 128, height: 64 });
      assert.deepEqual(ds.evalSize, { width: 128, height: 64 });
      assert.match(ds.describe, /4 \/ 2 \/ 2 pairs \(test: .*held\), RGB/);
      const seen: number[] = [];
      for (const [split, source] of [['train', pairs], ['validation', pairs], ['test', held]] as const) {
        for (const b of ds.data.evalBatches(split, 3)) {
          for (let i = 0; i < b.size; i++) {
            const ex = example(b, i);
            const k = whichPair(source, ex);
            assert.ok(k >= 0, `${split} example ${i} is one of the written pairs`);
            if (split !== 'test') seen.push(k);
            const want = source[k];
            assert.ok(want.right.every((v, j) => Math.fround(v / 255) === ex.right[j]), 'right view');
            for (let j = 0; j < ex.disparity.length; j++) {
              assert.ok(Math.abs(ex.disparity[j] - want.disparity[j]) <= tolerance, `${disparity}: ${ex.disparity[j]} vs ${want.disparity[j]}`);
            }
          }
        }
      }
      assert.deepEqual(seen.sort(), [0, 1, 2, 3, 4, 5]);
    }
    // A second run into the same folder is refused without --force.
    await assert.rejects(stereoDataCommand([path.join(tmp.dir, 'pairs'), '--count', '1']), /not empty.*--force/);
  } finally {
    tmp.remove();
  }
});

test('with integer disparities, left(x) matches right(x − d) inside a training crop', async () => {
  const tmp = tempDir('manta-stereo-');
  try {
    await stereoData(path.join(tmp.dir, 'int'), '--count', '4', '--integer-disparity', '--noise', '0', '--seed', '5');
    const cfg = folder('int', { augmentation: { ...PLAIN, cropWidth: 64 } });
    const ds = await loadStereoDataset(cfg, { baseDir: tmp.dir, seed: 2 });
    assert.deepEqual(ds.trainSize, { width: 64, height: 64 });
    const [b] = await take(ds.data, { ...STREAM, batchSize: 2 }, 1);
    for (let i = 0; i < b.size; i++) {
      const ex = example(b, i);
      const fraction = (shift: number): number => {
        let match = 0;
        let total = 0;
        for (let y = 0; y < b.height; y++) {
          for (let x = 0; x < b.width; x++) {
            const xr = x - ex.disparity[y * b.width + x] - shift;
            if (xr < 0) continue;
            total++;
            if (ex.left[y * b.width + x] === ex.right[y * b.width + xr]) match++;
          }
        }
        return match / total;
      };
      assert.ok(fraction(0) > 0.8, `example ${i}: ${fraction(0)} of the pixels match`);
      assert.ok(fraction(2) < 0.5, `example ${i}: a wrong disparity matches only ${fraction(2)}`);
    }
  } finally {
    tmp.remove();
  }
});

async function rejectsNaming(promise: Promise<unknown>, file: string, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof DataError, `a DataError, not ${String(e)}`);
    assert.ok(e.message.includes(file), `'${e.message}' names ${file}`);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('bad folders and sizes are DataErrors that name the file and what to do', async () => {
  const tmp = tempDir('manta-stereo-');
  try {
    const load = (name: string, extra: Partial<ResolvedStereoFolderData> = {}) => loadStereoDataset(folder(name, extra), { baseDir: tmp.dir, seed: 1 });
    for (const name of ['a', 'b', 'c', 'd']) await stereoData(path.join(tmp.dir, name), '--count', '3', '--noise', '0');

    rmSync(path.join(tmp.dir, 'a', 'right'), { recursive: true });
    await rejectsNaming(load('a'), path.join(tmp.dir, 'a', 'right'), /no sub-folder 'right'.*data\.right/);

    rmSync(path.join(tmp.dir, 'b', 'right', '000001.png'));
    await rejectsNaming(load('b'), path.join(tmp.dir, 'b', 'left', '000001.png'), /has no right view/);

    const pfm = path.join(tmp.dir, 'c', 'disparity', '000002.pfm');
    truncateSync(pfm, 200);
    await rejectsNaming(load('c'), pfm, /truncated/);

    const right = path.join(tmp.dir, 'd', 'right', '000000.png');
    writeFileSync(right, encodeImagePng(64, 64, 1, new Uint8Array(64 * 64)));
    await rejectsNaming(load('d'), right, /different size/);

    await stereoData(path.join(tmp.dir, 'e'), '--count', '3', '--noise', '0');
    await rejectsNaming(load('e', { augmentation: { ...PLAIN, cropWidth: 96 } }), 'data.augmentation.cropWidth 96', /use 64 or 128/);
    await rejectsNaming(load('e', { augmentation: { ...PLAIN, cropWidth: 192 } }), path.join(tmp.dir, 'e', 'left'), /smaller than the training crop 192×64/);
    await rejectsNaming(load('e', { validationSize: 2 }), path.join(tmp.dir, 'e'), /leave none for training/);
    await rejectsNaming(loadStereoDataset(synthetic({ width: 100 }), { baseDir: '.', seed: 1 }), 'data.width 100', /use 64 or 128/);
  } finally {
    tmp.remove();
  }
});
