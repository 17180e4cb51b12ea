import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import type { Arch } from '../../daemon/ofa/arch';
import { macs, params } from '../../daemon/ofa/costs';
import { SearchSpace } from '../../daemon/ofa/space';
import { ClassificationSupernet } from '../../daemon/tasks/classification';
import { mbv3Config, smallConfig, useBackend } from './ofa-fixtures';

// A subnet of OFA-MobileNetV3 with every kernel, expand ratio and depth in use.
const MIXED: Omit<Arch, 'r'> = {
  ks: [3, 5, 7, 3, 5, 5, 7, 7, 3, 3, 3, 3, 7, 5, 3, 5, 3, 7, 5, 7],
  e: [3, 4, 6, 6, 4, 3, 3, 6, 6, 6, 4, 3, 3, 3, 4, 4, 6, 4, 3, 6],
  d: [2, 3, 4, 3, 2],
  w: 1,
};

/** MACs and trainable parameters counted from an extracted model's stock layers, as OFA's profiler counts them. */
function countModel(model: tf.LayersModel): { macs: number; params: number; bnChannels: number } {
  let total = 0;
  let bnChannels = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const out = layer.outputShape as number[];
    if (cls === 'Conv2D') {
      const [k, , cin, cout] = layer.getWeights()[0].shape;
      total += k * k * cin * cout * out[1] * out[2];
    } else if (cls === 'DepthwiseConv2D') {
      const [k, , c] = layer.getWeights()[0].shape;
      total += k * k * c * out[1] * out[2];
    } else if (cls === 'Dense') {
      const [fin, fout] = layer.getWeights()[0].shape;
      total += fin * fout;
    } else if (cls === 'BatchNormalization') {
      bnChannels += out[3];
    }
  }
  const trainable = model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 0), 1), 0);
  return { macs: total, params: trainable, bnChannels };
}

test('the default config reproduces OFA-MobileNetV3’s parameter counts', async () => {
  await useBackend('cpu');
  // Source: `/work/shared/peers/run params` (OFA f03b267, OFAMobileNetV3(ks [3,5,7], e [3,4,6], d [2,3,4],
  // dropout 0), count_parameters): 10 classes — supernet 6410690, max subnet 6396570, min subnet 2142602;
  // 1000 classes — 7678880, 7664760, 3410792.
  const expected = [
    { classes: 10, supernet: 6410690, largest: 6396570, smallest: 2142602 },
    { classes: 1000, supernet: 7678880, largest: 7664760, smallest: 3410792 },
  ];
  for (const e of expected) {
    const net = new ClassificationSupernet(mbv3Config(), { classes: e.classes, inputChannels: 3, seed: 0 });
    try {
      assert.equal(net.countParams(), e.supernet);
      assert.equal(net.params(net.space.largest()), e.largest);
      assert.equal(net.params(net.space.smallest()), e.smallest);
    } finally {
      net.dispose();
    }
  }
});

test('MACs are OFA’s count_net_flops of the same subnets', () => {
  // Source: OFA f03b267's count_net_flops / count_parameters on OFAMobileNetV3(10 classes).get_active_subnet()
  // for these archs, run with /work/shared/peers/ofa on Debian's python3-torch 1.13.
  const space = new SearchSpace(mbv3Config({ resolutionChoices: [32, 40, 224] }));
  const at = (arch: Omit<Arch, 'r'>, r: number): Arch => ({ ...arch, r });
  const largest = space.largest();
  const smallest = space.smallest();
  assert.equal(macs(space, { ...largest, r: 32 }, 3, 10), 15198240);
  // OFA's profiler sums in float32 (torch.zeros(1).fill_): above 2^24 its totals are rounded, ours are exact.
  assert.ok(Math.abs(macs(space, { ...largest, r: 224 }, 3, 10) - 564903488) < 1e-6 * 564903488);
  assert.equal(macs(space, { ...smallest, r: 32 }, 3, 10), 3935184);
  assert.ok(Math.abs(macs(space, { ...smallest, r: 224 }, 3, 10) - 120011472) < 1e-6 * 120011472);
  assert.equal(macs(space, at(MIXED, 32), 3, 10), 6268448);
  assert.equal(macs(space, at(MIXED, 40), 3, 10), 11387728);
  assert.equal(params(space, at(MIXED, 32), 3, 10), 2984434);
});

test('MACs and params match what the extracted models’ layers count', async () => {
  await useBackend('cpu');
  const nets = [
    new ClassificationSupernet(mbv3Config(), { classes: 10, inputChannels: 3, seed: 0 }),
    new ClassificationSupernet(smallConfig(), { classes: 7, inputChannels: 1, seed: 0 }),
  ];
  try {
    for (const net of nets) {
      const rng = new Rng(2);
      const archs = [net.space.largest(), net.space.smallest(), net.space.sample(rng), net.space.sample(rng)];
      if (net === nets[0]) archs.push({ ...MIXED, r: 32 });
      for (const arch of archs) {
        const model = net.extractSubnet(arch);
        try {
          const counted = countModel(model);
          assert.equal(net.macs(arch), counted.macs, `MACs of ${net.space.key(arch)}`);
          assert.equal(net.params(arch), counted.params, `params of ${net.space.key(arch)}`);
          // tfjs's countParams also counts the batch norms' moving mean and variance.
          assert.equal(model.countParams(), counted.params + 2 * counted.bnChannels);
        } finally {
          model.dispose();
        }
      }
    }
  } finally {
    nets.forEach((n) => n.dispose());
  }
});
