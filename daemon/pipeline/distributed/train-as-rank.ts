// One rank's side of a training job, the same in the run's process and in a worker process: join the group, start
// from rank 0's state (its checkpoint when it resumes), train with every step's gradients averaged by the job's
// algorithm, and check at the end that every rank holds the same supernet.
import { createHash } from 'node:crypto';
import type { ResolvedConfig } from '../../../schemas';
import { tf } from '../../engine';
import { CollectiveError, joinGroup, type ProcessGroup } from '../../distributed';
import type { Task } from '../../ofa/task';
import type { Emit } from '../../protocol/events';
import { UserError } from '../../protocol/user-error';
import { decodeCheckpoint, encodeCheckpoint } from '../../train/checkpoint-codec';
import type { TrainerState } from '../../train/state';
import { trainSupernet, type TrainProgress, type TrainSupernetResult } from '../../train/train-supernet';
import type { JobPlan } from './plan';

export interface RankTrainingOptions {
  config: ResolvedConfig;
  task: Task;
  plan: JobPlan;
  rank: number;
  emit: Emit;
  /** Ends the rank at once (a failed worker, a stop before every worker joined): the group closes. */
  signal?: AbortSignal;
  /** Asks the job to stop after the current step; the request travels with the gradients so all ranks agree. */
  stopSignal?: AbortSignal;
  /** Rank 0 of the coordinator host: where checkpoints go, and the state a resumed run continues from. */
  checkpointDir?: string;
  resumeFrom?: TrainerState;
  prefetch?: 'worker' | 'sync';
  onProgress?: (p: TrainProgress) => void;
  /** Least time between two `step` events (benchmarks ask for every step). */
  stepEventIntervalMs?: number;
  /** Told once the rank is in the group (every rank arrived). */
  onJoined?: () => void;
}

export async function trainAsRank(opts: RankTrainingOptions): Promise<TrainSupernetResult> {
  const { plan, rank } = opts;
  let group: ProcessGroup | undefined;
  try {
    group = await joinGroup({
      rank,
      worldSize: plan.worldSize,
      nodeOf: plan.nodeOf,
      hostOf: plan.hostOf,
      coordinator: plan.coordinator,
      bindAddress: plan.bindAddress,
      token: plan.token,
      timeoutMs: plan.timeoutMs,
      signal: opts.signal,
    });
    opts.onJoined?.();
    const g = group;
    // Every rank starts from rank 0's state: its checkpoint when the run resumes (other hosts' own checkpoints may
    // be older or newer), nothing (zero bytes) for a fresh run, whose seeded initialisation is the same everywhere.
    const sent = rank === 0 ? (opts.resumeFrom ? new Uint8Array(encodeCheckpoint(opts.resumeFrom)) : new Uint8Array(0)) : undefined;
    const state = await g.broadcastBytes(sent, 0);
    const start = rank === 0 ? opts.resumeFrom : state.length > 0 ? decodeCheckpoint(Buffer.from(state.buffer, state.byteOffset, state.byteLength), 'the state sent by rank 0') : undefined;
    const reduce = plan.algorithm === 'data-parallel' ? (b: Float32Array[]) => g.allReduceMean(b) : (b: Float32Array[]) => g.hierarchicalAllReduceMean(b);
    const result = await trainSupernet(opts.config, opts.task, {
      emit: opts.emit,
      onProgress: opts.onProgress,
      reducer: reduce,
      job: { algorithm: plan.algorithm, worldSize: plan.worldSize, nodeOf: plan.nodeOf, hostOf: plan.hostOf, ranks: [rank] },
      resumeFrom: start,
      signal: opts.stopSignal,
      checkpointDir: opts.checkpointDir,
      prefetch: opts.prefetch,
      stepEventIntervalMs: opts.stepEventIntervalMs,
    });
    // The same update on every rank keeps the supernets equal; a digest comparison proves it for this run.
    const mine = weightsDigest(opts.task);
    const reference = await g.broadcastBytes(rank === 0 ? mine : undefined, 0);
    if (Buffer.compare(Buffer.from(mine), Buffer.from(reference)) !== 0) {
      throw new Error(`rank ${rank} (host '${plan.hostOf[rank]}') ended training with a supernet that differs from rank 0's`);
    }
    await g.barrier();
    return result;
  } catch (e) {
    if (e instanceof CollectiveError) throw jobFailure(e, plan);
    throw e;
  } finally {
    await group?.close();
  }
}

/** SHA-256 of every weight (running statistics included), in name order. */
export function weightsDigest(task: Task): Uint8Array {
  const hash = createHash('sha256');
  const weights = task.supernet.getWeights();
  try {
    for (const name of Object.keys(weights).sort()) {
      const data = weights[name].dataSync() as Float32Array;
      hash.update(name);
      hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  } finally {
    tf.dispose(Object.values(weights));
  }
  return new Uint8Array(hash.digest());
}

/** What a user reads when the job breaks: which peer, what happened, and that a resume continues. */
export class TrainingJobError extends UserError {
  constructor(
    message: string,
    readonly peerRank: number | undefined,
    readonly peerHost: string | undefined,
  ) {
    super(message, 'distributed.peer');
    this.name = 'TrainingJobError';
  }
}

function jobFailure(e: CollectiveError, plan: JobPlan): TrainingJobError {
  const hosts = plan.hostOf.length > 0 && new Set(plan.hostOf).size > 1 ? ` across ${new Set(plan.hostOf).size} hosts` : '';
  // A token mismatch is not cured by resuming: the job has to be started with one token everywhere.
  const next = e.kind === 'auth' ? 'start the job again with the same token on every host' : 'resume the run to continue from its last checkpoint';
  return new TrainingJobError(
    `the training job (${plan.worldSize} workers${hosts}, ${plan.algorithm}) stopped: ${e.message}; ${next}`,
    e.peerRank,
    e.peerHost,
  );
}
