// MANTA's training step against OFA's reference implementation (../shared/peers/ofa beside the repository, run by
// ofa-parity-step.py on Debian's python3-torch): OFA-MobileNetV3 (10 classes) at an even resolution (32, where
// tfjs's 'same' padding would differ from OFA's), the same weights, batch, frozen teacher and K = 2 sampled subnets,
// one SGD step (momentum, Nesterov, weight decay as OFA). The step's loss and every updated weight must agree.
//
// MANTA's side is its Trainer: a largest phase (1 step), an expand phase (1 step: the teacher is frozen at its start,
// channels are sorted), then a second expand stage whose first step (fresh optimizer, K = 2) is the compared one.
// Tolerances (float32 on both sides, different summation orders): loss within 1e-4 relative; updated weights within
// 1e-4 absolute (this step moves early weights by up to ~0.7; the cpu backend lands within 2e-5), and the update itself
// (new − old weights) within 1e-3 of its largest magnitude. The backend is wasm
// (what MANTA trains on); PARITY_BACKEND=cpu runs tfjs's reference kernels instead (slower) to tell kernels from recipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { initEngine, tf } from '../../daemon/engine';
import { loadDataset, type Batch } from '../../daemon/data';
import type { Arch } from '../../daemon/ofa/arch';
import { OFA_MBV3_UNITS } from '../../daemon/ofa/presets';
import type { Task, TaskData } from '../../daemon/ofa/task';
import type { TelemetryEvents } from '../../daemon/protocol/events';
import { ClassificationTask, type ClassLabels } from '../../daemon/tasks/classification';
import { Trainer, type TensorRecord } from '../../daemon/train';
import { validateConfig } from '../../schemas';

const REPO = path.resolve(__dirname, '..', '..');
const OFA_PARENT = path.resolve(REPO, '..', 'shared', 'peers');
const PYTHON = '/usr/bin/python3';
const RESOLUTION = 32;
const BATCH = 8;
const CLASSES = 10;

/** How a MANTA weight maps onto OFA's state dict: its name there and the axis order (from MANTA's layout). */
interface Mapping {
  ofa: string;
  perm?: number[];
}

