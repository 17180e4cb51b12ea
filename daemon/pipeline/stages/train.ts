// Stage 2, train: progressive shrinking of the task's supernet, checkpointed; a resumed run continues from the newest
// readable checkpoint. With several workers (the config's /distributed section, or a job across hosts) this process
// trains as the host's first rank beside worker processes for the others.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Task } from '../../ofa/task';
import type { Emit, TelemetryEvents } from '../../protocol/events';
import { decodeCheckpoint } from '../../train/checkpoint-codec';
import { readLatestCheckpoint, removeStaleTempFiles } from '../../train/checkpoint-files';
import type { TrainerState } from '../../train/state';
import { trainSupernet, type TrainProgress, type TrainSupernetResult } from '../../train/train-supernet';
import { RunStopped, type RunContext } from '../context';
import { freeLoopbackPort } from '../distributed/free-port';
import { trainHostShare } from '../distributed/host-share';
import { planJob, runGpus, type JobPlan } from '../distributed/plan';
import { TrainingJobError } from '../distributed/train-as-rank';
import { CHECKPOINT_DIR } from '../run-folder';

/** The trainer state a resumed run continues from (none for a fresh run or when no checkpoint is readable). */
export async function findResumePoint(ctx: RunContext): Promise<TrainerState | undefined> {
  if (!ctx.resume) return undefined;
  const dir = join(ctx.runDir, CHECKPOINT_DIR);
  await removeStaleTempFiles(dir);
  const latest = await readLatestCheckpoint(dir, (bytes, source) => decodeCheckpoint(bytes, source), (m) => ctx.warn(m));
  return latest?.value;
}

export interface TrainStageResult extends TrainSupernetResult {
  /** The job this host trained in, when training was spread over several workers. */
  job?: JobPlan;
}

export async function trainStage(
  ctx: RunContext,
  task: Task,
  opts: { resumeFrom?: TrainerState; prefetch?: 'worker' | 'sync' },
): Promise<TrainStageResult> {
  const { config } = ctx;
  let lastStep: TelemetryEvents['step'] | undefined;
  const emit: Emit = (kind, data) => {
    if (kind === 'step') lastStep = data as TelemetryEvents['step'];
    ctx.emit(kind, data);
  };
  const metric = task.metricInfo.name;
  const onProgress = (p: TrainProgress): void => {
    const s = lastStep;
    const detail = s
      ? `loss ${s.loss.toFixed(3)}${s.accuracy !== undefined ? ` ${metric === 'accuracy' ? 'acc' : metric} ${(s.accuracy * 100).toFixed(1)}%` : ''} ${Math.round(s.imagesPerSec)} ex/s`
      : undefined;
    ctx.progress('train', p.step, p.totalSteps, `phase ${p.phaseIndex + 1}/${config.training.phases.length}${detail ? ' · ' + detail : ''}`);
  };
  const planned = planJob(config, ctx.placement, { cores: availableParallelism(), gpus: runGpus().length });
  // A job of this host alone meets on a loopback port that is free now.
  const plan = planned && !ctx.placement ? { ...planned, coordinator: { host: '127.0.0.1', port: await freeLoopbackPort() } } : planned;
  const checkpointDir = join(ctx.runDir, CHECKPOINT_DIR);
  const training: TrainStageResult = plan
    ? { ...(await trainInJob(ctx, task, plan, { ...opts, emit, onProgress, checkpointDir })), job: plan }
    : await trainSupernet(config, task, { emit, checkpointDir, resumeFrom: opts.resumeFrom, signal: ctx.signal, prefetch: opts.prefetch, onProgress });
  if (training.stopped || ctx.signal?.aborted) {
    throw new RunStopped(`stopped at step ${training.steps} of ${training.totalSteps}; resume continues from the last checkpoint`);
  }
  return training;
}

/** This host's part of a job: its worker processes, and this process as the host's first rank. */
async function trainInJob(
  ctx: RunContext,
  task: Task,
  plan: JobPlan,
  opts: { resumeFrom?: TrainerState; prefetch?: 'worker' | 'sync'; emit: Emit; onProgress: (p: TrainProgress) => void; checkpointDir: string },
): Promise<TrainSupernetResult> {
  const hosts = new Set(plan.hostOf).size;
  ctx.emit('log', {
    level: 'info',
    message: `training with ${plan.worldSize} workers (${plan.algorithm}${hosts > 1 ? `, ${hosts} hosts, this is host ${plan.hostIndex + 1}` : ''}, ${ctx.config.training.batchSize / plan.worldSize} examples per worker per step)`,
  });
  ctx.emit('waiting', { reason: hosts > 1 ? `waiting for the job's ${plan.worldSize} workers on ${hosts} hosts` : `starting ${plan.worldSize} training workers` });
  // Stopping is agreed through the gradients (every worker stops after the same step); ending the job at once is
  // for failures, and for a stop that arrives while the job is still gathering.
  const gathering = new AbortController();
  let joined = false;
  const stopWhileJoining = (): void => {
    if (!joined) gathering.abort(new RunStopped('stopped before every worker joined the job'));
  };
  ctx.signal?.addEventListener('abort', stopWhileJoining);
  try {
    const { training } = await trainHostShare(ctx.config, task, plan, {
      configDir: ctx.configDir,
      log: (level, message) => ctx.emit('log', { level, message }),
      emit: opts.emit,
      signal: gathering.signal,
      stopSignal: ctx.signal,
      // Every host keeps checkpoints (its log is cut back to them on resume); the job continues from host 0's.
      checkpointDir: opts.checkpointDir,
      resumeFrom: plan.coordinatorHost ? opts.resumeFrom : undefined,
      prefetch: opts.prefetch,
      onProgress: opts.onProgress,
      onJoined: () => {
        joined = true;
        ctx.emit('log', { level: 'info', message: `all ${plan.worldSize} workers joined` });
      },
    });
    return training;
  } catch (e) {
    if (e instanceof TrainingJobError) markLost(ctx, plan, e);
    throw e;
  } finally {
    ctx.signal?.removeEventListener('abort', stopWhileJoining);
  }
}

/** A `workers` event that names the worker the job lost, so the monitor marks it. */
function markLost(ctx: RunContext, plan: JobPlan, error: TrainingJobError): void {
  if (error.peerRank === undefined) return;
  ctx.emit('workers', {
    step: -1,
    algorithm: plan.algorithm,
    workers: plan.nodeOf.map((node, rank) => ({
      rank,
      node,
      host: plan.hostOf[rank],
      imagesPerSec: 0,
      allReduceMs: 0,
      state: rank === error.peerRank ? ('lost' as const) : ('done' as const),
      ...(rank === error.peerRank ? { detail: error.message } : {}),
    })),
  });
}
