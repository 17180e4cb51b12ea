// manta/measureLatencyTable in a worker: fits the latency model of a config's supernet on the runtime its
// search.latency names (the engine's backend — the chosen one — or ONNX Runtime), from subnets timed directly and
// cached per runtime, device and supernet shape by daemon/search.
import type { MeasureLatencyTableResult } from '../../protocol/methods';
import type { WorkerTask } from '../worker-ipc';

export async function latencyTableTask(task: Extract<WorkerTask, { name: 'latencyTable' }>, signal: AbortSignal): Promise<MeasureLatencyTableResult> {
  const started = Date.now();
  const { initEngine } = await import('../../engine');
  const { createTask } = await import('../../tasks');
  const { latencySubject } = await import('../../pipeline/stages/efficiency');
  const { buildFittedLatency } = await import('../../search/fitted-latency');
  const { openTimingRuntime } = await import('../../search/latency-runtime');
  const engine = await initEngine({ backend: task.backend ?? task.config.backend });
  const options = task.config.search.latency;
  const runtime = openTimingRuntime(options, { backend: engine.backend, version: engine.version, device: engine.device });
  const t = await createTask(task.config, { baseDir: task.configDir });
  try {
    const model = await buildFittedLatency(latencySubject(t), runtime, { cacheDir: task.cacheDir, refresh: task.refresh, subnets: options.fitSubnets, signal });
    return {
      path: model.cacheFile ?? '',
      entries: model.entries,
      backend: runtime.info,
      cached: model.timedNow === 0,
      wallMs: Date.now() - started,
    };
  } finally {
    t.dispose();
  }
}
