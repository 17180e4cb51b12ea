// The pipeline is task-agnostic: a second task, defined here and nowhere else — a toy regression (predict how bright
// the upper half of a generated image is) on the same elastic layers, with its own data, a mean-squared-error loss,
// RMSE as its metric (lower is better) and its own export metadata — runs through every stage end to end: it trains,
// is measured, searched and exported, and the front is judged in the metric's own direction. No stage was changed
// for it, which is what the stereo task needs too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf, initEngine } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import type { Arch } from '../../daemon/ofa/arch';
import type { LossOptions, MetricInfo, MetricSum, MetricValue, Task, TaskData, TrainStream, TrainStreamOptions } from '../../daemon/ofa/task';
import type { TelemetryKind } from '../../daemon/protocol/events';
import { runJob, StageStore } from '../../daemon/pipeline';
import type { ResultsFile } from '../../daemon/search/results';
import { ClassificationSupernet } from '../../daemon/tasks/classification';
import { validateConfig, type ResolvedConfig } from '../../schemas';
import { TINY } from './job-fixtures';

const SIZE = 16;

/** One batch of the toy data: grey images and one target per image. */
interface ToyBatch {
  readonly size: number;
  x: Float32Array;
  y: Float32Array;
}

/** Images of random noise plus a bright upper half of random strength; the target is that strength. */
function toyExamples(count: number, seed: number): { x: Float32Array; y: Float32Array } {
  const rng = new Rng(seed);
  const x = new Float32Array(count * SIZE * SIZE);
  const y = new Float32Array(count);
  for (let n = 0; n < count; n++) {
    const level = rng.next();
    y[n] = level;
    for (let i = 0; i < SIZE * SIZE; i++) x[n * SIZE * SIZE + i] = (i < (SIZE * SIZE) / 2 ? level : 0) + 0.3 * (rng.next() - 0.5);
  }
  return { x, y };
}

function slice(ex: { x: Float32Array; y: Float32Array }, order: readonly number[]): ToyBatch {
  const x = new Float32Array(order.length * SIZE * SIZE);
  const y = new Float32Array(order.length);
  order.forEach((n, i) => {
    x.set(ex.x.subarray(n * SIZE * SIZE, (n + 1) * SIZE * SIZE), i * SIZE * SIZE);
    y[i] = ex.y[n];
  });
  return { size: order.length, x, y };
}

function toyData(): TaskData<ToyBatch> {
  const splits = { train: toyExamples(256, 1), validation: toyExamples(64, 2), test: toyExamples(64, 3) };
  const count = (split: keyof typeof splits) => splits[split].y.length;
  return {
    describe: `toy regression: ${count('train')} / ${count('validation')} / ${count('test')} images of ${SIZE}×${SIZE}`,
    trainCount: count('train'),
    openTrainStream(opts: TrainStreamOptions): TrainStream<ToyBatch> {
      const perEpoch = Math.floor(count('train') / opts.batchSize);
      let at = { epoch: opts.epoch, batch: opts.startBatch };
      return {
        position: () => ({ ...at }),
        next: async () => {
          const order = new Rng(opts.seed + at.epoch).shuffle(Array.from({ length: count('train') }, (_, i) => i));
          const batch = slice(splits.train, order.slice(at.batch * opts.batchSize, (at.batch + 1) * opts.batchSize));
          at = at.batch + 1 < perEpoch ? { epoch: at.epoch, batch: at.batch + 1 } : { epoch: at.epoch + 1, batch: 0 };
          return batch;
        },
        close: async () => undefined,
      };
    },
    *evalBatches(split, batchSize, limit) {
      const n = Math.min(count(split), limit ?? Infinity);
      for (let i = 0; i < n; i += batchSize) yield slice(splits[split], Array.from({ length: Math.min(batchSize, n - i) }, (_, k) => i + k));
    },
  };
}

/** The toy task: the elastic MBConv supernet with one output, read as the predicted level. */
class ToyRegressionTask implements Task<tf.Tensor4D, tf.Tensor2D, tf.Tensor2D, ToyBatch> {
  readonly kind = 'toy-regression';
  readonly metricInfo: MetricInfo = { name: 'rmse', higherIsBetter: false };
  readonly supernet: ClassificationSupernet;
  readonly data = toyData();

  constructor(config: ResolvedConfig) {
    this.supernet = new ClassificationSupernet(config.supernet, { classes: 1, inputChannels: 1, seed: config.seed, scope: 'toy' });
  }

  get space() {
    return this.supernet.space;
  }

  tensors(batch: ToyBatch, resolution?: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
    return tf.tidy(() => {
      const x = tf.tensor4d(batch.x, [batch.size, SIZE, SIZE, 1]);
      return { x: resolution === undefined || resolution === SIZE ? x : tf.image.resizeBilinear(x, [resolution, resolution]), y: tf.tensor2d(batch.y, [batch.size, 1]) };
    });
  }

