// The accuracy predictor: an MLP on the one-hot architecture encoding (OFA's AccuracyPredictor: n hidden layers of
// relu units, a final linear unit without bias, plus a base accuracy), trained in tfjs (seeded init, Adam, MSE) on
// measured (arch → accuracy) pairs, judged on held-out pairs by RMSE and Kendall's tau. Search then scores with the
// extracted weights (scorer.ts), not with tfjs.
import type { ResolvedSearchConfig } from '../../schemas/config.generated';
import { tf } from '../engine';
import { Rng } from '../engine/rng';
import type { Arch } from '../ofa/arch';
import type { PredictorStats } from '../protocol/values';
import type { AccuracyPredictor } from './evolution';
import type { ArchGenome, Genome } from './genome';
import { toSparseRows, type MlpWeights, type Scorer } from './scorer';
import { kendallTau, kendallTauInterval, rmse } from './stats';

export interface PredictorSample {
  features: Float32Array;
  accuracy: number;
}

/** The config's `search.predictor` (layers, hidden units, epochs, learning rate, held-out fraction, tau floor). */
type PredictorConfig = ResolvedSearchConfig['predictor'];

export interface PredictorOptions extends PredictorConfig {
  seed: number;
  /** Minibatch size (default 32). */
  batchSize?: number;
  /** Refit on every sample after judging on the held-out part (default true). */
  refit?: boolean;
}

/** How well the predictor ranks held-out subnets: a protocol value (the `predictor` event, results.json). */
export type { PredictorStats };

export interface TrainedPredictor {
  /** The search's predictor: refitted on every sample unless `refit` is false. */
  weights: MlpWeights;
  stats: PredictorStats;
  /** The held-out pairs (for the report's predicted-vs-measured plot). */
  heldOut: { predicted: number[]; measured: number[] };
}

/** Glorot-uniform weights, zero biases, from a seeded Rng (backend-independent, unlike tfjs's initializers). */
export function initialMlpWeights(inputSize: number, layers: number, hiddenUnits: number, rng: Rng): MlpWeights {
  const uniform = (n: number, limit: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * limit;
    return a;
  };
  const hidden: MlpWeights['hidden'] = [];
  let inSize = inputSize;
  for (let l = 0; l < layers; l++) {
    hidden.push({
      weight: uniform(inSize * hiddenUnits, Math.sqrt(6 / (inSize + hiddenUnits))),
      bias: new Float32Array(hiddenUnits),
      inSize,
      outSize: hiddenUnits,
    });
    inSize = hiddenUnits;
  }
  return { inputSize, hidden, output: uniform(hiddenUnits, Math.sqrt(6 / (hiddenUnits + 1))), base: 0 };
}

/**
 * Weights as the peer benchmark uses them (PyTorch's default nn.Linear init: uniform ±1/√fan_in for weights and
 * biases): a predictor with random weights, for speed measurements only.
 */
export function randomMlpWeights(inputSize: number, layers: number, hiddenUnits: number, rng: Rng): MlpWeights {
  const uniform = (n: number, limit: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * limit;
    return a;
  };
  const hidden: MlpWeights['hidden'] = [];
  let inSize = inputSize;
  for (let l = 0; l < layers; l++) {
    const limit = 1 / Math.sqrt(inSize);
    hidden.push({ weight: uniform(inSize * hiddenUnits, limit), bias: uniform(hiddenUnits, limit), inSize, outSize: hiddenUnits });
    inSize = hiddenUnits;
  }
  return { inputSize, hidden, output: uniform(hiddenUnits, 1 / Math.sqrt(hiddenUnits)), base: 0 };
}

/** The MLP's forward in tfjs ops: what training optimizes, and the reference the fast scorer is tested against. */
function forward(vars: TfMlp, x: tf.Tensor2D): tf.Tensor1D {
  let h: tf.Tensor2D = x;
  for (const layer of vars.hidden) h = tf.relu(tf.add(tf.matMul(h, layer.weight), layer.bias)) as tf.Tensor2D;
  return tf.add(tf.reshape(tf.matMul(h, vars.output), [-1]), vars.base) as tf.Tensor1D;
}

