// `manta evaluate`: a searched network of a finished run measured on other data — the run's config with its `data`
// block replaced, checked like any config; the network as exported (the run's final supernet, batch norms
// recalibrated for the arch on the run's own training data); then every metric of the task over a split of the new
// data. Task-agnostic: the task's `metricSums` says what is measured.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ResolvedConfig } from '../../schemas';
import { ConfigError, inspectConfig, type ConfigIssue } from '../../schemas/load-config';
import { tf } from '../engine';
import type { Arch } from '../ofa/arch';
import type { MetricSum, Task } from '../ofa/task';
import { UserError } from '../protocol/user-error';
import { readResults } from '../search/results';
import { createTask } from '../tasks';
import { evaluateSubnet } from '../train/evaluate';
import { openRun } from './open-run';
import { CONFIG_FILE, RESULTS_FILE } from './run-folder';

export type EvaluationSplit = 'validation' | 'test';

/** A config's `data` block as read from a file: its value, the file (messages) and where its relative paths resolve. */
export interface DataBlock {
  value: unknown;
  source: string;
  baseDir: string;
}

export interface EvaluateRunOptions {
  /** An arch, or the index of a point of the run's front (results.json). */
  arch: Arch | number;
  data: DataBlock;
  /** Default 'test'. */
  split?: EvaluationSplit;
  warn?: (message: string) => void;
  onProgress?: (p: EvaluationProgress) => void;
}

export interface EvaluationProgress {
  stage: 'open' | 'calibrate' | 'measure';
  /** Examples measured so far (measure). */
  done: number;
  detail?: string;
}

export interface RunEvaluation {
  runId: string;
  /** The front point's index when `--arch` named one. */
  frontIndex?: number;
  arch: Arch;
  split: EvaluationSplit;
  /** Examples measured. */
  count: number;
  /** Each of the task's metrics, averaged over the split (sum / count). */
  metrics: Record<string, number>;
  /** The data, as its task describes it. */
  data: string;
}

export class EvaluateError extends UserError {
  constructor(message: string, reason = 'run.evaluate') {
    super(message, reason);
  }
}

export async function evaluateRun(runDir: string, opts: EvaluateRunOptions): Promise<RunEvaluation> {
  const dir = resolve(runDir);
  const split = opts.split ?? 'test';
  const warn = opts.warn ?? (() => undefined);
  if (!existsSync(join(dir, CONFIG_FILE))) throw new EvaluateError(`${dir} is not a MANTA run directory (no ${CONFIG_FILE})`, 'run.open');
  // Only a finished run has the final supernet and a front to pick from.
  const results = readResults(join(dir, RESULTS_FILE));
  let arch: Arch;
  let frontIndex: number | undefined;
  if (typeof opts.arch === 'number') {
    const entry = Number.isInteger(opts.arch) ? results.front[opts.arch] : undefined;
    if (!entry) {
      const n = results.front.length;
      throw new EvaluateError(`--arch ${opts.arch}: the run's front has ${n} entr${n === 1 ? 'y' : 'ies'}${n > 0 ? ` (0…${n - 1})` : ''}`, 'run.bad-arch');
    }
    arch = entry.arch;
    frontIndex = opts.arch;
  } else {
    arch = opts.arch;
  }

  // The data is checked before anything heavy is loaded.
  const runConfig = readRunConfig(dir);
  const config = configWithData(runConfig, opts.data, warn);

  opts.onProgress?.({ stage: 'open', done: 0, detail: 'loading the run' });
  const run = await openRun(dir, { warn });
  let source: Task | undefined = run.task;
  let target: Task | undefined;
  try {
    try {
      run.task.space.validate(arch);
    } catch (e) {
      throw new EvaluateError(`--arch does not fit this run's search space: ${(e as Error).message}`, 'run.bad-arch');
    }
    const batchSize = Math.max(run.config.training.batchSize, 100);
    opts.onProgress?.({ stage: 'calibrate', done: 0, detail: "recalibrating batch norms on the run's training data" });
    // evaluateSubnet recalibrates exactly as the run's measurements and `manta export` do; the one example it then
    // measures is only a by-product.
    await evaluateSubnet(run.task, arch, { calibrationSize: run.config.training.bnCalibrationSize, batchSize, split: 'validation', limit: 1 });

    const dataTask = await createTaskFor(config, opts.data, run.config.task);
    target = dataTask;
    copyWeights(run.task, dataTask, opts.data.source, warn);
    source.dispose(); // its part is done: free it before measuring
    source = undefined;

    const measured = measure(dataTask, arch, split, batchSize, (done, headline) =>
      opts.onProgress?.({ stage: 'measure', done, detail: `${dataTask.metricInfo.name} ${headline.toPrecision(4)}` }),
    );
    return {
      runId: results.runId,
      ...(frontIndex === undefined ? {} : { frontIndex }),
      arch,
      split,
      count: measured.count,
      metrics: measured.metrics,
      data: dataTask.data.describe,
    };
  } finally {
    source?.dispose();
    target?.dispose();
  }
}

