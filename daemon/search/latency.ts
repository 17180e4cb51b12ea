// What a subnet's latency is modelled from. A network this small runs in a few milliseconds on tfjs (a tenth of one
// on ONNX Runtime), and most of that is a fixed cost per layer call rather than arithmetic: timing blocks one by one
// and adding them up (the lookup table this replaced) counted each block's model-call and warm-up costs and was off
// by 34–79 %. So a subnet is described by features of its stock-layers model — layer calls, convolution, dense and
// depthwise MACs, elementwise volume — and latency ≈ a weighted sum of them fitted per runtime to whole subnets timed
// directly (fitted-latency.ts). For daemon/ofa's unit stack the features are tabulated per block from the very layers
// extraction builds (ofa/extract.ts), so padding and activations are whatever the exported subnet has; other supernets
// give their MACs and active blocks.
import { tf } from '../engine';
import type { Arch } from '../ofa/arch';
import { mbconvLayers } from '../ofa/extract';
import { subnetLayout, type BlockLayout, type SubnetLayout } from '../ofa/layout';
import type { SearchSpace } from '../ofa/space';
import type { BackendInfo } from '../protocol/events';
import { timeModels, type SubnetTiming, type TimingOptions, type TimingRuntime } from './latency-runtime';

/** What the search asks of a latency estimate. */
export interface LatencyModel {
  /** The runtime the latencies are of (its name, version and device: CPU, threads, batch). */
  readonly backend: BackendInfo;
  /** Estimated forward latency of the arch's subnet in ms (at the runtime's batch size). */
  estimate(arch: Arch): number;
  /** Timed subnets it rests on. */
  readonly entries: number;
}

/** The features of a stock-layers model, per image; a subnet's are the sum of its layers'. */
export const LAYER_FEATURES = ['layers', 'convMacs', 'denseMacs', 'depthwiseMacs', 'elementwise'] as const;
/** Features of a supernet without a unit stack (their counts only). */
export const COUNTED_FEATURES = ['macs', 'blocks'] as const;

/** Scale of each feature in a fit (millions of MACs/elements), so coefficients are of similar size. */
const FEATURE_SCALE: Record<string, number> = { convMacs: 1e6, denseMacs: 1e6, depthwiseMacs: 1e6, elementwise: 1e6, macs: 1e6 };

export function scaledFeatures(names: readonly string[], values: readonly number[]): number[] {
  return values.map((v, i) => v / (FEATURE_SCALE[names[i]] ?? 1));
}

const elements = (shape: readonly (number | null)[]): number => shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);

function firstInputShape(layer: tf.layers.Layer): readonly (number | null)[] {
  const input = layer.input;
  return (Array.isArray(input) ? input[0] : input).shape;
}

/** LAYER_FEATURES of a stock-layers model (batch-1 counts). */
export function modelFeatures(model: tf.LayersModel): number[] {
  const f = [0, 0, 0, 0, 0];
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind === 'InputLayer') continue;
    f[0]++;
    const out = elements(layer.outputShape as (number | null)[]);
    const inShape = firstInputShape(layer);
    const kernel = (layer.getConfig().kernelSize as number[] | number | undefined) ?? 1;
    const k2 = Array.isArray(kernel) ? kernel[0] * kernel[1] : kernel * kernel;
    if (kind === 'Conv2D') f[1] += out * k2 * (inShape[inShape.length - 1] ?? 0);
    else if (kind === 'Dense') f[2] += out * (inShape[inShape.length - 1] ?? 0);
    else if (kind === 'DepthwiseConv2D') f[3] += out * k2;
    else f[4] += Math.max(out, elements(inShape));
  }
  return f;
}

