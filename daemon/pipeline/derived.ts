// Derived runs: a new run made from a finished one without retraining its supernet — a search for another objective
// or constraint (`manta search --from`), a fine-tuned subnet (`manta finetune`). Each kind is a DerivedJob registered
// in DERIVED_JOBS; the frame here opens the source run, writes the new run's config, emits run.started/run.finished
// and turns a stop into 'stopped', so a job only does its own work. The source run is only read, never written.
// The caller (the CLI in-process, or the daemon's worker) owns the new run's run.json and event log, as for runJob.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Emit, TelemetryEvents } from '../protocol/events';
import { isUserError } from '../protocol/user-error';
import { RunStopped, StageStore, type JobProgress } from './context';
import type { JobResult } from './job';
import { openRun, type OpenedRun } from './open-run';
import { CONFIG_FILE } from './run-folder';
import { defaultCacheDir } from './stages/efficiency';
import type { DerivedJob, DerivedJobSpec, DerivedKind, DerivedRunContext } from './derived-job';

export type { DerivedJob, DerivedJobOptions, DerivedJobSpec, DerivedKind, DerivedOutcome, DerivedRunContext, SearchAgainOptions } from './derived-job';

/** The kinds and where each job lives (loaded on demand: an unrelated command does not load them). */
const DERIVED_JOBS: { [K in DerivedKind]: () => Promise<DerivedJob<K>> } = {
  search: () => import('./search-again').then((m) => m.searchAgainJob),
  finetune: () => import('./finetune').then((m) => m.finetuneJob), // F:
};

export interface RunDerivedOptions {
  /** The new run's folder (made by the caller: createRunFolder beside the source). */
  runDir: string;
  emit: Emit;
  onProgress?: (p: JobProgress) => void;
  signal?: AbortSignal;
  cacheDir?: string;
}

/** Runs a derived job in this process; the same frame for the CLI and the daemon's worker. */
export async function runDerivedJob(spec: DerivedJobSpec, opts: RunDerivedOptions): Promise<JobResult> {
  const started = Date.now();
  const finish = (status: 'completed' | 'stopped', extra: Partial<TelemetryEvents['run.finished']> = {}): void =>
    opts.emit('run.finished', { status, wallMs: Date.now() - started, ...extra });
  const stopped = (): boolean => opts.signal?.aborted === true;
  let source: OpenedRun | undefined;
  try {
    opts.onProgress?.({ stage: 'setup', done: 0, total: 1, detail: `opening run ${spec.sourceRunId}` });
    opts.emit('waiting', { reason: `opening run ${spec.sourceRunId} (its data and trained supernet)` });
    source = await openRun(spec.sourceRunDir, { warn: (message) => opts.emit('log', { level: 'warn', message }) });
    const job = (await DERIVED_JOBS[spec.kind]()) as DerivedJob<DerivedKind>;
    const config = job.deriveConfig ? job.deriveConfig(source.config, spec.options) : source.config;
    mkdirSync(opts.runDir, { recursive: true });
    const configFile = join(opts.runDir, CONFIG_FILE);
    if (!existsSync(configFile)) writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
    const e = source.engine;
    opts.emit('run.started', { runId: basename(opts.runDir), name: config.name, task: config.task, backend: { backend: e.backend, version: e.version, device: e.device }, seed: config.seed });
    opts.emit('log', { level: 'info', message: `derived from run ${spec.sourceRunId} (${spec.kind}); its supernet from ${basename(source.checkpoint)}` });
    const ctx: DerivedRunContext = {
      config,
      runDir: opts.runDir,
      configDir: source.configDir,
      resume: false,
      emit: opts.emit,
      progress: (stage, done, total, detail) => opts.onProgress?.({ stage, done, total, detail }),
      // A job that reports warnings in its results collects them itself (search-again.ts does).
      warn: (message) => opts.emit('log', { level: 'warn', message }),
      checkStop: (message = 'stopped') => {
        if (stopped()) throw new RunStopped(message);
      },
      signal: opts.signal,
      store: StageStore.of(opts.runDir),
      source: { ...source, runId: spec.sourceRunId },
      cacheDir: opts.cacheDir ?? defaultCacheDir(),
    };
    const outcome = await job.run(ctx, spec.options);
    finish('completed', { ...(outcome.resultsPath ? { resultsPath: outcome.resultsPath } : {}), ...(outcome.message ? { message: outcome.message } : {}) });
    return { status: 'completed', ...outcome };
  } catch (e) {
    if (e instanceof RunStopped || stopped()) {
      finish('stopped', { message: e instanceof RunStopped ? e.message : 'stopped' });
      return { status: 'stopped' };
    }
    const message = (e as Error)?.message ?? String(e);
    opts.emit('error', { message, ...(isUserError(e) ? { code: e.reason } : {}) });
    opts.emit('run.finished', { status: 'failed', message, wallMs: Date.now() - started });
    throw e;
  } finally {
    source?.task.dispose();
  }
}

