// ONNX export against the real onnxruntime-node (CPU): extracted subnets of a classification and a stereo supernet,
// exported to ONNX and run in an InferenceSession, compute what MANTA computes — the supernet in inference mode and the
// extracted tfjs model — on the same random inputs, within 1e-4 relative to the output's scale
// (max |onnx − manta| ≤ 1e-4 · max(1, max |manta|)), at even and odd resolutions (tfjs's 'same' padding of stride 2 is
// asymmetric on even sizes; OFA's explicit symmetric padding is a ZeroPadding2D before a 'valid' conv: both convert
// exactly); a layer the converter does not know fails naming the layer; `manta export --format onnx` on a finished
// run writes a model.onnx that ONNX Runtime loads, and a README of its inputs and outputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import type { Arch } from '../../daemon/ofa/arch';
import { buildOnnx, exportOnnx, loadOnnxRuntime, OnnxExportError, OnnxRuntimeMissingError, SUPPORTED_OPSETS } from '../../daemon/search/onnx';
import { ClassificationSupernet } from '../../daemon/tasks/classification';
import { StereoSupernet, VIEW_OFFSET, VIEW_SCALE } from '../../daemon/tasks/stereo';
import { images, smallConfig, useBackend } from './ofa-fixtures';
import { tinyStereoConfig } from './stereo-fixtures';

const TOLERANCE = 1e-4;

/** Runs `bytes` in ONNX Runtime on NHWC feeds (transposed to the model's NCHW); a rank-4 output comes back NHWC. */
async function runOnnx(bytes: Uint8Array, feeds: Record<string, tf.Tensor>): Promise<tf.Tensor> {
  const ort = loadOnnxRuntime();
  const session = await ort.InferenceSession.create(bytes);
  try {
    const inputs: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const nchw = t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t.clone();
      inputs[name] = new ort.Tensor('float32', Float32Array.from(nchw.dataSync()), nchw.shape);
      nchw.dispose();
    }
    assert.equal(session.outputNames.length, 1);
    const out = (await session.run(inputs))[session.outputNames[0]];
    const t = tf.tensor(out.data as Float32Array, out.dims as number[]);
    if (t.rank !== 4) return t;
    const nhwc = tf.transpose(t, [0, 2, 3, 1]);
    t.dispose();
    return nhwc;
  } finally {
    await session.release();
  }
}

/** max |actual − expected|, asserted ≤ 1e-4 · max(1, max |expected|). */
function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string): number {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const [diff, scale] = tf.tidy(() => [tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0], tf.max(tf.abs(expected)).dataSync()[0]]);
  assert.ok(diff <= TOLERANCE * Math.max(1, scale), `${what}: max |onnx − manta| = ${diff} on outputs up to ${scale}`);
  return diff;
}

test('classification subnets (stride 2, SE, h-swish, depthwise-only first block; r 25 and 32, w 0.5 and 1) run in ONNX Runtime as in MANTA', async (t) => {
  await useBackend('wasm');
  const net = new ClassificationSupernet(smallConfig({ resolutionChoices: [25, 32] }), { classes: 6, inputChannels: 3, seed: 4 });
  try {
    const rng = new Rng(11);
    const archs: Arch[] = [{ ...net.space.largest(), r: 32 }, { ...net.space.smallest(), r: 25 }, { ...net.space.sample(rng), r: 25, w: 0.5 }, { ...net.space.sample(rng), r: 32 }];
    const worst = { extracted: 0, supernet: 0 };
    for (const [i, arch] of archs.entries()) {
      // Enough calibration images that no batch-norm variance is degenerate (untrained weights amplify float noise).
      const calibration = images(64, arch.r, 3, 40 + i);
      await net.recalibrateBatchNorm(arch, [calibration]);
      const model = net.extractSubnet(arch);
      const exported = buildOnnx(model, { outputNames: ['output'] });
      assert.equal(exported.opset, 17);
      assert.deepEqual(exported.inputs, [{ name: 'image', dims: ['N', 3, arch.r, arch.r] }]);
      assert.deepEqual(exported.outputs, [{ name: 'output', dims: ['N', 6] }]);
      assert.equal(exported.operators.BatchNormalization, undefined, 'every batch norm is folded into its conv');
      assert.equal(exported.operators.Pad, undefined, 'explicit zero padding before a conv becomes its pads');
      assert.ok(exported.operators.HardSwish > 0 && exported.operators.HardSigmoid > 0, `h-swish and SE's h-sigmoid are standard ops: ${JSON.stringify(exported.operators)}`);
      const x = images(3, arch.r, 3, 50 + i);
      const extracted = model.predict(x) as tf.Tensor;
      const supernet = net.forward(x, arch, { training: false });
      const onnx = await runOnnx(exported.bytes, { image: x });
      const label = `${net.space.key(arch)} r${arch.r}`;
      worst.extracted = Math.max(worst.extracted, assertClose(onnx, extracted, `${label} vs extracted`));
      worst.supernet = Math.max(worst.supernet, assertClose(onnx, supernet, `${label} vs supernet`));
      tf.dispose([calibration, x, extracted, supernet, onnx]);
      model.dispose();
    }
    t.diagnostic(`classification: max |onnx − extracted| = ${worst.extracted.toExponential(2)}, max |onnx − supernet| = ${worst.supernet.toExponential(2)}`);
  } finally {
    net.dispose();
  }
});

