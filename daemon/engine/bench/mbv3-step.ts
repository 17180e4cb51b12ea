// Throwaway benchmark of the engine (not a test, not the supernet): one SGD step of a stand-in for OFA's
// MobileNetV3 supernet built straight on daemon/engine's ops — max-size weights, elastic slices, kernel-transform
// matmuls, batch norm with batch statistics, SE, h-swish — to measure and profile the kernels until daemon/ofa's
// real supernet lands. Usage:
//   node --import tsx daemon/engine/bench/mbv3-step.ts [--backend wasm] [--repeat 5] [--profile [--shapes]] [--batch 32]
//        [--res 32] [--sgd tfjs|fused]   (tfjs: tf.train.momentum, as the peer's step; fused: the engine's sgdStep)
import { Rng } from '../rng';
import { activation, batchNormTrain, conv2d, depthwiseConv2d, initEngine, sgdStep, tf } from '../index';
import type { ActivationName } from '../ops';

const WIDTHS = [16, 16, 24, 40, 80, 112, 160, 960, 1280];
const UNITS = [
  { width: 24, stride: 2, act: 'relu', se: false },
  { width: 40, stride: 2, act: 'relu', se: true },
  { width: 80, stride: 2, act: 'hswish', se: false },
  { width: 112, stride: 1, act: 'hswish', se: true },
  { width: 160, stride: 2, act: 'hswish', se: true },
] as const;
const KS = [3, 5, 7];
const EXPAND = [3, 4, 6];
const DEPTH = [2, 3, 4];
const MAX_DEPTH = 4;

interface Arch {
  ks: number[];
  e: number[];
  d: number[];
}

const makeDivisible = (v: number, d = 8): number => {
  const r = Math.max(d, Math.floor((v + d / 2) / d) * d);
  return r < 0.9 * v ? r + d : r;
};

class Weights {
  readonly vars: tf.Variable[] = [];
  private rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed);
  }
  make(shape: number[], scale: number | 'ones' | 'zeros' | 'eye'): tf.Variable {
    let v: tf.Tensor;
    if (scale === 'ones') v = tf.ones(shape);
    else if (scale === 'zeros') v = tf.zeros(shape);
    else if (scale === 'eye') v = tf.eye(shape[0]);
    else v = tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => this.rng.normal() * scale), shape);
    const variable = tf.variable(v);
    v.dispose();
    this.vars.push(variable);
    return variable;
  }
}

interface Bn {
  gamma: tf.Variable;
  beta: tf.Variable;
}

interface Block {
  inC: number;
  outC: number;
  maxMid: number;
  stride: number;
  act: ActivationName;
  se?: { reduceW: tf.Variable; reduceB: tf.Variable; expandW: tf.Variable; expandB: tf.Variable };
  expand: tf.Variable;
  expandBn: Bn;
  dw: tf.Variable;
  t75: tf.Variable;
  t53: tf.Variable;
  dwBn: Bn;
  project: tf.Variable;
  projectBn: Bn;
}

function buildNet(seed: number, classes: number) {
  const w = new Weights(seed);
  const bn = (c: number): Bn => ({ gamma: w.make([c], 'ones'), beta: w.make([c], 'zeros') });
  const he = (fanIn: number) => Math.sqrt(2 / fanIn);
  const stem = { w: w.make([3, 3, 3, WIDTHS[0]], he(27)), bn: bn(WIDTHS[0]) };
  const first = { dw: w.make([3, 3, WIDTHS[0], 1], he(9)), dwBn: bn(WIDTHS[0]), project: w.make([1, 1, WIDTHS[0], WIDTHS[1]], he(WIDTHS[0])), projectBn: bn(WIDTHS[1]) };
  const blocks: Block[][] = [];
  let inC = WIDTHS[1];
  for (const unit of UNITS) {
    const list: Block[] = [];
    for (let i = 0; i < MAX_DEPTH; i++) {
      const maxMid = makeDivisible(inC * Math.max(...EXPAND));
      const seMid = makeDivisible(maxMid / 4);
      list.push({
        inC,
        outC: unit.width,
        maxMid,
        stride: i === 0 ? unit.stride : 1,
        act: unit.act,
        expand: w.make([1, 1, inC, maxMid], he(inC)),
        expandBn: bn(maxMid),
        dw: w.make([7, 7, maxMid, 1], he(49)),
        t75: w.make([25, 25], 'eye'),
        t53: w.make([9, 9], 'eye'),
        dwBn: bn(maxMid),
        se: unit.se ? { reduceW: w.make([1, 1, maxMid, seMid], he(maxMid)), reduceB: w.make([seMid], 'zeros'), expandW: w.make([1, 1, seMid, maxMid], he(seMid)), expandB: w.make([maxMid], 'zeros') } : undefined,
        project: w.make([1, 1, maxMid, unit.width], he(maxMid)),
        projectBn: bn(unit.width),
      });
      inC = unit.width;
    }
    blocks.push(list);
  }
  const finalExpand = { w: w.make([1, 1, inC, WIDTHS[7]], he(inC)), bn: bn(WIDTHS[7]) };
  const featureMix = w.make([1, 1, WIDTHS[7], WIDTHS[8]], he(WIDTHS[7]));
  const classifier = { w: w.make([WIDTHS[8], classes], he(WIDTHS[8])), b: w.make([classes], 'zeros') };
  return { vars: w.vars, stem, first, blocks, finalExpand, featureMix, classifier };
}

