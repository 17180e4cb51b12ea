// Bench `train`: one SGD step (forward, backward, momentum update) of the classification supernet configured like
// OFA's MobileNetV3 (10 classes), for the largest subnet and for random subnets — the same step as the peer
// (shared peers/train_step.py: plain cross-entropy, SGD lr 0.01 momentum 0.9, one subnet per step), updated by the
// trainer's optimizer (the engine's one-pass sgdStep per variable, PyTorch's SGD semantics).
// `--peer [path]` also runs the PyTorch peer in the same run, alternating with ours, and reports the ratio.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { validateConfig } from '../../../schemas';
import { initEngine, tf, type BackendChoice } from '../../engine';
import { Rng } from '../../engine/rng';
import { OFA_MBV3_UNITS, type Arch } from '../../ofa';
import { ClassificationSupernet, classificationLoss } from '../../tasks/classification';
import { Sgd, type ParamInfo } from '../../train';
import { BenchUnavailable, median, type BenchOptions, type BenchRow, type BenchSuite } from './index';
import { medianStepMs, timedSgdStep } from './step';

interface PeerFigures {
  largestMs: number;
  sampledMs: number;
}

function ofaMbv3Config() {
  const r = validateConfig({
    name: 'bench',
    task: 'classification',
    data: { kind: 'synthetic' },
    supernet: { units: OFA_MBV3_UNITS, dropout: 0 },
    training: { phases: [{ phase: 'largest', epochs: 1 }] },
  });
  if (!r.ok) throw new Error(`bench config invalid: ${JSON.stringify(r.problems)}`);
  return r.config;
}

/** Runs the PyTorch peer once; undefined when it is not there. */
function runPeer(peer: string, batch: number, res: number, log: (l: string) => void): PeerFigures | undefined {
  const out = spawnSync(peer, ['train', '1', String(batch), String(res)], { encoding: 'utf8', timeout: 600_000 });
  if (out.status !== 0) {
    log(`peer failed (${out.status}): ${out.stderr.trim().split('\n').slice(-2).join(' ')}`);
    return undefined;
  }
  const ms = (mode: string) => Number(new RegExp(`${mode} .*?: (\\d+) ms/step`).exec(out.stdout)?.[1]);
  return { largestMs: ms('max'), sampledMs: ms('sampled') };
}

export const suite: BenchSuite = {
  name: 'train',
  describe: 'one training step of the OFA-MobileNetV3 supernet (largest and random subnets)',
  async run(opts: BenchOptions, log): Promise<BenchRow[]> {
    const batch = Number(opts.extra.batch ?? 32);
    const resolution = Number(opts.extra.resolution ?? 32);
    const repeat = opts.repeat;
    const info = await initEngine({ backend: (opts.backend ?? 'auto') as BackendChoice });
    log(`backend ${info.backend} (${info.device})`);
    const config = ofaMbv3Config();
    const supernet = new ClassificationSupernet({ ...config.supernet, resolutionChoices: [resolution] }, { classes: 10, inputChannels: 3, seed: 0 });
    const space = supernet.space;
    // torch.optim.SGD(lr=0.01, momentum=0.9): no weight decay, no Nesterov.
    const learningRate = 0.01;
    const optimizer = new Sgd({ momentum: 0.9, nesterov: false, weightDecay: 0 });
    const params: ParamInfo[] = supernet.variables.map((variable) => ({ key: variable.name, variable, decay: false }));
    const rng = new Rng(0);
    const x = tf.randomNormal([batch, resolution, resolution, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.tensor1d(Array.from({ length: batch }, () => rng.int(10)), 'int32');
    const lossOptions = { labelSmoothing: 0, kdRatio: 0 };

    const step = (arch: Arch): number => timedSgdStep(() => classificationLoss(supernet.forward(x, arch, { training: true }), y, undefined, lossOptions), params, optimizer, learningRate);
    const measure = (pick: () => Arch, label: string): number => medianStepMs(step, pick, repeat, label, log);

    const peerPath = opts.extra.peer === undefined ? undefined : opts.extra.peer === 'true' ? resolve(process.cwd(), '../shared/peers/run') : resolve(opts.extra.peer);
    if (peerPath && !existsSync(peerPath)) throw new BenchUnavailable(`the peer ${peerPath} does not exist (it lives in the shared folder beside the repository)`);
    const peerRuns: PeerFigures[] = [];
    const ours: { largest: number; sampled: number }[] = [];
    const rounds = peerPath ? Math.max(1, Number(opts.extra.rounds ?? 2)) : 1;
    for (let round = 0; round < rounds; round++) {
      // Ours, then the peer, alternately: the machine's speed drifts, ratios of neighbours hold.
      const largest = measure(() => space.largest(), 'largest');
      const sampled = measure(() => space.sample(rng), 'sampled');
      ours.push({ largest, sampled });
      if (peerPath) {
        log('running the PyTorch peer…');
        const p = runPeer(peerPath, batch, resolution, log);
        if (p) peerRuns.push(p);
      }
    }
    const largestMs = median(ours.map((o) => o.largest));
    const sampledMs = median(ours.map((o) => o.sampled));
    const row: BenchRow = {
      suite: 'train',
      backend: info.backend,
      device: info.device,
      batch,
      resolution,
      largest: { msPerStep: largestMs, imgPerSec: (batch * 1000) / largestMs },
      sampled: { msPerStep: sampledMs, imgPerSec: (batch * 1000) / sampledMs },
      params: { supernet: supernet.countParams(), largest: supernet.params(space.largest()), smallest: supernet.params(space.smallest()) },
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
    if (peerRuns.length > 0) {
      const peerLargest = median(peerRuns.map((p) => p.largestMs));
      const peerSampled = median(peerRuns.map((p) => p.sampledMs));
      row.peer = { name: 'OFA OFAMobileNetV3, PyTorch CPU, 1 thread', largestMsPerStep: peerLargest, sampledMsPerStep: peerSampled };
      row.ratioToPeer = { largest: largestMs / peerLargest, sampled: sampledMs / peerSampled };
    }
    optimizer.dispose();
    tf.dispose([x, y]);
    supernet.dispose();
    return [row];
  },
};