test('stereo subnets (siamese trunk, correlation, transposed convs, U-links) run in ONNX Runtime as in MANTA', async (t) => {
  await useBackend('wasm');
  const [H, W] = [64, 128];
  const net = new StereoSupernet(tinyStereoConfig().supernet, { inputChannels: 1, maxDisparity: 8, height: H, width: W, seed: 3 });
  const left = tf.randomUniform([2, H, W, 1], 0, 1, 'float32', 1);
  const right = tf.randomUniform([2, H, W, 1], 0, 1, 'float32', 2);
  const x = tf.tidy(() => tf.concat([tf.mul(tf.add(left, VIEW_OFFSET), VIEW_SCALE), tf.mul(tf.add(right, VIEW_OFFSET), VIEW_SCALE)], 3)) as tf.Tensor4D;
  // Calibration pairs: enough that the coarsest scale (1×2 pixels) has no degenerate batch-norm variance.
  const calibration = tf.randomUniform([16, H, W, 2], VIEW_OFFSET * VIEW_SCALE, (1 + VIEW_OFFSET) * VIEW_SCALE, 'float32', 3) as tf.Tensor4D;
  try {
    const rng = new Rng(9);
    const worst = { extracted: 0, supernet: 0 };
    for (const arch of [net.space.largest(), net.space.smallest(), net.space.sample(rng)]) {
      await net.recalibrateBatchNorm(arch, [calibration]);
      const model = net.extractSubnet(arch);
      const exported = buildOnnx(model, { outputNames: ['output'] });
      assert.deepEqual(exported.inputs.map((i) => i.name), ['left', 'right']);
      assert.deepEqual(exported.outputs, [{ name: 'output', dims: ['N', 1, H, W] }]);
      assert.equal(exported.operators.BatchNormalization, undefined);
      for (const op of ['ConvTranspose', 'Concat', 'Conv']) assert.ok(exported.operators[op] > 0, `${op} in ${JSON.stringify(exported.operators)}`);
      const extracted = model.predict([left, right]) as tf.Tensor;
      const outputs = net.forward(x, arch, { training: false });
      const onnx = await runOnnx(exported.bytes, { left, right });
      worst.extracted = Math.max(worst.extracted, assertClose(onnx, extracted, `${JSON.stringify(arch)} vs extracted`));
      worst.supernet = Math.max(worst.supernet, assertClose(onnx, outputs[outputs.length - 1], `${JSON.stringify(arch)} vs supernet`));
      tf.dispose([extracted, ...outputs, onnx]);
      model.dispose();
    }
    t.diagnostic(`stereo: max |onnx − extracted| = ${worst.extracted.toExponential(2)}, max |onnx − supernet| = ${worst.supernet.toExponential(2)}`);
  } finally {
    tf.dispose([left, right, x, calibration]);
    net.dispose();
  }
});