/** How a fitted model describes a supernet's subnets and builds them for timing. */
export interface LatencySubject {
  readonly space: SearchSpace;
  readonly featureNames: readonly string[];
  /** The subnet's features (unscaled), in featureNames' order. */
  features(arch: Arch): number[];
  /** A fast estimator for fitted weights: ms = intercept + Σ weight·scaled feature. */
  linear(intercept: number, weights: readonly number[]): (arch: Arch) => number;
  /** A standalone model of the subnet (the supernet's `extractSubnet`); the caller disposes it. */
  build(arch: Arch): tf.LayersModel;
  /** What fixes the subnets' shapes besides the arch (supernet config, input): the cache is per this key. */
  readonly cacheKey: string;
}

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);

/** A supernet costed by its own counts: features MACs and active blocks. */
export function countedSubject(space: SearchSpace, build: (arch: Arch) => tf.LayersModel, macs: (arch: Arch) => number, cacheKey: string): LatencySubject {
  const features = (arch: Arch): number[] => [macs(arch), arch.d.reduce((s, d) => s + d, 0)];
  return {
    space,
    featureNames: COUNTED_FEATURES,
    features,
    linear: (intercept, weights) => (arch) => intercept + dot(weights, scaledFeatures(COUNTED_FEATURES, features(arch))),
    build,
    cacheKey,
  };
}

/** LAYER_FEATURES of one MBConv block as extraction builds it (a weightless symbolic model, freed after). */
function blockFeatures(b: BlockLayout): number[] {
  const input = tf.input({ shape: [b.inSize, b.inSize, b.in] });
  const model = tf.model({ inputs: input, outputs: mbconvLayers(input, b) });
  try {
    return modelFeatures(model);
  } finally {
    model.dispose();
  }
}

interface FeatureSlice {
  /** Features outside the searchable blocks: stem, first block, head. */
  fixed: number[];
  /** [slot][kernelIndex][expandIndex]: the block's features */
  block: number[][][][];
}

/**
 * daemon/ofa's unit stack: features tabulated per (resolution, width) — the fixed part, and per block slot × kernel ×
 * expand the block's own — so that the evolution's tens of thousands of candidates cost a lookup each. A subnet's
 * features are exactly the sum (tested against its extracted model).
 */
export function unitStackSubject(space: SearchSpace, inputChannels: number, classes: number, build: (arch: Arch) => tf.LayersModel, cacheKey: string): LatencySubject {
  const slices = new Map<string, FeatureSlice>();
  const depth = space.depth[space.depth.length - 1];
  const uniform = (k: number, e: number, r: number, w: number): Arch => ({
    ks: new Array<number>(space.blocks).fill(k),
    e: new Array<number>(space.blocks).fill(e),
    d: new Array<number>(space.units).fill(depth),
    r,
    w,
  });
  const searchable = (l: SubnetLayout): BlockLayout[] => l.blocks.filter((b) => b.unit >= 0);
  const slice = (r: number, w: number): FeatureSlice => {
    const id = `${r}/${w}`;
    const known = slices.get(id);
    if (known) return known;
    const block = Array.from({ length: space.blocks }, () => space.kernel.map(() => space.expand.map(() => [] as number[])));
    space.kernel.forEach((k, ki) =>
      space.expand.forEach((e, ei) => {
        for (const b of searchable(subnetLayout(space, uniform(k, e, r, w), inputChannels, classes))) block[b.slot][ki][ei] = blockFeatures(b);
      }),
    );
    // The fixed part: a whole extracted subnet less its searchable blocks.
    const base = uniform(space.kernel[0], space.expand[0], r, w);
    const model = build(base);
    let fixed: number[];
    try {
      fixed = modelFeatures(model);
    } finally {
      model.dispose();
    }
    for (let slot = 0; slot < space.blocks; slot++) fixed = fixed.map((v, j) => v - block[slot][0][0][j]);
    const made = { fixed, block };
    slices.set(id, made);
    return made;
  };
  const features = (arch: Arch): number[] => {
    const s = slice(arch.r, arch.w);
    const f = [...s.fixed];
    for (let u = 0; u < space.units; u++) {
      for (let i = 0; i < arch.d[u]; i++) {
        const slot = u * space.maxDepth + i;
        const b = s.block[slot][space.kernel.indexOf(arch.ks[slot])][space.expand.indexOf(arch.e[slot])];
        for (let j = 0; j < f.length; j++) f[j] += b[j];
      }
    }
    return f;
  };
  return {
    space,
    featureNames: LAYER_FEATURES,
    features,
    linear(intercept, weights) {
      // Per slice, every block's cost precomputed: an estimate is then a sum of table entries.
      const costs = new Map<string, { fixed: number; block: number[][][] }>(); // [slot][kernelIndex][expandIndex]: ms
      const cost = (f: readonly number[]): number => dot(weights, scaledFeatures(LAYER_FEATURES, f));
      return (arch) => {
        const id = `${arch.r}/${arch.w}`;
        let c = costs.get(id);
        if (!c) {
          const s = slice(arch.r, arch.w);
          c = { fixed: intercept + cost(s.fixed), block: s.block.map((slot) => slot.map((ks) => ks.map(cost))) };
          costs.set(id, c);
        }
        let ms = c.fixed;
        for (let u = 0; u < space.units; u++) {
          for (let i = 0; i < arch.d[u]; i++) {
            const slot = u * space.maxDepth + i;
            ms += c.block[slot][space.kernel.indexOf(arch.ks[slot])][space.expand.indexOf(arch.e[slot])];
          }
        }
        return ms;
      };
    },
    build,
    cacheKey,
  };
}

