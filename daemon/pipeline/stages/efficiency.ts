// Stage 3, efficiency: the cost model the search trades accuracy against — exact MACs and parameters, plus latency on
// the runtime the config names (search.latency: the engine's backend or ONNX Runtime), from a model fitted to
// directly timed subnets and cached per runtime, device and supernet shape. The unit stack always gets one (results
// carry latency); other supernets only when the objective or a constraint needs it. The check against other timed
// subnets at the end of the run is here too (`checkLatency`).
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../engine/rng';
import type { Arch } from '../../ofa/arch';
import type { Task } from '../../ofa/task';
import type { BackendInfo } from '../../protocol/events';
import type { ResultsFile } from '../../protocol/results';
import { CountedCosts, EfficiencyModel, type CostModel } from '../../search/efficiency';
import { buildFittedLatency, LatencyStoppedError, type FittedLatency } from '../../search/fitted-latency';
import { countedSubject, unitStackSubject, validateLatencyModel, type LatencySubject } from '../../search/latency';
import { openTimingRuntime, TimingStoppedError, type TimingRuntime } from '../../search/latency-runtime';
import { RunStopped, type RunContext } from '../context';

export function defaultCacheDir(): string {
  return process.env.MANTA_CACHE_DIR ?? join(homedir(), '.cache', 'manta');
}

export interface Efficiency {
  model: CostModel;
  /** The latency model, the runtime it was timed on and the subject it describes (absent: no latency). */
  latency?: { model: FittedLatency; runtime: TimingRuntime; subject: LatencySubject };
}

/** Sub-stream of the run seed for the subnets timed to check the latency model. */
const LATENCY_STREAM = 102;

/** What a task's latency model describes: its unit stack's layers, or its own MACs and depth. */
export function latencySubject(task: Task): LatencySubject {
  const build = (arch: Arch) => task.supernet.extractSubnet(arch);
  // The subnets' shapes follow from the supernet config and the input the task feeds (its size and channels).
  const cacheKey = JSON.stringify({ task: task.kind, supernet: task.space.supernet, input: task.inputDescription() });
  const stack = task.unitStack;
  return stack
    ? unitStackSubject(task.space, stack.inputChannels, stack.classes, build, cacheKey)
    : countedSubject(task.space, build, (arch) => task.supernet.macs(arch), cacheKey);
}

export async function efficiencyStage(ctx: RunContext, task: Task, backend: BackendInfo, cacheDir: string): Promise<Efficiency> {
  const s = ctx.config.search;
  const needsLatency = s.objective === 'latency' || s.constraints.maxLatencyMs !== undefined;
  const stack = task.unitStack;
  const costs = (latency?: FittedLatency): CostModel => {
    if (stack) return new EfficiencyModel(task.space, stack.inputChannels, stack.classes, latency);
    return new CountedCosts(task.space, (arch) => ({ macs: task.supernet.macs(arch), params: task.supernet.params(arch) }), latency);
  };
  if (!stack && !needsLatency) return { model: costs() };
  let latency: Efficiency['latency'];
  try {
    latency = await fitLatency(ctx, task, backend, cacheDir);
  } catch (e) {
    if (ctx.signal?.aborted) throw new RunStopped('stopped during the search; resume repeats the search from the trained supernet');
    if (needsLatency) throw e; // the objective or a constraint needs latency: there is no search without it
    ctx.warn(`latency model unavailable (${(e as Error).message}); results have no latency`);
  }
  ctx.checkStop();
  return { model: costs(latency?.model), ...(latency ? { latency } : {}) };
}

/** Times subnets on the configured runtime (or reads them from the cache) and fits the latency model. */
async function fitLatency(ctx: RunContext, task: Task, backend: BackendInfo, cacheDir: string): Promise<NonNullable<Efficiency['latency']>> {
  const options = ctx.config.search.latency;
  const runtime = openTimingRuntime(options, backend);
  const subject = latencySubject(task);
  ctx.progress('latency', 0, 1, `timing subnets on ${runtime.info.backend}`);
  ctx.emit('waiting', { reason: `timing subnets on ${runtime.info.backend} for the latency model` });
  const model = await buildFittedLatency(subject, runtime, {
    cacheDir,
    subnets: options.fitSubnets,
    signal: ctx.signal,
    onProgress: (done, total) => ctx.progress('latency', done, total, `timing subnets on ${runtime.info.backend}`),
  });
  const f = model.fit;
  const terms = [`${f.intercept.toFixed(3)} ms`, ...f.used.map((n) => `${f.weights[n].toPrecision(3)} ms/${n}`)];
  ctx.emit('log', {
    level: 'info',
    message: `latency on ${runtime.info.backend} (${runtime.info.device}) fitted to ${model.samples.length} timed subnets (${model.timedNow} timed now): ${terms.join(' + ')}; held-out error ${(f.heldOutError * 100).toFixed(1)}%`,
  });
  return { model, runtime, subject };
}

/** Times `checks` random subnets directly and reports how far the latency model is from them (results.json). */
export async function checkLatency(ctx: RunContext, efficiency: Efficiency, checks: number): Promise<ResultsFile['latency']> {
  const latency = efficiency.latency;
  if (!latency || checks <= 0) return undefined;
  const { model, runtime, subject } = latency;
  const rng = Rng.derive(ctx.config.seed, LATENCY_STREAM);
  const archs = Array.from({ length: checks }, () => subject.space.sample(rng));
  ctx.progress('report', 0, 1, `timing ${checks} subnets against the latency model`);
  let v;
  try {
    v = await validateLatencyModel(model, runtime, (arch) => subject.build(arch), archs, { signal: ctx.signal });
  } catch (e) {
    if (e instanceof TimingStoppedError || e instanceof LatencyStoppedError) throw new RunStopped('stopped while checking the latency model');
    throw e;
  }
  if (v.medianAbsErrPct > 25) {
    ctx.warn(`the latency model is off by ${v.medianAbsErrPct.toFixed(0)}% (median) against directly timed subnets on ${runtime.info.backend}: treat latencies as rough`);
  }
  return {
    meanRelativeError: v.meanRelativeError,
    medianRelativeError: v.medianAbsErrPct / 100,
    samples: v.samples.map(({ estimatedMs, measuredMs }) => ({ estimatedMs, measuredMs })),
    tableEntries: model.entries,
    model: 'fitted',
    runtime: runtime.info,
  };
}
