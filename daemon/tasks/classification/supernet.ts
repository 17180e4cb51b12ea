// The Once-for-All classification supernet (OFA's OFAMobileNetV3, configurable): stem, fixed first block, five
// units of elastic MBConv blocks, final expand, global pool, feature mix, dropout, classifier. One set of weights at
// the largest size; an Arch picks the subnet that runs, trains, is recalibrated, costed or extracted.
import { activation, tf } from '../../engine';
import type { Arch } from '../../ofa/arch';
import { layoutCosts } from '../../ofa/costs';
import { Dense, ElasticBatchNorm, ElasticConv2d, ElasticMBConv, freeScope, VariableStore, type BnMode, type BnStatisticsSink, type NamedVariable } from '../../ofa/elastic';
import { WeightsError } from '../../ofa/errors';
import { buildSubnetModel, layerNames, type SubnetWeights } from '../../ofa/extract';
import { subnetLayout, supernetLayout, type SubnetLayout, type SupernetLayout } from '../../ofa/layout';
import { SearchSpace, type SupernetConfig } from '../../ofa/space';
import type { ForwardOptions, Supernet } from '../../ofa/task';
import type { ChoiceLists } from '../../protocol/values';

export interface ClassificationSupernetOptions {
  classes: number;
  /** Channels of the input images (1 for grey, 3 for colour). */
  inputChannels: number;
  /** Seed of the weight initialisation. */
  seed: number;
  /** Prefix of the tfjs variable names; default 'supernet', or the first free 'supernet_<n>' in this process. */
  scope?: string;
}

/** The supernet as plain JSON, for the visualizer: its choice lists and every layer at its largest. */
export interface SupernetDescription {
  task: 'classification';
  choices: ChoiceLists;
  units: number;
  maxDepth: number;
  layout: SupernetLayout;
  params: number;
}

export class ClassificationSupernet implements Supernet {
  readonly space: SearchSpace;
  readonly layout: SupernetLayout;
  readonly classes: number;
  readonly inputChannels: number;
  readonly variables: readonly tf.Variable[];
  readonly decayVariables: readonly tf.Variable[];
  private readonly store: VariableStore;
  private readonly stemConv: ElasticConv2d;
  private readonly stemBn: ElasticBatchNorm;
  /** The first block, then one per block slot (index slot + 1). */
  private readonly blocks: ElasticMBConv[];
  private readonly finalExpandConv: ElasticConv2d;
  private readonly finalExpandBn: ElasticBatchNorm;
  private readonly featureMix: Dense;
  private readonly classifier: Dense;

  constructor(config: SupernetConfig, opts: ClassificationSupernetOptions) {
    this.space = new SearchSpace(config);
    this.classes = opts.classes;
    this.inputChannels = opts.inputChannels;
    this.layout = supernetLayout(this.space, opts.inputChannels, opts.classes);
    this.store = new VariableStore(freeScope(opts.scope ?? 'supernet'), opts.seed);
    const l = this.layout;
    this.stemConv = new ElasticConv2d(this.store, 'stem/conv', l.stem.kernel, l.stem.in, l.stem.out, l.stem.stride);
    this.stemBn = new ElasticBatchNorm(this.store, 'stem/bn', l.stem.out);
    this.blocks = l.blocks.map((b) => new ElasticMBConv(this.store, b));
    this.finalExpandConv = new ElasticConv2d(this.store, 'finalExpand/conv', 1, l.finalExpand.maxIn, l.finalExpand.out, 1);
    this.finalExpandBn = new ElasticBatchNorm(this.store, 'finalExpand/bn', l.finalExpand.out);
    // The feature mix is OFA's bias-free 1×1 conv on the pooled features (he_fout init); the classifier a Linear.
    this.featureMix = new Dense(this.store, 'featureMix', l.featureMix.in, l.featureMix.out, { bias: false, init: { kind: 'normal', std: Math.sqrt(2 / l.featureMix.out) } });
    this.classifier = new Dense(this.store, 'classifier', l.classifier.in, l.classifier.out, { bias: true, init: { kind: 'uniform', limit: 1 / Math.sqrt(l.classifier.in) } });
    const trainable = this.store.list().filter((v) => v.trainable);
    this.variables = trainable.map((v) => v.variable);
    this.decayVariables = trainable.filter((v) => v.decay).map((v) => v.variable);
  }

