// Reproducibility: the same seed gives the same weights; a run stopped and resumed from its checkpoint files (across
// phase boundaries and the channel sorting) ends with the same weights as one that never stopped; the gradient
// reducer path changes nothing with one worker.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initEngine, tf } from '../../daemon/engine';
import { loadDataset, type Dataset } from '../../daemon/data';
import type { ResolvedConfig } from '../../schemas';
import {
  CheckpointError,
  decodeCheckpoint,
  encodeCheckpoint,
  listCheckpointFiles,
  readLatestCheckpoint,
  Trainer,
  trainSupernet,
  type TrainerState,
  type TrainSupernetResult,
} from '../../daemon/train';
import { differingWeights, makeTask, smallConfig, weightsOf } from './train-fixtures';

// 20 steps of 16 images: largest [0, 8), kernel [8, 12), expand [12, 20) with channel sorting at 12.
const PHASES = [
  { phase: 'largest', epochs: 0.5, learningRate: 0.1 },
  { phase: 'kernel', epochs: 0.25, learningRate: 0.05 },
  { phase: 'expand', epochs: 0.5, learningRate: 0.05, warmupEpochs: 0.125 },
];
const TRAINING = {
  batchSize: 16,
  subnetsPerStep: 2,
  bnCalibrationSize: 32,
  evaluationSize: 64,
  checkpointEverySteps: 5,
  keepCheckpoints: 2,
  phases: PHASES,
};
const DATA = { trainSize: 256, validationSize: 64, augmentation: { cropPadding: 2, horizontalFlip: true } };

let config: ResolvedConfig;
let dataset: Dataset;

before(async () => {
  await initEngine({ backend: 'wasm' });
  config = smallConfig(TRAINING, DATA);
  dataset = await loadDataset(config.data, { baseDir: process.cwd(), seed: config.seed });
});

async function stepsWith(cfg: ResolvedConfig, steps: number, reducer?: (b: Float32Array[]) => void): Promise<Record<string, Float32Array>> {
  const task = makeTask(cfg, dataset);
  const trainer = new Trainer(cfg, task, { prefetch: 'sync', reducer });
  for (let i = 0; i < steps; i++) await trainer.step();
  await trainer.close();
  const w = weightsOf(task);
  task.supernet.dispose();
  return w;
}

test('the same seed gives the same weights; another seed does not', async () => {
  const a = await stepsWith(config, 10);
  const b = await stepsWith(config, 10);
  assert.deepEqual(differingWeights(a, b), []);
  const other = await stepsWith(smallConfig(TRAINING, DATA, 2), 10);
  assert.ok(differingWeights(a, other).length > 0);
});

test('with an identity reducer (one worker) the buckets round-trip to the same weights', async () => {
  let calls = 0;
  let floats = 0;
  const viaBuckets = await stepsWith(config, 10, (buckets) => {
    calls++;
    // The gradient buckets, then the reach flags and the control block (stop vote, worker figures).
    floats = buckets.slice(0, -2).reduce((n, b) => n + b.length, 0);
  });
  const direct = await stepsWith(config, 10);
  assert.equal(calls, 10);
  const task = makeTask(config, dataset);
  assert.equal(floats, task.supernet.countParams(), 'every trainable parameter travels in the buckets');
  task.supernet.dispose();
  assert.deepEqual(differingWeights(viaBuckets, direct), []);
});

/** A checkpoint's tensor group as plain arrays by name. */
function arrays(records: Record<string, { data: Float32Array }>): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(records).map(([name, r]) => [name, r.data]));
}

/** A run through trainSupernet, optionally stopped after step `stopAt` or resumed from a checkpoint. */
async function run(
  dir: string | undefined,
  stopAt: number | undefined,
  resumeFrom?: TrainerState,
): Promise<{ result: TrainSupernetResult; weights: Record<string, Float32Array> }> {
  const task = makeTask(config, dataset);
  const controller = new AbortController();
  const result = await trainSupernet(config, task, {
    emit: () => undefined,
    prefetch: 'sync',
    checkpointDir: dir,
    resumeFrom,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.step === stopAt) controller.abort();
    },
  });
  const weights = weightsOf(task);
  task.supernet.dispose();
  return { result, weights };
}

