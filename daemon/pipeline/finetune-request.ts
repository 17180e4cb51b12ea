// What a fine-tune is asked for and the checks that need no tfjs (the CLI and the daemon's manta/finetune handler run
// them before a derived run is made): the options, the settings they resolve to with the config's `finetune` section,
// the subnet they name in the source run's results, and a checkpoint to start from. The job is ./finetune.ts.
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { ResolvedConfig } from '../../schemas';
import { ConfigError, resolveConfig } from '../../schemas/load-config';
import type { Arch } from '../ofa/arch';
import { SearchSpace } from '../ofa/space';
import type { FinetuneParams } from '../protocol/methods';
import type { ResultsFile } from '../protocol/results';
import { UserError } from '../protocol/user-error';
import { readResults } from '../search/results';
import { listCheckpointFiles } from '../train/checkpoint-files';
import { CHECKPOINT_DIR, CONFIG_FILE, RESULTS_FILE, RUN_META_FILE } from './run-folder';

/**
 * What a fine-tune is asked for, as manta/finetune's params without the run (plain JSON: it travels over IPC and is
 * kept in the new run's run.json): a front point of the source run by `index`, or an `arch` of its search space;
 * values that replace the config's `finetune`.
 */
export type FinetuneOptions = Omit<FinetuneParams, 'runId'>;

/** The settings a fine-tune runs with: the config's `finetune` section, its defaults taken from `training`. */
export interface FinetuneSettings {
  epochs: number;
  learningRate: number;
  warmupEpochs: number;
  kdRatio: number;
  batchSize: number;
}

export class FinetuneError extends UserError {
  constructor(message: string, reason = 'run.finetune') {
    super(message, reason);
  }
}

/** The config's `finetune` section with its defaults filled from `training`, then the options' values; checked. */
export function resolveFinetuneSettings(config: ResolvedConfig, options: FinetuneOptions = {}): FinetuneSettings {
  const f = config.finetune;
  const phases = config.training.phases;
  const s: FinetuneSettings = {
    epochs: options.epochs ?? f.epochs,
    learningRate: options.learningRate ?? f.learningRate ?? phases[phases.length - 1].learningRate,
    warmupEpochs: f.warmupEpochs,
    kdRatio: options.kdRatio ?? f.kdRatio ?? config.training.kdRatio,
    batchSize: options.batchSize ?? f.batchSize ?? config.training.batchSize,
  };
  // The config's values are schema-checked already; these catch the options (flags, request fields).
  if (!(s.epochs > 0 && s.epochs <= 1000)) throw new FinetuneError(`epochs (--epochs) must be above 0 and at most 1000, not ${s.epochs}`, 'finetune.settings');
  if (!(s.learningRate > 0 && s.learningRate <= 10)) throw new FinetuneError(`the learning rate (--lr) must be above 0 and at most 10, not ${s.learningRate}`, 'finetune.settings');
  if (!(s.kdRatio >= 0 && s.kdRatio <= 100)) throw new FinetuneError(`the distillation ratio (--kd-ratio) must be 0…100, not ${s.kdRatio}`, 'finetune.settings');
  if (!(Number.isInteger(s.batchSize) && s.batchSize >= 1 && s.batchSize <= 4096)) {
    throw new FinetuneError(`the batch size (--batch-size) must be a whole number 1…4096, not ${s.batchSize}`, 'finetune.settings');
  }
  return s;
}

/** The subnet a fine-tune's options name in a run's results: a front point by index, or the arch given. */
export function chooseSubnet(results: ResultsFile, options: FinetuneOptions): { arch: Arch; frontIndex?: number } {
  if (options.arch && options.index !== undefined) throw new FinetuneError('name the subnet to fine-tune once: a front index or an arch, not both', 'run.bad-arch');
  if (options.arch) return { arch: options.arch };
  const index = options.index;
  if (index === undefined) throw new FinetuneError('say which subnet to fine-tune: --arch <index of a front point | arch JSON>', 'run.bad-arch');
  const entry = Number.isInteger(index) ? results.front[index] : undefined;
  if (!entry) {
    const n = results.front.length;
    throw new FinetuneError(
      n === 0
        ? `--arch ${index}: run ${results.runId} has an empty front; give an arch as JSON instead`
        : `--arch ${index}: run ${results.runId}'s front has ${n} entr${n === 1 ? 'y' : 'ies'} (0…${n - 1}); pick one of them`,
      'run.bad-arch',
    );
  }
  return { arch: entry.arch, frontIndex: index };
}

/**
 * The checks that need no tfjs, before a derived run is made (the CLI and the daemon's request run them): a run folder
 * with results, the subnet named, a checkpoint to start from, settings in range. One line each, naming what to do.
 */
export async function checkFinetuneSource(sourceRunDir: string, options: FinetuneOptions): Promise<{ runId: string; arch: Arch; frontIndex?: number }> {
  const dir = resolve(sourceRunDir);
  if (!existsSync(join(dir, CONFIG_FILE))) throw new FinetuneError(`${dir} is not a MANTA run folder (no ${CONFIG_FILE}); name a run folder or a run id`, 'run.not-found');
  if (!existsSync(join(dir, RESULTS_FILE))) {
    throw new FinetuneError(`run ${basename(dir)} has no results yet: fine-tune one of its subnets once its search has finished`, 'run.results');
  }
  const results = readResults(join(dir, RESULTS_FILE));
  const chosen = chooseSubnet(results, options);
  const config = readRunConfig(dir);
  if (options.arch) checkArch(config, options.arch, results.runId);
  resolveFinetuneSettings(config, options);
  // A derived run (a search again) takes its supernet from its source's checkpoint: openRun follows it there.
  if (!isDerived(dir) && (await listCheckpointFiles(join(dir, CHECKPOINT_DIR))).length === 0) {
    throw new FinetuneError(
      `run ${results.runId} has no checkpoint in ${join(dir, CHECKPOINT_DIR)}: fine-tuning starts from its trained supernet; restore that folder or run the search again`,
      'run.no-checkpoint',
    );
  }
  return { runId: results.runId, ...chosen };
}

/** An arch given as JSON against the run's search space (every task's space is its config's supernet choices). */
export function checkArch(config: ResolvedConfig, arch: Arch, runId: string): void {
  try {
    new SearchSpace(config.supernet).validate(arch);
  } catch (e) {
    throw new FinetuneError(`--arch does not fit run ${runId}'s search space: ${(e as Error).message}`, 'run.bad-arch');
  }
}

/** The run's config.json, resolved as every config is (its `finetune` defaults filled in). */
function readRunConfig(dir: string): ResolvedConfig {
  const file = join(dir, CONFIG_FILE);
  try {
    return resolveConfig({ text: readFileSync(file, 'utf8'), source: file }).config;
  } catch (e) {
    if (e instanceof ConfigError) throw new FinetuneError(`${file} is not a config this MANTA reads: ${e.lines()[0]}`, 'run.open');
    throw e;
  }
}

function isDerived(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, RUN_META_FILE), 'utf8')) as { derivedFrom?: unknown }).derivedFrom !== undefined;
  } catch {
    return false;
  }
}
