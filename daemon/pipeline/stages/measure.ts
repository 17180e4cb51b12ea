// Stage 4, measure: subnets of the trained supernet measured for real — batch norm recalibrated on the run's fixed
// calibration subset, then the task's metric on the validation split (and the test split for the front), in large
// batches and, on a single-threaded CPU backend, by one process per core (measure-pool.ts). The predictor's training
// set is saved to the run folder, so a resumed run does not measure again.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../engine/rng';
import type { Arch } from '../../ofa/arch';
import type { Task } from '../../ofa/task';
import { formatMetric as formatHeadline } from '../../protocol/results';
import { sampleSubnetsToMeasure } from '../../search/measure';
import { tf } from '../../engine';
import { measureInParallel, measureProcesses } from '../measure-pool';
import { measureSubnets, type MeasuredSubnet, type MeasureOptions } from '../measure-subnets';
import { stoppable, type RunContext } from '../context';
import { MEASUREMENTS_FILE } from '../run-folder';
import type { Efficiency } from './efficiency';

/** Sub-stream of the run seed for the choice of measured subnets. */
const MEASURE_STREAM = 101;

export { measureSubnets, type MeasuredSubnet, type MeasureOptions };

/** The most input values (examples × values per example) one measuring forward pass takes at once. */
const MEASURE_BATCH_VALUES = 4_000_000;

/**
 * How subnets are measured in this run: recalibrated on the run's fixed calibration subset of
 * `training.bnCalibrationSize` images (daemon/train/evaluate.ts), measured in large batches (as many examples as make
 * about 4M input values, between the training batch and 500: Fashion-MNIST's 28×28 takes 500 at a time, a stereo
 * pair of 256×512 its training batch).
 */
export function measureOptions(ctx: RunContext, task: Task): MeasureOptions {
  const t = ctx.config.training;
  return { calibrationSize: t.bnCalibrationSize, batchSize: measureBatchSize(task, t.batchSize), signal: ctx.signal };
}

const batchSizes = new WeakMap<Task, number>();

function measureBatchSize(task: Task, trainingBatch: number): number {
  let size = batchSizes.get(task);
  if (size === undefined) {
    const [first] = task.data.evalBatches('validation', 1, 1);
    const values = first ? tf.tidy(() => task.tensors(first).x.size) : 1;
    size = Math.max(trainingBatch, Math.min(500, Math.floor(MEASURE_BATCH_VALUES / values)));
    batchSizes.set(task, size);
  }
  return size;
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
  const processes = measureProcesses(tf.getBackend(), archs.length);
  ctx.progress('measure', 0, archs.length, processes > 1 ? `measuring subnets (${processes} processes)` : 'measuring subnets');
  const started = Date.now();
  const measured = await stoppable(ctx, 'stopped during the search; resume repeats the search from the trained supernet', () =>
    measureInParallel(task, archs, { ...measureOptions(ctx, task), config: ctx.config, configDir: ctx.configDir, processes, warn: (m) => ctx.warn(m) }, (m, done) => {
      const c = model.costs(m.arch);
      ctx.emit('measure.progress', { done, total: archs.length, arch: m.arch, accuracy: m.validationAccuracy, macs: c.macs, params: c.params });
      ctx.progress('measure', done, archs.length, `last ${formatMetric(task, m.validationAccuracy)}`);
    }),
  );
  const minutes = (Date.now() - started) / 60_000;
  ctx.emit('log', { level: 'info', message: `measured ${archs.length} subnets in ${(minutes * 60).toFixed(0)} s (${(archs.length / minutes).toFixed(0)} per minute, ${processes} process${processes > 1 ? 'es' : ''})` });
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
