// The latency lookup table: every block variant (kernel × expand × stride × input size × in/out width) timed once at
// batch 1 on the current backend as a stock-layers model — what an exported subnet runs — plus the fixed layers
// (stem, first block, head); a subnet's latency is their sum. Tables are cached per backend + version + device in a
// JSON file, and checked against directly timed subnets (mean relative error).
import { readTimingCache, writeTimingCache } from './timing-cache';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../engine';
import type { ActivationName } from '../engine/ops';
import type { Rng } from '../engine/rng';
import type { Arch } from '../ofa/arch';
import { subnetLayout, type BlockLayout, type SubnetLayout } from '../ofa/layout';
import type { SearchSpace } from '../ofa/space';
import type { BackendInfo } from '../protocol/events';

/** Bump when the timing method changes, so old cache files are not reused. */
const TABLE_VERSION = 2;

/** What the search asks of a latency estimate: the lookup table here, or a fitted model (fitted-latency.ts). */
export interface LatencyModel {
  readonly backend: BackendInfo;
  /** Estimated batch-1 forward latency of the arch's subnet in ms. */
  estimate(arch: Arch): number;
  /** Timings it rests on (table: variants; fitted: whole subnets). */
  readonly entries: number;
}

export interface LatencyTable extends LatencyModel {
  /** Variants timed now (the rest came from the cache). */
  readonly timedNow: number;
  readonly cacheFile?: string;
}

export interface LatencyOptions {
  backend: BackendInfo;
  /** Directory of the cache files; none: time everything, cache nothing. */
  cacheDir?: string;
  /** Time every variant again (the cache file is then rewritten). */
  refresh?: boolean;
  /** Timed runs per variant after warm-up; the lower quartile is kept (default 9). */
  repeats?: number;
  onProgress?: (done: number, total: number) => void;
  /** Stops between variants (throws LatencyStoppedError; what was timed so far is cached). */
  signal?: AbortSignal;
}

export class LatencyStoppedError extends Error {
  override name = 'LatencyStoppedError';
}

type Sym = tf.SymbolicTensor;

/** What distinguishes a block's cost: everything in its layout but its name and position. */
function blockSignature(b: BlockLayout): string {
  return `block:${b.in}>${b.mid}>${b.out}:k${b.kernel}:s${b.stride}:${b.inSize}:${b.activation}:se${b.seMid}:x${b.expand ? 1 : 0}:r${b.residual ? 1 : 0}`;
}

function frontSignature(l: SubnetLayout): string {
  const first = l.blocks.find((b) => b.unit < 0);
  return `front:${l.inputChannels}:${l.resolution}:${l.stem.out}:${l.stem.activation}:${first ? blockSignature(first) : 'none'}`;
}

function headSignature(l: SubnetLayout): string {
  const f = l.finalExpand;
  return `head:${f.in}>${f.out}:${f.size}:${l.featureMix.out}:${l.classifier.out}`;
}

const OVERHEAD = 'overhead:model-call';

// ——— stock-layer models for timing (the same layer kinds ofa/extract.ts builds a subnet from) ———

function apply(layer: tf.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

function act(x: Sym, kind: ActivationName): Sym {
  const hsig = (t: Sym): Sym =>
    apply(tf.layers.rescaling({ scale: 1 / 6 }), apply(tf.layers.activation({ activation: 'relu6' }), apply(tf.layers.rescaling({ scale: 1, offset: 3 }), t)));
  switch (kind) {
    case 'relu':
    case 'relu6':
      return apply(tf.layers.activation({ activation: kind }), x);
    case 'hsigmoid':
      return hsig(x);
    case 'hswish':
      return apply(tf.layers.multiply(), [x, hsig(x)]);
    case 'linear':
      return x;
  }
}

const conv = (x: Sym, filters: number, kernel: number, stride: number): Sym =>
  apply(tf.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding: 'same', useBias: false }), x);
const bn = (x: Sym): Sym => apply(tf.layers.batchNormalization({ axis: -1 }), x);

