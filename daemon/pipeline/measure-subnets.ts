// Measuring subnets of a trained supernet for real: batch norm recalibrated on the run's calibration subset, then the
// task's metric on the validation split (and the test split for the front). A pure function of an arch list →
// results, so the list can be split across processes (measure-pool.ts) and the parts put together.
import type { Arch } from '../ofa/arch';
import type { Task } from '../ofa/task';
import { evaluateSubnet } from '../train/evaluate';
import { RunStopped } from './context';

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

/**
 * Measures every arch in order; `onMeasured` sees each result as it comes (progress events, export). The supernet's
 * batch-norm statistics are left as the last arch's.
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
