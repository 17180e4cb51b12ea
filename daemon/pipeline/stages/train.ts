// Stage 2, train: progressive shrinking of the task's supernet, checkpointed; a resumed run continues from the newest
// readable checkpoint.
import { join } from 'node:path';
import type { Task } from '../../ofa/task';
import type { Emit, TelemetryEvents } from '../../protocol/events';
import { decodeCheckpoint } from '../../train/checkpoint-codec';
import { readLatestCheckpoint, removeStaleTempFiles } from '../../train/checkpoint-files';
import type { TrainerState } from '../../train/state';
import { trainSupernet, type TrainSupernetResult } from '../../train/train-supernet';
import { RunStopped, type RunContext } from '../context';
import { CHECKPOINT_DIR } from '../run-folder';

/** The trainer state a resumed run continues from (none for a fresh run or when no checkpoint is readable). */
export async function findResumePoint(ctx: RunContext): Promise<TrainerState | undefined> {
  if (!ctx.resume) return undefined;
  const dir = join(ctx.runDir, CHECKPOINT_DIR);
  await removeStaleTempFiles(dir);
  const latest = await readLatestCheckpoint(dir, (bytes, source) => decodeCheckpoint(bytes, source), (m) => ctx.warn(m));
  return latest?.value;
}

export async function trainStage(ctx: RunContext, task: Task, opts: { resumeFrom?: TrainerState; prefetch?: 'worker' | 'sync' }): Promise<TrainSupernetResult> {
  const { config } = ctx;
  let lastStep: TelemetryEvents['step'] | undefined;
  const emit: Emit = (kind, data) => {
    if (kind === 'step') lastStep = data as TelemetryEvents['step'];
    ctx.emit(kind, data);
  };
  const metric = task.metricInfo.name;
  const training = await trainSupernet(config, task, {
    emit,
    checkpointDir: join(ctx.runDir, CHECKPOINT_DIR),
    resumeFrom: opts.resumeFrom,
    signal: ctx.signal,
    prefetch: opts.prefetch,
    onProgress: (p) => {
      const s = lastStep;
      const detail = s
        ? `loss ${s.loss.toFixed(3)}${s.accuracy !== undefined ? ` ${metric === 'accuracy' ? 'acc' : metric} ${(s.accuracy * 100).toFixed(1)}%` : ''} ${Math.round(s.imagesPerSec)} ex/s`
        : undefined;
      ctx.progress('train', p.step, p.totalSteps, `phase ${p.phaseIndex + 1}/${config.training.phases.length}${detail ? ' · ' + detail : ''}`);
    },
  });
  if (training.stopped || ctx.signal?.aborted) {
    throw new RunStopped(`stopped at step ${training.steps} of ${training.totalSteps}; resume continues from the last checkpoint`);
  }
  return training;
}