function blockLayers(x: Sym, b: BlockLayout): Sym {
  let h = x;
  if (b.expand) h = act(bn(conv(h, b.mid, 1, 1)), b.activation);
  h = apply(tf.layers.depthwiseConv2d({ kernelSize: b.kernel, strides: b.stride, padding: 'same', useBias: false }), h);
  h = act(bn(h), b.activation);
  if (b.se) {
    let g = apply(tf.layers.globalAveragePooling2d({}), h);
    g = apply(tf.layers.dense({ units: b.seMid, activation: 'relu' }), g);
    g = act(apply(tf.layers.dense({ units: b.mid }), g), 'hsigmoid');
    g = apply(tf.layers.reshape({ targetShape: [1, 1, b.mid] }), g);
    h = apply(tf.layers.multiply(), [h, g]);
  }
  h = bn(conv(h, b.out, 1, 1));
  return b.residual ? apply(tf.layers.add(), [h, x]) : h;
}

function model(shape: number[], body: (x: Sym) => Sym): tf.LayersModel {
  const input = tf.input({ shape });
  return tf.model({ inputs: input, outputs: body(input) });
}

/** Lower-quartile ms of a batch-1 predict (output read back), after warm-up: other processes only ever add time. */
export function timeModel(m: tf.LayersModel, repeats: number): number {
  // Every input at batch 1 (a stereo subnet takes two views); the first gets the same seeded values as always.
  const xs = m.inputs.map((input, i) => {
    const shape = input.shape.slice(1);
    if (shape.some((d) => d === null)) throw new Error(`timeModel: input ${input.name} has an unknown size [${input.shape.join(', ')}]`);
    return tf.randomUniform([1, ...(shape as number[])], -1, 1, 'float32', 1 + i);
  });
  const run = (): void => {
    const y = m.predict(xs.length === 1 ? xs[0] : xs);
    for (const t of Array.isArray(y) ? y : [y]) {
      t.dataSync();
      t.dispose();
    }
  };
  try {
    run();
    run();
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      run();
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor((times.length - 1) / 4)];
  } finally {
    tf.dispose(xs);
  }
}

function timeAndDispose(m: tf.LayersModel, repeats: number): number {
  try {
    return timeModel(m, repeats);
  } finally {
    m.dispose();
  }
}

/** The models to time for the given layout parts, by signature. */
function variantModels(l: SubnetLayout): Map<string, () => tf.LayersModel> {
  const out = new Map<string, () => tf.LayersModel>();
  out.set(frontSignature(l), () =>
    model([l.resolution, l.resolution, l.inputChannels], (x) => {
      let h = act(bn(conv(x, l.stem.out, l.stem.kernel, l.stem.stride)), l.stem.activation);
      for (const b of l.blocks) if (b.unit < 0) h = blockLayers(h, b);
      return h;
    }),
  );
  const f = l.finalExpand;
  out.set(headSignature(l), () =>
    model([f.size, f.size, f.in], (x) => {
      let h = act(bn(conv(x, f.out, 1, 1)), f.activation);
      h = apply(tf.layers.globalAveragePooling2d({}), h);
      h = act(apply(tf.layers.dense({ units: l.featureMix.out, useBias: false }), h), l.featureMix.activation);
      return apply(tf.layers.dense({ units: l.classifier.out }), h);
    }),
  );
  for (const b of l.blocks) if (b.unit >= 0) out.set(blockSignature(b), () => model([b.inSize, b.inSize, b.in], (x) => blockLayers(x, b)));
  return out;
}

function cachePath(cacheDir: string, backend: BackendInfo): string {
  const hash = createHash('sha256').update(`${TABLE_VERSION}\n${backend.backend}\n${backend.version}\n${backend.device}`).digest('hex').slice(0, 16);
  return join(cacheDir, `latency-${backend.backend.replace(/[^a-z0-9]/gi, '')}-${hash}.json`);
}

/**
 * Builds (or loads from the cache) the latency table of a search space on the current backend. Each variant is timed
 * as its own model; a model call's fixed overhead (timed on a one-layer model) is taken out of every entry and
 * counted once per subnet.
 */
