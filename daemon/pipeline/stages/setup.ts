// Stage 1, setup: the engine (backend) and the task — its data loaded, its supernet built.
import { initEngine } from '../../engine';
import type { Task } from '../../ofa/task';
import type { BackendInfo } from '../../protocol/events';
import { createTask } from '../../tasks';
import type { RunContext } from '../context';

export async function startEngine(ctx: RunContext): Promise<BackendInfo> {
  ctx.progress('setup', 0, 1, 'starting the engine');
  const engine = await initEngine({ backend: ctx.config.backend });
  return { backend: engine.backend, version: engine.version, device: engine.device };
}

export async function loadTask(ctx: RunContext): Promise<Task> {
  ctx.progress('setup', 0, 1, 'loading the dataset');
  ctx.emit('waiting', { reason: 'loading the dataset' });
  const task = await createTask(ctx.config, { baseDir: ctx.configDir });
  ctx.emit('log', { level: 'info', message: `dataset: ${task.data.describe}` });
  return task;
}
