// manta/exportSubnet in a worker: daemon/pipeline's export of one subnet of a trained run.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { exportSubnet } from '../../pipeline';
import type { ExportSubnetResult } from '../../protocol/methods';
import type { WorkerTask } from '../worker-ipc';

export async function exportSubnetTask(task: Extract<WorkerTask, { name: 'exportSubnet' }>, _signal: AbortSignal): Promise<ExportSubnetResult> {
  const which = task.arch ?? task.index;
  if (which === undefined) throw new Error('exportSubnet needs an arch or an index');
  const exported = await exportSubnet(task.runDir, which, task.outDir ? { outDir: task.outDir } : {});
  const dir = path.dirname(exported.modelPath);
  const files = (await fs.readdir(dir)).sort().map((f) => path.join(dir, f));
  return { ...exported, dir, files };
}
