// Stage 8, report: how good the latency model is on its runtime, then results.json and the self-contained
// report.html in the run folder.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Task } from '../../ofa/task';
import type { BackendInfo, ParetoPoint } from '../../protocol/events';
import type { TrainedPredictor } from '../../search/predictor';
import { renderReport, type TrainingCurves } from '../../search/report';
import { writeResults, type FrontEntry, type RemeasuredPoint, type ResultsFile } from '../../search/results';
import type { TrainSupernetResult } from '../../train/train-supernet';
import type { RunContext } from '../context';
import { REPORT_FILE, RESULTS_FILE } from '../run-folder';
import { checkLatency, type Efficiency } from './efficiency';
import type { MeasuredSubnet } from './measure';
import type { EvolutionOutcome } from './search';

export async function latencyCheckStage(ctx: RunContext, _task: Task, efficiency: Efficiency, checks: number): Promise<ResultsFile['latency']> {
  return checkLatency(ctx, efficiency, checks); // the latency model's own runtime times the subnets (stages/efficiency.ts)
}

export interface RunOutputs {
  runId: string;
  backend: BackendInfo;
  training: TrainSupernetResult;
  measured: readonly MeasuredSubnet[];
  predictor: TrainedPredictor;
  evolution: EvolutionOutcome;
  predictedFront: ParetoPoint[];
  front: FrontEntry[];
  /** The searched points re-measured (the front is chosen from them and the measured set). */
  remeasured?: RemeasuredPoint[];
  latency: ResultsFile['latency'];
  /** A derived run: the run it was made from. */
  derivedFrom?: ResultsFile['derivedFrom'];
  baselines?: ResultsFile['baselines'];
  warnings: string[];
  wallMs: number;
}

export function assembleResults(ctx: RunContext, task: Task, efficiency: Efficiency, o: RunOutputs): ResultsFile {
  const s = ctx.config.search;
  return {
    format: 1,
    runId: o.runId,
    name: ctx.config.name,
    finishedAt: new Date().toISOString(),
    wallMs: o.wallMs,
    backend: o.backend,
    objective: s.objective,
    constraints: s.constraints,
    input: task.inputDescription(),
    task: { kind: task.kind, metric: task.metricInfo.name, higherIsBetter: task.metricInfo.higherIsBetter },
    front: o.front,
    predictedFront: o.predictedFront,
    measured: o.measured.map((m) => {
      const c = efficiency.model.costs(m.arch);
      return { arch: m.arch, macs: c.macs, params: c.params, ...(c.latencyMs !== undefined ? { latencyMs: c.latencyMs } : {}), validationAccuracy: m.validationAccuracy };
    }),
    ...(o.remeasured ? { remeasured: o.remeasured } : {}),
    ...(o.derivedFrom ? { derivedFrom: o.derivedFrom } : {}),
    predictor: o.predictor.stats,
    ...(o.latency ? { latency: o.latency } : {}),
    ...(o.baselines ? { baselines: o.baselines } : {}),
    search: {
      population: s.evolution.population,
      generations: s.evolution.generations,
      candidatesScored: o.evolution.candidatesScored,
      uniqueCandidates: o.evolution.uniqueCandidates,
      wallMs: o.evolution.wallMs,
      candidatesPerSec: o.evolution.candidatesScored / (o.evolution.wallMs / 1000),
    },
    training: { phases: o.training.phases, steps: o.training.steps, wallMs: o.training.wallMs },
    warnings: o.warnings,
  };
}

/** Writes results.json and report.html; returns their paths. */
export function writeReport(ctx: RunContext, task: Task, results: ResultsFile, curves: TrainingCurves): { resultsPath: string; reportPath: string } {
  const resultsPath = join(ctx.runDir, RESULTS_FILE);
  const reportPath = join(ctx.runDir, REPORT_FILE);
  ctx.progress('report', 0, 1, 'writing results');
  writeResults(resultsPath, results);
  writeFileSync(reportPath, renderReport(results, curves, { units: task.space.units, maxDepth: task.space.maxDepth }));
  ctx.progress('report', 1, 1);
  return { resultsPath, reportPath };
}
