// Stage 3, efficiency: the cost model the search trades accuracy against — exact MACs and parameters, plus latency:
// a lookup table where the task's supernet is the ofa unit stack, otherwise (only when the objective or a constraint
// needs it: timing whole subnets is slow) a model fitted to directly timed subnets. Both are cached per backend,
// version and device.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Arch } from '../../ofa/arch';
import type { Task } from '../../ofa/task';
import type { BackendInfo } from '../../protocol/events';
import { CountedCosts, EfficiencyModel, type CostModel } from '../../search/efficiency';
import { buildFittedLatency, type FittedLatency } from '../../search/fitted-latency';
import { buildLatencyTable, type LatencyTable } from '../../search/latency';
import { RunStopped, type RunContext } from '../context';

export function defaultCacheDir(): string {
  return process.env.MANTA_CACHE_DIR ?? join(homedir(), '.cache', 'manta');
}

export interface Efficiency {
  model: CostModel;
  table?: LatencyTable;
  /** The fitted latency model of a supernet without a unit stack (only when latency is searched on). */
  fitted?: FittedLatency;
}

export async function efficiencyStage(ctx: RunContext, task: Task, backend: BackendInfo, cacheDir: string): Promise<Efficiency> {
  const s = ctx.config.search;
  const needsLatency = s.objective === 'latency' || s.constraints.maxLatencyMs !== undefined;
  const stack = task.unitStack;
  if (!stack) {
    const count = (arch: Arch): { macs: number; params: number } => ({ macs: task.supernet.macs(arch), params: task.supernet.params(arch) });
    if (!needsLatency) return { model: new CountedCosts(task.space, count) };
    const fitted = await fitLatency(ctx, task, backend, cacheDir);
    return { model: new CountedCosts(task.space, count, fitted), fitted };
  }
  ctx.progress('latency', 0, 1, 'timing block variants');
  ctx.emit('waiting', { reason: 'building the latency lookup table' });
  let table: LatencyTable | undefined;
  try {
    table = await buildLatencyTable(task.space, stack.inputChannels, stack.classes, {
      backend,
      cacheDir,
      signal: ctx.signal,
      onProgress: (done, total) => ctx.progress('latency', done, total, 'timing block variants'),
    });
  } catch (e) {
    if (ctx.signal?.aborted) throw new RunStopped('stopped during the search; resume repeats the search from the trained supernet');
    if (needsLatency) throw e;
    ctx.warn(`latency table unavailable (${(e as Error).message}); results have no latency`);
  }
  ctx.checkStop();
  return { model: new EfficiencyModel(task.space, stack.inputChannels, stack.classes, table), table };
}

/** Times whole subnets (or reads them from the cache) and fits latency to their MACs; failures fail the run. */
async function fitLatency(ctx: RunContext, task: Task, backend: BackendInfo, cacheDir: string): Promise<FittedLatency> {
  ctx.progress('latency', 0, 1, 'timing subnets');
  ctx.emit('waiting', { reason: 'timing subnets for the latency model' });
  let fitted: FittedLatency;
  try {
    fitted = await buildFittedLatency(
      { space: task.space, build: (arch) => task.supernet.extractSubnet(arch), macs: (arch) => task.supernet.macs(arch) },
      {
        backend,
        // The subnets' shapes follow from the supernet config and the input the task feeds (its size and channels).
        cacheKey: JSON.stringify({ task: task.kind, supernet: task.space.supernet, input: task.inputDescription() }),
        cacheDir,
        signal: ctx.signal,
        onProgress: (done, total) => ctx.progress('latency', done, total, 'timing subnets'),
      },
    );
  } catch (e) {
    if (ctx.signal?.aborted) throw new RunStopped('stopped during the search; resume repeats the search from the trained supernet');
    throw e; // the objective or a constraint needs latency: there is no search without it
  }
  ctx.checkStop();
  const c = fitted.coefficients;
  const terms = [`${c.intercept.toFixed(3)} ms`, `${c.perMegaMac.toFixed(4)} ms/MMAC`, ...(c.perBlock > 0 ? [`${c.perBlock.toFixed(3)} ms/block`] : [])];
  ctx.emit('log', {
    level: 'info',
    message: `latency model fitted to ${fitted.samples.length} timed subnets (${fitted.timedNow} timed now): ${terms.join(' + ')}; held-out error ${(fitted.heldOutError * 100).toFixed(1)}%`,
  });
  return fitted;
}