interface TfMlp {
  hidden: { weight: tf.Variable; bias: tf.Variable }[];
  output: tf.Variable;
  base: tf.Scalar;
}

function toTf(weights: MlpWeights, trainable: boolean): TfMlp {
  return {
    hidden: weights.hidden.map((l) => ({
      weight: tf.variable(tf.tensor2d(l.weight, [l.inSize, l.outSize]), trainable),
      bias: tf.variable(tf.tensor1d(l.bias), trainable),
    })),
    output: tf.variable(tf.tensor2d(weights.output, [weights.output.length, 1]), trainable),
    base: tf.scalar(weights.base),
  };
}

function disposeTf(m: TfMlp): void {
  for (const l of m.hidden) {
    l.weight.dispose();
    l.bias.dispose();
  }
  m.output.dispose();
  m.base.dispose();
}

async function fromTf(m: TfMlp, inputSize: number, base: number, outputScale: number): Promise<MlpWeights> {
  const hidden: MlpWeights['hidden'] = [];
  for (const l of m.hidden) {
    const [inSize, outSize] = l.weight.shape;
    hidden.push({ weight: (await l.weight.data()) as Float32Array, bias: (await l.bias.data()) as Float32Array, inSize, outSize });
  }
  const output = (await m.output.data()) as Float32Array;
  // Targets were standardized for training; folding the scale into the output unit gives accuracies directly.
  for (let i = 0; i < output.length; i++) output[i] *= outputScale;
  return { inputSize, hidden, output, base };
}

function stack(features: readonly Float32Array[], inputSize: number): tf.Tensor2D {
  const flat = new Float32Array(features.length * inputSize);
  features.forEach((f, i) => flat.set(f, i * inputSize));
  return tf.tensor2d(flat, [features.length, inputSize]);
}

/** Kendall's tau with its 95 % interval and the held-out count, as a progress line, a log line and a warning say it. */
export function describeTau(stats: PredictorStats): string {
  if (Number.isNaN(stats.kendallTau)) return `Kendall's tau undefined on ${stats.heldOutSize} held-out subnets`;
  const ci = stats.kendallTauCI;
  const interval = ci && !Number.isNaN(ci.low) ? ` (${Math.round(ci.level * 100)}% CI ${ci.low.toFixed(2)}–${ci.high.toFixed(2)})` : '';
  return `Kendall's tau ${stats.kendallTau.toFixed(3)}${interval} on ${stats.heldOutSize} held-out subnets`;
}

/** Predictions of an MLP for dense feature vectors, computed with tfjs (the reference for the fast scorer). */
export function tfjsPredict(weights: MlpWeights, features: readonly Float32Array[]): Float32Array {
  const m = toTf(weights, false);
  try {
    return tf.tidy(() => forward(m, stack(features, weights.inputSize)).dataSync() as Float32Array);
  } finally {
    disposeTf(m);
  }
}

/** Fits an MLP to `samples` (standardized targets, minibatch Adam on MSE); the returned weights predict accuracies. */
async function fit(samples: readonly PredictorSample[], opts: PredictorOptions, rng: Rng): Promise<MlpWeights> {
  const inputSize = samples[0].features.length;
  const ys = samples.map((s) => s.accuracy);
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const std = Math.sqrt(ys.reduce((a, b) => a + (b - mean) ** 2, 0) / ys.length);
  const scale = std > 1e-8 ? std : 1;

  const model = toTf(initialMlpWeights(inputSize, opts.layers, opts.hiddenUnits, rng), true);
  const optimizer = tf.train.adam(opts.learningRate);
  const batchSize = Math.min(opts.batchSize ?? 32, samples.length);
  const xAll = stack(samples.map((s) => s.features), inputSize);
  const yAll = tf.tensor1d(ys.map((y) => (y - mean) / scale));
  const zeroBase = tf.scalar(0);
  const trainable = { ...model, base: zeroBase };
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const perm = rng.shuffle(samples.map((_, i) => i));
      for (let start = 0; start < perm.length; start += batchSize) {
        const rows = tf.tensor1d(perm.slice(start, start + batchSize), 'int32');
        tf.tidy(() => {
          const xb = tf.gather(xAll, rows) as tf.Tensor2D;
          const yb = tf.gather(yAll, rows);
          optimizer.minimize(() => tf.losses.meanSquaredError(yb, forward(trainable, xb)) as tf.Scalar);
        });
        rows.dispose();
      }
      // Let the event loop breathe between epochs (progress, cancellation) without slowing the math.
      if (epoch % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    return await fromTf(model, inputSize, mean, scale);
  } finally {
    xAll.dispose();
    yAll.dispose();
    zeroBase.dispose();
    optimizer.dispose();
    disposeTf(model);
  }
}

