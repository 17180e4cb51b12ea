import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig, type ResolvedConfig } from '../../schemas';
import {
  learningRateAt,
  locateStep,
  planSchedule,
  resolvePhaseSamples,
  stepsPerEpoch,
} from '../../daemon/train/schedule';
import { TrainingConfigError } from '../../daemon/train/errors';
import { isUserError } from '../../daemon/protocol/user-error';

function config(training: Record<string, unknown>, supernet: Record<string, unknown> = {}): ResolvedConfig {
  const result = validateConfig({
    name: 'schedule-test',
    task: 'classification',
    data: { kind: 'synthetic' },
    supernet: { units: [16, 24, 40, 80, 96].map((width) => ({ width })), ...supernet },
    training,
  });
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

test('steps per epoch: whole batches, at least one, capped', () => {
  assert.equal(stepsPerEpoch(1000, 32), 31);
  assert.equal(stepsPerEpoch(1024, 32), 32);
  assert.equal(stepsPerEpoch(10, 32), 1);
  assert.equal(stepsPerEpoch(1000, 32, 5), 5);
  assert.equal(stepsPerEpoch(1000, 32, 500), 31);
});

test('phase samples: the first phase is the largest, then lists are inherited, a named dimension opens fully', () => {
  const c = config({
    phases: [
      { phase: 'largest', epochs: 1 },
      { phase: 'kernel', epochs: 1 },
      { phase: 'depth', epochs: 1, depth: [4, 3] },
      { phase: 'depth', epochs: 1, depth: [2, 3, 4] },
      { phase: 'expand', epochs: 1, expand: [4, 6] },
      { phase: 'expand', epochs: 1 },
    ],
  });
  const s = resolvePhaseSamples(c.training, c.supernet);
  assert.deepEqual(s[0], { kernel: [7], expand: [6], depth: [4], width: [1], resolution: [32] });
  assert.deepEqual(s[1], { kernel: [3, 5, 7], expand: [6], depth: [4], width: [1], resolution: [32] });
  assert.deepEqual(s[2], { kernel: [3, 5, 7], expand: [6], depth: [3, 4], width: [1], resolution: [32] });
  assert.deepEqual(s[3].depth, [2, 3, 4]);
  assert.deepEqual(s[4], { kernel: [3, 5, 7], expand: [4, 6], depth: [2, 3, 4], width: [1], resolution: [32] });
  assert.deepEqual(s[5].expand, [3, 4, 6]);
});

test('phase samples: a first phase that is not "largest" still starts from the largest network', () => {
  const c = config({ phases: [{ phase: 'depth', epochs: 1 }, { phase: 'largest', epochs: 1 }] });
  const s = resolvePhaseSamples(c.training, c.supernet);
  assert.deepEqual(s[0], { kernel: [7], expand: [6], depth: [2, 3, 4], width: [1], resolution: [32] });
  assert.deepEqual(s[1], { kernel: [7], expand: [6], depth: [4], width: [1], resolution: [32] });
});

test('a phase list outside the supernet choices is a user error naming the field', () => {
  const c = config({ phases: [{ phase: 'largest', epochs: 1 }, { phase: 'kernel', epochs: 1, kernel: [3, 9] }] });
  assert.throws(
    () => planSchedule(c.training, c.supernet, 1000),
    (e: unknown) => e instanceof TrainingConfigError && isUserError(e) && /training\.phases\[1\]\.kernel has 9.*kernelChoices/.test(e.message),
  );
});

test('warm-up as long as its phase is a user error', () => {
  const c = config({ phases: [{ phase: 'largest', epochs: 1, warmupEpochs: 1 }] });
  assert.throws(() => planSchedule(c.training, c.supernet, 1000), /phases\[0\]\.warmupEpochs .* shorter than its epochs/);
});

test('plan: steps, starts, largest-only and channel sorting per phase', () => {
  const c = config({
    batchSize: 10,
    phases: [
      { phase: 'largest', epochs: 2 },
      { phase: 'kernel', epochs: 1.5 },
      { phase: 'expand', epochs: 0.01, expand: [4, 6] },
      { phase: 'expand', epochs: 1 },
      { phase: 'depth', epochs: 1 },
    ],
  });
  const plan = planSchedule(c.training, c.supernet, 205);
  assert.equal(plan.stepsPerEpoch, 20);
  assert.deepEqual(
    plan.phases.map((p) => [p.startStep, p.steps]),
    [
      [0, 40],
      [40, 30],
      [70, 1],
      [71, 20],
      [91, 20],
    ],
  );
  assert.equal(plan.totalSteps, 111);
  assert.deepEqual(plan.phases.map((p) => p.largestOnly), [true, false, false, false, false]);
  assert.deepEqual(plan.phases.map((p) => p.reorganizeChannels), [false, false, true, true, false]);
});

test('learning rate: linear warm-up to the peak, then a cosine to zero', () => {
  const c = config({ batchSize: 10, phases: [{ phase: 'largest', epochs: 10, learningRate: 0.1, warmupEpochs: 2 }] });
  const [phase] = planSchedule(c.training, c.supernet, 100).phases;
  assert.equal(phase.steps, 100);
  assert.equal(phase.warmupSteps, 20);
  const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);
  close(learningRateAt(phase, 0), 0.1 / 20);
  close(learningRateAt(phase, 9), 0.05);
  close(learningRateAt(phase, 19), 0.1);
  close(learningRateAt(phase, 20), 0.1);
  close(learningRateAt(phase, 60), 0.05); // half-way through the cosine part
  close(learningRateAt(phase, 99), 0.05 * (1 + Math.cos((Math.PI * 79) / 80)));
  assert.ok(learningRateAt(phase, 99) > 0 && learningRateAt(phase, 99) < 0.001);
  for (let s = 21; s < 100; s++) assert.ok(learningRateAt(phase, s) < learningRateAt(phase, s - 1));
});