test('a run stopped twice and resumed from its checkpoint files ends with the same weights and results', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'manta-resume-'));
  try {
    const straight = await run(undefined, undefined);
    assert.equal(straight.result.steps, 20);
    assert.equal(straight.result.phases.length, 3);

    // Stop at the end of the kernel phase (before the expand phase's channel sorting), then mid-way through expand.
    const first = await run(dir, 12);
    assert.equal(first.result.stopped, true);
    assert.equal(first.result.steps, 12);
    assert.deepEqual((await listCheckpointFiles(dir)).map((f) => f.step), [10, 12]);
    const warn = (m: string): never => assert.fail(m);
    const at12 = await readLatestCheckpoint(dir, decodeCheckpoint, warn);
    assert.equal(at12?.value.step, 12);
    assert.equal(at12?.value.evaluatedPhases, 2, 'the kernel phase was evaluated before stopping');

    // The frozen teacher travels in the checkpoint: the supernet's trained weights at the end of the largest phase
    // (step 8; the running statistics are those of the phase's evaluation), unchanged by the kernel phase.
    const teacher = at12?.value.tensors.teacher;
    assert.ok(teacher, 'the checkpoint keeps the frozen teacher');
    const teacherWeights = arrays(teacher);
    const trained = (w: Record<string, Float32Array>) => Object.fromEntries(Object.entries(w).filter(([name]) => !/moving(Mean|Variance)$/.test(name)));
    assert.deepEqual(differingWeights(trained(teacherWeights), trained(await stepsWith(config, 8))), []);
    assert.ok(differingWeights(teacherWeights, arrays(at12.value.tensors.weights)).length > 0, 'the supernet trained on after the teacher was frozen');

    const second = await run(dir, 15, at12?.value);
    assert.equal(second.result.steps, 15);
    const at15 = await readLatestCheckpoint(dir, decodeCheckpoint, warn);
    assert.equal(at15?.value.step, 15);
    assert.deepEqual(differingWeights(arrays(at15?.value.tensors.teacher ?? {}), teacherWeights), [], 'the teacher stays frozen');
    assert.deepEqual((await listCheckpointFiles(dir)).map((f) => f.step), [12, 15], 'keeps the last 2');

    const last = await run(dir, undefined, at15?.value);
    assert.equal(last.result.stopped, false);
    assert.equal(last.result.steps, 20);
    assert.deepEqual(differingWeights(last.weights, straight.weights), []);
    assert.deepEqual(last.result.phases, straight.result.phases);
    assert.equal((await readLatestCheckpoint(dir, decodeCheckpoint, warn))?.value.step, 20);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a checkpoint is refused by a run with another config, and a corrupt one never loads', async () => {
  const task = makeTask(config, dataset);
  const trainer = new Trainer(config, task, { prefetch: 'sync' });
  await trainer.step();
  const bytes = encodeCheckpoint(trainer.checkpoint());
  await trainer.close();
  task.supernet.dispose();

  const other = smallConfig({ ...TRAINING, labelSmoothing: 0.2 }, DATA);
  const otherTask = makeTask(other, dataset);
  const tensors = tf.memory().numTensors;
  assert.throws(
    () => Trainer.resume(decodeCheckpoint(bytes), other, otherTask),
    (e: unknown) => e instanceof CheckpointError && /another config/.test(e.message),
  );
  assert.equal(tf.memory().numTensors, tensors);
  otherTask.supernet.dispose();

  // A checkpoint of the earlier recipe (trainer format 1: live teacher, 'same' padding) is refused with a clear message.
  const old = { ...decodeCheckpoint(bytes), format: 1 as const };
  const oldTask = makeTask(config, dataset);
  assert.throws(
    () => Trainer.resume(decodeCheckpoint(encodeCheckpoint(old)), config, oldTask),
    (e: unknown) => e instanceof CheckpointError && /trainer format 1.*start a new run/.test(e.message),
  );
  oldTask.supernet.dispose();

  const cut = bytes.subarray(0, bytes.length - 100);
  assert.throws(
    () => decodeCheckpoint(cut, 'step-1.ckpt'),
    (e: unknown) => e instanceof CheckpointError && /step-1\.ckpt is truncated/.test(e.message),
  );
});
