// Bench `scaling`: supernet training throughput (images/s) with 1 worker and with N worker processes on this host,
// for both distributed algorithms, the per-worker batch fixed (N× the global batch) and the global batch fixed.
// Each configuration is a real job (the train stage's workers and collectives), timed over its steps after warm-up.
import { availableParallelism, tmpdir } from 'node:os';
import { validateConfig, type ResolvedConfig } from '../../../schemas';
import { initEngine, type BackendChoice } from '../../engine';
import { OFA_MBV3_UNITS } from '../../ofa';
import { freeLoopbackPort } from '../../pipeline/distributed/free-port';
import { trainHostShare } from '../../pipeline/distributed/host-share';
import { planJob } from '../../pipeline/distributed/plan';
import type { Emit, TelemetryEvents } from '../../protocol/events';
import type { DistributedAlgorithm } from '../../protocol/values';
import { createTask } from '../../tasks';
import { trainSupernet } from '../../train/train-supernet';
import { median, type BenchOptions, type BenchRow, type BenchSuite } from './index';

const WARMUP_STEPS = 2;

function benchConfig(algorithm: DistributedAlgorithm, workers: number, globalBatch: number, steps: number, backend: string): ResolvedConfig {
  const r = validateConfig({
    name: 'bench-scaling',
    task: 'classification',
    backend,
    data: { kind: 'synthetic', classes: 10, imageSize: 32, trainSize: globalBatch * (steps + 1), validationSize: 16, testSize: 16 },
    supernet: { units: OFA_MBV3_UNITS, resolutionChoices: [32] },
    training: {
      batchSize: globalBatch,
      subnetsPerStep: 2,
      stepsPerEpoch: steps,
      bnCalibrationSize: 16,
      evaluationSize: 16,
      checkpointEverySteps: 100_000,
      phases: [{ phase: 'expand', epochs: 1, kernel: [3, 5, 7], depth: [2, 3, 4], expand: [3, 4, 6] }],
    },
    distributed: { algorithm, workersPerHost: workers, nodesPerHost: algorithm === 'subnet-parallel' ? workers : 1, timeoutSeconds: 600 },
  });
  if (!r.ok) throw new Error(`bench config invalid: ${JSON.stringify(r.problems)}`);
  return r.config;
}

/**
 * Images per second of one job, over its steps after the warm-up (the closing evaluation not counted), and the mean
 * time a step spent in the all-reduce (rank 0's, from the `workers` events).
 */
async function throughput(config: ResolvedConfig, log: (l: string) => void): Promise<{ imgPerSec: number; allReduceMs: number }> {
  const stamps: number[] = [];
  const reduceMs: number[] = [];
  const emit: Emit = (kind, data) => {
    if (kind === 'workers') {
      const w = (data as TelemetryEvents['workers']).workers[0];
      if (w && w.allReduceMs > 0) reduceMs.push(w.allReduceMs);
    }
  };
  const onProgress = (): void => void stamps.push(performance.now());
  const task = await createTask(config, { baseDir: tmpdir() });
  try {
    const plan = planJob(config, undefined, { cores: availableParallelism(), gpus: 0 }, await freeLoopbackPort());
    if (!plan) await trainSupernet(config, task, { emit, onProgress, stepEventIntervalMs: 0 });
    else await trainHostShare(config, task, plan, { configDir: tmpdir(), log: (level, message) => log(`${level}: ${message}`), emit, onProgress, stepEventIntervalMs: 0 });
  } finally {
    task.dispose();
  }
  const times = stamps.slice(WARMUP_STEPS).map((t, i) => t - stamps[WARMUP_STEPS + i - 1]);
  return { imgPerSec: (config.training.batchSize * 1000) / median(times), allReduceMs: reduceMs.length ? median(reduceMs.slice(WARMUP_STEPS)) : 0 };
}

export const suite: BenchSuite = {
  name: 'scaling',
  describe: 'supernet training throughput with 1 and N workers, both algorithms (per-worker and global batch fixed)',
  async run(opts: BenchOptions, log): Promise<BenchRow[]> {
    const workers = Number(opts.extra.workers ?? Math.max(2, Math.min(availableParallelism(), 4)));
    const batch = Number(opts.extra.batch ?? 32);
    const steps = WARMUP_STEPS + Math.max(3, opts.repeat);
    const backend = opts.backend ?? 'wasm';
    const info = await initEngine({ backend: backend as BackendChoice });
    log(`backend ${info.backend} (${info.device}); ${workers} workers, batch ${batch} per worker, ${steps} steps per job`);
    const rows: BenchRow[] = [];
    for (const algorithm of ['data-parallel', 'subnet-parallel'] as const) {
      const single = (await throughput(benchConfig(algorithm, 1, batch, steps, info.backend), log)).imgPerSec;
      rows.push({ suite: 'scaling', algorithm, workers: 1, fixed: 'per-worker-batch', batch, imgPerSec: single });
      log(`${algorithm}: 1 worker ${single.toFixed(1)} img/s`);
      const perWorker = await throughput(benchConfig(algorithm, workers, batch * workers, steps, info.backend), log);
      rows.push({ suite: 'scaling', algorithm, workers, fixed: 'per-worker-batch', batch: batch * workers, imgPerSec: perWorker.imgPerSec, allReduceMs: perWorker.allReduceMs, speedup: perWorker.imgPerSec / single });
      log(`${algorithm}: ${workers} workers, batch ${batch} each: ${perWorker.imgPerSec.toFixed(1)} img/s (${(perWorker.imgPerSec / single).toFixed(2)}×), all-reduce ${perWorker.allReduceMs.toFixed(0)} ms/step`);
      const globalSingle = (await throughput(benchConfig(algorithm, 1, batch * workers, steps, info.backend), log)).imgPerSec;
      const global = await throughput(benchConfig(algorithm, workers, batch * workers, steps, info.backend), log);
      rows.push({ suite: 'scaling', algorithm, workers: 1, fixed: 'global-batch', batch: batch * workers, imgPerSec: globalSingle });
      rows.push({ suite: 'scaling', algorithm, workers, fixed: 'global-batch', batch: batch * workers, imgPerSec: global.imgPerSec, allReduceMs: global.allReduceMs, speedup: global.imgPerSec / globalSingle });
      log(`${algorithm}: global batch ${batch * workers}: 1 worker ${globalSingle.toFixed(1)}, ${workers} workers ${global.imgPerSec.toFixed(1)} img/s (${(global.imgPerSec / globalSingle).toFixed(2)}×)`);
    }
    return rows;
  },
};
