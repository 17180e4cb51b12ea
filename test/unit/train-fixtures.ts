// Shared by the train-* tests: a small supernet config on the built-in synthetic data, and weight snapshots.
import { validateConfig, type ResolvedConfig } from '../../schemas';
import { tf } from '../../daemon/engine';
import { ClassificationTask } from '../../daemon/tasks/classification';
import type { Dataset } from '../../daemon/data';

/** A narrow supernet (widths 8–24, kernels {3,5}, expand {2,3}, depth {1,2}) on 16×16 synthetic images. */
export function smallConfig(
  training: Record<string, unknown>,
  data: Record<string, unknown> = {},
  seed = 1,
): ResolvedConfig {
  const result = validateConfig({
    name: 'train-test',
    task: 'classification',
    seed,
    data: { kind: 'synthetic', imageSize: 16, trainSize: 1024, validationSize: 300, testSize: 100, classes: 10, ...data },
    supernet: {
      stem: { width: 8, stride: 1 },
      firstBlock: { width: 8 },
      units: [
        { width: 8, stride: 2 },
        { width: 12, stride: 2, squeezeExcite: true },
        { width: 16, stride: 2, activation: 'hswish' },
        { width: 16, stride: 1 },
        { width: 24, stride: 1, squeezeExcite: true },
      ],
      finalExpandWidth: 48,
      featureMixWidth: 64,
      dropout: 0.1,
      kernelChoices: [3, 5],
      expandChoices: [2, 3],
      depthChoices: [1, 2],
      resolutionChoices: [12, 16],
    },
    training: { batchSize: 32, subnetsPerStep: 2, bnCalibrationSize: 128, ...training },
    distributed: { workersPerHost: 1 },
  });
  if (!result.ok) throw new Error(`test config is invalid: ${JSON.stringify(result.problems)}`);
  return result.config;
}

export function makeTask(config: ResolvedConfig, dataset: Dataset): ClassificationTask {
  return new ClassificationTask(config.supernet, dataset, { seed: config.seed });
}

/** Every weight of the supernet (batch-norm statistics included) as plain arrays, by stable name. */
export function weightsOf(task: ClassificationTask): Record<string, Float32Array> {
  const tensors = task.supernet.getWeights();
  const out: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries(tensors)) out[name] = (t.dataSync() as Float32Array).slice();
  tf.dispose(Object.values(tensors));
  return out;
}

/** The names whose values differ (bit-exactly) between two weight snapshots. */
export function differingWeights(a: Record<string, Float32Array>, b: Record<string, Float32Array>): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((n) => !a[n] || !b[n] || !Buffer.from(a[n].buffer).equals(Buffer.from(b[n].buffer)));
}
