// The Once-for-All classification supernet (OFA's OFAMobileNetV3, configurable): stem, fixed first block, five
// units of elastic MBConv blocks, final expand, global pool, feature mix, dropout, classifier. One set of weights at
// the largest size; an Arch picks the subnet that runs, trains, is recalibrated, costed or extracted.
import { activation, tf } from '../../engine';
import type { Arch } from '../../ofa/arch';
import { layoutCosts } from '../../ofa/costs';
import { convBn, ElasticSupernet, Dense, ElasticBatchNorm, ElasticConv2d, ElasticMBConv, freeScope, VariableStore, type BnMode } from '../../ofa/elastic';
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

export class ClassificationSupernet extends ElasticSupernet<SubnetLayout> implements Supernet {
  readonly space: SearchSpace;
  readonly layout: SupernetLayout;
  readonly classes: number;
  readonly inputChannels: number;
  private readonly stemConv: ElasticConv2d;
  private readonly stemBn: ElasticBatchNorm;
  /** The first block, then one per block slot (index slot + 1). */
  private readonly blocks: ElasticMBConv[];
  private readonly finalExpandConv: ElasticConv2d;
  private readonly finalExpandBn: ElasticBatchNorm;
  private readonly featureMix: Dense;
  private readonly classifier: Dense;

  constructor(config: SupernetConfig, opts: ClassificationSupernetOptions) {
    super(new VariableStore(freeScope(opts.scope ?? 'supernet'), opts.seed));
    this.space = new SearchSpace(config);
    this.classes = opts.classes;
    this.inputChannels = opts.inputChannels;
    this.layout = supernetLayout(this.space, opts.inputChannels, opts.classes);
    const l = this.layout;
    this.stemConv = new ElasticConv2d(this.store, 'stem/conv', l.stem.kernel, l.stem.in, l.stem.out, l.stem.stride);
    this.stemBn = new ElasticBatchNorm(this.store, 'stem/bn', l.stem.out);
    this.blocks = l.blocks.map((b) => new ElasticMBConv(this.store, b));
    this.finalExpandConv = new ElasticConv2d(this.store, 'finalExpand/conv', 1, l.finalExpand.maxIn, l.finalExpand.out, 1);
    this.finalExpandBn = new ElasticBatchNorm(this.store, 'finalExpand/bn', l.finalExpand.out);
    // The feature mix is OFA's bias-free 1×1 conv on the pooled features (he_fout init); the classifier a Linear.
    this.featureMix = new Dense(this.store, 'featureMix', l.featureMix.in, l.featureMix.out, { bias: false, init: { kind: 'normal', std: Math.sqrt(2 / l.featureMix.out) } });
    this.classifier = new Dense(this.store, 'classifier', l.classifier.in, l.classifier.out, { bias: true, init: { kind: 'uniform', limit: 1 / Math.sqrt(l.classifier.in) } });
  }

  /** The subnet `arch` selects, as plain data (validates the arch). */
  subnet(arch: Arch): SubnetLayout {
    return subnetLayout(this.space, arch, this.inputChannels, this.classes);
  }

  forward(x: tf.Tensor4D, arch: Arch, opts: ForwardOptions): tf.Tensor2D {
    const layout = this.subnet(arch);
    this.checkInput(x, layout);
    const dropsOut = opts.training && opts.dropout !== false && layout.dropout > 0;
    if (dropsOut && opts.seed === undefined) {
      throw new Error('ClassificationSupernet.forward: training mode needs opts.seed for the dropout mask');
    }
    const dropout = dropsOut ? { rate: layout.dropout, seed: opts.seed ?? 0 } : undefined;
    return tf.tidy(() => this.run(x, layout, opts.training ? 'train' : opts.foldBatchNorm ? 'fold' : 'infer', dropout) as tf.Tensor2D);
  }

  async recalibrateBatchNorm(arch: Arch, batches: Iterable<tf.Tensor4D> | AsyncIterable<tf.Tensor4D>): Promise<void> {
    const layout = this.subnet(arch);
    await this.recalibrateWith(batches, (x, sink) => {
      this.checkInput(x, layout);
      this.run(x, layout, sink, undefined, true);
    });
  }

  snapshot(): ClassificationSupernet {
    const copy = new ClassificationSupernet(this.space.supernet, { classes: this.classes, inputChannels: this.inputChannels, seed: 0, scope: `${this.scope}_frozen` });
    return this.withWeightsOf(copy);
  }

  protected elasticBlocks(): readonly ElasticMBConv[] {
    return this.blocks;
  }

  protected buildModel(layout: SubnetLayout, weights: SubnetWeights): tf.LayersModel {
    return buildSubnetModel(layout, weights);
  }

  protected layoutCosts(layout: SubnetLayout): { macs: number; params: number } {
    return layoutCosts(layout);
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
    let h = convBn(this.stemConv, this.stemBn, x, l.stem.out, bn, l.stem.activation);
    for (const b of l.blocks) h = this.blocks[b.slot + 1].apply(h, b, bn);
    h = convBn(this.finalExpandConv, this.finalExpandBn, h, l.finalExpand.out, bn, l.finalExpand.activation);
    if (featuresOnly) return h;
    let v = tf.mean(h, [1, 2]) as tf.Tensor2D;
    v = activation(this.featureMix.apply(v), l.featureMix.activation);
    if (dropout) v = tf.dropout(v, dropout.rate, undefined, dropout.seed) as tf.Tensor2D;
    return this.classifier.apply(v);
  }

  /** The extracted model's weights, by layer name; every tensor is a fresh handle the caller disposes. */
  protected subnetWeights(l: SubnetLayout): SubnetWeights {
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
        for (const [name, tensors] of this.blocks[b.slot + 1].activeLayerWeights(b)) put(name, tensors);
      }
      put(n.finalExpandConv, [this.finalExpandConv.activeKernel(l.finalExpand.in, l.finalExpand.out)]);
      put(n.finalExpandBn, this.finalExpandBn.activeWeights(l.finalExpand.out));
      put(n.featureMix, [this.featureMix.kernel]);
      put(n.classifier, [this.classifier.kernel, this.classifier.bias as tf.Variable]);
    });
    return w;
  }
}
