// The stereo supernet and its loss on the wasm engine: six disparity maps coarse to fine; an extracted subnet (stock
// layers, two inputs, the siamese trunk shared) computes what the supernet computes, also after a save/load round
// trip; the analytic parameter count equals the extracted model's trainable weights; the ground truth is pooled with
// its values unchanged over valid pixels only; the scale weights move from the start to the end list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../daemon/engine';
import { Rng } from '../../daemon/engine/rng';
import { generateStereoPair } from '../../daemon/data/stereo';
import { disparityLoss, poolDisparity, scaleWeights, StereoSupernet, VIEW_OFFSET, VIEW_SCALE } from '../../daemon/tasks/stereo';
import { tinyStereoConfig } from './stereo-fixtures';

const H = 64;
const W = 128;

function pairTensors(n: number, seed: number): { left: tf.Tensor4D; right: tf.Tensor4D; x: tf.Tensor4D } {
  const left = new Float32Array(n * H * W);
  const right = new Float32Array(n * H * W);
  for (let i = 0; i < n; i++) {
    const p = generateStereoPair({ width: W, height: H, maxDisparity: 8, seed: seed + i });
    for (let k = 0; k < H * W; k++) {
      left[i * H * W + k] = p.left[k] / 255;
      right[i * H * W + k] = p.right[k] / 255;
    }
  }
  const l = tf.tensor4d(left, [n, H, W, 1]);
  const r = tf.tensor4d(right, [n, H, W, 1]);
  const norm = (t: tf.Tensor4D): tf.Tensor4D => tf.mul(tf.add(t, VIEW_OFFSET), VIEW_SCALE);
  return { left: l, right: r, x: tf.concat([norm(l), norm(r)], 3) };
}

test('stereo supernet: six maps coarse to fine; extracted subnets equal the supernet, after a save/load too; costs agree with the model', async () => {
  await initEngine({ backend: 'wasm' });
  const config = tinyStereoConfig();
  const net = new StereoSupernet(config.supernet, { inputChannels: 1, maxDisparity: 8, height: H, width: W, seed: 3 });
  const { left, right, x } = pairTensors(2, 100);
  try {
    const outs = net.forward(x, net.space.largest(), { training: true });
    assert.deepEqual(outs.map((o) => o.shape), [32, 16, 8, 4, 2, 1].map((s) => [2, H / s, W / s, 1]));
    tf.dispose(outs);
    const rng = new Rng(9);
    const archs = [net.space.largest(), net.space.smallest(), net.space.sample(rng), net.space.sample(rng)];
    assert.ok(net.macs(archs[0]) > net.macs(archs[1]) && net.params(archs[0]) > net.params(archs[1]));
    for (const arch of archs) {
      await net.recalibrateBatchNorm(arch, [x]);
      const expected = net.forward(x, arch, { training: false });
      const model = net.extractSubnet(arch);
      const got = model.predict([left, right]) as tf.Tensor;
      const diff = tf.max(tf.abs(tf.sub(got, expected[5]))).dataSync()[0];
      assert.ok(diff < 1e-3, `extracted subnet differs by ${diff} for ${JSON.stringify(arch)}`);
      const trainable = model.trainableWeights.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
      assert.equal(net.params(arch), trainable, 'analytic params = the extracted model\'s trainable weights');
      // Saved as model.json + weights and loaded back with plain tfjs: the same outputs.
      let artifacts: tf.io.ModelArtifacts | undefined;
      await model.save(tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }));
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
      const again = loaded.predict([left, right]) as tf.Tensor;
      assert.ok(tf.max(tf.abs(tf.sub(again, got))).dataSync()[0] < 1e-5);
      tf.dispose([got, again, ...expected]);
      model.dispose();
      loaded.dispose();
    }
  } finally {
    tf.dispose([left, right, x]);
    net.dispose();
  }
});

test('ground truth pools over valid pixels with values unchanged; scale weights interpolate; the loss ignores pixels without truth', async () => {
  await initEngine({ backend: 'wasm' });
  // A 2×4 map: the left 2×2 cell has one invalid pixel (0), the right one none.
  const truth = tf.tensor4d([4, 0, 10, 12, 6, 8, 14, 16], [1, 2, 4, 1]);
  const pooled = poolDisparity(truth, 2);
  assert.deepEqual(Array.from(pooled.dataSync()).map((v) => +v.toFixed(5)), [6, 13]);
  assert.deepEqual(Array.from(poolDisparity(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D, 2).dataSync()), [0], 'a cell without truth stays 0 (no truth)');
  const loss = { kind: 'l1' as const, startWeights: [1, 0, 0, 0, 0, 0], endWeights: [0, 0, 0, 0, 0, 1] };
  assert.deepEqual(scaleWeights(loss, 0.25), [0.75, 0, 0, 0, 0, 0.25]);
  // Predictions equal to the truth where it exists and wildly off where it does not: zero loss at every scale.
  const finest = tf.tensor4d([4, 99, 10, 12, 6, 8, 14, 16], [1, 2, 4, 1]);
  const coarse = tf.tensor4d([6, 13], [1, 1, 2, 1]);
  const zeros = [coarse, coarse, coarse, coarse, coarse];
  const value = disparityLoss([...zeros, finest], truth, undefined, { labelSmoothing: 0, kdRatio: 0, progress: 0.5 }, { ...loss, startWeights: [1, 1, 1, 1, 1, 1], endWeights: [1, 1, 1, 1, 1, 1] });
  assert.ok(Math.abs(value.dataSync()[0]) < 1e-6, `loss ${value.dataSync()[0]}`);
  const off = disparityLoss([...zeros, tf.add(finest, 2) as tf.Tensor4D], truth, undefined, { labelSmoothing: 0, kdRatio: 0, progress: 1 }, loss);
  assert.ok(Math.abs(off.dataSync()[0] - 2) < 1e-6, 'L1 of a 2 px offset at the finest scale is 2');
  tf.dispose([truth, pooled, finest, coarse, value, off]);
});
