// Stages 5 and 6: the accuracy predictor fitted on the measured subnets, then the multi-objective evolution over the
// search space with it. Both outputs are saved (stages/), so a resumed run goes straight to the front.
import type { Arch } from '../../ofa/arch';
import type { Task } from '../../ofa/task';
import type { ParetoPoint, TelemetryEvents } from '../../protocol/events';
import { evolve } from '../../search/evolution';
import { ArchGenome } from '../../search/genome';
import { archPredictor, describeTau, genomePredictor, trainPredictor, type TrainedPredictor } from '../../search/predictor';
import { createScorer } from '../../search/scorer';
import { stoppable, type RunContext } from '../context';
import type { Efficiency } from './efficiency';
import { formatMetric, type MeasuredSubnet } from './measure';

/**
 * What the predictor learns and the evolution maximises: the task's metric, negated when lower is better (stereo's
 * end-point error), so "higher is better" holds everywhere in search/.
 */
export function fitness(task: Task, metric: number): number {
  return task.metricInfo.higherIsBetter ? metric : -metric;
}

export async function predictorStage(ctx: RunContext, task: Task, measured: readonly MeasuredSubnet[]): Promise<TrainedPredictor> {
  const saved = ctx.resume ? ctx.store.load<TrainedPredictor>('predictor', 1) : undefined;
  ctx.progress('predictor', 0, 1, 'training the accuracy predictor');
  const predictor =
    saved ??
    (await trainPredictor(
      measured.map((m) => ({ features: task.space.encode(m.arch), accuracy: fitness(task, m.validationAccuracy) })),
      { ...ctx.config.search.predictor, seed: ctx.config.seed },
    ));
  if (!saved) ctx.store.save('predictor', 1, predictor);
  ctx.emit('predictor', { ...predictor.stats });
  if (predictor.stats.warning) ctx.warn(predictor.stats.warning);
  else ctx.emit('log', { level: 'info', message: `accuracy predictor: ${describeTau(predictor.stats)}, RMSE ${predictor.stats.rmse.toFixed(4)}` });
  const ci = predictor.stats.kendallTauCI;
  ctx.progress('predictor', 1, 1, `tau ${predictor.stats.kendallTau.toFixed(3)}${ci && !Number.isNaN(ci.low) ? ` [${ci.low.toFixed(2)}, ${ci.high.toFixed(2)}]` : ''} on ${predictor.stats.heldOutSize}`);
  ctx.checkStop('stopped during the search; resume repeats the search from the trained supernet');
  return predictor;
}

/** The predictor's value of the task's metric for each arch (fitness back to the metric). */
export function predictMetric(task: Task, predictor: TrainedPredictor, archs: readonly Arch[]): number[] {
  if (archs.length === 0) return [];
  const scorer = createScorer(predictor.weights);
  try {
    return Array.from(archPredictor(task.space, scorer).predict(archs), (f) => fitness(task, f));
  } finally {
    scorer.dispose();
  }
}

/** One point of the evolution's front: the arch, its objective cost and its predicted fitness. */
export interface EvolvedPoint {
  arch: Arch;
  cost: number;
  fitness: number;
}

export interface EvolutionOutcome {
  front: EvolvedPoint[];
  candidatesScored: number;
  uniqueCandidates: number;
  wallMs: number;
}

export async function evolveStage(ctx: RunContext, task: Task, efficiency: Efficiency, predictor: TrainedPredictor): Promise<EvolutionOutcome> {
  const saved = ctx.resume ? ctx.store.load<EvolutionOutcome>('evolution', 1) : undefined;
  if (saved) return saved;
  const s = ctx.config.search;
  const genome = new ArchGenome(task.space);
  const archCost = efficiency.model.costFunction(s.objective, s.constraints);
  ctx.progress('search', 0, s.evolution.generations, 'evolving');
  const scorer = createScorer(predictor.weights);
  const evolution = await stoppable(ctx, 'stopped during the search; resume repeats the search from the trained supernet', () =>
    evolve(
      genome,
      genomePredictor(genome, scorer),
      (g) => archCost(genome.toArch(g)),
      { ...s.evolution, seed: ctx.config.seed, signal: ctx.signal },
      (kind, data) => {
        if (kind === 'search.generation') {
          // The evolution maximises fitness; the event carries the task's metric (fitness back to it).
          const d = data as TelemetryEvents['search.generation'];
          const best = fitness(task, d.bestPredictedAccuracy);
          ctx.emit(kind, { ...d, bestPredictedAccuracy: best } as typeof data);
          ctx.progress('search', d.generation, d.generations, `best predicted ${formatMetric(task, best)}`);
        } else ctx.emit(kind, data);
      },
    ),
  ).finally(() => scorer.dispose());
  const outcome: EvolutionOutcome = {
    front: evolution.front.map((c) => ({ arch: genome.toArch(c.arch), cost: c.cost, fitness: c.accuracy })),
    candidatesScored: evolution.candidatesScored,
    uniqueCandidates: evolution.uniqueCandidates,
    wallMs: evolution.wallMs,
  };
  ctx.store.save('evolution', 1, outcome);
  return outcome;
}

/** The evolution's front as Pareto points (costs, predicted metric), announced to clients. */
export function predictedFront(ctx: RunContext, task: Task, efficiency: Efficiency, outcome: EvolutionOutcome): ParetoPoint[] {
  const points = outcome.front.map(({ arch, fitness: f }) => {
    const costs = efficiency.model.costs(arch);
    return {
      arch,
      macs: costs.macs,
      params: costs.params,
      ...(costs.latencyMs !== undefined ? { latencyMs: costs.latencyMs } : {}),
      predictedAccuracy: fitness(task, f), // negation is its own inverse: fitness back to the metric
    };
  });
  ctx.emit('pareto', { objective: ctx.config.search.objective, points, measured: false });
  return points;
}
