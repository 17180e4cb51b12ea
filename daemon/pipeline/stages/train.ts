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
import { LocalWorkers } from '../distributed/local-workers';
import { planJob, runGpus, type JobPlan } from '../distributed/plan';
import { TrainingJobError, trainAsRank } from '../distributed/train-as-rank';
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
  opts: { resumeFrom?: TrainerState; prefetch?: 'worker' | 'sync'; gpus?: number },
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
  const machine = { cores: availableParallelism(), gpus: opts.gpus ?? runGpus().length };
  const needsPort = !ctx.placement && planJob(config, undefined, machine) !== undefined;
  const plan = planJob(config, ctx.placement, machine, needsPort ? await freeLoopbackPort() : 0);
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
  const rank = plan.localRanks[0];
  const hosts = new Set(plan.hostOf).size;
  ctx.emit('log', {
    level: 'info',
    message: `training with ${plan.worldSize} workers (${plan.algorithm}${hosts > 1 ? `, ${hosts} hosts, this is host ${plan.hostIndex + 1}` : ''}, ${ctx.config.training.batchSize / plan.worldSize} examples per worker per step)`,
  });
  ctx.emit('waiting', { reason: hosts > 1 ? `waiting for the job's ${plan.worldSize} workers on ${hosts} hosts` : `starting ${plan.worldSize} training workers` });
  const abort = new AbortController();
  const workers = LocalWorkers.start(plan, ctx.config, ctx.configDir, (level, message) => ctx.emit('log', { level, message }));
  let failure: TrainingJobError | undefined;
  workers.onFailure((f) => {
    // A worker that never joins (bad data, a crash at start) must not leave this rank waiting for the rendezvous.
    failure = new TrainingJobError(`the training job stopped: ${f.message}; resume the run to continue from its last checkpoint`, f.rank, plan.hostOf[f.rank]);
    abort.abort(failure);
  });
  // Stopping is agreed through the gradients (every worker stops after the same step); aborting the group is for
  // failures, and for a stop that arrives while the job is still gathering.
  const joined = { done: false };
  const stopWhileJoining = (): void => {
    if (!joined.done) abort.abort(new RunStopped('stopped before every worker joined the job'));
  };
  ctx.signal?.addEventListener('abort', stopWhileJoining);
  try {
    const result = await trainAsRank({
      config: ctx.config,
      task,
      plan,
      rank,
      emit: opts.emit,
      signal: abort.signal,
      stopSignal: ctx.signal,
      // Every host keeps checkpoints (its log is cut back to them on resume); the job continues from host 0's.
      checkpointDir: opts.checkpointDir,
      resumeFrom: plan.coordinatorHost ? opts.resumeFrom : undefined,
      prefetch: opts.prefetch,
      onProgress: opts.onProgress,
      onJoined: () => {
        joined.done = true;
        ctx.emit('log', { level: 'info', message: `all ${plan.worldSize} workers joined` });
      },
    });
    await workers.finish(plan.timeoutMs);
    return result;
  } catch (e) {
    await workers.kill();
    if (abort.signal.reason instanceof RunStopped) throw abort.signal.reason;
    const error = failure ?? e;
    if (error instanceof TrainingJobError) markLost(ctx, plan, error);
    throw error;
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
