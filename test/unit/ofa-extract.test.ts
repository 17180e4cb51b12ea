import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import type { Arch } from '../../daemon/ofa/arch';
import { ClassificationSupernet } from '../../daemon/tasks/classification';
import { images, maxAbsDiff, mbv3Config, smallConfig, useBackend } from './ofa-fixtures';

/** The stock tfjs layer classes an extracted model may use (nothing of MANTA's). */
const STOCK_LAYERS = new Set([
  'InputLayer',
  'ZeroPadding2D', // symmetric k//2 padding where tfjs's 'same' would pad end-heavy (stride 2, even input)
  'Conv2D',
  'DepthwiseConv2D',
  'BatchNormalization',
  'Activation',
  'Rescaling',
  'Multiply',
  'Add',
  'GlobalAveragePooling2D',
  'Dense',
  'Reshape',
  'Dropout',
]);

function archsOf(net: ClassificationSupernet, seed: number, samples: number): Arch[] {
  const rng = new Rng(seed);
  return [net.space.largest(), net.space.smallest(), ...Array.from({ length: samples }, () => net.space.sample(rng))];
}

async function checkExtraction(backend: 'cpu' | 'wasm'): Promise<void> {
  await useBackend(backend);
  const net = new ClassificationSupernet(smallConfig(), { classes: 6, inputChannels: 3, seed: 4 });
  try {
    for (const arch of archsOf(net, 17, 4)) {
      const calibration = [images(8, arch.r, 3, 31), images(8, arch.r, 3, 32)];
      await net.recalibrateBatchNorm(arch, calibration);
      const model = net.extractSubnet(arch);
      const x = images(5, arch.r, 3, 33);
      const expected = net.forward(x, arch, { training: false });
      const actual = model.predict(x) as tf.Tensor;
      assert.deepEqual(actual.shape, [5, 6]);
      const diff = maxAbsDiff(expected, actual);
      assert.ok(diff <= 1e-5, `${backend} ${net.space.key(arch)}: max |supernet − extracted| = ${diff}`);
      tf.dispose([...calibration, x, expected, actual]);
      model.dispose();
    }
  } finally {
    net.dispose();
  }
}

test('extracted subnets compute what the supernet computes (cpu)', async () => {
  await checkExtraction('cpu');
});

test('extracted subnets compute what the supernet computes (wasm)', async () => {
  await checkExtraction('wasm');
});

test('OFA-MobileNetV3’s largest subnet extracts exactly (wasm)', async () => {
  await useBackend('wasm');
  const net = new ClassificationSupernet(mbv3Config(), { classes: 10, inputChannels: 3, seed: 1 });
  try {
    const arch = net.space.largest();
    const calibration = images(16, arch.r, 3, 41);
    await net.recalibrateBatchNorm(arch, [calibration]);
    const model = net.extractSubnet(arch);
    const x = images(4, arch.r, 3, 42);
    const diff = maxAbsDiff(net.forward(x, arch, { training: false }), model.predict(x) as tf.Tensor);
    assert.ok(diff <= 1e-5, `max |supernet − extracted| = ${diff}`);
    model.dispose();
  } finally {
    net.dispose();
  }
});

test('an extracted subnet saves as model.json + weights and loads with stock tf.loadLayersModel', async () => {
  await useBackend('cpu');
  const net = new ClassificationSupernet(smallConfig(), { classes: 4, inputChannels: 1, seed: 8 });
  try {
    const arch = archsOf(net, 5, 1)[2];
    await net.recalibrateBatchNorm(arch, [images(8, arch.r, 1, 51)]);
    const model = net.extractSubnet(arch);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    assert.ok(saved?.modelTopology && saved.weightSpecs && saved.weightData);
    // What goes to disk: model.json (topology + weight manifest, plain JSON) and one weights blob.
    const modelJson = JSON.parse(JSON.stringify({ modelTopology: saved.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: saved.weightSpecs }] })) as {
      modelTopology: { config: { layers: { class_name: string }[] } };
      weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    };
    const classes = new Set(modelJson.modelTopology.config.layers.map((l) => l.class_name));
    for (const c of classes) assert.ok(STOCK_LAYERS.has(c), `non-stock layer class ${c}`);
    const weightBytes = new Uint8Array(saved.weightData as ArrayBuffer).slice();
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: modelJson.modelTopology as unknown as object, weightSpecs: modelJson.weightsManifest[0].weights, weightData: weightBytes.buffer }),
    );
    const x = images(3, arch.r, 1, 52);
    assert.equal(maxAbsDiff(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor), 0);
    assert.ok(maxAbsDiff(net.forward(x, arch, { training: false }), loaded.predict(x) as tf.Tensor) <= 1e-5);
    model.dispose();
    loaded.dispose();
  } finally {
    net.dispose();
  }
});
