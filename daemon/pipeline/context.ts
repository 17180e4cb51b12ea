// What every stage of a run is handed besides the task: the resolved config, the run folder, one telemetry emitter,
// a progress line, warnings, the stop signal and a store for stage outputs (so a resumed run skips finished stages).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../../schemas';
import type { JobPlacement } from '../protocol/values';
import type { Emit } from '../protocol/events';
import { STAGES_DIR } from './run-folder';

export type JobStage = 'setup' | 'train' | 'latency' | 'measure' | 'predictor' | 'search' | 'front' | 'report' | 'finetune' | 'export';

export interface JobProgress {
  stage: JobStage;
  done: number;
  total: number;
  /** A few words for a progress line, e.g. "loss 1.23 acc 45.0%". */
  detail?: string;
}

/** A stage saw the stop signal; the job ends as 'stopped' with this message. */
export class RunStopped extends Error {
  override name = 'RunStopped';
}

export interface RunContext {
  readonly config: ResolvedConfig;
  readonly runDir: string;
  /** The folder the config's relative paths (dataset files) resolve against. */
  readonly configDir: string;
  /** Whether this attempt continues an earlier one (checkpoints and stage outputs are reused). */
  readonly resume: boolean;
  readonly emit: Emit;
  progress(stage: JobStage, done: number, total: number, detail?: string): void;
  /** A warning: emitted as a `log` event and kept for results.json. */
  warn(message: string): void;
  /** Throws RunStopped once the run is asked to stop. */
  checkStop(message?: string): void;
  readonly signal?: AbortSignal;
  readonly store: StageStore;
  /** Where this host stands in a training job across hosts (none: this host alone). */
  readonly placement?: JobPlacement;
}

/**
 * Outputs of finished stages as JSON files under <runDir>/stages/ (typed arrays kept exact), written atomically.
 * A stage reads its own output on resume instead of doing the work again.
 */
export class StageStore {
  constructor(private readonly dir: string) {}

  load<T>(stage: string, format: number): T | undefined {
    try {
      const v = JSON.parse(readFileSync(join(this.dir, `${stage}.json`), 'utf8'), revive) as { format?: number; value?: T };
      return v.format === format ? v.value : undefined;
    } catch {
      return undefined; // absent or torn: the stage runs again
    }
  }

  save(stage: string, format: number, value: unknown): void {
    mkdirSync(this.dir, { recursive: true });
    const file = join(this.dir, `${stage}.json`);
    const temp = `${file}.tmp-${process.pid}`;
    writeFileSync(temp, JSON.stringify({ format, value }, replace) + '\n');
    renameSync(temp, file);
  }

  static of(runDir: string): StageStore {
    return new StageStore(join(runDir, STAGES_DIR));
  }
}

function replace(_key: string, value: unknown): unknown {
  return value instanceof Float32Array ? { $f32: Array.from(value) } : value;
}

function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && Array.isArray((value as { $f32?: unknown }).$f32)) return Float32Array.from((value as { $f32: number[] }).$f32);
  return value;
}

/** Runs `work`, turning an error thrown because of a stop into RunStopped. */
export async function stoppable<T>(ctx: Pick<RunContext, 'signal'>, message: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (ctx.signal?.aborted) throw new RunStopped(message);
    throw e;
  }
}
