import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { DataError, loadDataset } from '../../daemon/data';
import type { ResolvedCifar10Data } from '../../schemas';
import { cifarPixel, cifarRecords, tempDir } from '../fixtures/data/builders';

function cifarConfig(dir: string, extra: Partial<ResolvedCifar10Data> = {}): ResolvedCifar10Data {
  return { kind: 'cifar10', dir, validationSplit: 0.2, augmentation: { cropPadding: 4, horizontalFlip: true }, ...extra };
}

/** Writes data_batch_1..n.bin of `perBatch` records each and a test batch of `testCount`; labels cycle 0..9. */
function writeCifar(dir: string, batches: number, perBatch: number, testCount: number): void {
  mkdirSync(dir, { recursive: true });
  for (let b = 1; b <= batches; b++) {
    const first = (b - 1) * perBatch;
    writeFileSync(
      path.join(dir, `data_batch_${b}.bin`),
      cifarRecords(
        Array.from({ length: perBatch }, (_, i) => (first + i) % 10),
        first,
      ),
    );
  }
  writeFileSync(path.join(dir, 'test_batch.bin'), cifarRecords(Array.from({ length: testCount }, (_, i) => (i * 3) % 10)));
}

test('reads CIFAR-10 batches: planes become NHWC pixels, labels follow their records', async () => {
  const t = tempDir();
  try {
    writeCifar(t.dir, 2, 50, 30);
    const ds = await loadDataset(cifarConfig('.'), { baseDir: t.dir, seed: 4 });
    assert.deepEqual([ds.classes, ds.height, ds.width, ds.channels], [10, 32, 32, 3]);
    assert.deepEqual([ds.train.count, ds.validation.count, ds.test.count], [80, 20, 30]);
    assert.equal(ds.classNames?.[0], 'airplane');
    assert.deepEqual(ds.augmentation, { cropPadding: 4, horizontalFlip: true });
    assert.match(ds.describe, /2 training batches/);
    // Validation is stratified: 100 records, labels 0..9 ten times each, 20% held out.
    const hist = new Array(10).fill(0);
    for (const l of ds.validation.labels) hist[l]++;
    assert.deepEqual(hist, new Array(10).fill(2));
    // Test records are in a seeded order: find each one by its pixel pattern and check pixels and label.
    for (let k = 0; k < ds.test.count; k++) {
      const img = ds.test.images.subarray(k * 3072, (k + 1) * 3072);
      const rec = (img[0] + 256) % 256; // record i has red (i + p) at pixel p, so pixel 0 gives i (i < 256)
      assert.equal(ds.test.labels[k], (rec * 3) % 10);
      for (const p of [0, 1, 500, 1023]) for (let c = 0; c < 3; c++) assert.equal(img[p * 3 + c], cifarPixel(rec, p, c));
    }
    // Training images come from both batch files.
    const records = new Set<number>();
    for (let k = 0; k < ds.train.count; k++) records.add(ds.train.images[k * 3072]);
    assert.ok([...records].some((r) => r < 50) && [...records].some((r) => r >= 50));
  } finally {
    t.remove();
  }
});

test('finds the batches in the cifar-10-batches-bin folder the archive unpacks to', async () => {
  const t = tempDir();
  try {
    writeCifar(path.join(t.dir, 'cifar-10-batches-bin'), 1, 20, 10);
    const ds = await loadDataset(cifarConfig(t.dir, { limit: { train: 5 } }), { baseDir: '/', seed: 0 });
    assert.deepEqual([ds.train.count, ds.validation.count, ds.test.count], [5, 4, 10]);
  } finally {
    t.remove();
  }
});

test('bad CIFAR-10 folders are DataErrors naming the file', async () => {
  const t = tempDir();
  const load = () => loadDataset(cifarConfig(t.dir), { baseDir: '/', seed: 0 });
  const expectError = async (file: string, what: RegExp): Promise<void> => {
    await assert.rejects(load, (e: unknown) => e instanceof DataError && e.message.includes(file) && what.test(e.message));
  };
  try {
    writeCifar(t.dir, 3, 20, 10);
    await load();
    // A record cut short.
    const third = path.join(t.dir, 'data_batch_3.bin');
    writeFileSync(third, cifarRecords([1, 2, 3]).subarray(0, 3073 * 3 - 100));
    await expectError(third, /not a whole number of 3073-byte records/);
    // A label that CIFAR-10 does not have.
    writeFileSync(third, cifarRecords([1, 12, 3]));
    await expectError(third, /record 1 has label 12/);
    // A gap in the batch numbers.
    writeFileSync(third, cifarRecords([1, 2, 3]));
    unlinkSync(path.join(t.dir, 'data_batch_2.bin'));
    await expectError(path.join(t.dir, 'data_batch_2.bin'), /does not exist/);
    // No test batch.
    writeFileSync(path.join(t.dir, 'data_batch_2.bin'), cifarRecords([1, 2, 3]));
    unlinkSync(path.join(t.dir, 'test_batch.bin'));
    await expectError(path.join(t.dir, 'test_batch.bin'), /does not exist/);
  } finally {
    t.remove();
  }
});
