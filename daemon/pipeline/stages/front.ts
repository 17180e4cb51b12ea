// Stage 7, front: the evolution's front thinned to `search.frontSize` points spread along it and re-measured for
// real; then the final front is the Pareto set of EVERY subnet measured in the run — the predictor's measured set and
// the re-measured searched points — under the constraints. Each front subnet is measured on the test split too and
// exported as a stock tfjs model while its recalibrated batch norms are in place.
import { join } from 'node:path';
import type { Arch } from '../../ofa/arch';
import type { Task } from '../../ofa/task';
import type { ParetoPoint } from '../../protocol/events';
import { saveModel } from '../../search/export';
import { paretoFront, spreadAlongFront } from '../../search/pareto';
import type { FrontEntry, RemeasuredPoint } from '../../search/results';
import { recalibrateSubnet } from '../../train/evaluate';
import { stoppable, type RunContext } from '../context';
import { SUBNETS_DIR } from '../run-folder';
import type { Efficiency } from './efficiency';
import { formatMetric, measureOptions, measureSubnets, type MeasuredSubnet } from './measure';
import { evolveStage, fitness, predictedFront, predictMetric, type EvolutionOutcome } from './search';
import type { TrainedPredictor } from '../../search/predictor';

/** A subnet measured in this run, and where it came from. */
export interface MeasuredCandidate extends MeasuredSubnet {
  source: 'measured' | 'searched';
  /** The predictor's value (searched points: the evolution's; measured ones: scored for the table). */
  predictedAccuracy?: number;
}

export interface FrontOutcome {
  /** The Pareto set of everything measured, by cost ascending, each measured on the test split and exported. */
  front: FrontEntry[];
  /** The searched points re-measured (on the front or not): how the predicted front held up. */
  remeasured: RemeasuredPoint[];
}

const STOPPED = 'stopped during the search; resume repeats the search from the trained supernet';

/** What the search from a trained predictor yields: the outputs a run's results record. */
export interface SearchOutcome extends FrontOutcome {
  predictor: TrainedPredictor;
  evolution: EvolutionOutcome;
  predictedFront: ParetoPoint[];
}

/**
 * The search from a trained predictor to the exported front, as a training run and a search again do it: evolution,
 * its predicted front, then the front re-measured on the supernet. `measured`: as frontStage takes it.
 */
export async function searchFrontStages(
  ctx: RunContext,
  task: Task,
  efficiency: Efficiency,
  predictor: TrainedPredictor,
  measured: readonly MeasuredSubnet[],
): Promise<SearchOutcome> {
  const evolution = await evolveStage(ctx, task, efficiency, predictor);
  const predicted = predictedFront(ctx, task, efficiency, evolution);
  const { front, remeasured } = await frontStage(ctx, task, efficiency, evolution, predicted, measured, (archs: Arch[]) => predictMetric(task, predictor, archs));
  return { predictor, evolution, predictedFront: predicted, front, remeasured };
}

/**
 * `measured`: every subnet measured before this stage (the predictor's set; earlier re-measured points may carry
 * test figures). `predict`: the predictor's metric for archs (scores front entries that come from the measured set).
 */
