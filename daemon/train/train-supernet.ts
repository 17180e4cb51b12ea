// The whole progressive-shrinking run: every phase's steps, the evaluation after each phase, periodic checkpoints,
// stopping on a signal (with a checkpoint to resume from), and the per-phase accuracies it returns.
import type { ResolvedConfig } from '../../schemas';
import type { Task } from '../ofa/task';
import type { Emit } from '../protocol/events';
import { encodeCheckpoint } from './checkpoint-codec';
import { removeStaleTempFiles, writeCheckpointFile } from './checkpoint-files';
import type { GradientReducer } from './gradients';
import type { PhaseResult, TrainerState } from './state';
import { Trainer, type TrainerJob } from './trainer';

export interface TrainProgress {
  step: number;
  totalSteps: number;
  phaseIndex: number;
}

export interface TrainSupernetOptions {
  emit: Emit;
  onProgress?: (p: TrainProgress) => void;
  reducer?: GradientReducer;
  /** The job this process trains in (with `reducer`); see TrainerJob. */
  job?: TrainerJob;
  /** A checkpoint to continue from (same config and task). */
  resumeFrom?: TrainerState;
  /**
   * Stops after the current step; the run returns with `stopped` (and writes a checkpoint when it has a folder). In a
   * job the request travels with the step's gradients, so every worker stops after the same step.
   */
  signal?: AbortSignal;
  /**
   * Folder for checkpoints: every `training.checkpointEverySteps` steps, after each phase's evaluation and when
   * stopped, keeping the last `training.keepCheckpoints`. Without it nothing is written.
   */
  checkpointDir?: string;
  /** Batch preparation in a worker thread (default) or in this thread. */
  prefetch?: 'worker' | 'sync';
  worker?: number;
  stepEventIntervalMs?: number;
}

export interface TrainSupernetResult {
  /** Accuracy and loss of the largest and the smallest subnet of each finished phase's space. */
  phases: PhaseResult[];
  steps: number;
  totalSteps: number;
  stopped: boolean;
  wallMs: number;
  /** The last checkpoint written, if any. */
  checkpointFile?: string;
}

export async function trainSupernet(config: ResolvedConfig, task: Task, opts: TrainSupernetOptions): Promise<TrainSupernetResult> {
  const started = performance.now();
  const trainerOptions = {
    emit: opts.emit,
    reducer: opts.reducer,
    job: opts.job,
    prefetch: opts.prefetch,
    worker: opts.worker,
    stepEventIntervalMs: opts.stepEventIntervalMs,
  };
  const trainer = opts.resumeFrom
    ? Trainer.resume(opts.resumeFrom, config, task, trainerOptions)
    : new Trainer(config, task, trainerOptions);
  const every = config.training.checkpointEverySteps;
  let savedAt = opts.resumeFrom?.step ?? -1;
  let checkpointFile: string | undefined;
  /** Writes a checkpoint unless this step's is written; `again` rewrites it (an evaluation added results). */
  const save = async (again = false): Promise<void> => {
    if (!opts.checkpointDir || (savedAt === trainer.stepIndex && !again)) return;
    const bytes = encodeCheckpoint(trainer.checkpoint());
    checkpointFile = await writeCheckpointFile(opts.checkpointDir, trainer.stepIndex, bytes, config.training.keepCheckpoints);
    savedAt = trainer.stepIndex;
    opts.emit('checkpoint', { step: trainer.stepIndex, file: checkpointFile });
  };
  let stopped = false;
  try {
    if (opts.checkpointDir) await removeStaleTempFiles(opts.checkpointDir);
    for (;;) {
      const due = trainer.evaluationDue();
      if (due !== undefined) {
        await trainer.evaluatePhase(due);
        await save(true);
        continue;
      }
      if (trainer.done) break;
      const stopWanted = opts.signal?.aborted === true;
      if (stopWanted && !opts.reducer) {
        stopped = true;
        break;
      }
      const r = await trainer.step({ stop: stopWanted });
      opts.onProgress?.({ step: trainer.stepIndex, totalSteps: trainer.totalSteps, phaseIndex: r.phaseIndex });
      if (r.stopAgreed) {
        stopped = !trainer.done || trainer.evaluationDue() !== undefined;
        if (stopped) break;
      }
      if (trainer.stepIndex % every === 0) await save();
    }
    if (stopped) await save();
  } finally {
    await trainer.close();
  }
  return {
    phases: [...trainer.phaseResults],
    steps: trainer.stepIndex,
    totalSteps: trainer.totalSteps,
    stopped,
    wallMs: performance.now() - started,
    ...(checkpointFile ? { checkpointFile } : {}),
  };
}