test('learning rate without warm-up starts at the peak', () => {
  const c = config({ batchSize: 10, phases: [{ phase: 'largest', epochs: 1, learningRate: 0.2 }] });
  const [phase] = planSchedule(c.training, c.supernet, 100).phases;
  assert.equal(learningRateAt(phase, 0), 0.2);
  assert.ok(Math.abs(learningRateAt(phase, 5) - 0.1) < 1e-12);
});

test('locateStep: phase, step in phase and the run-wide data position', () => {
  const c = config({ batchSize: 10, phases: [{ phase: 'largest', epochs: 1.5 }, { phase: 'kernel', epochs: 2 }] });
  const plan = planSchedule(c.training, c.supernet, 100);
  assert.deepEqual(locateStep(plan, 0), { phaseIndex: 0, stepInPhase: 0, epochInPhase: 0, dataEpoch: 0, dataBatch: 0 });
  assert.deepEqual(locateStep(plan, 14), { phaseIndex: 0, stepInPhase: 14, epochInPhase: 1, dataEpoch: 1, dataBatch: 4 });
  assert.deepEqual(locateStep(plan, 15), { phaseIndex: 1, stepInPhase: 0, epochInPhase: 0, dataEpoch: 1, dataBatch: 5 });
  assert.deepEqual(locateStep(plan, 34), { phaseIndex: 1, stepInPhase: 19, epochInPhase: 1, dataEpoch: 3, dataBatch: 4 });
  assert.throws(() => locateStep(plan, 35), RangeError);
});

test('locateStep: with a cap on steps per epoch the data stream still passes over the whole split', () => {
  const c = config({ batchSize: 10, stepsPerEpoch: 4, phases: [{ phase: 'largest', epochs: 5 }] });
  const plan = planSchedule(c.training, c.supernet, 100);
  assert.equal(plan.stepsPerEpoch, 4);
  assert.equal(plan.batchesPerEpoch, 10);
  assert.deepEqual(locateStep(plan, 13), { phaseIndex: 0, stepInPhase: 13, epochInPhase: 3, dataEpoch: 1, dataBatch: 3 });
});

test('OFA defaults per phase: K (1 largest, 1 kernel, 2 depth, 4 expand), warm-up of kernel and later stages, every resolution', () => {
  const c = config(
    {
      batchSize: 10,
      subnetsPerStep: 3,
      phases: [
        { phase: 'largest', epochs: 25 },
        { phase: 'kernel', epochs: 25 },
        { phase: 'depth', epochs: 25, depth: [3, 4] },
        { phase: 'depth', epochs: 25 },
        { phase: 'expand', epochs: 25, expand: [4, 6] },
        { phase: 'expand', epochs: 25, warmupEpochs: 0, subnetsPerStep: 2 },
        { phase: 'width', epochs: 25 },
      ],
    },
    { widthChoices: [0.5, 1], resolutionChoices: [24, 32] },
  );
  const plan = planSchedule(c.training, c.supernet, 100);
  assert.deepEqual(plan.phases.map((p) => p.subnetsPerStep), [1, 1, 2, 2, 4, 2, 3], "OFA's K, the phase's own, then training.subnetsPerStep");
  // OFA: 5 warm-up epochs before 120 (1/25 of a phase) in the kernel phase and the second depth and expand stages.
  assert.deepEqual(plan.phases.map((p) => p.warmupEpochs), [0, 1, 0, 1, 0, 0, 0], "the second expand stage sets its own (0)");
  assert.deepEqual(plan.phases.map((p) => p.warmupSteps), [0, 10, 0, 10, 0, 0, 0]);
  // The largest phase trains the full network at every resolution; it alone is largest-only.
  assert.deepEqual(plan.phases[0].sample, { kernel: [7], expand: [6], depth: [4], width: [1], resolution: [24, 32] });
  assert.deepEqual(plan.phases.map((p) => p.largestOnly), [true, false, false, false, false, false, false]);
  // A largest phase that names its resolutions keeps them.
  const fixed = config({ phases: [{ phase: 'largest', epochs: 1, resolution: [32] }] }, { resolutionChoices: [24, 32] });
  assert.deepEqual(planSchedule(fixed.training, fixed.supernet, 100).phases[0].sample.resolution, [32]);
});
