import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DataError, loadDataset, resizeBilinear } from '../../daemon/data';
import type { ResolvedFolderData } from '../../schemas';
import { tempDir, writeGreyPng, writeJpeg, writePng } from '../fixtures/data/builders';

function folderConfig(extra: Partial<ResolvedFolderData> = {}): ResolvedFolderData {
  return {
    kind: 'folder',
    train: 'train',
    imageSize: 8,
    validationSplit: 0.25,
    augmentation: { cropPadding: 0, horizontalFlip: false },
    ...extra,
  };
}

const RED: [number, number, number] = [230, 20, 20];
const BLUE: [number, number, number] = [20, 20, 230];

/** Two classes: 'cat' (red images, PNG, one of them RGBA and one grey) and 'dog' (blue images, JPEG). */
function writeFolder(root: string, perClass: number): void {
  for (let i = 0; i < perClass; i++) {
    writePng(path.join(root, 'cat', `c${i}.png`), 16 + i, 12, () => [...RED, i === 1 ? 128 : 255]);
    writeJpeg(path.join(root, 'dog', `d${i}.JPG`), 20, 10 + i, () => BLUE);
  }
  writeGreyPng(path.join(root, 'cat', 'grey.png'), 10, 10, (x) => (x < 5 ? 0 : 200));
  writeFileSync(path.join(root, 'cat', 'notes.txt'), 'not an image');
  writeFileSync(path.join(root, 'dog', '.DS_Store'), 'hidden');
}

function meanColour(images: Uint8Array, k: number, pixels: number): [number, number, number] {
  const sum = [0, 0, 0];
  for (let p = 0; p < pixels; p++) for (let c = 0; c < 3; c++) sum[c] += images[(k * pixels + p) * 3 + c];
  return sum.map((s) => s / pixels) as [number, number, number];
}

test('reads PNG and JPEG class folders, resized to imageSize, grey and RGBA made RGB', async () => {
  const t = tempDir();
  try {
    writeFolder(path.join(t.dir, 'train'), 4);
    writeFolder(path.join(t.dir, 'test'), 2);
    const ds = await loadDataset(folderConfig({ test: 'test' }), { baseDir: t.dir, seed: 9 });
    assert.deepEqual(ds.classNames, ['cat', 'dog']);
    assert.deepEqual([ds.classes, ds.height, ds.width, ds.channels], [2, 8, 8, 3]);
    // 5 cats and 4 dogs; a quarter of 9 (2) held out, one of each class.
    assert.deepEqual([ds.train.count, ds.validation.count, ds.test.count], [7, 2, 5]);
    assert.deepEqual([...ds.validation.labels].sort(), [0, 1]);
    assert.equal(ds.train.images.length, 7 * 8 * 8 * 3);
    for (const split of [ds.train, ds.validation, ds.test]) {
      for (let k = 0; k < split.count; k++) {
        const [r, g, b] = meanColour(split.images, k, 64);
        if (split.labels[k] === 1) {
          assert.ok(b > 200 && r < 50, `dog ${k} is blue: ${r},${g},${b}`); // JPEG: close, not exact
        } else if (r === g) {
          assert.ok(Math.abs(r - 100) < 15, `the grey cat is grey, half black, half 200: ${r}`);
        } else {
          assert.deepEqual([r, g, b], RED); // PNG is lossless; alpha is dropped, not blended
        }
      }
    }
  } finally {
    t.remove();
  }
});

test('without a test folder, test is held out of training too; limits apply', async () => {
  const t = tempDir();
  try {
    writeFolder(path.join(t.dir, 'train'), 7);
    const ds = await loadDataset(folderConfig({ limit: { train: 3 } }), { baseDir: t.dir, seed: 1 });
    // 15 images: test 4 (a quarter), validation 3 of the remaining 11 (a quarter, rounded), train capped at 3.
    assert.deepEqual([ds.train.count, ds.validation.count, ds.test.count], [3, 3, 4]);
    assert.match(ds.describe, /test held out of training/);
  } finally {
    t.remove();
  }
});

test('bad folders are DataErrors naming the folder or file', async () => {
  const t = tempDir();
  const load =
    (cfg = folderConfig()) =>
    () =>
      loadDataset(cfg, { baseDir: t.dir, seed: 0 });
  const naming = (file: string, what: RegExp) => (e: unknown) =>
    e instanceof DataError && e.message.includes(file) && what.test(e.message) && !e.message.includes('\n');
  try {
    await assert.rejects(load(), naming(path.join(t.dir, 'train'), /does not exist/));
    mkdirSync(path.join(t.dir, 'train'));
    await assert.rejects(load(), naming(path.join(t.dir, 'train'), /no class sub-folders/));
    writeFolder(path.join(t.dir, 'train'), 2);
    mkdirSync(path.join(t.dir, 'train', 'empty'));
    writeFileSync(path.join(t.dir, 'train', 'empty', 'readme.md'), 'no images here');
    await assert.rejects(load(), naming(path.join(t.dir, 'train', 'empty'), /holds no PNG or JPEG images/));
    writePng(path.join(t.dir, 'train', 'empty', 'e.png'), 4, 4, () => [1, 2, 3, 255]);
    await load()();
    // A corrupt PNG: the header is right, the rest is cut off.
    const corrupt = path.join(t.dir, 'train', 'cat', 'c1.png');
    writeFileSync(corrupt, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48]));
    await assert.rejects(load(), naming(corrupt, /cannot be decoded/));
    writeFileSync(corrupt, 'hello, not an image');
    await assert.rejects(load(), naming(corrupt, /neither a PNG nor a JPEG/));
    writePng(corrupt, 4, 4, () => [1, 2, 3, 255]);
    // A test folder with a class that training does not have.
    writePng(path.join(t.dir, 'test', 'bird', 'b.png'), 4, 4, () => [1, 2, 3, 255]);
    await assert.rejects(load(folderConfig({ test: 'test' })), naming(path.join(t.dir, 'test'), /bird/));
  } finally {
    t.remove();
  }
});

test('resizeBilinear: identity, bilinear when enlarging, averaging when shrinking', () => {
  const src = Uint8Array.from([0, 100, 200, 50]); // 2×2, 1 channel
  assert.deepEqual(resizeBilinear(src, { height: 2, width: 2, channels: 1 }, 2, 2), src);
  // 2 → 4 with half-pixel centres: outer pixels repeat the edge, inner ones mix 3:1.
  const row = resizeBilinear(Uint8Array.from([0, 100]), { height: 1, width: 2, channels: 1 }, 1, 4);
  assert.deepEqual([...row], [0, 25, 75, 100]);
  // Shrinking a 1-pixel checkerboard by 4 averages it to grey instead of picking black or white.
  const board = new Float32Array(16 * 16).map((_, i) => ((i % 16) + Math.floor(i / 16)) % 2);
  const small = resizeBilinear(board, { height: 16, width: 16, channels: 1 }, 4, 4);
  for (const v of small) assert.ok(Math.abs(v - 0.5) < 0.02, `${v}`);
  // Batches and channels are resized independently.
  const two = Float32Array.from([1, 10, 1, 10, 2, 20, 2, 20]); // 2 images of 1×2, 2 channels
  assert.deepEqual([...resizeBilinear(two, { count: 2, height: 1, width: 2, channels: 2 }, 1, 1)], [1, 10, 2, 20]);
});