type Net = ReturnType<typeof buildNet>;

const slice1 = (v: tf.Tensor, n: number): tf.Tensor1D => (v.shape[0] === n ? v : tf.slice(v, [0], [n])) as tf.Tensor1D;
const bnAct = (x: tf.Tensor4D, b: Bn, c: number, act: ActivationName) => batchNormTrain(x, slice1(b.gamma, c), slice1(b.beta, c), 1e-5, act);
const pointwise = (v: tf.Variable, inC: number, outC: number): tf.Tensor4D =>
  (v.shape[2] === inC && v.shape[3] === outC ? v : tf.slice(v, [0, 0, 0, 0], [1, 1, inC, outC])) as tf.Tensor4D;

function depthwiseFilter(b: Block, mid: number, ks: number): tf.Tensor4D {
  let f = (mid === b.maxMid ? b.dw : tf.slice(b.dw, [0, 0, 0, 0], [7, 7, mid, 1])) as tf.Tensor4D;
  if (ks <= 5) f = tf.reshape(tf.matMul(b.t75, tf.reshape(tf.slice(f, [1, 1, 0, 0], [5, 5, mid, 1]), [25, mid])), [5, 5, mid, 1]);
  if (ks <= 3) f = tf.reshape(tf.matMul(b.t53, tf.reshape(tf.slice(f, [1, 1, 0, 0], [3, 3, mid, 1]), [9, mid])), [3, 3, mid, 1]);
  return f;
}

function forward(net: Net, x: tf.Tensor4D, arch: Arch): tf.Tensor2D {
  let h: tf.Tensor4D = bnAct(conv2d(x, net.stem.w as tf.Tensor4D, 2), net.stem.bn, WIDTHS[0], 'hswish');
  {
    const y = bnAct(depthwiseConv2d(h, net.first.dw as tf.Tensor4D, 1), net.first.dwBn, WIDTHS[0], 'relu');
    h = tf.add(h, bnAct(conv2d(y, net.first.project as tf.Tensor4D, 1), net.first.projectBn, WIDTHS[1], 'linear'));
  }
  net.blocks.forEach((unit, u) => {
    for (let i = 0; i < arch.d[u]; i++) {
      const b = unit[i];
      const slot = u * MAX_DEPTH + i;
      const mid = makeDivisible(b.inC * arch.e[slot]);
      let y = bnAct(conv2d(h, pointwise(b.expand, b.inC, mid), 1), b.expandBn, mid, b.act);
      y = bnAct(depthwiseConv2d(y, depthwiseFilter(b, mid, arch.ks[slot]), b.stride), b.dwBn, mid, b.act);
      if (b.se) {
        const seMid = makeDivisible(mid / 4);
        let s = tf.mean(y, [1, 2], true) as tf.Tensor4D;
        s = tf.relu(tf.add(conv2d(s, pointwise(b.se.reduceW, mid, seMid), 1), slice1(b.se.reduceB, seMid))) as tf.Tensor4D;
        s = activation(tf.add(conv2d(s, pointwise(b.se.expandW, seMid, mid), 1), slice1(b.se.expandB, mid)), 'hsigmoid') as tf.Tensor4D;
        y = tf.mul(y, s);
      }
      y = bnAct(conv2d(y, pointwise(b.project, mid, b.outC), 1), b.projectBn, b.outC, 'linear');
      h = b.stride === 1 && b.inC === b.outC ? tf.add(h, y) : y;
    }
  });
  h = bnAct(conv2d(h, net.finalExpand.w as tf.Tensor4D, 1), net.finalExpand.bn, WIDTHS[7], 'hswish');
  h = tf.mean(h, [1, 2], true) as tf.Tensor4D;
  h = activation(conv2d(h, net.featureMix as tf.Tensor4D, 1), 'hswish');
  const flat = tf.reshape(h, [h.shape[0], WIDTHS[8]]) as tf.Tensor2D;
  return tf.add(tf.matMul(flat, net.classifier.w), net.classifier.b);
}