/** Builds each arch's model and times them together on the runtime; the models are freed after. */
export async function timeArchs(runtime: TimingRuntime, build: (arch: Arch) => tf.LayersModel, archs: readonly Arch[], opts: TimingOptions = {}): Promise<SubnetTiming[]> {
  const models: tf.LayersModel[] = [];
  try {
    for (const arch of archs) models.push(build(arch));
    return await timeModels(runtime, models, opts);
  } finally {
    for (const m of models) m.dispose();
  }
}

export interface LatencyValidation {
  /** Mean over the subnets of |estimated − measured| / measured. */
  meanRelativeError: number;
  /** Median and 90th percentile of the same, in %. */
  medianAbsErrPct: number;
  p90AbsErrPct: number;
  samples: { arch: Arch; estimatedMs: number; measuredMs: number; medianMs: number }[];
}

/** The error summary of estimated against measured latencies (exported for the bench and tests). */
export function latencyErrors(samples: readonly { estimatedMs: number; measuredMs: number }[]): Omit<LatencyValidation, 'samples'> {
  const rel = samples.map((s) => Math.abs(s.estimatedMs - s.measuredMs) / s.measuredMs).sort((a, b) => a - b);
  const at = (q: number): number => (rel.length ? rel[Math.min(rel.length - 1, Math.ceil(q * rel.length) - 1)] : NaN);
  return {
    meanRelativeError: rel.reduce((a, b) => a + b, 0) / Math.max(1, rel.length),
    medianAbsErrPct: rel.length ? 100 * (rel.length % 2 ? rel[rel.length >> 1] : (rel[rel.length / 2 - 1] + rel[rel.length / 2]) / 2) : NaN,
    p90AbsErrPct: 100 * at(0.9),
  };
}

/**
 * Times the given subnets directly on the runtime (as built by `build`, e.g. the supernet's extracted subnet) and
 * compares them with the model's estimates.
 */
export async function validateLatencyModel(
  model: LatencyModel,
  runtime: TimingRuntime,
  build: (arch: Arch) => tf.LayersModel,
  archs: readonly Arch[],
  opts: TimingOptions = {},
): Promise<LatencyValidation> {
  const timed = await timeArchs(runtime, build, archs, opts);
  const samples = archs.map((arch, i) => ({ arch, estimatedMs: model.estimate(arch), measuredMs: timed[i].ms, medianMs: timed[i].medianMs }));
  return { ...latencyErrors(samples), samples };
}
