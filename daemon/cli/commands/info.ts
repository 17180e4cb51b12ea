// `manta info`: which backend MANTA would train on here, its version and device, and what else could be loaded.
import { initEngine, type BackendChoice } from '../../engine';
import { parseFlags } from '../flags';

export async function infoCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, { backend: 'string', json: 'boolean' });
  const info = await initEngine({ backend: flags.backend as BackendChoice | undefined });
  if (flags.json) {
    process.stdout.write(JSON.stringify(info) + '\n');
  } else {
    process.stdout.write(`backend  ${info.backend}\nversion  ${info.version}\ndevice   ${info.device}\nthreads  ${info.threads}\n`);
  }
  return 0;
}