  /** Prefix of this supernet's tfjs variable names. */
  get scope(): string {
    return this.store.scope;
  }

  /** Every variable with its stable name, trainability and decay flag. */
  namedVariables(): NamedVariable[] {
    return this.store.list();
  }

  /** The subnet `arch` selects, as plain data (validates the arch). */
  subnet(arch: Arch): SubnetLayout {
    return subnetLayout(this.space, arch, this.inputChannels, this.classes);
  }

  forward(x: tf.Tensor4D, arch: Arch, opts: ForwardOptions): tf.Tensor2D {
    const layout = this.subnet(arch);
    this.checkInput(x, layout);
    if (opts.training && layout.dropout > 0 && opts.seed === undefined) {
      throw new Error('ClassificationSupernet.forward: training mode needs opts.seed for the dropout mask');
    }
    const dropout = opts.training && layout.dropout > 0 ? { rate: layout.dropout, seed: opts.seed ?? 0 } : undefined;
    return tf.tidy(() => this.run(x, layout, opts.training ? 'train' : 'infer', dropout) as tf.Tensor2D);
  }

  async recalibrateBatchNorm(arch: Arch, batches: Iterable<tf.Tensor4D> | AsyncIterable<tf.Tensor4D>): Promise<void> {
    const layout = this.subnet(arch);
    // Per batch norm: the batch-size-weighted sums of batch means and variances (OFA averages per-batch statistics).
    const sums = new Map<ElasticBatchNorm, { mean: tf.Tensor1D; variance: tf.Tensor1D; count: number }>();
    const sink: BnStatisticsSink = {
      record(bn, mean, variance, count) {
        const prev = sums.get(bn);
        const next = {
          mean: tf.keep(prev ? tf.add(prev.mean, tf.mul(mean, count)) : tf.mul(mean, count)) as tf.Tensor1D,
          variance: tf.keep(prev ? tf.add(prev.variance, tf.mul(variance, count)) : tf.mul(variance, count)) as tf.Tensor1D,
          count: (prev?.count ?? 0) + count,
        };
        prev?.mean.dispose();
        prev?.variance.dispose();
        sums.set(bn, next);
      },
    };
    try {
      for await (const x of batches) {
        this.checkInput(x, layout);
        tf.tidy(() => {
          this.run(x, layout, sink, undefined, true);
        });
      }
      if (sums.size === 0) throw new Error('recalibrateBatchNorm: no batches given; pass at least one calibration batch');
      for (const [bn, s] of sums) {
        tf.tidy(() => bn.setStatistics(tf.div(s.mean, s.count), tf.div(s.variance, s.count)));
      }
    } finally {
      for (const s of sums.values()) tf.dispose([s.mean, s.variance]);
    }
  }

  extractSubnet(arch: Arch): tf.LayersModel {
    const layout = this.subnet(arch);
    const weights = this.subnetWeights(layout);
    try {
      return buildSubnetModel(layout, weights);
    } finally {
      for (const list of weights.values()) tf.dispose(list);
    }
  }

  reorganizeChannels(expandStage = 0): void {
    for (const block of this.blocks) block.reorganize(expandStage, this.space.expand);
  }

