import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchesPerEpoch, DataError, epochOrder, evalBatches, resolveNormalization, SyncBatchStream, type Split } from '../../daemon/data';

/** A split of n random-looking h×w×c images (deterministic bytes), label = index mod 5. */
function makeSplit(
  n: number,
  h: number,
  w: number,
  c: number,
  normalization = { mean: new Array(c).fill(0.5), std: new Array(c).fill(0.5) },
): Split {
  const images = new Uint8Array(n * h * w * c);
  let s = 12345;
  for (let i = 0; i < images.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    images[i] = s >>> 24;
  }
  const labels = Int32Array.from({ length: n }, (_, i) => i % 5);
  return { images, labels, count: n, height: h, width: w, channels: c, normalization };
}

const NONE = { cropPadding: 0, horizontalFlip: false };

/** Image k of the split as normalized floats, optionally mirrored. */
function plain(split: Split, k: number, mirror = false): Float32Array {
  const { height: h, width: w, channels: c } = split;
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let ch = 0; ch < c; ch++) {
        const v = split.images[((k * h + y) * w + (mirror ? w - 1 - x : x)) * c + ch];
        out[(y * w + x) * c + ch] = (v / 255 - split.normalization.mean[ch]) / split.normalization.std[ch];
      }
    }
  }
  return out;
}

/** Which source image (by label and content) a batch image is: found by matching against every plain image. */
function findSource(split: Split, img: Float32Array, mirror: boolean): number {
  for (let k = 0; k < split.count; k++) if (plain(split, k, mirror).every((v, i) => Math.abs(v - img[i]) < 1e-6)) return k;
  return -1;
}

test('an epoch visits every image once, in a seeded order that changes per epoch', () => {
  const split = makeSplit(50, 4, 4, 1);
  const stream = new SyncBatchStream(split, { batchSize: 8, seed: 1, augmentation: NONE, dropLast: false });
  assert.equal(stream.batchesPerEpoch, 7);
  const seen: number[] = [];
  for (let b = 0; b < 7; b++) {
    const batch = stream.take();
    assert.equal(batch.size, b < 6 ? 8 : 2);
    assert.deepEqual([batch.epoch, batch.index], [0, b]);
    for (let i = 0; i < batch.size; i++) {
      const k = findSource(split, batch.x.subarray(i * 16, (i + 1) * 16), false);
      assert.equal(batch.y[i], split.labels[k]);
      seen.push(k);
    }
  }
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    [...Array(50).keys()],
  );
  assert.deepEqual(stream.position(), { epoch: 1, batch: 0 });
  assert.deepEqual(epochOrder(50, 1, 0), Int32Array.from(seen));
  assert.notDeepEqual(epochOrder(50, 1, 1), epochOrder(50, 1, 0));
  assert.notDeepEqual(epochOrder(50, 2, 0), epochOrder(50, 1, 0));
  // dropLast (the default) keeps every batch full; a split smaller than a batch still gives one.
  assert.equal(batchesPerEpoch(50, 8), 6);
  assert.equal(batchesPerEpoch(5, 8), 1);
});

test('horizontal flip mirrors about half of the images and leaves the rest', () => {
  const split = makeSplit(40, 5, 6, 3);
  const stream = new SyncBatchStream(split, { batchSize: 40, seed: 3, augmentation: { cropPadding: 0, horizontalFlip: true } });
  const batch = stream.take();
  let mirrored = 0;
  const px = 5 * 6 * 3;
  for (let i = 0; i < 40; i++) {
    const img = batch.x.subarray(i * px, (i + 1) * px);
    const asIs = findSource(split, img, false);
    const flipped = findSource(split, img, true);
    assert.ok(asIs >= 0 !== flipped >= 0, `image ${i} is either the original or its mirror`);
    if (flipped >= 0) mirrored++;
    assert.equal(batch.y[i], split.labels[Math.max(asIs, flipped)]);
  }
  assert.ok(mirrored >= 10 && mirrored <= 30, `${mirrored} of 40 mirrored`);
});

test('random crop keeps the size and shifts by at most the padding, filling with zero pixels', () => {
  const split = makeSplit(30, 8, 8, 2);
  const pad = 2;
  const stream = new SyncBatchStream(split, { batchSize: 30, seed: 5, augmentation: { cropPadding: pad, horizontalFlip: false } });
  const batch = stream.take();
  const px = 8 * 8 * 2;
  assert.equal(batch.x.length, 30 * px);
  const order = epochOrder(30, 5, 0);
  const shifts = new Set<string>();
  const zero = (0 - 0.5) / 0.5;
  for (let i = 0; i < 30; i++) {
    const img = batch.x.subarray(i * px, (i + 1) * px);
    const src = plain(split, order[i]);
    let match: string | undefined;
    for (let dy = -pad; dy <= pad && !match; dy++) {
      for (let dx = -pad; dx <= pad && !match; dx++) {
        let ok = true;
        for (let y = 0; y < 8 && ok; y++) {
          for (let x = 0; x < 8 && ok; x++) {
            for (let c = 0; c < 2; c++) {
              const sy = y + dy;
              const sx = x + dx;
              const want = sy < 0 || sy >= 8 || sx < 0 || sx >= 8 ? zero : src[(sy * 8 + sx) * 2 + c];
              if (Math.abs(img[(y * 8 + x) * 2 + c] - want) > 1e-6) ok = false;
            }
          }
        }
        if (ok) match = `${dy},${dx}`;
      }
    }
    assert.ok(match, `image ${i} is its source shifted by at most ${pad}`);
    shifts.add(match);
  }
  assert.ok(shifts.size > 5, `shifts vary: ${[...shifts]}`);
});

