// One short seeded progressive-shrinking run on the built-in synthetic data, on wasm, with its telemetry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import { loadDataset } from '../../daemon/data';
import type { TelemetryEvents, TelemetryKind } from '../../daemon/protocol/events';
import { learningRateAt, planSchedule, trainSupernet } from '../../daemon/train';
import { makeTask, smallConfig } from './train-fixtures';

type Recorded = { [K in TelemetryKind]: { kind: K; data: TelemetryEvents[K] } }[TelemetryKind];

test('a short seeded run of every phase learns well above chance and reports what it did', async () => {
  await initEngine({ backend: 'wasm' });
  const config = smallConfig(
    {
      evaluationSize: 200,
      phases: [
        { phase: 'largest', epochs: 1.5, learningRate: 0.1 },
        { phase: 'kernel', epochs: 0.25, learningRate: 0.03 },
        { phase: 'depth', epochs: 0.25, learningRate: 0.03 },
        { phase: 'expand', epochs: 0.25, learningRate: 0.03 },
      ],
    },
    { validationSize: 200, classes: 5 },
  );
  const dataset = await loadDataset(config.data, { baseDir: process.cwd(), seed: config.seed });
  const task = makeTask(config, dataset);
  const tensorsBefore = tf.memory().numTensors;
  const events: Recorded[] = [];
  const progress: number[] = [];
  const result = await trainSupernet(config, task, {
    emit: (kind, data) => events.push({ kind, data } as Recorded),
    onProgress: (p) => progress.push(p.step),
    stepEventIntervalMs: 200,
  });
  const plan = planSchedule(config.training, config.supernet, dataset.train.count);
  assert.equal(plan.totalSteps, 72);
  assert.equal(result.steps, 72);
  assert.equal(result.stopped, false);
  assert.deepEqual(progress, Array.from({ length: 72 }, (_, i) => i + 1));
  assert.equal(tf.memory().numTensors, tensorsBefore, 'training leaves no tensors behind');

  // Learning: 5 classes, chance is 0.2. (Seeds 1–3 gave 0.60–0.84 for the largest and 0.45–0.84 for the smallest
  // subnets; the bounds leave room for kernels whose rounding differs.)
  assert.deepEqual(result.phases.map((p) => p.phase), ['largest', 'kernel', 'depth', 'expand']);
  assert.ok(result.phases[0].largest.accuracy >= 0.5, `largest after phase 0: ${result.phases[0].largest.accuracy}`);
  for (const p of result.phases) {
    assert.ok(p.largest.accuracy >= 0.45, `phase ${p.index} largest: ${p.largest.accuracy}`);
    assert.ok(p.smallest.accuracy >= 0.35, `phase ${p.index} smallest: ${p.smallest.accuracy}`);
  }

  // Phases: announced in order with their sample spaces; channels sorted before the expand phase only.
  const phases = events.filter((e) => e.kind === 'phase').map((e) => e.data as TelemetryEvents['phase']);
  assert.deepEqual(phases.map((p) => p.index), [0, 1, 2, 3]);
  // The largest phase samples every resolution (OFA draws an image size per batch in every phase).
  assert.deepEqual(phases[0].sample, { kernel: [5], expand: [3], depth: [2], width: [1], resolution: [12, 16] });
  assert.deepEqual(phases[3].sample, { kernel: [3, 5], expand: [2, 3], depth: [1, 2], width: [1], resolution: [12, 16] });
  // The teacher is frozen once, when the first distilling phase begins (after the largest phase).
  const teacherLogs = events.filter((e) => e.kind === 'log' && /distilling from the supernet frozen/.test((e.data as TelemetryEvents['log']).message));
  assert.equal(teacherLogs.length, 1);
  assert.ok(events.indexOf(teacherLogs[0]) < events.findIndex((e) => e.kind === 'phase' && e.data.index === 1));
  assert.ok(events.indexOf(teacherLogs[0]) > events.findIndex((e) => e.kind === 'evaluation' && e.data.phaseIndex === 0));
  const sortLogs = events.filter((e) => e.kind === 'log' && /channels sorted/.test((e.data as TelemetryEvents['log']).message));
  assert.equal(sortLogs.length, 1);
  assert.ok(events.indexOf(sortLogs[0]) < events.findIndex((e) => e.kind === 'phase' && e.data.index === 3));

  // Evaluation: the largest and the smallest subnet of each phase's space, after the phase's last step (the largest
  // phase trains one network: its "smallest" is that network).
  const evaluations = events.filter((e) => e.kind === 'evaluation').map((e) => e.data as TelemetryEvents['evaluation']);
  assert.deepEqual(
    evaluations.map((e) => [e.phaseIndex, e.subnet, e.step]),
    plan.phases.flatMap((p) => [
      [p.index, 'largest', p.startStep + p.steps],
      [p.index, 'smallest', p.startStep + p.steps],
    ]),
  );
  assert.deepEqual(evaluations[1].arch, task.space.largest());
  assert.deepEqual(evaluations[7].arch, task.space.smallest(plan.phases[3].sample));
  assert.equal(evaluations[7].accuracy, result.phases[3].smallest.accuracy);

  // Step events are sampled: the first and last step of each phase, and not every step.
  const steps = events.filter((e) => e.kind === 'step').map((e) => e.data as TelemetryEvents['step']);
  assert.ok(steps.length < 72, `${steps.length} step events for 72 steps`);
  for (const p of plan.phases) {
    assert.ok(steps.some((s) => s.step === p.startStep));
    assert.ok(steps.some((s) => s.step === p.startStep + p.steps - 1));
  }
  for (const s of steps) {
    const p = plan.phases[s.phaseIndex];
    assert.ok(Number.isFinite(s.loss) && s.loss > 0, `loss ${s.loss}`);
    assert.equal(s.learningRate, learningRateAt(p, s.step - p.startStep));
    assert.ok(s.imagesPerSec > 0);
    assert.ok(s.accuracy !== undefined && s.accuracy >= 0 && s.accuracy <= 1);
  }

  // Sampled subnets come with their step's event; each seed reproduces its arch within the phase's space.
  const sampled = events.filter((e) => e.kind === 'subnet.sampled').map((e) => e.data as TelemetryEvents['subnet.sampled']);
  assert.ok(sampled.length > 0);
  const largestOnly = new Set<string>();
  const elastic = new Set<string>();
  const resolutions = new Set<number>();
  const stepResolution = new Map<number, number>();
  for (const s of sampled) {
    assert.ok(steps.some((e) => e.step === s.step), `subnet.sampled for step ${s.step} without its step event`);
    const phase = plan.phases.find((p) => s.step >= p.startStep && s.step < p.startStep + p.steps)!;
    // One resolution per step, shared by all its subnets, drawn from the phase's list.
    assert.ok(phase.sample.resolution.includes(s.arch.r), `resolution ${s.arch.r}`);
    assert.equal(stepResolution.get(s.step) ?? s.arch.r, s.arch.r, `step ${s.step} trains at one resolution`);
    stepResolution.set(s.step, s.arch.r);
    resolutions.add(s.arch.r);
    // OFA's K per phase kind: 1 largest, 1 kernel, 2 depth, 4 expand.
    assert.equal(phase.subnetsPerStep, { largest: 1, kernel: 1, depth: 2, expand: 4 }[phase.phase as string]);
    assert.ok(s.index < phase.subnetsPerStep);
    if (phase.largestOnly) {
      assert.deepEqual(s.arch, { ...task.space.largest(), r: s.arch.r });
      largestOnly.add(JSON.stringify({ ...s.arch, r: 0 }));
    } else {
      assert.deepEqual(s.arch, { ...task.space.sample(new Rng(s.seed), phase.sample), r: s.arch.r });
      elastic.add(task.space.key(s.arch));
    }
  }
  assert.equal(largestOnly.size, 1);
  assert.deepEqual([...resolutions].sort(), [12, 16], 'both resolutions are drawn');
  assert.ok(elastic.size > 3, 'elastic phases sample different subnets');
  task.supernet.dispose();
});