  getWeights(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const v of this.store.list()) out[v.name] = tf.clone(v.variable);
    return out;
  }

  setWeights(weights: Record<string, tf.Tensor>): void {
    const known = new Set(this.store.list().map((v) => v.name));
    for (const name of Object.keys(weights)) {
      if (!known.has(name)) throw new WeightsError(`weights have '${name}', which this supernet does not: the checkpoint is from another supernet config`);
    }
    for (const v of this.store.list()) {
      const t = weights[v.name];
      if (!t) throw new WeightsError(`weights lack '${v.name}': the checkpoint is incomplete or from another supernet config`);
      if (t.shape.join() !== v.variable.shape.join()) {
        throw new WeightsError(`weights '${v.name}' have shape [${t.shape.join(', ')}], the supernet [${v.variable.shape.join(', ')}]: the checkpoint is from another supernet config`);
      }
    }
    for (const v of this.store.list()) v.variable.assign(weights[v.name]);
  }

  macs(arch: Arch): number {
    return layoutCosts(this.subnet(arch)).macs;
  }

  params(arch: Arch): number {
    return layoutCosts(this.subnet(arch)).params;
  }

  countParams(): number {
    return this.variables.reduce((n, v) => n + v.size, 0);
  }

  config(): SupernetDescription {
    return {
      task: 'classification',
      choices: this.space.choices(),
      units: this.space.units,
      maxDepth: this.space.maxDepth,
      layout: JSON.parse(JSON.stringify(this.layout)) as SupernetLayout,
      params: this.countParams(),
    };
  }

  dispose(): void {
    this.store.dispose();
  }

  private checkInput(x: tf.Tensor4D, layout: SubnetLayout): void {
    if (x.rank !== 4 || x.shape[3] !== this.inputChannels) {
      throw new Error(`ClassificationSupernet: input must be [N, H, W, ${this.inputChannels}]; got [${x.shape.join(', ')}]`);
    }
    if (x.shape[1] !== layout.resolution || x.shape[2] !== layout.resolution) {
      throw new Error(`ClassificationSupernet: input is ${x.shape[1]}×${x.shape[2]} but the arch's resolution is ${layout.resolution}: resize the batch first`);
    }
  }

  /** The forward pass of a subnet layout; `featuresOnly` stops after the last batch norm (calibration). */
  private run(x: tf.Tensor4D, l: SubnetLayout, bn: BnMode, dropout: { rate: number; seed: number } | undefined, featuresOnly = false): tf.Tensor {
    let h = this.stemBn.apply(this.stemConv.apply(x, l.stem.out), bn, l.stem.activation);
    for (const b of l.blocks) h = this.blocks[b.slot + 1].apply(h, b, bn);
    h = this.finalExpandBn.apply(this.finalExpandConv.apply(h, l.finalExpand.out), bn, l.finalExpand.activation);
    if (featuresOnly) return h;
    let v = tf.mean(h, [1, 2]) as tf.Tensor2D;
    v = activation(this.featureMix.apply(v), l.featureMix.activation);
    if (dropout) v = tf.dropout(v, dropout.rate, undefined, dropout.seed) as tf.Tensor2D;
    return this.classifier.apply(v);
  }

  /** The extracted model's weights, by layer name; every tensor is a fresh handle the caller disposes. */
  private subnetWeights(l: SubnetLayout): SubnetWeights {
    const n = layerNames;
    const w: SubnetWeights = new Map();
    tf.tidy(() => {
      const put = (name: string, tensors: tf.Tensor[]): void => {
        // clone: a full-size slice is the variable itself, and the caller disposes what it gets.
        w.set(name, tensors.map((t) => tf.keep(tf.clone(t))));
      };
      put(n.stemConv, [this.stemConv.activeKernel(l.stem.in, l.stem.out)]);
      put(n.stemBn, this.stemBn.activeWeights(l.stem.out));
      for (const b of l.blocks) {
        const block = this.blocks[b.slot + 1];
        if (block.expandConv && block.expandBn) {
          put(n.expand(b.name), [block.expandConv.activeKernel(b.in, b.mid)]);
          put(n.expandBn(b.name), block.expandBn.activeWeights(b.mid));
        }
        put(n.depthwise(b.name), [block.depthwise.activeKernel(b.mid, b.kernel)]);
        put(n.depthwiseBn(b.name), block.depthwiseBn.activeWeights(b.mid));
        if (block.se) {
          const [rk, rb, ek, eb] = block.se.activeWeights(b.mid);
          put(n.seReduce(b.name), [rk, rb]);
          put(n.seExpand(b.name), [ek, eb]);
        }
        put(n.project(b.name), [block.project.activeKernel(b.mid, b.out)]);
        put(n.projectBn(b.name), block.projectBn.activeWeights(b.out));
      }
      put(n.finalExpandConv, [this.finalExpandConv.activeKernel(l.finalExpand.in, l.finalExpand.out)]);
      put(n.finalExpandBn, this.finalExpandBn.activeWeights(l.finalExpand.out));
      put(n.featureMix, [this.featureMix.kernel]);
      put(n.classifier, [this.classifier.kernel, this.classifier.bias as tf.Variable]);
    });
    return w;
  }
}
