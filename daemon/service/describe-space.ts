// What `manta/describeSpace` answers: a config's search-space size and the MACs and parameters of its smallest and
// largest subnets, from the analytic cost model (daemon/ofa/costs.ts) — cheap enough to answer in the daemon's own
// process, so an editor can ask on every change. The input shape comes from the config's data section; a folder
// dataset's classes are its class sub-folders (reading is not confined to the allowed roots: see roots.ts).
import * as path from 'node:path';
import { countSubnets } from '../../schemas/space-size';
import type { ResolvedConfig } from '../../schemas';
import { listFolder } from '../data/files';
import { layoutCosts } from '../ofa/costs';
import { subnetLayout } from '../ofa/layout';
import { SearchSpace } from '../ofa/space';
import { stereoCosts, stereoSubnetLayout, stereoSupernetLayout } from '../tasks/stereo/layout';
import type { DescribeSpaceParams, DescribeSpaceResult } from '../protocol/methods';
import { invalidParams } from './params';
import { checkedConfig } from './prepare-run';

type InputShape = { channels: number; classes: number } | { unavailable: string };

/** Channels and classes of the config's dataset, without loading it. */
async function inputShape(data: ResolvedConfig['data'], configDir: string | undefined): Promise<InputShape> {
  switch (data.kind) {
    case 'synthetic':
      return { channels: data.channels, classes: data.classes };
    case 'idx':
      return { channels: 1, classes: data.classes };
    case 'cifar10':
      return { channels: 3, classes: 10 };
    case 'folder': {
      if (!path.isAbsolute(data.train) && configDir === undefined) {
        return { unavailable: `save the config to count the classes of its folder ${data.train}` };
      }
      const root = path.resolve(configDir ?? '/', data.train);
      try {
        // A class is a sub-folder not starting with '.', as daemon/data/folder.ts lists them; images are read as RGB.
        const classes = (await listFolder(root, 'the folder')).filter((e) => e.isDir && !e.name.startsWith('.')).length;
        if (classes === 0) return { unavailable: `the folder ${root} has no class sub-folders yet` };
        return { channels: 3, classes };
      } catch (e) {
        return { unavailable: (e as Error).message };
      }
    }
    case 'stereo-synthetic':
    case 'stereo-folder':
      return { unavailable: 'stereo costs are counted by the stereo task' };
  }
}

/** A stereo config's costs per pair at its evaluation size (a folder's size is known only once its pairs are read). */
function describeStereoSpace(config: ResolvedConfig, space: SearchSpace, size: number): DescribeSpaceResult {
  const d = config.data;
  const dims =
    d.kind === 'stereo-synthetic' ? { height: d.height, width: d.width, channels: d.channels, maxDisparity: d.maxDisparity }
    : d.kind === 'stereo-folder' && d.evaluationWidth > 0 && d.evaluationHeight > 0 ? { height: d.evaluationHeight, width: d.evaluationWidth, channels: d.channels, maxDisparity: d.maxDisparity }
    : undefined;
  if (!dims) return { size, costsUnavailable: 'set /data/evaluationWidth and /data/evaluationHeight to count the MACs of a folder of pairs' };
  const sup = stereoSupernetLayout(space, config.supernet.stereo, dims.channels, dims.maxDisparity);
  const costs = (arch: ReturnType<SearchSpace['largest']>) => stereoCosts(stereoSubnetLayout(space, sup, arch, dims.height, dims.width));
  const smallest = costs(space.smallest());
  const largest = costs(space.largest());
  return { size, macs: { min: smallest.macs, max: largest.macs }, params: { min: smallest.params, max: largest.params }, inputChannels: dims.channels };
}

export async function describeSearchSpace(p: DescribeSpaceParams): Promise<DescribeSpaceResult> {
  let configDir: string | undefined;
  if (p.configDir !== undefined) {
    if (!path.isAbsolute(p.configDir)) {
      throw invalidParams('manta/describeSpace', [
        { path: '/configDir', rule: 'absolute', message: `params.configDir must be an absolute path on the daemon's host (got ${JSON.stringify(p.configDir)})` },
      ]);
    }
    configDir = path.normalize(p.configDir);
  }
  const { config } = checkedConfig({ value: p.config, source: 'params.config' });
  const space = new SearchSpace(config.supernet);
  const size = countSubnets(space, space.units);
  if (config.task === 'stereo') return describeStereoSpace(config, space, size);
  const shape = await inputShape(config.data, configDir);
  if ('unavailable' in shape) return { size, costsUnavailable: shape.unavailable };
  const smallest = layoutCosts(subnetLayout(space, space.smallest(), shape.channels, shape.classes));
  const largest = layoutCosts(subnetLayout(space, space.largest(), shape.channels, shape.classes));
  return {
    size,
    macs: { min: smallest.macs, max: largest.macs },
    params: { min: smallest.params, max: largest.params },
    inputChannels: shape.channels,
    classes: shape.classes,
  };
}
