// Measuring subnets with several processes: measureSubnets is a pure function of an arch list, so on a CPU backend
// that computes on one thread (wasm, cpu) the list is shared out to helper processes — one per core, each with the
// task built from the same config and the supernet's weights sent over IPC — and each helper is handed the next arch
// from one queue as it finishes the last (subnets differ in cost). The run's own process only hands out archs: it
// answers at once (a process busy measuring would leave the helpers waiting for their next arch, and its first
// message, the weights, half sent). The figures are the same as in one process: the same weights, the same
// calibration subset, the same split. Built to dist/measure-worker.js.
import { fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import type { ResolvedConfig } from '../../schemas';
import { tf } from '../engine';
import type { Arch } from '../ofa/arch';
import type { Task } from '../ofa/task';
import { RunStopped } from './context';
import { measureSubnets, type MeasuredSubnet, type MeasureOptions } from './measure-subnets';

/** Run process → measure worker. */
export type ToMeasureWorker =
  | { type: 'start'; config: ResolvedConfig; configDir: string; weights: Record<string, { shape: number[]; data: Float32Array }>; opts: Omit<MeasureOptions, 'signal'> }
  | { type: 'measure'; index: number; arch: Arch }
  | { type: 'done' };

/** Measure worker → run process. */
export type FromMeasureWorker =
  /** Started: ready for its first arch. */
  | { type: 'ready' }
  /** An arch measured: ready for the next. */
  | { type: 'measured'; index: number; measured: MeasuredSubnet }
  | { type: 'failed'; message: string };

export function measureWorkerPath(): string {
  const fromSources = __filename.endsWith('.ts');
  return path.join(__dirname, fromSources ? 'measure-worker.ts' : 'measure-worker.js');
}

/**
 * How many processes measure: one per core (at most 4) on a backend that computes on one thread, where a subnet's
 * measurement is bound by that thread; one on the others (tfjs-node uses every core, a GPU is one device), and one
 * for a short list (a worker's start — building the task, loading the data — would not pay for itself).
 */
export function measureProcesses(backend: string, archs: number, cores = cpus().length): number {
  if (backend !== 'wasm' && backend !== 'cpu') return 1;
  return Math.max(1, Math.min(cores, 4, Math.floor(archs / 8)));
}

export interface ParallelMeasureOptions extends MeasureOptions {
  config: ResolvedConfig;
  configDir: string;
  /** The processes that measure (measureProcesses): with more than one, that many helpers and this one hands out. */
  processes: number;
  /** A helper process failed: its arch goes back to the queue and the others go on. */
  warn: (message: string) => void;
}

/**
 * measureSubnets over `processes` processes; `onMeasured` sees each result as it comes (in completion order) with
 * the count done so far. Results are in `archs` order.
 */
export async function measureInParallel(
  task: Task,
  archs: readonly Arch[],
  opts: ParallelMeasureOptions,
  onMeasured?: (m: MeasuredSubnet, done: number) => void | Promise<void>,
): Promise<MeasuredSubnet[]> {
  const base: MeasureOptions = { calibrationSize: opts.calibrationSize, batchSize: opts.batchSize, ...(opts.test ? { test: true } : {}) };
  if (opts.processes <= 1 || archs.length < 2) {
    let done = 0;
    return measureSubnets(task, archs, { ...base, signal: opts.signal }, (m) => onMeasured?.(m, ++done));
  }
  const results: (MeasuredSubnet | undefined)[] = new Array(archs.length);
  const queue = archs.map((_, i) => i);
  let done = 0;
  let failure: Error | undefined;
  const record = async (index: number, m: MeasuredSubnet): Promise<void> => {
    results[index] = m;
    await onMeasured?.(m, ++done);
  };

  const weights = task.supernet.getWeights();
  const plain: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(weights)) plain[name] = { shape: t.shape, data: t.dataSync() as Float32Array };
  tf.dispose(Object.values(weights));

  const helpers: Promise<void>[] = [];
  const children: ChildProcess[] = [];
  for (let h = 0; h < opts.processes; h++) {
    const child = fork(measureWorkerPath(), [], {
      execArgv: measureWorkerPath().endsWith('.ts') ? ['--import', 'tsx'] : [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    children.push(child);
    helpers.push(runHelper(child, h, opts, base, plain, queue, archs, record));
  }
  const stopHelpers = (): void => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };
  opts.signal?.addEventListener('abort', stopHelpers, { once: true });
  try {
    await Promise.race([Promise.all(helpers), new Promise<never>((_, reject) => opts.signal?.addEventListener('abort', () => reject(new RunStopped('measurement stopped')), { once: true }))]);
  } catch (e) {
    failure = e as Error;
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', stopHelpers);
    if (failure) stopHelpers();
  }
  // Whatever the helpers left (every one of them failed) is measured here.
  for (let i = 0; i < archs.length; i++) {
    if (results[i]) continue;
    if (opts.signal?.aborted) throw new RunStopped('measurement stopped');
    const [m] = await measureSubnets(task, [archs[i]], base);
    await record(i, m);
  }
  return results as MeasuredSubnet[];
}

/** One helper process: hands it archs from the queue until the queue is empty; its failure only warns. */
function runHelper(
  child: ChildProcess,
  id: number,
  opts: ParallelMeasureOptions,
  base: MeasureOptions,
  weights: Record<string, { shape: number[]; data: Float32Array }>,
  queue: number[],
  archs: readonly Arch[],
  record: (index: number, m: MeasuredSubnet) => Promise<void>,
): Promise<void> {
  return new Promise((resolve) => {
    let current: number | undefined;
    let finished = false;
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        for (const line of text.split('\n')) if (line.trim() && !line.startsWith('var Module')) (tail.push(line), tail.length > 5 && tail.shift());
      });
    }
    const end = (why?: string): void => {
      if (finished) return;
      finished = true;
      if (current !== undefined) queue.unshift(current); // measured by another process instead
      current = undefined;
      if (why && !opts.signal?.aborted) opts.warn(`measurement helper ${id} ${why}${tail.length ? `: ${tail[tail.length - 1]}` : ''}; the other processes measure its share`);
      if (child.connected) child.send({ type: 'done' } satisfies ToMeasureWorker);
      resolve();
    };
    const next = (): void => {
      if (finished) return;
      current = queue.shift();
      if (current === undefined) return end();
      child.send({ type: 'measure', index: current, arch: archs[current] } satisfies ToMeasureWorker);
    };
    child.on('message', (m: FromMeasureWorker) => {
      if (m.type === 'ready') next();
      else if (m.type === 'measured') {
        if (m.index !== current) return end(`answered for arch ${m.index} while measuring ${current}`);
        current = undefined;
        void record(m.index, m.measured).then(next, (e: Error) => end(`'s result could not be recorded (${e.message})`));
      } else if (m.type === 'failed') end(`failed (${m.message})`);
    });
    child.on('exit', (code, signal) => end(signal ? `was killed (${signal})` : code === 0 ? undefined : `exited with code ${code}`));
    child.on('error', (e) => end(`could not start (${e.message})`));
    const { signal: _signal, ...measure } = base;
    child.send({ type: 'start', config: opts.config, configDir: opts.configDir, weights, opts: measure } satisfies ToMeasureWorker);
  });
}
