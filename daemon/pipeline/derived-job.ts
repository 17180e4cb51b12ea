// The types of derived runs (daemon/pipeline/derived.ts runs them): the options of each kind, the job spec stored in
// a derived run's run.json, and what a kind's job gets and gives. A job module imports its types from here (never from
// derived.ts, which loads the jobs).
import type { ResolvedConfig } from '../../schemas';
import type { SearchAgainParams } from '../protocol/methods';
import type { ResultsFile } from '../protocol/results';
import type { RunContext } from './context';
import type { OpenedRun } from './open-run';
import type { FinetuneOptions } from './finetune-request'; // F:

/** What a search again changes of the source run's `search` config (manta/searchAgain's params but the run). */
export type SearchAgainOptions = Omit<SearchAgainParams, 'runId'>;

/** kind → the options of a derived job of that kind (plain JSON: they travel over IPC and are stored in run.json). */
export interface DerivedJobOptions {
  search: SearchAgainOptions;
  finetune: FinetuneOptions; // F: `manta finetune` (daemon/pipeline/finetune.ts)
}

export type DerivedKind = keyof DerivedJobOptions;

/** What a derived run is made from: stored in the new run's run.json (`derived`), handed to the worker. */
export type DerivedJobSpec = {
  [K in DerivedKind]: { kind: K; sourceRunId: string; /** Absolute. */ sourceRunDir: string; options: DerivedJobOptions[K] };
}[DerivedKind];

/** The RunContext of the NEW run (runDir, derived config, emit, progress, stop, store = <new run>/stages) plus its source. */
export interface DerivedRunContext extends RunContext {
  /** The source run opened by openRun: config, task (data loaded) and supernet holding its newest checkpoint's weights. */
  readonly source: OpenedRun & { runId: string };
  /** Where latency tables are cached. */
  readonly cacheDir: string;
}

export interface DerivedOutcome {
  resultsPath?: string;
  reportPath?: string;
  results?: ResultsFile;
  message?: string;
}

/** One kind of derived run. */
export interface DerivedJob<K extends DerivedKind> {
  /** The new run's config (config.json and ctx.config): the source's with this job's changes; default unchanged. */
  deriveConfig?(source: ResolvedConfig, options: DerivedJobOptions[K]): ResolvedConfig;
  /** Does the work; UserError for bad input; RunStopped (ctx.checkStop) when asked to stop. */
  run(ctx: DerivedRunContext, options: DerivedJobOptions[K]): Promise<DerivedOutcome>;
}
