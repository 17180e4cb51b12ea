// Measuring subnets of the trained supernet for real: batch norm recalibrated on training images, then accuracy on a
// split (train's evaluateSubnet). A pure function of an arch list → results, so the list can later be split across
// workers and the parts concatenated.
import type { Rng } from '../engine/rng';
import type { Dataset } from '../data';
import type { Arch } from '../ofa/arch';
import type { SearchSpace } from '../ofa/space';
import type { Task } from '../ofa/task';
import type { SampleSpace } from '../protocol/events';
import { evaluateSubnet } from '../train/evaluate';

export interface MeasureOptions {
  /** Training images for batch-norm recalibration (training.bnCalibrationSize). */
  calibrationSize: number;
  batchSize: number;
  /** Also measure on the test split (the front's final numbers); validation is always measured. */
  test?: boolean;
  signal?: AbortSignal;
}

export interface MeasuredSubnet {
  arch: Arch;
  validationAccuracy: number;
  validationLoss: number;
  testAccuracy?: number;
  testLoss?: number;
}

export class MeasurementStoppedError extends Error {
  override name = 'MeasurementStoppedError';
}

/**
 * Measures every arch in order; `onMeasured` sees each result as it comes (progress events). The supernet's batch-norm
 * statistics are left as the last arch's.
 */
export async function measureSubnets(
  task: Task,
  dataset: Dataset,
  archs: readonly Arch[],
  opts: MeasureOptions,
  onMeasured?: (m: MeasuredSubnet, index: number) => void,
): Promise<MeasuredSubnet[]> {
  const out: MeasuredSubnet[] = [];
  for (const arch of archs) {
    if (opts.signal?.aborted) throw new MeasurementStoppedError('measurement stopped');
    const base = { calibrationSize: opts.calibrationSize, batchSize: opts.batchSize };
    const validation = await evaluateSubnet(task, arch, dataset, { ...base, split: 'validation' });
    const m: MeasuredSubnet = { arch, validationAccuracy: validation.accuracy, validationLoss: validation.loss };
    if (opts.test) {
      // Same batch-norm statistics as the validation pass: no second recalibration.
      const test = await evaluateSubnet(task, arch, dataset, { ...base, split: 'test', recalibrate: false });
      m.testAccuracy = test.accuracy;
      m.testLoss = test.loss;
    }
    out.push(m);
    onMeasured?.(m, out.length - 1);
    await new Promise((r) => setImmediate(r)); // stop requests and telemetry get their turn between subnets
  }
  return out;
}

/**
 * `count` distinct subnets to measure for the predictor: the smallest and the largest (the ends of the cost range),
 * then — when a cost is given — half spread evenly over the cost range (one per equal-width cost bin, so the rare
 * cheap and expensive subnets where the front's ends lie are measured too), the rest uniformly at random (OFA's
 * sampling, representative of the space). Draws are bounded, so a small space yields fewer subnets rather than
 * looping forever.
 */
export function sampleSubnetsToMeasure(space: SearchSpace, count: number, rng: Rng, cost?: (arch: Arch) => number): Arch[] {
  const seen = new Set<string>();
  const out: Arch[] = [];
  const add = (arch: Arch): void => {
    const key = space.key(arch);
    if (!seen.has(key) && out.length < count) {
      seen.add(key);
      out.push(space.canonical(arch));
    }
  };
  add(space.smallest());
  add(space.largest());
  if (cost) {
    const spread = Math.ceil(count / 2);
    // The pool reaches the extremes: each draw picks a size t and samples every choice near t (from the search
    // space's own lists, restricted), or is uniform.
    const pool = Array.from({ length: spread * 20 }, (_, i) => (i % 2 ? space.sample(rng) : space.sample(rng, sizedChoices(space, rng.next())))).map((arch) => ({
      arch,
      cost: cost(arch),
    }));
    const lo = Math.min(...pool.map((p) => p.cost));
    const hi = Math.max(...pool.map((p) => p.cost));
    const bins: Arch[][] = Array.from({ length: spread }, () => []);
    for (const p of pool) bins[Math.min(spread - 1, Math.floor(((p.cost - lo) / (hi - lo || 1)) * spread))].push(p.arch);
    for (const bin of rng.shuffle(bins.filter((b) => b.length > 0))) {
      if (out.length >= spread) break;
      add(rng.pick(bin));
    }
  }
  for (let draws = 0; out.length < count && draws < count * 50; draws++) add(space.sample(rng));
  return out;
}

/** The choices nearest the relative size t ∈ [0, 1] in each list (one or two of them). */
function sizedChoices(space: SearchSpace, t: number): SampleSpace {
  const near = (list: readonly number[]): number[] => {
    const x = t * (list.length - 1);
    return [...new Set([list[Math.floor(x)], list[Math.ceil(x)]])];
  };
  return { kernel: near(space.kernel), expand: near(space.expand), depth: near(space.depth), width: near(space.width), resolution: near(space.resolution) };
}
