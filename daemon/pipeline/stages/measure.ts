// Stage 4, measure: subnets of the trained supernet measured for real — batch norm recalibrated on training examples,
// then the task's metric on the validation split (and the test split for the front). The predictor's training set
// is saved to the run folder, so a resumed run does not measure again.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../engine/rng';
import type { Arch } from '../../ofa/arch';
import type { Task } from '../../ofa/task';
import { formatMetric as formatHeadline } from '../../protocol/results';
import { sampleSubnetsToMeasure } from '../../search/measure';
import { evaluateSubnet } from '../../train/evaluate';
import { RunStopped, stoppable, type RunContext } from '../context';
import { MEASUREMENTS_FILE } from '../run-folder';
import type { Efficiency } from './efficiency';

/** Sub-stream of the run seed for the choice of measured subnets. */
const MEASURE_STREAM = 101;

export interface MeasureOptions {
  /** Training examples for batch-norm recalibration (training.bnCalibrationSize). */
  calibrationSize: number;
  batchSize: number;
  /** Also measure on the test split (the front's final numbers); validation is always measured. */
  test?: boolean;
  signal?: AbortSignal;
}

export interface MeasuredSubnet {
  arch: Arch;
  /** The task's headline metric (accuracy for classification) on the validation split. */
  validationAccuracy: number;
  validationLoss: number;
  testAccuracy?: number;
  testLoss?: number;
}

export function measureOptions(ctx: RunContext): MeasureOptions {
  const t = ctx.config.training;
  return { calibrationSize: t.bnCalibrationSize, batchSize: Math.max(t.batchSize, 100), signal: ctx.signal };
}

/**
 * Measures every arch in order; `onMeasured` sees each result as it comes (progress events, export). The supernet's
 * batch-norm statistics are left as the last arch's. A pure function of an arch list → results, so the list can be
 * split across workers and the parts concatenated.
 */
export async function measureSubnets(
  task: Task,
  archs: readonly Arch[],
  opts: MeasureOptions,
  onMeasured?: (m: MeasuredSubnet, index: number) => void | Promise<void>,
): Promise<MeasuredSubnet[]> {
  const out: MeasuredSubnet[] = [];
  for (const arch of archs) {
    if (opts.signal?.aborted) throw new RunStopped('measurement stopped');
    const base = { calibrationSize: opts.calibrationSize, batchSize: opts.batchSize };
    const validation = await evaluateSubnet(task, arch, { ...base, split: 'validation' });
    const m: MeasuredSubnet = { arch, validationAccuracy: validation.accuracy, validationLoss: validation.loss };
    if (opts.test) {
      // Same batch-norm statistics as the validation pass: no second recalibration.
      const test = await evaluateSubnet(task, arch, { ...base, split: 'test', recalibrate: false });
      m.testAccuracy = test.accuracy;
      m.testLoss = test.loss;
    }
    out.push(m);
    await onMeasured?.(m, out.length - 1);
    await new Promise((r) => setImmediate(r)); // stop requests and telemetry get their turn between subnets
  }
  return out;
}

/** The predictor's training set: `search.measuredSubnets` subnets spread over the cost range (reused on resume). */
export async function measureStage(ctx: RunContext, task: Task, efficiency: Efficiency): Promise<MeasuredSubnet[]> {
  const s = ctx.config.search;
  const space = task.space;
  const file = join(ctx.runDir, MEASUREMENTS_FILE);
  const earlier = ctx.resume ? readMeasurements(file, space) : undefined;
  if (earlier) return earlier;
  const model = efficiency.model;
  const archs = sampleSubnetsToMeasure(space, s.measuredSubnets, Rng.derive(ctx.config.seed, MEASURE_STREAM), (arch) => model.objectiveCost(model.costs(arch), s.objective));
  if (archs.length < s.measuredSubnets) ctx.warn(`the search space has only ${archs.length} distinct subnets; measured all of them`);
  ctx.progress('measure', 0, archs.length, 'measuring subnets');
  const measured = await stoppable(ctx, 'stopped during the search; resume repeats the search from the trained supernet', () =>
    measureSubnets(task, archs, measureOptions(ctx), (m, i) => {
      const c = model.costs(m.arch);
      ctx.emit('measure.progress', { done: i + 1, total: archs.length, arch: m.arch, accuracy: m.validationAccuracy, macs: c.macs, params: c.params });
      ctx.progress('measure', i + 1, archs.length, `last ${formatMetric(task, m.validationAccuracy)}`);
    }),
  );
  writeFileSync(file, JSON.stringify({ format: 1, measured }) + '\n');
  return measured;
}

/** A metric value for a progress line, as every client shows it (daemon/protocol/results.ts). */
export function formatMetric(task: Task, value: number): string {
  return formatHeadline(task.metricInfo.name, value);
}

/** Finished measurements of an earlier attempt of this run, if they fit this search space. */
function readMeasurements(file: string, space: { validate(a: Arch): void }): MeasuredSubnet[] | undefined {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { format?: number; measured?: MeasuredSubnet[] };
    if (v.format !== 1 || !Array.isArray(v.measured) || v.measured.length === 0) return undefined;
    for (const m of v.measured) {
      space.validate(m.arch);
      if (typeof m.validationAccuracy !== 'number') return undefined;
    }
    return v.measured;
  } catch {
    return undefined;
  }
}
