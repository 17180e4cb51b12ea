// The stereo task through the whole pipeline, unchanged: it trains by progressive shrinking on generated pairs, is
// measured, searched on EPE (lower is better) and exported; the run reports previews after each phase and for each
// front subnet, the two baselines on the test pairs, and the exported subnet loads with plain tfjs and predicts the
// disparity map. The stages never name the task.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initEngine, tf } from '../../daemon/engine';
import type { TelemetryEvents, TelemetryKind } from '../../daemon/protocol/events';
import { runJob } from '../../daemon/pipeline';
import type { ResultsFile } from '../../daemon/search/results';
import { tinyStereoConfig } from './stereo-fixtures';

test('a stereo run trains, searches on EPE, previews, measures the baselines and exports a loadable subnet', async () => {
  await initEngine({ backend: 'wasm' });
  const config = tinyStereoConfig({
    training: {
      batchSize: 4,
      subnetsPerStep: 2,
      bnCalibrationSize: 8,
      phases: [
        { phase: 'largest', epochs: 2, learningRate: 0.02 },
        { phase: 'kernel', epochs: 1, learningRate: 0.01, kernel: [3, 5] },
      ],
    },
  });
  const root = mkdtempSync(join(tmpdir(), 'manta-stereo-'));
  const runDir = join(root, 'run');
  const previews: TelemetryEvents['preview'][] = [];
  const kinds = new Set<TelemetryKind>();
  try {
    const result = await runJob(config, {
      runDir,
      configDir: root,
      emit: (kind, data) => {
        kinds.add(kind);
        if (kind === 'preview') previews.push(data as TelemetryEvents['preview']);
      },
      prefetch: 'sync',
      cacheDir: join(root, 'cache'),
    });
    assert.equal(result.status, 'completed');
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as ResultsFile;
    assert.deepEqual(results.task, { kind: 'stereo', metric: 'epe', higherIsBetter: false });
    // EPE is an error in pixels: positive and, with disparities ≤ 8 px, below what predicting a constant would give.
    for (const p of results.front) assert.ok(p.testAccuracy! > 0 && p.testAccuracy! < 8, `front EPE ${p.testAccuracy}`);
    const names = results.baselines?.map((b) => b.name) ?? [];
    assert.equal(names.length, 2, JSON.stringify(results.baselines));
    const zero = results.baselines![0].metrics;
    const matched = results.baselines![1].metrics;
    assert.ok(matched.epe < zero.epe, `block matching ${matched.epe} vs zero ${zero.epe}`);
    for (const key of ['epe', 'd1', 'over1px', 'over3px']) assert.ok(Number.isFinite(matched[key]), key);
    // Previews: one per phase (largest subnet) and one per front subnet, each with decodable pictures.
    assert.deepEqual(previews.filter((p) => p.phaseIndex !== undefined).map((p) => p.phaseIndex), [0, 1]);
    assert.equal(previews.filter((p) => p.label.startsWith('front #')).length, results.front.length);
    for (const p of previews) {
      assert.equal(p.preview.pairs.length, 2);
      for (const pair of p.preview.pairs) {
        assert.equal(Buffer.from(pair.predicted, 'base64').length, pair.width * pair.height);
        assert.ok(Number.isFinite(pair.epe));
      }
    }
    assert.ok(results.front.every((p) => p.preview?.kind === 'disparity'));
    // The exported subnet: stock layers, two inputs in [0, 1], the full-resolution disparity out.
    // Loaded from its files with plain tfjs (no file:// handler without tfjs-node: the artifacts by hand).
    const modelFile = join(runDir, results.front[0].model!);
    const json = JSON.parse(readFileSync(modelFile, 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
    const data = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(modelFile, '..', p)))));
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      }),
    );
    const out = model.predict([tf.fill([1, 64, 128, 1], 0.5), tf.fill([1, 64, 128, 1], 0.5)]) as tf.Tensor;
    assert.deepEqual(out.shape, [1, 64, 128, 1]);
    out.dispose();
    model.dispose();
    for (const kind of ['phase', 'step', 'evaluation', 'measure.progress', 'predictor', 'pareto', 'run.finished'] as const) assert.ok(kinds.has(kind), `no ${kind} event`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
