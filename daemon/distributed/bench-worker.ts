// The child process of `manta bench allreduce` (bundled alone as dist/allreduce-worker.js): joins the group it is
// told over IPC (the token comes that way too, never in argv or the environment), times back-to-back all-reduces of
// each size after warm-up, checks the result, and reports rank 0's figures to the parent.
import { batchFor, type BenchWorkerJob, type BenchWorkerReply } from './bench-worker-path';
import { joinGroup } from './group';

function send(m: BenchWorkerReply): Promise<void> {
  return new Promise((resolve) => (process.send ? process.send(m, undefined, {}, () => resolve()) : resolve()));
}

async function run(job: BenchWorkerJob): Promise<void> {
  const g = await joinGroup(job.opts);
  try {
    for (const floats of job.floats) {
      const buf = new Float32Array(floats).fill(g.rank + 1);
      for (let i = 0; i < job.warmup; i++) await g.allReduceMean([buf]);
      const batch = batchFor(floats);
      const samplesMs: number[] = [];
      for (let r = 0; r < job.repeat; r++) {
        await g.barrier();
        const t0 = performance.now();
        for (let b = 0; b < batch; b++) await g.allReduceMean([buf]);
        samplesMs.push((performance.now() - t0) / batch);
      }
      // The mean of ranks' values 1 … n is (n + 1) / 2, and stays so under repeated means.
      const expected = (g.worldSize + 1) / 2;
      for (let i = 0; i < floats; i += Math.max(1, floats >> 10)) {
        if (Math.abs(buf[i] - expected) > 1e-5) throw new Error(`wrong result at ${i}: ${buf[i]} instead of ${expected}`);
      }
      if (g.rank === 0) await send({ type: 'result', result: { floats, samplesMs, batch } });
    }
  } finally {
    await g.close();
  }
}

process.once('message', (job: BenchWorkerJob) => {
  run(job).then(
    () => send({ type: 'done' }),
    (e: unknown) => send({ type: 'error', message: e instanceof Error ? e.message : String(e) }).then(() => {
      process.exitCode = 1;
    }),
  );
});