/** A model of stock layers with every padding form MANTA's extracts use (old 'same' and OFA's explicit symmetric). */
function paddingModel(size: number): tf.LayersModel {
  const L = tf.layers;
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor => layer.apply(x) as tf.SymbolicTensor;
  const input = tf.input({ shape: [size, size, 3], name: 'image' });
  // OFA: symmetric k//2 padding, then a 'valid' stride-2 conv; batch norm after it folds.
  let a = apply(L.zeroPadding2d({ padding: [[1, 1], [1, 1]] }), input);
  a = apply(L.batchNormalization({ axis: -1 }), apply(L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'valid', useBias: false }), a));
  // tfjs 'same', stride 2: the extra row and column at the end on even sizes.
  let b = apply(L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', useBias: true }), input);
  b = apply(L.depthwiseConv2d({ kernelSize: 5, strides: 1, padding: 'same', useBias: false }), b);
  let h = apply(L.add({}), [a, b]);
  // A batch norm that follows no conv stays a BatchNormalization; a padding read twice stays a Pad.
  h = apply(L.batchNormalization({ axis: -1 }), h);
  const padded = apply(L.zeroPadding2d({ padding: [[0, 2], [1, 0]] }), h);
  const c = apply(L.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', depthMultiplier: 2, useBias: true }), padded);
  const d = apply(L.cropping2D({ cropping: [[1, 1], [0, 1]] }), padded);
  const up = apply(L.conv2dTranspose({ filters: 4, kernelSize: 4, strides: 2, padding: 'same', useBias: false }), c);
  const up3 = apply(L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same', useBias: true }), c);
  const upUp = apply(L.batchNormalization({ axis: -1 }), up);
  const pooled = apply(L.globalAveragePooling2d({}), d);
  const flat = apply(L.flatten({}), apply(L.concatenate({ axis: -1 }), [upUp, up3]));
  const gate = apply(L.reshape({ targetShape: [1, 1, 6] }), apply(L.dense({ units: 6, activation: 'sigmoid' }), pooled));
  const gated = apply(L.flatten({}), apply(L.multiply({}), [d, gate]));
  const out = apply(L.dense({ units: 5, useBias: false }), apply(L.concatenate({ axis: -1 }), [flat, gated]));
  const model = tf.model({ inputs: input, outputs: apply(L.activation({ activation: 'relu6' }), out), name: `padding_${size}` });
  let seed = 100;
  for (const layer of model.layers) {
    layer.setWeights(
      layer.weights.map((w) =>
        w.name.endsWith('moving_variance') || w.name.endsWith('gamma')
          ? tf.randomUniform(w.shape as number[], 0.5, 1.5, 'float32', seed++)
          : tf.randomNormal(w.shape as number[], 0, 0.3, 'float32', seed++),
      ),
    );
  }
  return model;
}

test('padding converts exactly: ZeroPadding2D + valid and tfjs same (stride 2, even and odd sizes), transposed convs, crops, reshapes', async (t) => {
  await useBackend('cpu');
  let worst = 0;
  for (const size of [10, 11]) {
    const model = paddingModel(size);
    const exported = buildOnnx(model, { outputNames: ['output'] });
    assert.equal(exported.operators.BatchNormalization, 1, `only the batch norm after the add stays one: ${JSON.stringify(exported.operators)}`);
    assert.equal(exported.operators.Pad, 1, 'the padding read by a conv only is folded; the one read twice is a Pad');
    const x = tf.randomNormal([2, size, size, 3], 0, 1, 'float32', 7);
    const expected = model.predict(x) as tf.Tensor;
    const onnx = await runOnnx(exported.bytes, { image: x });
    worst = Math.max(worst, assertClose(onnx, expected, `size ${size}`));
    // Every opset offered gives a model ONNX Runtime loads (IR version matched to it) and that computes the same.
    for (const opset of size === 10 ? SUPPORTED_OPSETS : []) {
      const again = await runOnnx(exportOnnx(model, { opset, outputNames: ['output'] }), { image: x });
      assertClose(again, expected, `size ${size}, opset ${opset}`);
      again.dispose();
    }
    tf.dispose([x, expected, onnx]);
    model.dispose();
  }
  t.diagnostic(`padding model: max |onnx − tfjs| = ${worst.toExponential(2)}`);
});

test('a layer without a conversion fails naming the layer; a bad opset and a missing ONNX Runtime are one-line errors', async () => {
  await useBackend('cpu');
  const input = tf.input({ shape: [8, 8, 2], name: 'image' });
  const pooled = tf.layers.maxPooling2d({ poolSize: 2, name: 'the_pool' }).apply(input) as tf.SymbolicTensor;
  const unsupported = tf.model({ inputs: input, outputs: pooled });
  assert.throws(() => exportOnnx(unsupported), (e: unknown) => e instanceof OnnxExportError && /layer "the_pool" \(MaxPooling2D\)/.test(e.message));
  const bn = tf.layers.batchNormalization({ axis: 1, name: 'rows_bn' }).apply(input) as tf.SymbolicTensor;
  assert.throws(() => exportOnnx(tf.model({ inputs: input, outputs: bn })), /layer "rows_bn" \(BatchNormalization\).*axis 1/);
  const conv = tf.layers.conv2d({ filters: 2, kernelSize: 1, name: 'ok_conv' }).apply(input) as tf.SymbolicTensor;
  const fine = tf.model({ inputs: input, outputs: conv });
  assert.throws(() => exportOnnx(fine, { opset: 12 }), /opset 12 is not supported; use one of 14, .*default 17/);
  assert.ok(exportOnnx(fine, { opset: 21 }).length > 0);
  assert.throws(() => loadOnnxRuntime('onnxruntime-node-not-installed'), (e: unknown) => e instanceof OnnxRuntimeMissingError && e.message === 'ONNX Runtime timing needs `npm install onnxruntime-node` on this host');
});

test('manta export --format onnx on a finished run writes model.onnx and its README; ONNX Runtime loads and runs it', { timeout: 120_000 }, async () => {
  const root = join(__dirname, '../..');
  const main = join(root, 'daemon/cli/main.ts');
  const manta = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, MANTA_DEBUG: '' } });
  const dir = mkdtempSync(join(tmpdir(), 'manta-onnx-'));
  try {
    const config = join(dir, 'tiny.manta.json');
    writeFileSync(
      config,
      JSON.stringify({
        name: 'onnx-tiny',
        task: 'classification',
        seed: 3,
        backend: 'wasm',
        data: { kind: 'synthetic', classes: 4, imageSize: 16, trainSize: 64, validationSize: 32, testSize: 32 },
        supernet: {
          stem: { width: 8 },
          firstBlock: { width: 8 },
          units: [{ width: 8 }, { width: 16, squeezeExcite: true, activation: 'hswish' }, { width: 16, stride: 1 }, { width: 24 }, { width: 24, stride: 1 }],
          finalExpandWidth: 32,
          featureMixWidth: 32,
          kernelChoices: [3, 5],
          expandChoices: [2, 4],
          depthChoices: [1, 2],
          resolutionChoices: [15, 16],
        },
        training: { batchSize: 32, subnetsPerStep: 1, bnCalibrationSize: 32, phases: [{ phase: 'largest', epochs: 1, learningRate: 0.05 }] },
        distributed: { workersPerHost: 1 },
        search: { measuredSubnets: 8, frontSize: 2, predictor: { layers: 1, hiddenUnits: 8, epochs: 5, tauFloor: -1 }, evolution: { population: 8, generations: 2 } },
      }),
    );
    const search = manta(['search', config]);
    assert.equal(search.status, 0, search.stderr);
    const runDir = join(dir, 'runs', readdirSync(join(dir, 'runs'))[0]);
    const out = join(dir, 'exported');
    const exported = manta(['export', runDir, '--arch', '0', '--format', 'onnx', '--out', out]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.match(exported.stdout, /exported .*model\.onnx/);
    assert.deepEqual(readdirSync(out).sort(), ['README.md', 'model.onnx']);
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    assert.match(readme, /opset 17/);
    assert.match(readme, /`image` float32 \[N, 3, \d+, \d+\]/);
    assert.match(readme, /Batch norm is folded/);
    const ort = loadOnnxRuntime();
    const session = await ort.InferenceSession.create(readFileSync(join(out, 'model.onnx')));
    const r = Number(/\[N, 3, (\d+), \d+\]/.exec(readme)![1]);
    const result = await session.run({ image: new ort.Tensor('float32', new Float32Array(2 * 3 * r * r).fill(0.25), [2, 3, r, r]) });
    assert.deepEqual(result.output.dims, [2, 4]);
    assert.ok(Array.from(result.output.data as Float32Array).every(Number.isFinite));
    await session.release();
    const bad = manta(['export', runDir, '--arch', '0', '--format', 'pytorch']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--format must be one of tfjs, onnx; got "pytorch"/);
    assert.ok(!existsSync(join(runDir, 'subnets', '0', 'model.onnx')), 'the refused export wrote nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