function readRunConfig(dir: string): ResolvedConfig {
  // openRun checks it fully later; here it is the base the data block goes into.
  try {
    return JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')) as ResolvedConfig;
  } catch (e) {
    throw new EvaluateError(`cannot read ${join(dir, CONFIG_FILE)}: ${(e as Error).message}`, 'run.open');
  }
}

/**
 * The run's config with `data` replaced, through the same checks as every config (schema, checks across fields,
 * dataset files): refused as a ConfigError whose pointers point into the data file. Warnings the run's own config
 * does not have are passed on.
 */
export function configWithData(runConfig: ResolvedConfig, data: DataBlock, warn: (m: string) => void): ResolvedConfig {
  const inspected = inspectConfig({ value: { ...runConfig, data: data.value }, source: data.source }, { baseDir: data.baseDir });
  const errors = inspected.problems.filter((p) => p.severity === 'error');
  if (errors.length > 0 || !inspected.config) throw new ConfigError(data.source, errors.map(intoDataFile));
  const known = new Set(inspectConfig({ value: runConfig }).problems.map((p) => `${p.path}|${p.message}`));
  for (const w of inspected.problems) {
    if (w.severity === 'warning' && !known.has(`${w.path}|${w.message}`)) {
      const p = intoDataFile(w);
      warn(`${data.source}: ${p.path ? p.path + ': ' : ''}${p.message}`);
    }
  }
  return inspected.config;
}

/** A problem of the whole config as one of the data file: '/data/kind' → '/kind'; others name the run's field. */
function intoDataFile(p: ConfigIssue): ConfigIssue {
  if (p.path === '/data' || p.path.startsWith('/data/')) {
    // Schema and file-check messages begin with a pointer (the field's, or its parent's): rewrite it there too.
    const lead = /^\/data(\/\S*)?(?=\s|$)/.exec(p.message);
    const message = lead ? (lead[1] ?? 'the data block') + p.message.slice(lead[0].length) : p.message;
    return { ...p, path: p.path.slice('/data'.length), message };
  }
  return { ...p, path: '', message: `the run's ${p.path || 'config'}: ${p.message}` };
}

async function createTaskFor(config: ResolvedConfig, data: DataBlock, runTask: string): Promise<Task> {
  try {
    return await createTask(config, { baseDir: data.baseDir });
  } catch (e) {
    if (e instanceof UserError) throw new EvaluateError(`${data.source} does not fit this run (task '${runTask}'): ${e.message}`, 'run.data-mismatch');
    throw e;
  }
}

/**
 * The run's recalibrated supernet into the task over the new data. Refused when the network cannot take the data
 * (weights of other shapes), naming what differs in how the two tasks describe their input.
 */
function copyWeights(from: Task, to: Task, source: string, warn: (m: string) => void): void {
  const differences = describeDifferences(from.inputDescription(), to.inputDescription());
  const weights = from.supernet.getWeights();
  try {
    to.supernet.setWeights(weights);
  } catch (e) {
    const what = differences.length > 0 ? differences.join('; ') : (e as Error).message;
    throw new EvaluateError(`${source} does not fit the run's network: ${what}`, 'run.data-mismatch');
  } finally {
    tf.dispose(Object.values(weights));
  }
  // The network takes the data, but it was trained on inputs described otherwise (e.g. their normalization).
  for (const d of differences) warn(`${source}: ${d}; measuring as given`);
}

/** Each entry of the two input descriptions that differs, e.g. "channels: 3 in the run's network, 1 in the data". */
function describeDifferences(run: Record<string, unknown>, data: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(run), ...Object.keys(data)])) {
    const a = JSON.stringify(run[key]) ?? 'none';
    const b = JSON.stringify(data[key]) ?? 'none';
    if (a === b) continue;
    out.push(a.length + b.length <= 80 ? `${key}: ${a} in the run's network, ${b} in the data` : `${key}: not the same in the run's network and the data`);
  }
  return out;
}

/** Inference over a split: the task's metric sums added over batches, then each mean. */
function measure(task: Task, arch: Arch, split: EvaluationSplit, batchSize: number, onBatch: (done: number, headline: number) => void): { count: number; metrics: Record<string, number> } {
  const sums: Record<string, MetricSum> = {};
  let count = 0;
  for (const batch of task.data.evalBatches(split, batchSize)) {
    tf.tidy(() => {
      const { x, y } = task.tensors(batch, arch.r);
      // As the run's measurements compute (daemon/train/evaluate.ts), so its own data gives the run's figures.
      const outputs = task.supernet.forward(x, arch, { training: false, foldBatchNorm: true });
      for (const [name, s] of Object.entries(task.metricSums(outputs, y))) {
        const total = (sums[name] ??= { sum: 0, count: 0 });
        total.sum += s.sum;
        total.count += s.count;
      }
    });
    count += batch.size;
    const headline = sums[task.metricInfo.name];
    onBatch(count, headline && headline.count > 0 ? headline.sum / headline.count : NaN);
  }
  if (count === 0) throw new EvaluateError(`the ${split} split of the data is empty`, 'data.empty');
  const metrics: Record<string, number> = {};
  for (const [name, s] of Object.entries(sums)) metrics[name] = s.count > 0 ? s.sum / s.count : NaN;
  return { count, metrics };
}
