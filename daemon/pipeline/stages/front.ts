// Stage 7, front: the evolution's front thinned to `search.frontSize` points spread along it, each re-measured for
// real (validation and test) and exported as a stock tfjs model while its recalibrated batch norms are in place.
import { join } from 'node:path';
import type { Task } from '../../ofa/task';
import type { ParetoPoint } from '../../protocol/events';
import { saveModel } from '../../search/export';
import { dominates, spreadAlongFront } from '../../search/pareto';
import type { FrontEntry } from '../../search/results';
import { stoppable, type RunContext } from '../context';
import { SUBNETS_DIR } from '../run-folder';
import type { Efficiency } from './efficiency';
import { formatMetric, measureOptions, measureSubnets } from './measure';
import { fitness, type EvolutionOutcome } from './search';

export async function frontStage(ctx: RunContext, task: Task, efficiency: Efficiency, outcome: EvolutionOutcome, predicted: readonly ParetoPoint[]): Promise<FrontEntry[]> {
  const s = ctx.config.search;
  const chosen = spreadAlongFront(
    outcome.front.map((c, i) => ({ cost: c.cost, accuracy: c.fitness, i })),
    s.frontSize,
  ).map((c) => predicted[c.i]);
  const front: FrontEntry[] = [];
  ctx.progress('front', 0, chosen.length, 're-measuring the front');
  await stoppable(ctx, 'stopped during the search; resume repeats the search from the trained supernet', () =>
    measureSubnets(task, chosen.map((p) => p.arch), { ...measureOptions(ctx), test: true }, async (m, i) => {
      const p = chosen[i];
      const dir = join(SUBNETS_DIR, String(i));
      // The batch norms hold this subnet's recalibrated statistics right now: extract before the next one.
      const model = task.supernet.extractSubnet(m.arch);
      try {
        await saveModel(model, join(ctx.runDir, dir), { manta: task.exportMetadata(m.arch) });
      } finally {
        model.dispose();
      }
      const preview = task.preview ? await task.preview(m.arch) : undefined;
      if (preview) ctx.emit('preview', { label: `front #${i}`, arch: m.arch, preview });
      front.push({
        ...p,
        index: i,
        validationAccuracy: m.validationAccuracy,
        validationLoss: m.validationLoss,
        testAccuracy: m.testAccuracy,
        testLoss: m.testLoss,
        dominated: false,
        model: `${dir}/model.json`,
        ...(preview ? { preview } : {}),
      });
      ctx.progress('front', i + 1, chosen.length, `#${i} test ${formatMetric(task, m.testAccuracy ?? 0)}`);
    }),
  );
  const cost = (p: ParetoPoint): number => efficiency.model.objectiveCost(p, s.objective);
  const score = (p: FrontEntry) => ({ cost: cost(p), accuracy: fitness(task, p.validationAccuracy!) });
  for (const p of front) p.dominated = front.some((q) => q !== p && dominates(score(q), score(p)));
  ctx.emit('pareto', { objective: s.objective, points: front.map(({ index: _i, dominated: _d, model: _m, validationLoss: _v, testLoss: _t, preview: _p, ...p }) => p), measured: true });
  return front;
}
