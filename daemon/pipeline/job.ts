// One run as a sequence of stages over a task — setup → train (progressive shrinking) → efficiency → measure →
// predictor → evolve → front (re-measure and export) → report. Each stage takes the run context, the task and plain
// data, and is resumable (checkpoints, measurements.json, stages/). The job writes only the run's result files, never
// the event log: its caller (the CLI or the daemon's worker) owns that and hands back the earlier events on resume.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ResolvedConfig } from '../../schemas';
import type { Task } from '../ofa/task';
import type { Emit, TelemetryEvents, TelemetryKind } from '../protocol/events';
import type { JobPlacement } from '../protocol/values';
import type { ResultsFile } from '../search/results';
import { CurveCollector } from '../search/report';
import { RunStopped, StageStore, type JobProgress, type JobStage, type RunContext } from './context';
import { CONFIG_FILE } from './run-folder';
import { defaultCacheDir, efficiencyStage } from './stages/efficiency';
import { measureStage } from './stages/measure';
import { assembleResults, latencyCheckStage, writeReport } from './stages/report';
import { predictorStage } from './stages/search';
import { searchFrontStages } from './stages/front';
import { loadTask, startEngine } from './stages/setup';
import { findResumePoint, trainStage } from './stages/train';

export { defaultCacheDir };
export type { JobProgress, JobStage };

/** An event of an earlier attempt of this run, as the event log's reader gives it. */
export interface EarlierEvent {
  kind: string;
  data: unknown;
}

export interface RunJobOptions {
  runDir: string;
  /** The folder the config's relative paths (dataset files) resolve against. */
  configDir: string;
  emit: Emit;
  onProgress?: (p: JobProgress) => void;
  /** Continue from the newest readable checkpoint in runDir/checkpoints (and reuse finished stages' outputs). */
  resume?: boolean;
  /** On resume: the earlier attempt's events (training curves for the report), read by the caller from its log. */
  history?: Iterable<EarlierEvent>;
  signal?: AbortSignal;
  /** Where latency tables are cached (default: $MANTA_CACHE_DIR or ~/.cache/manta). */
  cacheDir?: string;
  /** Training batches prepared in a worker thread (default) or in this thread. */
  prefetch?: 'worker' | 'sync';
  /** Subnets timed directly to check the latency table (default 5; 0 skips the check). */
  latencyChecks?: number;
  /**
   * This host's place in a training job across hosts (left out: the job is this host's alone). A host other than the
   * job's first ends its run after training: the coordinator host measures and searches.
   */
  placement?: JobPlacement;
  /** The task to run instead of the config's (tests plug a task of their own in here). */
  task?: (config: ResolvedConfig) => Promise<Task>;
}

export interface JobResult {
  status: 'completed' | 'stopped';
  resultsPath?: string;
  reportPath?: string;
  results?: ResultsFile;
}

/** The events whose curves the report draws (what a resumed run needs of its earlier attempts). */
export const CURVE_KINDS: readonly TelemetryKind[] = ['step', 'evaluation', 'phase'];

export async function runJob(config: ResolvedConfig, opts: RunJobOptions): Promise<JobResult> {
  const started = Date.now();
  const curves = new CurveCollector();
  const warnings: string[] = [];
  const emit: Emit = (kind, data) => {
    curves.add(kind, data);
    opts.emit(kind, data);
  };
  const ctx: RunContext = {
    config,
    runDir: opts.runDir,
    configDir: opts.configDir,
    resume: opts.resume === true,
    emit,
    progress: (stage, done, total, detail) => opts.onProgress?.({ stage, done, total, detail }),
    warn: (message) => {
      warnings.push(message);
      emit('log', { level: 'warn', message });
    },
    checkStop: (message = 'stopped') => {
      if (opts.signal?.aborted) throw new RunStopped(message);
    },
    signal: opts.signal,
    store: StageStore.of(opts.runDir),
    ...(opts.placement ? { placement: opts.placement } : {}),
  };
  const finish = (status: 'completed' | 'stopped', extra: Partial<TelemetryEvents['run.finished']> = {}): void =>
    emit('run.finished', { status, wallMs: Date.now() - started, ...extra });

  mkdirSync(opts.runDir, { recursive: true });
  const configFile = join(opts.runDir, CONFIG_FILE);
  if (!existsSync(configFile)) writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');

  const backend = await startEngine(ctx);
  const resumeFrom = await findResumePoint(ctx);
  if (resumeFrom) {
    for (const e of opts.history ?? []) {
      if ((CURVE_KINDS as readonly string[]).includes(e.kind) && ((e.data as { step?: number }).step ?? 0) <= resumeFrom.step) curves.add(e.kind, e.data);
    }
  }
  const runId = basename(opts.runDir);
  emit('run.started', { runId, name: config.name, task: config.task, backend, seed: config.seed, ...(resumeFrom ? { resumedFromStep: resumeFrom.step } : {}) });

  let task: Task | undefined;
  try {
    task = opts.task ? await opts.task(config) : await loadTask(ctx);
    const training = await trainStage(ctx, task, { resumeFrom, prefetch: opts.prefetch });
    if (training.job && !training.job.coordinatorHost) {
      const message = `trained as host ${training.job.hostIndex + 1} of ${new Set(training.job.hostOf).size} in a ${training.job.worldSize}-worker job; host '${training.job.hostOf[0]}' measures and searches the supernet`;
      emit('log', { level: 'info', message });
      finish('completed', { message });
      return { status: 'completed' };
    }
    const efficiency = await efficiencyStage(ctx, task, backend, opts.cacheDir ?? defaultCacheDir());
    const measured = await measureStage(ctx, task, efficiency);
    const predictor = await predictorStage(ctx, task, measured);
    const searched = await searchFrontStages(ctx, task, efficiency, predictor, measured);
    const latency = await latencyCheckStage(ctx, task, efficiency, opts.latencyChecks ?? 5);
    if (task.baselines) ctx.progress('report', 0, 1, 'measuring the baselines on the test split');
    const baselines = task.baselines ? await task.baselines('test') : undefined;
    const results = assembleResults(ctx, task, efficiency, {
      runId,
      backend,
      training,
      measured,
      ...searched,
      latency,
      baselines,
      warnings,
      wallMs: Date.now() - started,
    });
    const { resultsPath, reportPath } = writeReport(ctx, task, results, curves.curves);
    finish('completed', { resultsPath });
    return { status: 'completed', resultsPath, reportPath, results };
  } catch (e) {
    if (e instanceof RunStopped || opts.signal?.aborted) {
      finish('stopped', { message: e instanceof RunStopped ? e.message : 'stopped' });
      return { status: 'stopped' };
    }
    emit('error', { message: (e as Error)?.message ?? String(e) });
    emit('run.finished', { status: 'failed', message: (e as Error)?.message ?? String(e), wallMs: Date.now() - started });
    throw e;
  } finally {
    task?.dispose();
  }
}
