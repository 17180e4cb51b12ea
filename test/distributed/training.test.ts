// MANTA's two distributed algorithms against one-process references, with real worker processes and the real
// collectives on loopback: data parallel with W workers equals one process running the W shards as micro-batches;
// subnet parallel with 2 nodes × 2 workers equals the one-process reference of the same per-node subnets and shards,
// and a weight only one node's subnet uses moves by that node's update averaged over BOTH nodes (the zero gradient
// of the other node counts). Every worker ends with the same supernet (weight digests compared).
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import test from 'node:test';
import { validateConfig, type ResolvedConfig } from '../../schemas';
import { initEngine } from '../../daemon/engine';
import { freeLoopbackPort } from '../../daemon/pipeline/distributed/free-port';
import { trainHostShare } from '../../daemon/pipeline/distributed/host-share';
import { planJob } from '../../daemon/pipeline/distributed/plan';
import { createTask } from '../../daemon/tasks';
import { trainSupernet } from '../../daemon/train/train-supernet';
import type { TrainerJob } from '../../daemon/train/trainer';
import { weightsOf } from '../unit/train-fixtures';
import type { ClassificationTask } from '../../daemon/tasks/classification';

/** A narrow supernet; one kernel phase of 2 steps (K=2), momentum and decay off so an update is −lr·gradient. */
function config(algorithm: 'data-parallel' | 'subnet-parallel', workers: number, nodes = 1): ResolvedConfig {
  const r = validateConfig({
    name: 'dist',
    task: 'classification',
    seed: 11,
    backend: 'wasm',
    data: { kind: 'synthetic', classes: 4, imageSize: 12, trainSize: 192, validationSize: 24, testSize: 24 },
    supernet: {
      stem: { width: 8, stride: 1 },
      firstBlock: { width: 8 },
      units: [{ width: 8 }, { width: 12, squeezeExcite: true }, { width: 12, stride: 1, activation: 'hswish' }, { width: 16, stride: 1 }, { width: 16, stride: 1 }],
      finalExpandWidth: 24,
      featureMixWidth: 32,
      dropout: 0.1,
      kernelChoices: [3, 5],
      expandChoices: [2, 3],
      depthChoices: [1, 2],
      resolutionChoices: [8, 12],
    },
    training: {
      batchSize: 24,
      subnetsPerStep: 2,
      momentum: 0,
      nesterov: false,
      weightDecay: 0,
      stepsPerEpoch: 2,
      bnCalibrationSize: 24,
      evaluationSize: 24,
      checkpointEverySteps: 100,
      phases: [{ phase: 'kernel', epochs: 1, learningRate: 0.1 }],
    },
    distributed: { algorithm, workersPerHost: workers, nodesPerHost: nodes, timeoutSeconds: 60 },
  });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

/** Trains in this process only, computing the given ranks' gradients in turn (no reducer). */
async function reference(cfg: ResolvedConfig, job: TrainerJob): Promise<Record<string, Float32Array>> {
  const task = (await createTask(cfg, { baseDir: tmpdir() })) as ClassificationTask;
  try {
    await trainSupernet(cfg, task, { emit: () => undefined, job, prefetch: 'sync' });
    return weightsOf(task);
  } finally {
    task.dispose();
  }
}

/** A real job: this process is rank 0, worker processes are the other ranks; returns rank 0's weights and every digest. */
async function job(cfg: ResolvedConfig): Promise<{ weights: Record<string, Float32Array>; digests: string[] }> {
  const plan = planJob(cfg, undefined, { cores: 8, gpus: 0 }, await freeLoopbackPort());
  assert.ok(plan, 'the config asks for several workers');
  const task = (await createTask(cfg, { baseDir: tmpdir() })) as ClassificationTask;
  try {
    const { digests } = await trainHostShare(cfg, task, plan, { configDir: tmpdir(), emit: () => undefined, prefetch: 'sync' });
    return { weights: weightsOf(task), digests };
  } finally {
    task.dispose();
  }
}

function maxDifference(a: Record<string, Float32Array>, b: Record<string, Float32Array>): { name: string; diff: number } {
  let worst = { name: '', diff: 0 };
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort());
  for (const name of Object.keys(a)) {
    for (let i = 0; i < a[name].length; i++) {
      const d = Math.abs(a[name][i] - b[name][i]);
      if (d > worst.diff) worst = { name, diff: d };
    }
  }
  return worst;
}

test.before(async () => {
  await initEngine({ backend: 'wasm' });
});

for (const workers of [2, 3]) {
  test(`data parallel, ${workers} workers: the same update as one process running the ${workers} shards as micro-batches`, async () => {
    const cfg = config('data-parallel', workers);
    const ranks = Array.from({ length: workers }, (_, r) => r);
    const expected = await reference(cfg, { algorithm: 'data-parallel', worldSize: workers, nodeOf: ranks.map(() => 0), ranks });
    const got = await job(cfg);
    assert.equal(new Set(got.digests).size, 1, `every worker holds the same supernet: ${got.digests.join(', ')}`);
    const worst = maxDifference(got.weights, expected);
    assert.ok(worst.diff <= 1e-5, `largest difference ${worst.diff} at ${worst.name}`);
    // And the job did train: its weights are not the untrained ones.
    const untrained = await reference({ ...cfg, training: { ...cfg.training, phases: [{ ...cfg.training.phases[0], learningRate: 0 }] } }, { algorithm: 'data-parallel', worldSize: workers, nodeOf: ranks.map(() => 0), ranks });
    assert.ok(maxDifference(got.weights, untrained).diff > 1e-4, 'the job changed the weights');
  });
}

test('subnet parallel, 2 nodes × 2 workers: equals the one-process reference, and a weight one node leaves unused gets half that node\'s update', async () => {
  const cfg = config('subnet-parallel', 4, 2);
  const nodeOf = [0, 0, 1, 1];
  const sp = (ranks: number[]): TrainerJob => ({ algorithm: 'subnet-parallel', worldSize: 4, nodeOf, ranks });
  const oneStep = { ...cfg, training: { ...cfg.training, stepsPerEpoch: 1 } };
  const got = await job(oneStep);
  assert.equal(new Set(got.digests).size, 1, `every worker holds the same supernet: ${got.digests.join(', ')}`);
  const whole = await reference(oneStep, sp([0, 1, 2, 3]));
  const worst = maxDifference(got.weights, whole);
  assert.ok(worst.diff <= 1e-5, `largest difference ${worst.diff} at ${worst.name}`);

  // Per node: node n's own update (its two workers averaged, no reducer). The job's update must be their mean.
  const start = await reference({ ...oneStep, training: { ...oneStep.training, phases: [{ ...oneStep.training.phases[0], learningRate: 0 }] } }, sp([0, 1, 2, 3]));
  const node0 = await reference(oneStep, sp([0, 1]));
  const node1 = await reference(oneStep, sp([2, 3]));
  let onlyOneNode = 0;
  for (const name of Object.keys(start)) {
    if (name.includes('running') || name.includes('moving')) continue; // statistics come from recalibration, not gradients
    for (let i = 0; i < start[name].length; i++) {
      const d0 = node0[name][i] - start[name][i];
      const d1 = node1[name][i] - start[name][i];
      const dJob = got.weights[name][i] - start[name][i];
      assert.ok(Math.abs(dJob - (d0 + d1) / 2) <= 1e-5, `${name}[${i}]: job moved ${dJob}, nodes ${d0} and ${d1}`);
      if ((d0 === 0) !== (d1 === 0)) onlyOneNode++;
    }
  }
  assert.ok(onlyOneNode > 0, 'the two nodes trained different subnets: some weights are used by one node only');
});
