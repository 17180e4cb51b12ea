// This host's share of a training job: worker processes for its other ranks and this process as its first rank,
// a worker that fails (even before it joins) ending this rank at once, the workers reaped however it ends. Used by
// the train stage, and by the scaling bench and the tests, which run the same job outside a run.
import type { ResolvedConfig } from '../../../schemas';
import type { Task } from '../../ofa/task';
import type { TrainSupernetResult } from '../../train/train-supernet';
import { LocalWorkers } from './local-workers';
import type { JobPlan } from './plan';
import { TrainingJobError, trainAsRank, weightsDigest, type RankTrainingOptions } from './train-as-rank';

export interface HostShareOptions extends Omit<RankTrainingOptions, 'rank' | 'plan' | 'config' | 'task' | 'signal'> {
  /** The folder the config's dataset paths resolve against (the workers load the data themselves). */
  configDir: string;
  /** Ends the job at once (e.g. a stop before every worker joined); its reason is what the call throws. */
  signal?: AbortSignal;
  /** Warnings and errors of the worker processes. */
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
}

export interface HostShareResult {
  training: TrainSupernetResult;
  /** SHA-256 (hex) of every local rank's supernet at the end, in rank order (all equal). */
  digests: string[];
}

export async function trainHostShare(config: ResolvedConfig, task: Task, plan: JobPlan, opts: HostShareOptions): Promise<HostShareResult> {
  const abort = new AbortController();
  const onOuterAbort = (): void => abort.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onOuterAbort);
  const workers = LocalWorkers.start(plan, config, opts.configDir, opts.log ?? (() => undefined));
  let failure: TrainingJobError | undefined;
  workers.onFailure((f) => {
    // A worker that never joins (bad data, a crash at start) must not leave this rank waiting for the rendezvous.
    failure = new TrainingJobError(`the training job stopped: ${f.message}; resume the run to continue from its last checkpoint`, f.rank, plan.hostOf[f.rank]);
    abort.abort(failure);
  });
  try {
    const training = await trainAsRank({ ...opts, config, task, plan, rank: plan.localRanks[0], signal: abort.signal });
    await workers.finish(plan.timeoutMs);
    const own = Buffer.from(weightsDigest(task)).toString('hex');
    return { training, digests: [own, ...plan.localRanks.slice(1).map((r) => workers.digests.get(r) ?? `rank ${r} reported no digest`)] };
  } catch (e) {
    await workers.kill();
    if (failure) throw failure;
    if (opts.signal?.aborted) throw opts.signal.reason;
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}
