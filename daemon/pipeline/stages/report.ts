// Stage 8, report: how good the latency table is on this backend, then results.json and the self-contained
// report.html in the run folder.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../engine/rng';
import type { Task } from '../../ofa/task';
import type { BackendInfo, ParetoPoint } from '../../protocol/events';
import { validateLatencyTable } from '../../search/latency';
import type { TrainedPredictor } from '../../search/predictor';
import { renderReport, type TrainingCurves } from '../../search/report';
import { writeResults, type FrontEntry, type ResultsFile } from '../../search/results';
import type { TrainSupernetResult } from '../../train/train-supernet';
import type { RunContext } from '../context';
import { REPORT_FILE, RESULTS_FILE } from '../run-folder';
import type { Efficiency } from './efficiency';
import type { MeasuredSubnet } from './measure';
import type { EvolutionOutcome } from './search';

/** Sub-stream of the run seed for the subnets timed against the latency table. */
const LATENCY_STREAM = 102;

export async function latencyCheckStage(ctx: RunContext, task: Task, efficiency: Efficiency, checks: number): Promise<ResultsFile['latency']> {
  // Whichever latency model the run has: the unit stack's lookup table or the model fitted to timed subnets.
  const model = efficiency.table ?? efficiency.fitted;
  if (!model || checks <= 0) return undefined;
  const what = efficiency.table ? 'latency table' : 'fitted latency model';
  const v = await validateLatencyTable(model, task.space, (arch) => task.supernet.extractSubnet(arch), checks, Rng.derive(ctx.config.seed, LATENCY_STREAM));
  if (v.meanRelativeError > 0.25) ctx.warn(`the ${what} is off by ${(v.meanRelativeError * 100).toFixed(0)}% on average against directly timed subnets: treat latencies as rough`);
  // tableEntries: the timings the model rests on (block variants for a table, whole subnets for a fit).
  return { meanRelativeError: v.meanRelativeError, samples: v.samples.map(({ estimatedMs, measuredMs }) => ({ estimatedMs, measuredMs })), tableEntries: model.entries, model: efficiency.table ? 'table' : 'fitted' };
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
  latency: ResultsFile['latency'];
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