test('normalization: the default maps bytes to [-1, 1]; dataset statistics give mean 0, std 1', () => {
  const split = makeSplit(64, 6, 6, 3);
  const [batch] = [...evalBatches(split, 64)];
  assert.ok(Math.min(...batch.x) >= -1 && Math.max(...batch.x) <= 1);
  const mean = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < split.images.length; i++) {
    mean[i % 3] += split.images[i] / 255;
    sq[i % 3] += (split.images[i] / 255) ** 2;
  }
  const n = split.images.length / 3;
  const m = mean.map((s) => s / n);
  const sd = sq.map((s, c) => Math.sqrt(s / n - m[c] ** 2));
  const stats = { ...split, normalization: { mean: m, std: sd } };
  const [normed] = [...evalBatches(stats, 64)];
  for (let c = 0; c < 3; c++) {
    let s = 0;
    let s2 = 0;
    for (let i = c; i < normed.x.length; i += 3) {
      s += normed.x[i];
      s2 += normed.x[i] ** 2;
    }
    assert.ok(Math.abs(s / n) < 1e-4, `channel ${c} mean ${s / n}`);
    assert.ok(Math.abs(s2 / n - 1) < 1e-3, `channel ${c} variance ${s2 / n}`);
  }
  assert.deepEqual(resolveNormalization(undefined, 3), { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  assert.deepEqual(resolveNormalization({ mean: [0.1], std: [0.2] }, 3), { mean: [0.1, 0.1, 0.1], std: [0.2, 0.2, 0.2] });
  assert.throws(
    () => resolveNormalization({ mean: [0.1, 0.2, 0.3], std: [1] }, 1),
    (e: unknown) => e instanceof DataError && /normalization\.mean has 3 values/.test(e.message),
  );
});

test('eval batches: stored order, no augmentation, a smaller last batch, an optional limit', () => {
  const split = makeSplit(10, 3, 3, 1);
  const batches = [...evalBatches(split, 4)];
  assert.deepEqual(
    batches.map((b) => b.size),
    [4, 4, 2],
  );
  batches.forEach((b, bi) => {
    for (let i = 0; i < b.size; i++) {
      assert.deepEqual(b.x.subarray(i * 9, (i + 1) * 9), plain(split, bi * 4 + i));
      assert.equal(b.y[i], split.labels[bi * 4 + i]);
    }
  });
  assert.deepEqual(
    [...evalBatches(split, 4, 5)].map((b) => b.size),
    [4, 1],
  );
});

test('batches depend only on (seed, epoch, index): resuming mid-epoch gives the same batches', () => {
  const split = makeSplit(60, 6, 6, 3);
  const opts = { batchSize: 16, seed: 11, augmentation: { cropPadding: 2, horizontalFlip: true } };
  const straight = new SyncBatchStream(split, opts);
  const all = Array.from({ length: 8 }, () => straight.take()); // epochs 0 and 1 (3 batches each) and 2 more
  assert.deepEqual(
    all.map((b) => `${b.epoch}:${b.index}`),
    ['0:0', '0:1', '0:2', '1:0', '1:1', '1:2', '2:0', '2:1'],
  );
  const resumed = new SyncBatchStream(split, { ...opts, epoch: 1, startBatch: 1 });
  for (let k = 4; k < 8; k++) assert.deepEqual(resumed.take(), all[k]);
  const other = new SyncBatchStream(split, { ...opts, seed: 12 }).take();
  assert.notDeepEqual(other.x, all[0].x);
  assert.throws(() => new SyncBatchStream(split, { ...opts, startBatch: 3 }), /startBatch must be in 0\.\.2/);
});

// With the first test (whole batches visit every image once per epoch) this makes the workers of a job read each
// image once per epoch, and never the same one.
test('the shards of a batch are its equal slices, augmented as in the whole batch', () => {
  const split = makeSplit(48, 4, 5, 1);
  const augmentation = { cropPadding: 1, horizontalFlip: true };
  const whole = new SyncBatchStream(split, { batchSize: 12, seed: 4, augmentation });
  const shards = [0, 1, 2].map((index) => new SyncBatchStream(split, { batchSize: 12, seed: 4, augmentation, shard: { index, count: 3 } }));
  for (let b = 0; b < whole.batchesPerEpoch; b++) {
    const all = whole.take();
    const parts = shards.map((s) => s.take());
    parts.forEach((p) => assert.equal(p.size, 4));
    const joinedX = Float32Array.from(parts.flatMap((p) => [...p.x]));
    const joinedY = Int32Array.from(parts.flatMap((p) => [...p.y]));
    assert.deepEqual(joinedX, all.x, `batch ${b}: the shards are the whole batch's images, augmentation included`);
    assert.deepEqual(joinedY, all.y);
  }
  assert.throws(() => new SyncBatchStream(split, { batchSize: 10, seed: 4, augmentation, shard: { index: 0, count: 3 } }).take(), /cannot be split into 3 equal shards/);
});