/**
 * Trains the predictor on measured samples. A seeded part is held out to judge it (RMSE, Kendall's tau) — the
 * model trained without it is what the statistics describe; the predictor returned for the search is then refitted
 * on every sample (the usual hold-out estimate, final fit on all data: with a few hundred noisy measurements, the
 * held-out quarter is too valuable to leave out of the search).
 */
export async function trainPredictor(samples: readonly PredictorSample[], opts: PredictorOptions): Promise<TrainedPredictor> {
  if (samples.length < 4) throw new Error(`the predictor needs at least 4 measured subnets, got ${samples.length}`);
  const rng = Rng.derive(opts.seed, 0x9e3d); // the predictor's own stream
  const order = rng.shuffle(samples.map((_, i) => i));
  const heldOutSize = Math.min(samples.length - 2, Math.max(2, Math.round(samples.length * opts.heldOut)));
  const held = order.slice(0, heldOutSize).map((i) => samples[i]);
  const train = order.slice(heldOutSize).map((i) => samples[i]);

  const judged = await fit(train, opts, Rng.derive(opts.seed, 0x9e3d, 1));
  const predicted = Array.from(tfjsPredict(judged, held.map((s) => s.features)));
  const measured = held.map((s) => s.accuracy);
  const tau = kendallTau(predicted, measured);
  const ci = kendallTauInterval(predicted, measured, Rng.derive(opts.seed, 0x9e3d, 3));
  const stats: PredictorStats = { rmse: rmse(predicted, measured), kendallTau: tau, kendallTauCI: ci, trainSize: train.length, heldOutSize };
  if (!(tau >= opts.tauFloor)) {
    stats.warning =
      `the accuracy predictor ranks held-out subnets poorly (${describeTau(stats)} < ` +
      `search.predictor.tauFloor ${opts.tauFloor}): the front is less reliable; measure more subnets (search.measuredSubnets) or train longer`;
  }
  const weights = opts.refit === false ? judged : await fit(samples, opts, Rng.derive(opts.seed, 0x9e3d, 2));
  return { weights, stats, heldOut: { predicted, measured } };
}

/** A predictor of Archs: encodes each (one-hot) and scores the batch with the fast scorer. */
export function archPredictor(space: { encode(arch: Arch): Float32Array }, scorer: Scorer): AccuracyPredictor<Arch> {
  return { predict: (archs) => scorer.score(toSparseRows(archs.map((a) => space.encode(a)))) };
}

/** The evolution's predictor of genomes: their one-hot's set entries go straight into the scorer's sparse rows. */
export function genomePredictor(genome: ArchGenome, scorer: Scorer): AccuracyPredictor<Genome> {
  const indices: number[] = [];
  return {
    predict(items) {
      indices.length = 0;
      const offsets = new Int32Array(items.length + 1);
      items.forEach((g, s) => {
        genome.features(g, indices);
        offsets[s + 1] = indices.length;
      });
      return scorer.score({ count: items.length, offsets, indices: Int32Array.from(indices), values: new Float32Array(indices.length).fill(1) });
    },
  };
}
