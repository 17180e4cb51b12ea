// Bench `stereo`: one SGD step (forward over both views, the multi-scale disparity loss, backward, momentum update) of
// the stereo supernet of examples/stereo.manta.json, for its largest subnet and for random subnets, on generated pairs.
// Options: --batch (default 8), --height / --width (default the example's pairs), --config (another stereo config).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { validateConfig } from '../../../schemas';
import { initEngine, tf, type BackendChoice } from '../../engine';
import { Rng } from '../../engine/rng';
import type { Arch } from '../../ofa';
import { disparityLoss, StereoSupernet } from '../../tasks/stereo';
import { Sgd, type ParamInfo } from '../../train';
import { BenchUnavailable, type BenchOptions, type BenchRow, type BenchSuite } from './index';
import { medianStepMs, timedSgdStep } from './step';

export const suite: BenchSuite = {
  name: 'stereo',
  describe: 'one training step of the stereo supernet (largest and random subnets)',
  async run(opts: BenchOptions, log): Promise<BenchRow[]> {
    const file = resolve(opts.extra.config ?? 'examples/stereo.manta.json');
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new BenchUnavailable(`cannot read the stereo config ${file} (${(e as Error).message}); run from the repository root or pass --config`);
    }
    const checked = validateConfig(raw);
    if (!checked.ok || checked.config.task !== 'stereo' || checked.config.data.kind !== 'stereo-synthetic') {
      throw new BenchUnavailable(`${file} is not a valid stereo config with generated data`);
    }
    const config = checked.config;
    const data = config.data as Extract<typeof config.data, { kind: 'stereo-synthetic' }>;
    const batch = Number(opts.extra.batch ?? config.training.batchSize);
    const height = Number(opts.extra.height ?? data.height);
    const width = Number(opts.extra.width ?? data.width);
    const info = await initEngine({ backend: (opts.backend ?? 'auto') as BackendChoice });
    log(`backend ${info.backend} (${info.device}); ${file}: batch ${batch}, ${width}×${height}`);
    const supernet = new StereoSupernet(config.supernet, { inputChannels: data.channels, maxDisparity: data.maxDisparity, height, width, seed: 0 });
    const space = supernet.space;
    const optimizer = new Sgd({ momentum: 0.9, nesterov: false, weightDecay: 0 });
    const params: ParamInfo[] = supernet.variables.map((variable) => ({ key: variable.name, variable, decay: false }));
    const x = tf.randomUniform([batch, height, width, 2 * data.channels], -2, 2, 'float32', 1) as tf.Tensor4D;
    const y = tf.randomUniform([batch, height, width, 1], 1, data.maxDisparity, 'float32', 2) as tf.Tensor4D;
    const lossOptions = { labelSmoothing: 0, kdRatio: 0, progress: 0.5 };
    const rng = new Rng(0);
    const step = (arch: Arch): number =>
      timedSgdStep(() => disparityLoss(supernet.forward(x, arch, { training: true }), y, undefined, lossOptions, config.training.disparityLoss), params, optimizer, 0.01);
    const measure = (pick: () => Arch, label: string): number => medianStepMs(step, pick, opts.repeat, label, log);
    const largestMs = measure(() => space.largest(), 'largest');
    const sampledMs = measure(() => space.sample(rng), 'sampled');
    const row: BenchRow = {
      suite: 'stereo',
      backend: info.backend,
      device: info.device,
      batch,
      height,
      width,
      largest: { msPerStep: largestMs, pairsPerSec: (batch * 1000) / largestMs, macsPerPair: supernet.macs(space.largest()) },
      sampled: { msPerStep: sampledMs, pairsPerSec: (batch * 1000) / sampledMs },
      params: { supernet: supernet.countParams(), largest: supernet.params(space.largest()), smallest: supernet.params(space.smallest()) },
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    optimizer.dispose();
    tf.dispose([x, y]);
    supernet.dispose();
    return [row];
  },
};