/** OFA's name for MANTA's stable weight name (OFAMobileNetV3: blocks[0] the first block, blocks[1 + 4u + i] unit u's i-th). */
function ofaName(name: string): Mapping | undefined {
  const bn = (prefix: string, field: string): string | undefined =>
    ({ gamma: `${prefix}.weight`, beta: `${prefix}.bias`, movingMean: `${prefix}.running_mean`, movingVariance: `${prefix}.running_var` })[field];
  const conv = [3, 2, 0, 1]; // HWIO → OIHW
  const dense = [1, 0]; // [in, out] → [out, in]
  let m: RegExpMatchArray | null;
  if (name === 'stem/conv/kernel') return { ofa: 'first_conv.conv.weight', perm: conv };
  if ((m = name.match(/^stem\/bn\/(\w+)$/))) return { ofa: bn('first_conv.bn', m[1])! };
  if (name === 'first/dw/kernel') return { ofa: 'blocks.0.conv.depth_conv.conv.weight', perm: [2, 3, 0, 1] };
  if ((m = name.match(/^first\/dwBn\/(\w+)$/))) return { ofa: bn('blocks.0.conv.depth_conv.bn', m[1])! };
  if (name === 'first/project/kernel') return { ofa: 'blocks.0.conv.point_linear.conv.weight', perm: conv };
  if ((m = name.match(/^first\/projectBn\/(\w+)$/))) return { ofa: bn('blocks.0.conv.point_linear.bn', m[1])! };
  if ((m = name.match(/^u(\d)b(\d)\/(.+)$/))) {
    const block = `blocks.${1 + 4 * Number(m[1]) + Number(m[2])}.conv`;
    const rest = m[3];
    const bnField = rest.match(/^(expandBn|dwBn|projectBn)\/(\w+)$/);
    if (bnField) {
      const layer = { expandBn: 'inverted_bottleneck', dwBn: 'depth_conv', projectBn: 'point_linear' }[bnField[1] as 'expandBn' | 'dwBn' | 'projectBn'];
      return { ofa: bn(`${block}.${layer}.bn.bn`, bnField[2])! };
    }
    const direct: Record<string, Mapping> = {
      'expand/kernel': { ofa: `${block}.inverted_bottleneck.conv.conv.weight`, perm: conv },
      'dw/kernel': { ofa: `${block}.depth_conv.conv.conv.weight`, perm: [2, 3, 0, 1] },
      'dw/transform7to5': { ofa: `${block}.depth_conv.conv.7to5_matrix` },
      'dw/transform5to3': { ofa: `${block}.depth_conv.conv.5to3_matrix` },
      'se/reduce/kernel': { ofa: `${block}.depth_conv.se.fc.reduce.weight`, perm: dense },
      'se/reduce/bias': { ofa: `${block}.depth_conv.se.fc.reduce.bias` },
      'se/expand/kernel': { ofa: `${block}.depth_conv.se.fc.expand.weight`, perm: dense },
      'se/expand/bias': { ofa: `${block}.depth_conv.se.fc.expand.bias` },
      'project/kernel': { ofa: `${block}.point_linear.conv.conv.weight`, perm: conv },
    };
    return direct[rest];
  }
  if (name === 'finalExpand/conv/kernel') return { ofa: 'final_expand_layer.conv.weight', perm: conv };
  if ((m = name.match(/^finalExpand\/bn\/(\w+)$/))) return { ofa: bn('final_expand_layer.bn', m[1])! };
  if (name === 'featureMix/kernel') return { ofa: 'feature_mix_layer.conv.weight', perm: dense };
  if (name === 'classifier/kernel') return { ofa: 'classifier.linear.weight', perm: dense };
  if (name === 'classifier/bias') return { ofa: 'classifier.linear.bias' };
  return undefined;
}

/** Float32 tensors packed back to back, with a JSON index of shapes and offsets. */
class Packer {
  readonly chunks: Float32Array[] = [];
  private floats = 0;
  add(data: Float32Array, shape: number[]): { shape: number[]; offset: number } {
    const entry = { shape, offset: this.floats };
    this.chunks.push(data);
    this.floats += data.length;
    return entry;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
  }
}

/** MANTA's weights (a checkpoint group) in OFA's names and layouts; the supernet's statistics included. */
function toOfa(records: Record<string, TensorRecord>, packer: Packer): Record<string, { shape: number[]; offset: number }> {
  const out: Record<string, { shape: number[]; offset: number }> = {};
  for (const [name, r] of Object.entries(records)) {
    const m = ofaName(name);
    assert.ok(m, `no OFA name for MANTA weight ${name}`);
    const data = m.perm ? tf.tidy(() => tf.transpose(tf.tensor(r.data, r.shape), m.perm)) : undefined;
    const shape = data ? data.shape : r.shape;
    // OFA's 1×1 convolutions keep their kernel axes: [out, in] from a dense layer becomes [out, in, 1, 1].
    const ofaShape = m.perm?.length === 2 && /(se\.fc\.|feature_mix)/.test(m.ofa) ? [...shape, 1, 1] : shape;
    out[m.ofa] = packer.add(data ? (data.dataSync() as Float32Array).slice() : r.data, ofaShape);
    data?.dispose();
  }
  return out;
}

/** An OFA parameter back in MANTA's layout. */
function fromOfa(values: Float32Array, shape: number[], m: Mapping): Float32Array {
  if (!m.perm) return values;
  const ofaShape = m.perm.length === 2 ? shape.slice(0, 2) : shape;
  const inverse = m.perm.map((_, i) => m.perm!.indexOf(i));
  return tf.tidy(() => tf.transpose(tf.tensor(values, ofaShape), inverse).dataSync() as Float32Array).slice();
}

