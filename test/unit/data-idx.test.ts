import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DataError, loadDataset, readIdxImages, readIdxLabels } from '../../daemon/data';
import type { ResolvedIdxData } from '../../schemas';
import { idxBytes, idxDataset, tempDir, writeIdx } from '../fixtures/data/builders';

const FASHION = '/usr/share/datasets/fashion-mnist';

function idxConfig(dir: string, extra: Partial<ResolvedIdxData> = {}): ResolvedIdxData {
  return {
    kind: 'idx',
    trainImages: path.join(dir, 'train-images-idx3-ubyte.gz'),
    trainLabels: path.join(dir, 'train-labels-idx1-ubyte.gz'),
    testImages: path.join(dir, 't10k-images-idx3-ubyte.gz'),
    testLabels: path.join(dir, 't10k-labels-idx1-ubyte.gz'),
    classes: 10,
    validationSplit: 0.1,
    augmentation: { cropPadding: 0, horizontalFlip: false },
    ...extra,
  };
}

function histogram(labels: Int32Array, classes: number): number[] {
  const h = new Array<number>(classes).fill(0);
  for (const l of labels) h[l]++;
  return h;
}

/** Asserts that `fn` rejects with a DataError whose message names `file`. */
async function rejectsNaming(fn: () => Promise<unknown>, file: string, what: RegExp): Promise<void> {
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected a DataError, got ${String(e)}`);
    assert.ok(e.message.includes(file), `message should name ${file}: ${e.message}`);
    assert.match(e.message, what);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test(
  'reads the real Fashion-MNIST: counts, shapes, 6000 per class, stratified validation',
  { skip: !existsSync(FASHION) && `${FASHION} is missing: apt-get install dataset-fashion-mnist` },
  async () => {
    const labels = await readIdxLabels(path.join(FASHION, 'train-labels-idx1-ubyte.gz'), 10);
    assert.equal(labels.length, 60000);
    assert.deepEqual(histogram(labels, 10), new Array(10).fill(6000));
    const testImages = await readIdxImages(path.join(FASHION, 't10k-images-idx3-ubyte.gz'));
    assert.deepEqual([testImages.count, testImages.height, testImages.width], [10000, 28, 28]);

    const ds = await loadDataset(idxConfig(FASHION), { baseDir: '/', seed: 3 });
    assert.deepEqual([ds.classes, ds.height, ds.width, ds.channels], [10, 28, 28, 1]);
    assert.deepEqual([ds.train.count, ds.validation.count, ds.test.count], [54000, 6000, 10000]);
    assert.equal(ds.train.images.length, 54000 * 28 * 28);
    assert.equal(ds.test.images.length, 10000 * 784);
    assert.deepEqual(histogram(ds.validation.labels, 10), new Array(10).fill(600));
    assert.deepEqual(histogram(ds.train.labels, 10), new Array(10).fill(5400));
    assert.deepEqual(histogram(ds.test.labels, 10), new Array(10).fill(1000));
    assert.deepEqual(ds.normalization, { mean: [0.5], std: [0.5] });
    assert.match(ds.describe, /54000 train \/ 6000 validation \/ 10000 test/);
    // Pixels are real images: mostly dark background, some bright.
    let sum = 0;
    for (let i = 0; i < 784 * 100; i++) sum += ds.test.images[i];
    const mean = sum / (784 * 100);
    assert.ok(mean > 40 && mean < 120, `mean pixel ${mean}`);
  },
);

test('the same seed gives the same split; another seed another; limits cap each split', async () => {
  const t = tempDir();
  try {
    const { images, labels } = idxDataset(200, 4, 4);
    writeIdx(path.join(t.dir, 'train-images-idx3-ubyte.gz'), [200, 4, 4], images, { gzip: true });
    writeIdx(path.join(t.dir, 'train-labels-idx1-ubyte.gz'), [200], labels, { gzip: true });
    writeIdx(path.join(t.dir, 't10k-images-idx3-ubyte.gz'), [40, 4, 4], images.subarray(0, 40 * 16));
    writeIdx(path.join(t.dir, 't10k-labels-idx1-ubyte.gz'), [40], labels.subarray(0, 40));
    const cfg = idxConfig(t.dir, { classes: 4, validationSplit: 0.2 });
    const a = await loadDataset(cfg, { baseDir: t.dir, seed: 1 });
    const b = await loadDataset(cfg, { baseDir: t.dir, seed: 1 });
    const c = await loadDataset(cfg, { baseDir: t.dir, seed: 2 });
    assert.deepEqual([a.train.count, a.validation.count, a.test.count], [160, 40, 40]);
    assert.deepEqual(a.validation.images, b.validation.images);
    assert.notDeepEqual(a.validation.images, c.validation.images);
    assert.deepEqual(histogram(a.validation.labels, 4), [10, 10, 10, 10]);
    // Each stored image still carries its own label: image i of the file has first pixel (i·7) mod 256 and label i mod 4.
    for (let k = 0; k < a.train.count; k++) {
      const first = a.train.images[k * 16];
      const candidates = [...Array(200).keys()].filter((i) => (i * 7) % 256 === first);
      assert.ok(candidates.some((i) => i % 4 === a.train.labels[k]));
    }
    const limited = await loadDataset({ ...cfg, limit: { train: 30, validation: 7, test: 5 } }, { baseDir: t.dir, seed: 1 });
    assert.deepEqual([limited.train.count, limited.validation.count, limited.test.count], [30, 7, 5]);
    assert.equal(limited.train.images.length, 30 * 16);
    // The cap is taken after the split: no validation image is in training.
    const key = (s: typeof a.train, k: number): string => s.images.subarray(k * 16, k * 16 + 16).join(',');
    const train = new Set([...Array(a.train.count).keys()].map((k) => key(a.train, k)));
    for (let k = 0; k < a.validation.count; k++) assert.ok(!train.has(key(a.validation, k)));
  } finally {
    t.remove();
  }
});

test('bad IDX files are DataErrors naming the file', async () => {
  const t = tempDir();
  try {
    const { images, labels } = idxDataset(20, 4, 10);
    const good = (): ResolvedIdxData => {
      writeIdx(path.join(t.dir, 'train-images-idx3-ubyte.gz'), [20, 4, 4], images, { gzip: true });
      writeIdx(path.join(t.dir, 'train-labels-idx1-ubyte.gz'), [20], labels, { gzip: true });
      writeIdx(path.join(t.dir, 't10k-images-idx3-ubyte.gz'), [20, 4, 4], images);
      writeIdx(path.join(t.dir, 't10k-labels-idx1-ubyte.gz'), [20], labels);
      return idxConfig(t.dir);
    };
    const load = (cfg: ResolvedIdxData) => () => loadDataset(cfg, { baseDir: t.dir, seed: 0 });
    const cfg = good();
    await loadDataset(cfg, { baseDir: t.dir, seed: 0 }); // the good files load

    // Missing file, named relative to baseDir in the config and absolute in the message.
    await rejectsNaming(load({ ...cfg, testLabels: 'nope/t10k-labels.gz' }), path.join(t.dir, 'nope/t10k-labels.gz'), /does not exist/);

    // Truncated gzip.
    const gz = readFileSync(cfg.trainImages);
    writeFileSync(cfg.trainImages, gz.subarray(0, gz.length - 40));
    await rejectsNaming(load(cfg), cfg.trainImages, /truncated/);

    // Truncated raw file (the test images are raw).
    good();
    const raw = readFileSync(cfg.testImages);
    writeFileSync(cfg.testImages, raw.subarray(0, raw.length - 5));
    await rejectsNaming(load(cfg), cfg.testImages, /truncated.*320 bytes.*315/);

    // Truncated inside a gzip stream that is itself complete.
    good();
    writeFileSync(cfg.trainLabels, gzipSync(idxBytes([20], labels).subarray(0, 20)));
    await rejectsNaming(load(cfg), cfg.trainLabels, /truncated/);

    // Wrong magic number: a label file where images belong, and a made-up magic.
    good();
    writeFileSync(cfg.trainImages, readFileSync(cfg.trainLabels));
    await rejectsNaming(load(cfg), cfg.trainImages, /magic number 0x00000801.*IDX3/);
    good();
    writeIdx(cfg.testLabels, [20], labels, { magic: 0x12345678 });
    await rejectsNaming(load(cfg), cfg.testLabels, /magic number 0x12345678/);

    // Count mismatch between images and labels.
    good();
    writeIdx(cfg.testLabels, [19], labels.subarray(0, 19));
    await rejectsNaming(load(cfg), cfg.testLabels, /20 images.*19 labels/);

    // Label outside the configured classes.
    good();
    writeIdx(
      cfg.testLabels,
      [20],
      labels.map((l) => l % 5),
    );
    await rejectsNaming(load({ ...cfg, classes: 5 }), cfg.trainLabels, /label 5 at index 5 is outside 0\.\.4/);

    // Train and test of different sizes.
    good();
    writeIdx(cfg.testImages, [5, 8, 8], new Uint8Array(5 * 64));
    writeIdx(cfg.testLabels, [5], labels.subarray(0, 5));
    await rejectsNaming(load(cfg), cfg.testImages, /8×8 images.*4×4/);

    // A folder where a file belongs.
    good();
    await rejectsNaming(load({ ...cfg, trainLabels: t.dir }), t.dir, /is a folder/);
  } finally {
    t.remove();
  }
});
