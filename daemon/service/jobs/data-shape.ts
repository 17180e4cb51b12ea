// The input channels and class count of a config's dataset, which the latency table's models need: read from the
// config where it says, else from the dataset itself.
import type { ResolvedConfig } from '../../../schemas';
import { UserError } from '../../protocol/user-error';

export async function inputShapeOf(config: ResolvedConfig, configDir: string): Promise<{ channels: number; classes: number }> {
  const d = config.data;
  switch (d.kind) {
    case 'synthetic':
      return { channels: d.channels, classes: d.classes };
    case 'idx':
      return { channels: 1, classes: d.classes };
    case 'cifar10':
      return { channels: 3, classes: 10 };
    case 'folder': {
      const { loadDataset } = await import('../../data');
      const data = await loadDataset(d, { baseDir: configDir, seed: config.seed });
      return { channels: data.channels, classes: data.classes };
    }
    case 'stereo-synthetic':
    case 'stereo-folder':
      throw new UserError('latency tables time the classification supernet\'s blocks; a stereo config is costed by MACs (set search.objective to "macs")', 'config.task');
  }
}
