// Stage 3, efficiency: the cost model the search trades accuracy against — exact MACs and parameters, plus a latency
// lookup table (cached per backend, version and device) where the task's supernet is the ofa unit stack.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Task } from '../../ofa/task';
import type { BackendInfo } from '../../protocol/events';
import { CountedCosts, EfficiencyModel, type CostModel } from '../../search/efficiency';
import { buildLatencyTable, type LatencyTable } from '../../search/latency';
import { RunStopped, type RunContext } from '../context';

export function defaultCacheDir(): string {
  return process.env.MANTA_CACHE_DIR ?? join(homedir(), '.cache', 'manta');
}

export interface Efficiency {
  model: CostModel;
  table?: LatencyTable;
}

export async function efficiencyStage(ctx: RunContext, task: Task, backend: BackendInfo, cacheDir: string): Promise<Efficiency> {
  const s = ctx.config.search;
  const needsLatency = s.objective === 'latency' || s.constraints.maxLatencyMs !== undefined;
  const stack = task.unitStack;
  if (!stack) {
    if (needsLatency) throw new Error(`the ${task.kind} task has no latency model yet; use the objective "macs" or "params" and no maxLatencyMs`);
    return { model: new CountedCosts(task.space, (arch) => ({ macs: task.supernet.macs(arch), params: task.supernet.params(arch) })) };
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
