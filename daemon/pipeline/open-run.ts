// Re-opening a run directory: its config, its task (data loaded) and the trained supernet from its newest checkpoint — what
// `manta export` needs to recalibrate and extract a subnet long after the run ended.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ResolvedConfig } from '../../schemas';
import { ConfigError, resolveConfig } from '../../schemas/load-config';
import { initEngine, tf, type EngineInfo } from '../engine';
import type { Task } from '../ofa/task';
import { createTask } from '../tasks';
import { UserError } from '../protocol/user-error';
import { decodeCheckpoint } from '../train/checkpoint-codec';
import { readLatestCheckpoint } from '../train/checkpoint-files';
import type { TensorRecord } from '../train/state';
import { CHECKPOINT_DIR, CONFIG_FILE, RUN_META_FILE } from './run-folder';

export interface OpenedRun {
  runDir: string;
  config: ResolvedConfig;
  configDir: string;
  engine: EngineInfo;
  task: Task;
  /** The checkpoint the weights came from. */
  checkpoint: string;
  /** The frozen teacher's weights (the supernet at the end of the 'largest' phase), when the checkpoint keeps them. */
  teacher?: Record<string, TensorRecord>;
}

export class RunOpenError extends UserError {
  constructor(message: string) {
    super(message, 'run.open');
  }
}

/** Where the config's relative paths resolve: run.json's configDir (written by the CLI and the service). */
function configDirOf(runDir: string): string {
  const meta = join(runDir, RUN_META_FILE);
  if (existsSync(meta)) {
    try {
      const v = JSON.parse(readFileSync(meta, 'utf8')) as { configDir?: unknown };
      if (typeof v.configDir === 'string') return v.configDir;
    } catch {
      // fall through: a run without a readable run.json resolves against its own folder
    }
  }
  return runDir;
}

/**
 * Where a run's supernet checkpoints are: its own checkpoints/, or — for a derived run without any (a search again)
 * — those of the run it was made from (run.json's `derived.sourceRunDir`, followed along a chain of derived runs).
 */
export function checkpointDirOf(runDir: string, seen: ReadonlySet<string> = new Set()): string {
  const own = join(runDir, CHECKPOINT_DIR);
  if (existsSync(own) && readdirSync(own).length > 0) return own;
  try {
    const source = (JSON.parse(readFileSync(join(runDir, RUN_META_FILE), 'utf8')) as { derived?: { sourceRunDir?: unknown } }).derived?.sourceRunDir;
    if (typeof source === 'string' && !seen.has(source)) return checkpointDirOf(source, new Set([...seen, runDir]));
  } catch {
    // not a derived run (or no readable run.json): its own folder it is
  }
  return own;
}

export async function openRun(runDir: string, opts: { warn?: (m: string) => void } = {}): Promise<OpenedRun> {
  const dir = resolve(runDir);
  const configFile = join(dir, CONFIG_FILE);
  if (!existsSync(configFile)) throw new RunOpenError(`${dir} is not a MANTA run directory (no ${CONFIG_FILE})`);
  // The same config path as `manta search` and the daemon: a run's stored config is checked like a new one.
  let config: ResolvedConfig;
  try {
    config = resolveConfig({ text: readFileSync(configFile, 'utf8'), source: configFile }).config;
  } catch (e) {
    if (e instanceof ConfigError) throw new RunOpenError(e.lines().join('\n'));
    throw e;
  }
  const configDir = configDirOf(dir);
  const engine = await initEngine({ backend: config.backend });
  const task = await createTask(config, { baseDir: configDir });
  const latest = await readLatestCheckpoint(checkpointDirOf(dir), (bytes, source) => decodeCheckpoint(bytes, source), opts.warn ?? (() => undefined));
  if (!latest) {
    task.dispose();
    throw new RunOpenError(`${dir} has no readable checkpoint in ${CHECKPOINT_DIR}/: the run has not trained yet`);
  }
  const weights: Record<string, tf.Tensor> = {};
  for (const [name, t] of Object.entries(latest.value.tensors.weights)) weights[name] = tf.tensor(t.data, t.shape);
  try {
    task.supernet.setWeights(weights);
  } finally {
    tf.dispose(Object.values(weights));
  }
  // Checkpoints written before the 'largest' phase ended (or before the trainer kept a teacher) have none.
  const teacher = latest.value.tensors.teacher;
  return { runDir: dir, config, configDir, engine, task, checkpoint: latest.file.path, ...(teacher ? { teacher } : {}) };
}