function requireTorch(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    assert.fail(
      `${PYTHON} cannot import torch and torchvision (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}): ` +
        'install Debian\'s python3-torch and python3-torchvision (apt-get install python3-torch python3-torchvision; CI does)',
    );
  }
  assert.ok(existsSync(path.join(OFA_PARENT, 'ofa', 'imagenet_classification')), `OFA's reference is missing at ${OFA_PARENT}/ofa (beside the repository, ../shared/peers/ofa)`);
}

test('one training step of MANTA equals one of OFA’s reference at an even resolution (loss and updated weights)', { timeout: 180_000 }, async () => {
  requireTorch();
  await initEngine({ backend: (process.env.PARITY_BACKEND as 'cpu' | undefined) ?? 'wasm' });
  const checked = validateConfig({
    name: 'ofa-parity',
    task: 'classification',
    seed: 5,
    data: { kind: 'synthetic', imageSize: RESOLUTION, channels: 3, classes: CLASSES, trainSize: BATCH, validationSize: BATCH, testSize: BATCH },
    supernet: { units: OFA_MBV3_UNITS, dropout: 0, resolutionChoices: [RESOLUTION] },
    training: {
      batchSize: BATCH,
      phases: [
        { phase: 'largest', epochs: 1, learningRate: 0.05 },
        { phase: 'expand', epochs: 1, learningRate: 0.05, kernel: [3, 5, 7], depth: [2, 3, 4], subnetsPerStep: 1 },
        { phase: 'expand', epochs: 1, learningRate: 0.1, subnetsPerStep: 2 },
      ],
    },
  });
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  const config = checked.config;
  const dataset = await loadDataset(config.data, { baseDir: REPO, seed: config.seed });
  const base = new ClassificationTask(config.supernet, dataset, { seed: config.seed });
  // Every step trains on the same unaugmented batch, so OFA can be given exactly that batch.
  const [batch] = [...base.data.evalBatches('train', BATCH)];
  const fixed: TaskData<Batch> = {
    describe: 'one fixed batch',
    trainCount: BATCH,
    openTrainStream: () => ({ position: () => ({ epoch: 0, batch: 0 }), next: async () => batch, close: async () => undefined }),
    evalBatches: (split, size, limit) => base.data.evalBatches(split, size, limit),
  };
  const task: Task<tf.Tensor4D, tf.Tensor2D, ClassLabels, Batch> = {
    kind: base.kind,
    space: base.space,
    supernet: base.supernet,
    metricInfo: base.metricInfo,
    data: fixed,
    tensors: (b, r) => base.tensors(b, r),
    loss: (out, y, teacher, opts) => base.loss(out, y, teacher, opts),
    metric: (out, y) => base.metric(out, y),
    metricSums: (out, y) => base.metricSums(out, y),
    inputDescription: () => base.inputDescription(),
    exportMetadata: (arch) => base.exportMetadata(arch),
    dispose: () => base.dispose(),
  };
  const steps: TelemetryEvents['step'][] = [];
  const trainer = new Trainer(config, task as unknown as Task, {
    prefetch: 'sync',
    emit: (kind, data) => {
      if (kind === 'step') steps.push(data as TelemetryEvents['step']);
    },
  });
  const exchange = mkdtempSync(path.join(os.tmpdir(), 'manta-ofa-parity-'));
  try {
    await trainer.step();
    await trainer.step();
    const before = trainer.checkpoint();
    assert.ok(before.tensors.teacher, 'the teacher is frozen once the largest phase has ended');
    const report = await trainer.step();
    const after = trainer.checkpoint();
    assert.equal(report.phaseIndex, 2);
    assert.equal(report.archs.length, 2);
    assert.ok(report.archs.every((a: Arch) => a.r === RESOLUTION));
    assert.notEqual(task.space.key(report.archs[0]), task.space.key(report.archs[1]));

    // The exchange: weights, teacher and the batch (NCHW) in OFA's layout, the subnets, the hyper-parameters.
    const packer = new Packer();
    const images = tf.tidy(() => tf.transpose(base.tensors(batch, RESOLUTION).x, [0, 3, 1, 2]));
    const t = config.training;
    const spec = {
      classes: CLASSES,
      weights: toOfa(before.tensors.weights, packer),
      teacher: toOfa(before.tensors.teacher, packer),
      images: packer.add((images.dataSync() as Float32Array).slice(), images.shape),
      labels: Array.from(batch.y),
      subnets: report.archs.map((a: Arch) => ({ ks: a.ks, e: a.e, d: a.d })),
      training: { learningRate: report.learningRate, momentum: t.momentum, nesterov: t.nesterov, weightDecay: t.weightDecay, kdRatio: t.kdRatio, labelSmoothing: t.labelSmoothing },
    };
    images.dispose();
    writeFileSync(path.join(exchange, 'input.json'), JSON.stringify(spec));
    writeFileSync(path.join(exchange, 'input.f32'), packer.bytes());
    execFileSync(PYTHON, [path.join(__dirname, 'ofa-parity-step.py'), OFA_PARENT, exchange], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 150_000 });
    const result = JSON.parse(readFileSync(path.join(exchange, 'output.json'), 'utf8')) as {
      losses: number[];
      weights: Record<string, { shape: number[]; offset: number }>;
    };
    const raw = readFileSync(path.join(exchange, 'output.f32'));
    const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));

    // The loss: MANTA reports the mean over the step's subnets.
    const last = steps[steps.length - 1];
    assert.equal(last.step, report.step);
    const ofaLoss = result.losses.reduce((a, b) => a + b, 0) / result.losses.length;
    assert.ok(Math.abs(last.loss - ofaLoss) <= 1e-4 * Math.abs(ofaLoss), `loss: MANTA ${last.loss}, OFA ${ofaLoss}`);

    // Every trainable weight after the update (running statistics are MANTA's recalibration's, not the step's).
    let compared = 0;
    let worstWeight = { diff: 0, name: '' };
    let updateDiff = 0;
    let updateScale = 0;
    for (const [name, r] of Object.entries(after.tensors.weights)) {
      if (/moving(Mean|Variance)$/.test(name)) continue;
      const m = ofaName(name)!;
      const entry = result.weights[m.ofa];
      assert.ok(entry, `OFA has no parameter ${m.ofa} (MANTA ${name})`);
      const size = entry.shape.reduce((a, b) => a * b, 1);
      const ofa = fromOfa(values.subarray(entry.offset, entry.offset + size), entry.shape, m);
      const old = before.tensors.weights[name].data;
      assert.equal(ofa.length, r.data.length, name);
      for (let i = 0; i < ofa.length; i++) {
        const diff = Math.abs(r.data[i] - ofa[i]);
        if (diff > worstWeight.diff) worstWeight = { diff, name };
        updateDiff = Math.max(updateDiff, Math.abs(r.data[i] - old[i] - (ofa[i] - old[i])));
        updateScale = Math.max(updateScale, Math.abs(ofa[i] - old[i]));
      }
      compared++;
    }
    assert.equal(compared, Object.keys(result.weights).length, 'every OFA parameter is compared');
    assert.ok(updateScale > 1e-3, `the step moved the weights (largest update ${updateScale})`);
    assert.ok(worstWeight.diff <= 1e-4, `updated weights differ by ${worstWeight.diff} (${worstWeight.name})`);
    assert.ok(updateDiff <= 1e-3 * updateScale, `updates differ by ${updateDiff} of ${updateScale}`);
  } finally {
    await trainer.close();
    base.dispose();
    rmSync(exchange, { recursive: true, force: true });
  }
});

