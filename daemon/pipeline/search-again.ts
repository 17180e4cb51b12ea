// Search again without retraining (OFA's point: train once, specialise many times): a derived run that takes a
// finished run's trained supernet, its measured subnets and — when the search space's encoding is the same — its
// accuracy predictor, evolves for another objective or constraints, re-measures the new front and writes results,
// report and exported subnets into its own folder. The source run is only read.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ResolvedConfig } from '../../schemas';
import type { Task } from '../ofa/task';
import type { ResultsFile } from '../protocol/results';
import { UserError } from '../protocol/user-error';
import type { TrainedPredictor } from '../search/predictor';
import { StageStore } from './context';
import type { DerivedJob, DerivedRunContext, SearchAgainOptions } from './derived-job';
import { MEASUREMENTS_FILE, RESULTS_FILE } from './run-folder';
import { efficiencyStage } from './stages/efficiency';
import { searchFrontStages } from './stages/front';
import type { MeasuredSubnet } from './stages/measure';
import { assembleResults, writeReport } from './stages/report';
import { predictorStage } from './stages/search';

export type { SearchAgainOptions };

export class SearchAgainError extends UserError {
  constructor(message: string) {
    super(message, 'run.search-again');
  }
}

export const searchAgainJob: DerivedJob<'search'> = {
  deriveConfig(source: ResolvedConfig, o: SearchAgainOptions): ResolvedConfig {
    return {
      ...source,
      search: {
        ...source.search,
        ...(o.objective ? { objective: o.objective } : {}),
        ...(o.constraints ? { constraints: { ...o.constraints } } : {}),
        ...(o.frontSize !== undefined ? { frontSize: o.frontSize } : {}),
      },
    };
  },

  async run(ctx: DerivedRunContext) {
    const started = Date.now();
    const warnings: string[] = [];
    const job: DerivedRunContext = {
      ...ctx,
      warn: (message) => {
        warnings.push(message);
        ctx.warn(message);
      },
    };
    const source = ctx.source;
    const task = source.task;
    const measured = readMeasured(source.runDir, source.runId, task);
    // The derived run keeps its own copy: it is a run folder like any other (and can be searched again itself).
    writeFileSync(join(ctx.runDir, MEASUREMENTS_FILE), JSON.stringify({ format: 1, measured }) + '\n');
    const sourceResults = readSourceResults(source.runDir);
    const e = source.engine;
    const backend = { backend: e.backend, version: e.version, device: e.device };
    const efficiency = await efficiencyStage(job, task, backend, ctx.cacheDir);
    const predictor = reusedPredictor(job, task) ?? (await predictorStage(job, task, measured));
    const searched = await searchFrontStages(job, task, efficiency, predictor, [...measured, ...earlierRemeasured(sourceResults)]);
    const results = assembleResults(job, task, efficiency, {
      runId: basename(ctx.runDir),
      backend,
      training: { phases: sourceResults?.training.phases ?? [], steps: sourceResults?.training.steps ?? 0, totalSteps: 0, stopped: false, wallMs: 0 },
      measured,
      ...searched,
      latency: sourceResults?.latency,
      warnings,
      wallMs: Date.now() - started,
      derivedFrom: { runId: source.runId, kind: 'search' },
    });
    const { resultsPath, reportPath } = writeReport(job, task, results, { steps: [], evaluations: [], phases: [] });
    return { resultsPath, reportPath, results };
  },
};

/**
 * The source's predictor when it scores this search space's encoding (the objective does not matter to it: it
 * predicts accuracy); saved into the new run and announced like a trained one.
 */
function reusedPredictor(ctx: DerivedRunContext, task: Task): TrainedPredictor | undefined {
  const saved = StageStore.of(ctx.source.runDir).load<TrainedPredictor>('predictor', 1);
  if (!saved || saved.weights.inputSize !== task.space.featureLength) return undefined;
  ctx.store.save('predictor', 1, saved);
  ctx.emit('predictor', { ...saved.stats });
  ctx.emit('log', { level: 'info', message: `reusing the accuracy predictor of run ${ctx.source.runId} (held-out Kendall's tau ${saved.stats.kendallTau.toFixed(3)})` });
  if (saved.stats.warning) ctx.warn(saved.stats.warning);
  return saved;
}

/** The source's measured subnets (measurements.json), checked against its search space. */
function readMeasured(runDir: string, runId: string, task: Task): MeasuredSubnet[] {
  const file = join(runDir, MEASUREMENTS_FILE);
  let value: { format?: number; measured?: MeasuredSubnet[] };
  try {
    value = JSON.parse(readFileSync(file, 'utf8')) as typeof value;
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw new SearchAgainError(
      missing
        ? `run ${runId} has no ${MEASUREMENTS_FILE}: it has not measured its subnets yet; search it again once it has finished`
        : `cannot read ${file}: ${(e as Error).message}`,
    );
  }
  if (value.format !== 1 || !Array.isArray(value.measured) || value.measured.length < 4) {
    throw new SearchAgainError(`${file} is not a MANTA measurements file with at least 4 measured subnets; search the run again once it has finished`);
  }
  for (const m of value.measured) task.space.validate(m.arch);
  return value.measured;
}

function readSourceResults(runDir: string): ResultsFile | undefined {
  const file = join(runDir, RESULTS_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as ResultsFile;
    return r.format === 1 && Array.isArray(r.front) ? r : undefined;
  } catch {
    return undefined; // only figures for the report are lost: the search stands on measurements.json
  }
}

/** The source's re-measured points (its front and its re-measured searched points), with their test figures. */
function earlierRemeasured(r: ResultsFile | undefined): MeasuredSubnet[] {
  if (!r) return [];
  const points = [...r.front, ...(r.remeasured ?? [])];
  return points.flatMap((p) =>
    p.validationAccuracy === undefined
      ? []
      : [
          {
            arch: p.arch,
            validationAccuracy: p.validationAccuracy,
            validationLoss: p.validationLoss ?? NaN,
            ...(p.testAccuracy !== undefined ? { testAccuracy: p.testAccuracy } : {}),
            ...(p.testLoss !== undefined ? { testLoss: p.testLoss } : {}),
          },
        ],
  );
}
