// manta/measureLatencyTable in a worker: times the block variants of a config's search space on the chosen backend
// (cached per device, backend and version by daemon/search).
import type { MeasureLatencyTableResult } from '../../protocol/methods';
import type { WorkerTask } from '../worker-ipc';

export async function latencyTableTask(task: Extract<WorkerTask, { name: 'latencyTable' }>, _signal: AbortSignal): Promise<MeasureLatencyTableResult> {
  const started = Date.now();
  const { initEngine } = await import('../../engine');
  const { SearchSpace } = await import('../../ofa/space');
  const { buildLatencyTable } = await import('../../search/latency');
  const { inputShapeOf } = await import('./data-shape');
  const backend = await initEngine({ backend: task.backend ?? task.config.backend });
  const space = new SearchSpace(task.config.supernet);
  const { channels, classes } = await inputShapeOf(task.config, task.configDir);
  const table = await buildLatencyTable(space, channels, classes, { backend, cacheDir: task.refresh ? undefined : task.cacheDir });
  return {
    path: table.cacheFile ?? '',
    entries: table.entries,
    backend: { backend: backend.backend, version: backend.version, device: backend.device },
    cached: table.timedNow === 0,
    wallMs: Date.now() - started,
  };
}
