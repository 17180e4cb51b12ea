// The batch worker: a standalone worker-thread entry (bundled on its own to dist/batch-worker.js) that makes the
// training batches a WorkerBatchStream asks for and transfers them back. It loads no tfjs.
import { parentPort, workerData } from 'node:worker_threads';
import { epochOrder, makeTrainBatch, normalizationTable } from './batches';
import type { BatchReply, BatchRequest, BatchWorkerInit } from './stream';

function serve(): void {
  const port = parentPort;
  if (!port) throw new Error('batch-worker.ts runs only as a worker thread');
  const { split, options } = workerData as BatchWorkerInit;
  const lut = normalizationTable(split.normalization, split.channels);
  let order: { epoch: number; order: Int32Array } | undefined;
  port.on('message', (req: BatchRequest) => {
    let reply: BatchReply;
    try {
      if (order?.epoch !== req.epoch) order = { epoch: req.epoch, order: epochOrder(split.count, options.seed, req.epoch) };
      reply = { ok: true, batch: makeTrainBatch(split, options, order.order, lut, req.epoch, req.index) };
    } catch (e) {
      reply = { ok: false, epoch: req.epoch, index: req.index, message: e instanceof Error ? e.message : String(e) };
    }
    port.postMessage(reply, reply.ok ? [reply.batch.x.buffer as ArrayBuffer, reply.batch.y.buffer as ArrayBuffer] : []);
  });
}

serve();