export async function frontStage(
  ctx: RunContext,
  task: Task,
  efficiency: Efficiency,
  outcome: EvolutionOutcome,
  predicted: readonly ParetoPoint[],
  measured: readonly MeasuredSubnet[],
  predict: (archs: Arch[]) => number[],
): Promise<FrontOutcome> {
  const s = ctx.config.search;
  const chosen = spreadAlongFront(
    outcome.front.map((c, i) => ({ cost: c.cost, accuracy: c.fitness, i })),
    s.frontSize,
  ).map((c) => predicted[c.i]);
  ctx.progress('front', 0, chosen.length, 're-measuring the searched front');
  const searched = await stoppable(ctx, STOPPED, () =>
    measureSubnets(task, chosen.map((p) => p.arch), { ...measureOptions(ctx, task), test: true }, (m, i) => {
      ctx.progress('front', i + 1, chosen.length, `searched #${i}: validation ${formatMetric(task, m.validationAccuracy)}`);
    }),
  );
  const remeasured: RemeasuredPoint[] = searched.map((m, i) => ({ ...costsOf(efficiency, m.arch), predictedAccuracy: chosen[i].predictedAccuracy, ...measuredFields(m) }));

  const candidates = [
    ...measured.map((m): MeasuredCandidate => ({ ...m, source: 'measured' })),
    ...searched.map((m, i): MeasuredCandidate => ({ ...m, source: 'searched', predictedAccuracy: chosen[i].predictedAccuracy })),
  ];
  const best = bestOfMeasured(candidates, (arch) => task.space.key(arch), efficiency.model.costFunction(s.objective, s.constraints), (v) => fitness(task, v));
  const unscored = best.filter((c) => c.predictedAccuracy === undefined);
  if (unscored.length > 0) predict(unscored.map((c) => c.arch)).forEach((v, i) => (unscored[i].predictedAccuracy = v));

  const front: FrontEntry[] = [];
  const base = measureOptions(ctx, task);
  ctx.progress('front', 0, best.length, 'measuring and exporting the front');
  await stoppable(ctx, STOPPED, async () => {
    for (const [index, c] of best.entries()) {
      ctx.checkStop(STOPPED);
      let m: MeasuredSubnet = c;
      if (c.testAccuracy === undefined) {
        // A subnet of the measured set: its validation figures stand (the same calibration subset gives the same
        // statistics); the test split is measured now, with the statistics in place for the export below.
        [m] = await measureSubnets(task, [c.arch], { ...base, test: true });
        m = { ...m, validationAccuracy: c.validationAccuracy, validationLoss: c.validationLoss };
      } else {
        await recalibrateSubnet(task, c.arch, base);
      }
      const dir = join(SUBNETS_DIR, String(index));
      const model = task.supernet.extractSubnet(c.arch);
      try {
        await saveModel(model, join(ctx.runDir, dir), { manta: task.exportMetadata(c.arch) });
      } finally {
        model.dispose();
      }
      const preview = task.preview ? await task.preview(c.arch) : undefined;
      if (preview) ctx.emit('preview', { label: `front #${index}`, arch: c.arch, preview });
      front.push({
        ...costsOf(efficiency, c.arch),
        predictedAccuracy: c.predictedAccuracy ?? NaN,
        index,
        ...measuredFields(m),
        // The Pareto set of everything measured: no measured point beats an entry.
        dominated: false,
        model: `${dir}/model.json`,
        source: c.source,
        ...(preview ? { preview } : {}),
      });
      ctx.progress('front', index + 1, best.length, `#${index} test ${formatMetric(task, m.testAccuracy ?? 0)}`);
    }
  });
  ctx.emit('pareto', { objective: s.objective, points: front.map(({ index: _i, dominated: _d, model: _m, validationLoss: _v, testLoss: _t, preview: _p, source: _s, ...p }) => p), measured: true });
  return { front, remeasured };
}

/**
 * The Pareto set (cost down, fitness up) of measured subnets that meet the constraints, by cost ascending. A subnet
 * measured twice counts once: its later measurement (a re-measured searched point, with test figures) wins.
 */
export function bestOfMeasured<C extends { arch: Arch; validationAccuracy: number }>(
  candidates: readonly C[],
  key: (arch: Arch) => string,
  cost: (arch: Arch) => { cost: number; feasible: boolean },
  fitnessOf: (metric: number) => number,
): C[] {
  const byKey = new Map<string, C>();
  for (const c of candidates) byKey.set(key(c.arch), c);
  const points = [...byKey.values()].flatMap((c) => {
    const k = cost(c.arch);
    return k.feasible ? [{ c, cost: k.cost, accuracy: fitnessOf(c.validationAccuracy) }] : [];
  });
  return paretoFront(points).map((p) => p.c);
}

function costsOf(efficiency: Efficiency, arch: Arch): { arch: Arch; macs: number; params: number; latencyMs?: number } {
  const c = efficiency.model.costs(arch);
  return { arch, macs: c.macs, params: c.params, ...(c.latencyMs !== undefined ? { latencyMs: c.latencyMs } : {}) };
}

function measuredFields(m: MeasuredSubnet): { validationAccuracy: number; validationLoss: number; testAccuracy?: number; testLoss?: number } {
  return {
    validationAccuracy: m.validationAccuracy,
    validationLoss: m.validationLoss,
    ...(m.testAccuracy !== undefined ? { testAccuracy: m.testAccuracy } : {}),
    ...(m.testLoss !== undefined ? { testLoss: m.testLoss } : {}),
  };
}
