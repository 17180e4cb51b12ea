// daemon/tasks/: one folder per task (classification, stereo), each implementing daemon/ofa's `Task`
// contract; this module is the one place that maps a config's `task` to its implementation, so no pipeline stage
// names a particular task.
import type { ResolvedConfig } from '../../schemas';
import type { Task } from '../ofa/task';
import { UserError } from '../protocol/user-error';
import { ClassificationTask } from './classification';
import { StereoTask } from './stereo';

export interface CreateTaskOptions {
  /** The folder the config's relative paths (dataset files) resolve against. */
  baseDir: string;
}

type TaskFactory = (config: ResolvedConfig, opts: CreateTaskOptions) => Promise<Task>;

const TASKS: Record<string, TaskFactory> = {
  classification: (config, opts) => ClassificationTask.create(config, opts),
  stereo: (config, opts) => StereoTask.create(config, opts),
};

/** The config's task, its data loaded and its supernet built (weights initialised from the config's seed). */
export async function createTask(config: ResolvedConfig, opts: CreateTaskOptions): Promise<Task> {
  const factory = TASKS[config.task];
  if (!factory) throw new UserError(`task '${config.task}' is not one MANTA knows (${Object.keys(TASKS).join(', ')}); set "task" to one of them`, 'config.task');
  return factory(config, opts);
}
