// `manta info`: which backend MANTA would train on here, its version and device, what else could be loaded, and
// whether the GPU engine really computes on the GPU (daemon/engine/gpu-check.ts: it never falls back silently).
import { initEngine, tf, type BackendChoice } from '../../engine';
import { checkGpuEngine, formatGpuEngine } from '../../engine/gpu-check';
import { parseFlags } from '../flags';

export async function infoCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { backend: 'string', json: 'boolean' });
  const info = await initEngine({ backend: flags.backend as BackendChoice | undefined });
  const gpuEngine = await checkGpuEngine({ tfjsVersion: tf.version.tfjs });
  if (flags.json) {
    process.stdout.write(JSON.stringify({ ...info, gpuEngine }) + '\n');
  } else {
    process.stdout.write(`backend  ${info.backend}\nversion  ${info.version}\ndevice   ${info.device}\nthreads  ${info.threads}\n`);
    process.stdout.write(formatGpuEngine(gpuEngine).join('\n') + '\n');
  }
  return 0;
}
