// BatchStream: an endless sequence of training batches over epochs, from a position { epoch, startBatch }. The
// worker mode prepares the next batches in a worker thread (buffers transferred, images shared) so the training
// loop never waits on augmentation; the sync mode makes the same batches in the calling thread.
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { batchesPerEpoch, epochOrder, makeTrainBatch, normalizationTable, type BatchOptions } from './batches';
import type { Batch, Split } from './types';

export interface StreamPosition {
  epoch: number;
  /** Batch within the epoch. */
  batch: number;
}

export interface BatchStreamOptions extends BatchOptions {
  /** Where to start (default epoch 0, batch 0): resuming a run passes the position it stopped at. */
  epoch?: number;
  startBatch?: number;
  /** 'worker' (default): prepared in a worker thread; 'sync': in the calling thread. Both give identical batches. */
  prefetch?: 'worker' | 'sync';
  /** Batches the worker keeps ready ahead of the consumer (default 2). */
  depth?: number;
  /** The worker module, when it is not beside this one (see batchWorkerPath). */
  workerPath?: string;
}

export interface BatchStream {
  readonly mode: 'worker' | 'sync';
  readonly batchesPerEpoch: number;
  /** Position of the batch the next call to next() returns (what a checkpoint stores). */
  position(): StreamPosition;
  next(): Promise<Batch>;
  /** Stops the worker; the stream cannot be used afterwards. */
  close(): Promise<void>;
}

/** What the worker is given once. Images are shared (SharedArrayBuffer), so no copy is made. */
export interface BatchWorkerInit {
  split: Split;
  options: BatchOptions;
}

/** Main → worker: make batch `index` of `epoch`. */
export interface BatchRequest {
  epoch: number;
  index: number;
}

/** Worker → main: the batch, or why it could not be made. */
export type BatchReply = { ok: true; batch: Batch } | { ok: false; epoch: number; index: number; message: string };

function validate(split: Split, opts: BatchStreamOptions): { perEpoch: number; start: StreamPosition } {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
    throw new RangeError(`batchSize must be a positive integer, not ${opts.batchSize}`);
  const perEpoch = batchesPerEpoch(split.count, opts.batchSize, opts.dropLast ?? true);
  if (perEpoch === 0) throw new RangeError('cannot batch an empty split');
  const start = { epoch: opts.epoch ?? 0, batch: opts.startBatch ?? 0 };
  if (!Number.isInteger(start.epoch) || start.epoch < 0) throw new RangeError(`epoch must be a non-negative integer, not ${start.epoch}`);
  if (!Number.isInteger(start.batch) || start.batch < 0 || start.batch >= perEpoch) {
    throw new RangeError(`startBatch must be in 0..${perEpoch - 1}, not ${start.batch}`);
  }
  return { perEpoch, start };
}

function advance(p: StreamPosition, perEpoch: number): StreamPosition {
  return p.batch + 1 < perEpoch ? { epoch: p.epoch, batch: p.batch + 1 } : { epoch: p.epoch + 1, batch: 0 };
}

/** Batches made on demand in the calling thread; `take()` is the synchronous form of next(). */
export class SyncBatchStream implements BatchStream {
  readonly mode = 'sync';
  readonly batchesPerEpoch: number;
  private at: StreamPosition;
  private readonly lut: Float32Array;
  private order: { epoch: number; order: Int32Array } | undefined;

  constructor(
    private readonly split: Split,
    private readonly opts: BatchStreamOptions,
  ) {
    const { perEpoch, start } = validate(split, opts);
    this.batchesPerEpoch = perEpoch;
    this.at = start;
    this.lut = normalizationTable(split.normalization, split.channels);
  }

  position(): StreamPosition {
    return { ...this.at };
  }

  take(): Batch {
    const { epoch, batch } = this.at;
    if (this.order?.epoch !== epoch) this.order = { epoch, order: epochOrder(this.split.count, this.opts.seed, epoch) };
    const out = makeTrainBatch(this.split, this.opts, this.order.order, this.lut, epoch, batch);
    this.at = advance(this.at, this.batchesPerEpoch);
    return out;
  }

