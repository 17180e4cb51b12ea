// manta/exportSubnet in a worker: daemon/pipeline's export of one subnet of a trained run.
import * as path from 'node:path';
import { exportSubnet } from '../../pipeline';
import type { ExportSubnetResult } from '../../protocol/methods';
import type { WorkerTask } from '../worker-ipc';

export async function exportSubnetTask(task: Extract<WorkerTask, { name: 'exportSubnet' }>, _signal: AbortSignal): Promise<ExportSubnetResult> {
  const which = task.arch ?? task.index;
  if (which === undefined) throw new Error('exportSubnet needs an arch or an index');
  const exported = await exportSubnet(task.runDir, which, { ...(task.outDir ? { outDir: task.outDir } : {}), ...(task.format ? { format: task.format } : {}) });
  const dir = path.dirname(exported.modelPath);
  // The files this export wrote (a front point's folder may hold the other format's files too).
  const files = exported.files.slice().sort().map((f) => path.join(dir, f));
  return { ...exported, dir, files };
}