  /** Mean squared error, plus kdRatio × the squared distance to the teacher's prediction (a constant here). */
  loss(outputs: tf.Tensor2D, labels: tf.Tensor2D, teacher: tf.Tensor2D | undefined, opts: LossOptions): tf.Scalar {
    return tf.tidy(() => {
      const mse = tf.mean(tf.squaredDifference(outputs, labels)) as tf.Scalar;
      return teacher && opts.kdRatio > 0 ? (tf.add(mse, tf.mul(tf.mean(tf.squaredDifference(outputs, teacher)), opts.kdRatio)) as tf.Scalar) : mse;
    });
  }

  metricSums(outputs: tf.Tensor2D, labels: tf.Tensor2D): Record<string, MetricSum> {
    const m = this.metric(outputs, labels);
    return { rmse: { sum: m.value * m.count, count: m.count } };
  }

  metric(outputs: tf.Tensor2D, labels: tf.Tensor2D): MetricValue {
    const mse = tf.tidy(() => tf.mean(tf.squaredDifference(outputs, labels)));
    const value = Math.sqrt(mse.dataSync()[0]);
    mse.dispose();
    return { name: 'rmse', value, count: outputs.shape[0] };
  }

  inputDescription(): Record<string, unknown> {
    return { shape: [SIZE, SIZE, 1], meaning: 'grey levels; the output is the upper half\'s brightness' };
  }

  exportMetadata(arch: Arch): Record<string, unknown> {
    return { arch, task: this.kind, output: 'brightness of the upper half' };
  }

  dispose(): void {
    this.supernet.dispose();
  }
}

test('a second task defined in a test file runs through every pipeline stage', { timeout: 300_000 }, async () => {
  await initEngine({ backend: 'wasm' });
  const checked = validateConfig({
    ...TINY,
    name: 'toy',
    seed: 5,
    // The schema's only task so far: the job is handed the toy task instead, so `data` goes unused.
    supernet: { ...TINY.supernet, dropout: 0 },
    training: { ...TINY.training, labelSmoothing: 0, checkpointEverySteps: 8, phases: [{ phase: 'largest', epochs: 3, learningRate: 0.05 }, { phase: 'kernel', epochs: 1, learningRate: 0.02 }] },
    search: { ...TINY.search, measuredSubnets: 10 },
  });
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  const config = checked.config;
  const root = mkdtempSync(join(tmpdir(), 'manta-toy-'));
  const runDir = join(root, 'run');
  const kinds = new Map<TelemetryKind, number>();
  try {
    const result = await runJob(config, {
      runDir,
      configDir: root,
      emit: (kind) => kinds.set(kind, (kinds.get(kind) ?? 0) + 1),
      prefetch: 'sync',
      cacheDir: join(root, 'cache'),
      task: async (c) => new ToyRegressionTask(c),
    });
    assert.equal(result.status, 'completed');
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as ResultsFile;
    assert.deepEqual(results.task, { kind: 'toy-regression', metric: 'rmse', higherIsBetter: false });
    assert.equal(results.input.meaning, 'grey levels; the output is the upper half\'s brightness');
    // Costs come from the supernet's own counts (no unit-stack tabulation claimed by the task, so no latency).
    assert.equal(results.latency, undefined);
    for (const m of results.measured) assert.ok(m.macs > 0 && m.params > 0 && m.validationAccuracy >= 0, JSON.stringify(m));
    // Every measured RMSE is the task's metric, a real error: above zero, and training made the largest subnet
    // better than predicting nothing (the targets are uniform on [0, 1], whose RMS is about 0.58).
    const largest = results.training.phases.at(-1)!.largest.accuracy;
    assert.ok(largest > 0 && largest < 0.5, `largest subnet's RMSE ${largest}`);
    // The predicted front holds RMSE values (not negated fitness) …
    const meanPredicted = results.predictedFront.reduce((sum, p) => sum + p.predictedAccuracy, 0) / results.predictedFront.length;
    assert.ok(meanPredicted > 0, `mean predicted RMSE ${meanPredicted}`);
    // … and the re-measured front is judged with lower-is-better: a point is dominated exactly when another is no
    // dearer and has no larger RMSE (one strictly better).
    assert.ok(results.front.length >= 1);
    for (const p of results.front) {
      const beaten = results.front.some(
        (q) => q !== p && q.macs <= p.macs && q.validationAccuracy! <= p.validationAccuracy! && (q.macs < p.macs || q.validationAccuracy! < p.validationAccuracy!),
      );
      assert.equal(p.dominated, beaten, `front point ${p.index}`);
      const model = JSON.parse(readFileSync(join(runDir, p.model!), 'utf8')) as { userDefinedMetadata?: { manta?: { task?: string } } };
      assert.equal(model.userDefinedMetadata?.manta?.task, 'toy-regression');
    }
    for (const kind of ['run.started', 'phase', 'step', 'evaluation', 'measure.progress', 'predictor', 'search.generation', 'pareto', 'run.finished'] as const) {
      assert.ok(kinds.get(kind), `no ${kind} event`);
    }
    // The stage outputs are stored, so a resumed run reuses them instead of searching again.
    const store = StageStore.of(runDir);
    assert.ok(store.load('predictor', 1));
    assert.ok(store.load('evolution', 1));
    assert.ok(existsSync(join(runDir, 'measurements.json')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