  next(): Promise<Batch> {
    try {
      return Promise.resolve(this.take());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Where the worker module is: beside this file, as batch-worker.ts when running from sources (tests under tsx) or as
 * batch-worker.js beside the bundle (esbuild builds daemon/data/batch-worker.ts to dist/batch-worker.js).
 */
export function batchWorkerPath(): string {
  const fromSources = __filename.endsWith('.ts');
  return path.join(__dirname, fromSources ? 'batch-worker.ts' : 'batch-worker.js');
}

function startWorker(file: string, init: BatchWorkerInit): Worker {
  if (!file.endsWith('.ts')) return new Worker(file, { workerData: init });
  // TypeScript sources (tests): register tsx's require hook in the worker, then load the module. (createRequire
  // keeps bundlers from trying to bundle tsx, which only the sources path needs.)
  const tsx = createRequire(__filename).resolve('tsx/cjs/api');
  const code = `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, workerData: init });
}

/** Images in shared memory, copied there once per images array when the split was not loaded that way. */
const sharedCopies = new WeakMap<Uint8Array, Uint8Array>();
function shareImages(images: Uint8Array): Uint8Array {
  if (images.buffer instanceof SharedArrayBuffer) return images;
  let copy = sharedCopies.get(images);
  if (!copy) {
    copy = new Uint8Array(new SharedArrayBuffer(images.length));
    copy.set(images);
    sharedCopies.set(images, copy);
  }
  return copy;
}

interface Pending {
  resolve: (b: Batch) => void;
  reject: (e: Error) => void;
  promise: Promise<Batch>;
}

/** Batches made in a worker thread, `depth` of them requested ahead of the consumer. */
export class WorkerBatchStream implements BatchStream {
  readonly mode = 'worker';
  readonly batchesPerEpoch: number;
  private at: StreamPosition;
  /** The next position not yet requested. */
  private ahead: StreamPosition;
  private readonly pending = new Map<string, Pending>();
  private readonly worker: Worker;
  private readonly depth: number;
  private failure: Error | undefined;
  private closed = false;

  constructor(split: Split, opts: BatchStreamOptions) {
    const { perEpoch, start } = validate(split, opts);
    this.batchesPerEpoch = perEpoch;
    this.at = start;
    this.ahead = start;
    this.depth = Math.max(1, Math.floor(opts.depth ?? 2));
    const options: BatchOptions = { batchSize: opts.batchSize, seed: opts.seed, augmentation: opts.augmentation, dropLast: opts.dropLast, ...(opts.shard ? { shard: opts.shard } : {}) };
    this.worker = startWorker(opts.workerPath ?? batchWorkerPath(), { split: { ...split, images: shareImages(split.images) }, options });
    this.worker.on('message', (reply: BatchReply) => this.receive(reply));
    this.worker.on('error', (e) => this.fail(new Error(`batch worker failed: ${e.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new Error(`batch worker exited unexpectedly (code ${code})`));
    });
    this.worker.unref(); // an idle stream never keeps the process alive; refed while a batch is awaited
  }

  position(): StreamPosition {
    return { ...this.at };
  }

  async next(): Promise<Batch> {
    if (this.closed) throw new Error('BatchStream.next() after close()');
    if (this.failure) throw this.failure;
    this.fill(this.depth + 1); // the one wanted now and `depth` behind it
    const key = keyOf(this.at);
    const wanted = this.pending.get(key);
    if (!wanted) throw new Error(`internal: batch ${key} was not requested`);
    this.at = advance(this.at, this.batchesPerEpoch);
    this.worker.ref();
    try {
      return await wanted.promise;
    } finally {
      this.pending.delete(key);
      if (this.pending.size === 0 || this.closed) this.worker.unref();
      if (!this.closed && !this.failure) this.fill(this.depth);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new Error('BatchStream closed'));
    await this.worker.terminate();
  }

  /** Requests batches until `count` are outstanding from the consumer's position on. */
  private fill(count: number): void {
    while (this.pending.size < count) {
      const p = this.ahead;
      let resolve!: (b: Batch) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<Batch>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(() => undefined); // rejections of batches nobody awaits yet are reported by next()
      this.pending.set(keyOf(p), { resolve, reject, promise });
      const request: BatchRequest = { epoch: p.epoch, index: p.batch };
      this.worker.postMessage(request);
      this.ahead = advance(p, this.batchesPerEpoch);
    }
  }

  private receive(reply: BatchReply): void {
    const key = reply.ok
      ? keyOf({ epoch: reply.batch.epoch, batch: reply.batch.index })
      : keyOf({ epoch: reply.epoch, batch: reply.index });
    const p = this.pending.get(key);
    if (!p) return;
    if (reply.ok) p.resolve(reply.batch);
    else p.reject(new Error(`batch worker: ${reply.message}`));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
  }
}

function keyOf(p: StreamPosition): string {
  return `${p.epoch}:${p.batch}`;
}

/** A training batch stream over `split`; see BatchStreamOptions. */
export function openBatchStream(split: Split, opts: BatchStreamOptions): BatchStream {
  return (opts.prefetch ?? 'worker') === 'sync' ? new SyncBatchStream(split, opts) : new WorkerBatchStream(split, opts);
}
