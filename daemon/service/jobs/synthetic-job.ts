// A synthetic run for benchmarks and service tests: it "trains" a small weight vector by a fixed deterministic
// rule, burns CPU like a training step, emits the telemetry a trainer would, and checkpoints and resumes through
// daemon/train's checkpoint files, so kill/resume behaviour can be tested in seconds.
import * as path from 'node:path';
import type { Emit } from '../../protocol/events';
import { decodeCheckpoint, encodeCheckpoint } from '../../train/checkpoint-codec';
import { readLatestCheckpoint, removeStaleTempFiles, writeCheckpointFile } from '../../train/checkpoint-files';
import type { TrainerState } from '../../train/state';
import { CHECKPOINT_DIR } from '../../pipeline/run-folder';
import type { WorkerJob } from '../worker-ipc';

const WEIGHTS = 64;

let sink = 0;

/** A fixed amount of arithmetic (stands in for a training step): its cost is CPU, not wall-clock time. */
function work(iterations: number): void {
  let x = sink;
  for (let i = 0; i < iterations; i++) x = (x * 1.0000001 + i) % 1e9;
  sink = x;
}

/** Iterations of `work` per millisecond on an idle core: the fastest of a few trials, so preemption does not count. */
function calibrate(): number {
  let best = Infinity;
  const n = 200000;
  for (let trial = 0; trial < 7; trial++) {
    const t = performance.now();
    work(n);
    best = Math.min(best, performance.now() - t);
  }
  return n / Math.max(best, 1e-3);
}

function update(w: Float32Array, step: number): void {
  for (let i = 0; i < w.length; i++) w[i] = Math.fround(w[i] * 0.999 + Math.sin(step * 0.1 + i) * 0.001);
}

function state(w: Float32Array, step: number, steps: number): TrainerState {
  return {
    format: 1,
    seed: 0,
    configKey: 'synthetic',
    step,
    totalSteps: steps,
    preparedPhase: 0,
    evaluatedPhases: 0,
    rngs: {},
    results: [],
    tensors: { weights: { w: { shape: [w.length], data: w } }, slots: {} },
  };
}

export async function runSyntheticJob(
  job: Extract<WorkerJob, { kind: 'synthetic' }>,
  emit: Emit,
  signal: AbortSignal,
  warn: (message: string) => void,
): Promise<void> {
  const { params, runDir } = job;
  const started = Date.now();
  const dir = path.join(runDir, CHECKPOINT_DIR);
  const every = params.checkpointEvery ?? 50;
  const extra = params.extraEventsPerStep ?? 0;
  let w = new Float32Array(WEIGHTS).fill(1);
  let step = 0;
  if (job.resume) {
    await removeStaleTempFiles(dir);
    const latest = await readLatestCheckpoint(dir, (bytes, source) => decodeCheckpoint(bytes, source), warn);
    if (latest) {
      step = latest.value.step;
      w = Float32Array.from(latest.value.tensors.weights.w.data);
    }
  }
  emit('run.started', {
    runId: path.basename(runDir),
    name: params.name,
    task: 'synthetic',
    backend: { backend: 'none', version: '0', device: 'synthetic workload' },
    seed: 0,
    ...(job.resume ? { resumedFromStep: step } : {}),
  });
  const iterations = Math.round((params.stepWorkMs ?? 0) * (params.stepWorkMs ? calibrate() : 0));
  let last = performance.now();
  while (step < params.steps) {
    if (signal.aborted) return;
    work(iterations);
    update(w, step);
    step++;
    const now = performance.now();
    emit('step', {
      phaseIndex: 0,
      epoch: 0,
      step,
      totalSteps: params.steps,
      loss: w[0],
      learningRate: 0.1,
      imagesPerSec: 32000 / Math.max(1e-3, now - last),
      worker: 0,
    });
    last = now;
    for (let i = 0; i < extra; i++) emit('log', { level: 'debug', message: `step ${step} extra ${i}` });
    if (step % every === 0 || step === params.steps) {
      const file = await writeCheckpointFile(dir, step, encodeCheckpoint(state(w, step, params.steps)), params.keepCheckpoints ?? 3);
      emit('checkpoint', { step, file: path.relative(runDir, file) });
    }
    // Let the stop message and the telemetry timer in between steps, as a real trainer's awaits do.
    if (step % 16 === 0 || (params.stepWorkMs ?? 0) > 0) await new Promise((r) => setImmediate(r));
  }
  emit('run.finished', { status: 'completed', wallMs: Date.now() - started });
}
