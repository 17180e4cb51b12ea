import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { batchWorkerPath, loadDataset, openBatchStream, type Batch, type BatchStreamOptions, type Split } from '../../daemon/data';
import { tempDir } from '../fixtures/data/builders';

async function trainSplit(): Promise<Split> {
  const ds = await loadDataset(
    {
      kind: 'synthetic',
      classes: 5,
      imageSize: 12,
      channels: 3,
      trainSize: 150,
      validationSize: 10,
      testSize: 10,
      augmentation: { cropPadding: 0, horizontalFlip: false },
    },
    { baseDir: '.', seed: 2 },
  );
  return ds.train;
}

const OPTS: BatchStreamOptions = { batchSize: 32, seed: 9, augmentation: { cropPadding: 3, horizontalFlip: true } };

async function take(split: Split, opts: BatchStreamOptions, n: number): Promise<Batch[]> {
  const stream = openBatchStream(split, opts);
  try {
    const out: Batch[] = [];
    for (let i = 0; i < n; i++) out.push(await stream.next());
    assert.equal(stream.mode, opts.prefetch ?? 'worker');
    return out;
  } finally {
    await stream.close();
  }
}

test('the worker prefetcher yields exactly the batches of the synchronous mode, across epochs', async () => {
  const split = await trainSplit();
  // 150 images, batch 32: 4 batches per epoch; 10 batches cross two epoch boundaries.
  const sync = await take(split, { ...OPTS, prefetch: 'sync' }, 10);
  const worker = await take(split, { ...OPTS, prefetch: 'worker' }, 10);
  assert.deepEqual(worker, sync);
  // A job's worker reads its shard of every batch, in either mode.
  const shard = { index: 1, count: 2 };
  const shardWorker = await take(split, { ...OPTS, shard, prefetch: 'worker' }, 5);
  assert.deepEqual(shardWorker, await take(split, { ...OPTS, shard, prefetch: 'sync' }, 5));
  assert.deepEqual(shardWorker[0].y, sync[0].y.subarray(16, 32));
  assert.deepEqual(
    sync.map((b) => `${b.epoch}:${b.index}`),
    ['0:0', '0:1', '0:2', '0:3', '1:0', '1:1', '1:2', '1:3', '2:0', '2:1'],
  );
  // Depth 1 and a position in the middle of an epoch (a resumed run) give the same batches too.
  const resumed = await take(split, { ...OPTS, epoch: 1, startBatch: 2, depth: 1 }, 4);
  assert.deepEqual(resumed, sync.slice(6, 10));
});

test('the worker reads images that are not in shared memory, and position() tracks what next() returns', async () => {
  const split = await trainSplit();
  const plain = { ...split, images: Uint8Array.from(split.images) }; // an ordinary ArrayBuffer
  const stream = openBatchStream(plain, { ...OPTS, epoch: 3 });
  try {
    assert.deepEqual(stream.position(), { epoch: 3, batch: 0 });
    const first = await stream.next();
    assert.deepEqual(stream.position(), { epoch: 3, batch: 1 });
    const expected = await take(split, { ...OPTS, prefetch: 'sync', epoch: 3 }, 1);
    assert.deepEqual(first, expected[0]);
  } finally {
    await stream.close();
  }
  await assert.rejects(() => stream.next(), /after close/);
});

test('the worker entry runs as a standalone esbuild bundle, as dist/batch-worker.js does', async () => {
  const t = tempDir();
  try {
    const outfile = path.join(t.dir, 'batch-worker.js');
    buildSync({ entryPoints: [batchWorkerPath()], bundle: true, platform: 'node', format: 'cjs', outfile, logLevel: 'silent' });
    const split = await trainSplit();
    const bundled = await take(split, { ...OPTS, workerPath: outfile }, 5);
    assert.deepEqual(bundled, await take(split, { ...OPTS, prefetch: 'sync' }, 5));
  } finally {
    t.remove();
  }
});

test('a worker that cannot start makes next() reject instead of hanging', async () => {
  const split = await trainSplit();
  const stream = openBatchStream(split, { ...OPTS, workerPath: '/nonexistent/batch-worker.js' });
  await assert.rejects(() => stream.next(), /batch worker/);
  await stream.close();
});
