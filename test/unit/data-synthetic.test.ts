import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateSynthetic, loadDataset, syntheticClass, syntheticClassNames, SYNTHETIC_MAX_CLASSES } from '../../daemon/data';
import type { ResolvedSyntheticData } from '../../schemas';

function syntheticConfig(extra: Partial<ResolvedSyntheticData> = {}): ResolvedSyntheticData {
  return {
    kind: 'synthetic',
    classes: 10,
    imageSize: 32,
    channels: 3,
    trainSize: 400,
    validationSize: 100,
    testSize: 100,
    augmentation: { cropPadding: 2, horizontalFlip: true },
    ...extra,
  };
}

test('synthetic data is deterministic per seed and differs between seeds and splits', async () => {
  const a = await loadDataset(syntheticConfig(), { baseDir: '.', seed: 7 });
  const b = await loadDataset(syntheticConfig(), { baseDir: '.', seed: 7 });
  const c = await loadDataset(syntheticConfig(), { baseDir: '.', seed: 8 });
  assert.deepEqual(a.train.images, b.train.images);
  assert.deepEqual(a.test.labels, b.test.labels);
  assert.notDeepEqual(a.train.images, c.train.images);
  assert.notDeepEqual(a.validation.images, a.test.images);
  assert.deepEqual([a.train.count, a.validation.count, a.test.count], [400, 100, 100]);
  assert.equal(a.train.images.length, 400 * 32 * 32 * 3);
  assert.deepEqual(a.augmentation, { cropPadding: 2, horizontalFlip: true });
  assert.match(a.describe, /synthetic: 10 classes, 32×32×3, 400 train \/ 100 validation \/ 100 test/);
});

test('synthetic labels are balanced across classes and shuffled', () => {
  const { labels, images } = generateSynthetic({ count: 1003, classes: 7, size: 16, channels: 1, seed: 3 });
  const hist = new Array(7).fill(0);
  for (const l of labels) hist[l]++;
  assert.ok(Math.max(...hist) - Math.min(...hist) <= 1, `${hist}`);
  assert.ok(
    labels.slice(0, 20).some((l, i) => l !== i % 7),
    'not in class order',
  );
  assert.equal(images.length, 1003 * 16 * 16);
});

test('images of one class look alike and differ from other classes (a nearest-mean classifier beats chance)', () => {
  const size = 16;
  const train = generateSynthetic({ count: 2000, classes: 10, size, channels: 3, seed: 1 });
  const held = generateSynthetic({ count: 500, classes: 10, size, channels: 3, seed: 2 });
  const px = size * size * 3;
  const means = Array.from({ length: 10 }, () => new Float64Array(px));
  const counts = new Array(10).fill(0);
  for (let i = 0; i < 2000; i++) {
    counts[train.labels[i]]++;
    for (let p = 0; p < px; p++) means[train.labels[i]][p] += train.images[i * px + p];
  }
  means.forEach((m, c) => m.forEach((v, p) => (m[p] = v / counts[c])));
  let right = 0;
  for (let i = 0; i < 500; i++) {
    let best = -1;
    let bestDist = Infinity;
    for (let c = 0; c < 10; c++) {
      let d = 0;
      for (let p = 0; p < px; p++) d += (held.images[i * px + p] - means[c][p]) ** 2;
      if (d < bestDist) [best, bestDist] = [c, d];
    }
    if (best === held.labels[i]) right++;
  }
  // Chance is 10%; colour and mean shape carry some signal, but a template match is far from solving it.
  assert.ok(right / 500 > 0.2 && right / 500 < 0.9, `nearest-mean accuracy ${right / 500}`);
});

test('class attributes: the first ten share shapes, patterns and colours; all 100 combinations are distinct', () => {
  const all = Array.from({ length: SYNTHETIC_MAX_CLASSES }, (_, k) => JSON.stringify(syntheticClass(k)));
  assert.equal(new Set(all).size, SYNTHETIC_MAX_CLASSES);
  const ten = Array.from({ length: 10 }, (_, k) => syntheticClass(k));
  for (const attr of ['shape', 'pattern', 'colour'] as const) {
    assert.ok(new Set(ten.map((c) => c[attr])).size < 10, `${attr} alone must not name the class`);
  }
  assert.equal(new Set(syntheticClassNames(10)).size, 10);
  assert.equal(syntheticClassNames(10)[0], 'red solid disc');
});
