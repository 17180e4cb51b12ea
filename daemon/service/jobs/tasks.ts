// One-off tasks the daemon runs in a worker process, so that tfjs, and whatever a task costs, stays out of the
// daemon: the backend probe behind `manta/hostInfo`, subnet export and the latency table.
import type { BackendAvailability } from '../../protocol/methods';
import type { WorkerTask } from '../worker-ipc';

export interface HostProbe {
  backends: BackendAvailability[];
  defaultBackend?: { backend: string; version: string; device: string; threads?: number };
  probeError?: string;
  tfjs: string;
}

async function probeBackends(): Promise<HostProbe> {
  const { initEngine, BACKEND_ORDER, tf } = await import('../../engine');
  const named = process.env.MANTA_BACKEND;
  delete process.env.MANTA_BACKEND; // probe each backend by name, whatever the environment prefers
  const backends: BackendAvailability[] = [];
  for (const name of BACKEND_ORDER) {
    try {
      const info = await initEngine({ backend: name });
      backends.push({ name, available: true, detail: info.device });
    } catch (e) {
      backends.push({ name, available: false, detail: (e as Error).message });
    }
  }
  if (named !== undefined) process.env.MANTA_BACKEND = named;
  try {
    const info = await initEngine({ backend: 'auto' });
    return { backends, defaultBackend: info, tfjs: tf.version.tfjs };
  } catch (e) {
    return { backends, probeError: (e as Error).message, tfjs: tf.version.tfjs };
  }
}

export async function runTask(task: WorkerTask, signal: AbortSignal): Promise<unknown> {
  switch (task.name) {
    case 'hostProbe':
      return probeBackends();
    case 'exportSubnet': {
      const { exportSubnetTask } = await import('./export-task');
      return exportSubnetTask(task, signal);
    }
    case 'latencyTable': {
      const { latencyTableTask } = await import('./latency-task');
      return latencyTableTask(task, signal);
    }
  }
}