export async function buildLatencyTable(space: SearchSpace, inputChannels: number, classes: number, opts: LatencyOptions): Promise<LatencyTable> {
  const repeats = opts.repeats ?? 9;
  const file = opts.cacheDir ? cachePath(opts.cacheDir, opts.backend) : undefined;
  const entries: Record<string, number> = file && !opts.refresh ? readTimingCache(file, { version: TABLE_VERSION, backend: opts.backend }, (ms) => ms >= 0) : {};

  // Every variant of every (resolution, width): the uniform largest-depth archs cover every block slot.
  const depth = space.depth[space.depth.length - 1];
  const needed = new Map<string, () => tf.LayersModel>();
  const slices = new Map<string, { front: string; head: string; block: string[][][] }>();
  for (const r of space.resolution) {
    for (const w of space.width) {
      const block = Array.from({ length: space.blocks }, () => space.kernel.map(() => space.expand.map(() => '')));
      let front = '';
      let head = '';
      space.kernel.forEach((k, ki) =>
        space.expand.forEach((e, ei) => {
          const arch: Arch = { ks: new Array<number>(space.blocks).fill(k), e: new Array<number>(space.blocks).fill(e), d: new Array<number>(space.units).fill(depth), r, w };
          const l = subnetLayout(space, arch, inputChannels, classes);
          for (const [sig, make] of variantModels(l)) if (!(sig in entries)) needed.set(sig, make);
          front = frontSignature(l);
          head = headSignature(l);
          for (const b of l.blocks) if (b.unit >= 0) block[b.slot][ki][ei] = blockSignature(b);
        }),
      );
      slices.set(`${r}/${w}`, { front, head, block });
    }
  }
  if (!(OVERHEAD in entries)) needed.set(OVERHEAD, () => model([1, 1, 1], (x) => apply(tf.layers.activation({ activation: 'relu' }), x)));

  let done = 0;
  const save = (): void => {
    if (!file || done === 0) return;
    mkdirSync(opts.cacheDir!, { recursive: true });
    writeTimingCache(file, { version: TABLE_VERSION, backend: opts.backend, entries });
  };
  for (const [sig, make] of needed) {
    if (opts.signal?.aborted) {
      save();
      throw new LatencyStoppedError('latency table stopped');
    }
    entries[sig] = timeAndDispose(make(), repeats);
    done++;
    opts.onProgress?.(done, needed.size);
    if (done % 8 === 0) await new Promise((r) => setImmediate(r));
  }
  save();

  const overhead = entries[OVERHEAD];
  const net = (sig: string): number => Math.max(0, entries[sig] - overhead);
  const numeric = new Map<string, { fixed: number; block: number[][][] }>();
  for (const [id, s] of slices) {
    numeric.set(id, { fixed: overhead + net(s.front) + net(s.head), block: s.block.map((slot) => slot.map((ks) => ks.map(net))) });
  }
  return {
    backend: opts.backend,
    timedNow: needed.size,
    entries: Object.keys(entries).length,
    cacheFile: file,
    estimate(arch: Arch): number {
      const s = numeric.get(`${arch.r}/${arch.w}`);
      if (!s) throw new Error(`latency table has no entry for resolution ${arch.r} and width ${arch.w}`);
      let ms = s.fixed;
      for (let u = 0; u < space.units; u++) {
        for (let i = 0; i < arch.d[u]; i++) {
          const slot = u * space.maxDepth + i;
          ms += s.block[slot][space.kernel.indexOf(arch.ks[slot])][space.expand.indexOf(arch.e[slot])];
        }
      }
      return ms;
    },
  };
}

export interface LatencyValidation {
  /** Mean over the subnets of |estimated − measured| / measured. */
  meanRelativeError: number;
  samples: { arch: Arch; estimatedMs: number; measuredMs: number }[];
}

/**
 * Times `count` random subnets directly (as built by `buildModel`, e.g. the supernet's extracted subnet) and compares
 * them with the model's estimates (a table's or a fitted model's).
 */
export async function validateLatencyTable(
  table: LatencyModel,
  space: SearchSpace,
  buildModel: (arch: Arch) => tf.LayersModel,
  count: number,
  rng: Rng,
  repeats = 9,
): Promise<LatencyValidation> {
  const samples: LatencyValidation['samples'] = [];
  for (let i = 0; i < count; i++) {
    const arch = space.sample(rng);
    const measuredMs = timeAndDispose(buildModel(arch), repeats);
    samples.push({ arch, estimatedMs: table.estimate(arch), measuredMs });
    await new Promise((r) => setImmediate(r));
  }
  const meanRelativeError = samples.reduce((s, x) => s + Math.abs(x.estimatedMs - x.measuredMs) / x.measuredMs, 0) / Math.max(1, samples.length);
  return { meanRelativeError, samples };
}
