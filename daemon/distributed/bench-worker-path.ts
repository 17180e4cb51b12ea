// What the allreduce bench says to its child processes and hears back, and where the child entry is: beside this
// file as bench-worker.ts when running from sources (under tsx), or as allreduce-worker.js beside the bundle
// (esbuild builds daemon/distributed/bench-worker.ts to dist/allreduce-worker.js).
import * as path from 'node:path';
import type { GroupOptions } from './options';

export function benchWorker(): { file: string; execArgv: string[] } {
  const fromSources = __filename.endsWith('.ts');
  return fromSources ? { file: path.join(__dirname, 'bench-worker.ts'), execArgv: ['--import', 'tsx'] } : { file: path.join(__dirname, 'allreduce-worker.js'), execArgv: [] };
}

export interface BenchWorkerJob {
  opts: Omit<GroupOptions, 'signal'>;
  floats: number[];
  warmup: number;
  repeat: number;
}

export interface BenchWorkerResult {
  floats: number;
  /** One sample per repetition: the mean time of `batch` back-to-back all-reduces, ms. */
  samplesMs: number[];
  batch: number;
}

export type BenchWorkerReply = { type: 'result'; result: BenchWorkerResult } | { type: 'done' } | { type: 'error'; message: string };

/** All-reduces per sample: enough that each sample lasts tens of ms; the same on every rank (it is collective). */
export function batchFor(floats: number): number {
  return Math.min(50, Math.max(3, Math.round(2 ** 25 / Math.max(1, floats))));
}