function largest(): Arch {
  return { ks: Array(20).fill(7), e: Array(20).fill(6), d: Array(5).fill(4) };
}

function sample(rng: Rng): Arch {
  return { ks: Array.from({ length: 20 }, () => rng.pick(KS)), e: Array.from({ length: 20 }, () => rng.pick(EXPAND)), d: Array.from({ length: 5 }, () => rng.pick(DEPTH)) };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm') as 'wasm' | 'cpu';
  const repeat = Number(arg('repeat', '5'));
  const batch = Number(arg('batch', '32'));
  const res = Number(arg('res', '32'));
  const info = await initEngine({ backend });
  const net = buildNet(1, 10);
  const rng = new Rng(7);
  const x = tf.randomNormal([batch, res, res, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32'), 10);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const velocities = new Map<tf.Variable, tf.Tensor>();
  const lossOf = (arch: Arch) => () => tf.losses.softmaxCrossEntropy(labels, forward(net, x, arch)) as tf.Scalar;
  const fusedSgd = arg('sgd', 'tfjs') === 'fused';
  const step = (arch: Arch) => {
    if (!fusedSgd) {
      const loss = optimizer.minimize(lossOf(arch), true, net.vars);
      const v = loss!.dataSync()[0];
      loss!.dispose();
      return v;
    }
    const { value, grads } = tf.variableGrads(lossOf(arch), net.vars);
    for (const variable of net.vars) {
      const g = grads[variable.name];
      if (!g) continue;
      const next = sgdStep(variable, g, velocities.get(variable), { learningRate: 0.01, momentum: 0.9, nesterov: false, weightDecay: 0 });
      velocities.get(variable)?.dispose();
      velocities.set(variable, next.velocity);
      variable.assign(next.value);
      next.value.dispose();
    }
    tf.dispose(grads);
    const v = value.dataSync()[0];
    value.dispose();
    return v;
  };
  const time = (archs: () => Arch) => {
    for (let i = 0; i < 2; i++) step(archs());
    const ms: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const a = archs();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      step(a);
      ms.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
    return { median: median(ms), min: Math.min(...ms), cpu: median(cpu) };
  };
  console.error(`${info.backend} ${info.device}`);
  const big = time(largest);
  // CPU time of this process per step is the steadier figure on a shared machine (waiting for a core is not in it).
  console.log(`largest  B=${batch} R=${res}: ${big.median.toFixed(0)} ms/step (min ${big.min.toFixed(0)}, cpu ${big.cpu.toFixed(0)}), ${((batch * 1000) / big.median).toFixed(1)} img/s`);
  const sampled = time(() => sample(rng));
  console.log(`sampled  B=${batch} R=${res}: ${sampled.median.toFixed(0)} ms/step (min ${sampled.min.toFixed(0)}, cpu ${sampled.cpu.toFixed(0)}), ${((batch * 1000) / sampled.median).toFixed(1)} img/s`);
  console.log(`tensors alive: ${tf.memory().numTensors}`);
  if (process.argv.includes('--profile')) {
    // The machine is shared and noisy: profile several identical steps and keep each kernel call's fastest time.
    const runs: { name: string; shapes: string; ms: number }[][] = [];
    for (let r = 0; r < 5; r++) {
      const profile = await tf.profile(() => {
        step(largest());
      });
      runs.push(profile.kernels.map((k) => ({ name: k.name, shapes: k.inputShapes.map((s) => `[${s}]`).join(' '), ms: typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0 })));
    }
    const calls = runs[0].map((k, i) => ({ ...k, ms: Math.min(...runs.map((run) => run[i]?.ms ?? Infinity)) }));
    const group = (key: (k: (typeof calls)[number]) => string) => {
      const m = new Map<string, { ms: number; calls: number }>();
      for (const k of calls) {
        const e = m.get(key(k)) ?? { ms: 0, calls: 0 };
        e.ms += k.ms;
        e.calls++;
        m.set(key(k), e);
      }
      return [...m.entries()].sort((a, b) => b[1].ms - a[1].ms);
    };
    const rows = group((k) => k.name);
    const total = rows.reduce((a, [, e]) => a + e.ms, 0);
    console.log(`profile of one largest step (fastest of 5 per call): ${calls.length} kernels, ${total.toFixed(1)} ms in kernels`);
    for (const [name, e] of rows) console.log(`  ${name.padEnd(40)} ${e.ms.toFixed(2).padStart(8)} ms  ${String(e.calls).padStart(5)} calls`);
    if (process.argv.includes('--shapes')) {
      for (const [key, e] of group((k) => `${k.name} ${k.shapes}`).slice(0, 70)) console.log(`  ${e.ms.toFixed(2).padStart(8)} ms ${String(e.calls).padStart(4)}x  ${key}`);
    }
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
