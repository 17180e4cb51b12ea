// The stereo supernet (DispNet-C family, MANTA's design): a full-resolution stem and siamese units over both views,
// a 1-D correlation of the left and right features plus a 1×1 redirect of the left ones, more units on that, then
// six transposed convolutions back to full resolution, each joined by a U-link to the encoder feature at its scale
// and by the upsampled coarser disparity, with a disparity map predicted at every stage. The units are OFA's elastic
// MBConv blocks, so progressive shrinking, sampling, extraction and search work as for classification.
//
// Units of the predictions: every scale predicts disparity in full-resolution pixels (as DispNet's public ports do):
// the ground truth is pooled per scale with its values unchanged, and an upsampled coarse prediction keeps its values.
import { conv2d, tf } from '../../engine';
import type { Arch } from '../../ofa/arch';
import { ElasticSupernet, ElasticBatchNorm, ElasticConv2d, ElasticMBConv, freeScope, leading, VariableStore, type BnMode } from '../../ofa/elastic';
import { SearchSpace, type SupernetConfig } from '../../ofa/space';
import type { ForwardOptions, Supernet } from '../../ofa/task';
import { correlation1d } from './correlation';
import type { SubnetWeights } from '../../ofa/extract';
import { buildStereoModel, stereoLayerNames } from './extract';
import { DECONV_KERNEL, stereoCosts, stereoSubnetLayout, stereoSupernetLayout, STEREO_STRIDE, type StereoSubnetLayout, type StereoSupernetLayout } from './layout';

export interface StereoSupernetOptions {
  /** Channels of each view (1 grey, 3 RGB). */
  inputChannels: number;
  /** Largest disparity of the data, in pixels: the predictions' initial bias is half of it. */
  maxDisparity: number;
  /** The pair size costs are counted at (the evaluation size), both multiples of 64. */
  height: number;
  width: number;
  seed: number;
  scope?: string;
}

/** A transposed convolution whose kernel is sliced like an elastic conv's: [k, k, maxOut, maxIn]. */
class ElasticDeconv2d {
  readonly kernel: tf.Variable;
  constructor(store: VariableStore, name: string, maxIn: number, maxOut: number, init?: Float32Array) {
    this.kernel = store.create(`${name}/kernel`, [DECONV_KERNEL, DECONV_KERNEL, maxOut, maxIn], { kind: 'normal', std: Math.sqrt(2 / (DECONV_KERNEL * DECONV_KERNEL * maxOut)) }, { decay: true });
    if (init) this.kernel.assign(tf.tensor4d(init, [DECONV_KERNEL, DECONV_KERNEL, maxOut, maxIn]));
  }

  activeKernel(inChannels: number, outChannels: number): tf.Tensor4D {
    return leading(this.kernel as tf.Tensor4D, [DECONV_KERNEL, DECONV_KERNEL, outChannels, inChannels]);
  }

  /** Doubles the height and width of x (stride 2; tfjs's 'same' pads a 4×4 transposed kernel by 1 on every side). */
  apply(x: tf.Tensor4D, outChannels: number): tf.Tensor4D {
    const [n, h, w, c] = x.shape;
    return tf.conv2dTranspose(x, this.activeKernel(c, outChannels), [n, 2 * h, 2 * w, outChannels], 2, 'same');
  }
}

/** Bilinear ×2 upsampling as a 4×4 transposed-conv kernel: each output pixel's taps sum to 1, so values are kept. */
function bilinearKernel(): Float32Array {
  const taps = [0.25, 0.75, 0.75, 0.25];
  return Float32Array.from({ length: DECONV_KERNEL * DECONV_KERNEL }, (_, i) => taps[Math.floor(i / DECONV_KERNEL)] * taps[i % DECONV_KERNEL]);
}

/** One decoder stage's layers. */
interface DecoderStageLayers {
  deconv: ElasticDeconv2d;
  deconvBn: ElasticBatchNorm;
  upDisparity?: ElasticDeconv2d;
  iconv: ElasticConv2d;
  iconvBn: ElasticBatchNorm;
  predict: ElasticConv2d;
  predictBias: tf.Variable;
}

/** The supernet as plain JSON for the visualizer and `describe`: its layout at the largest. */
export interface StereoSupernetDescription {
  task: 'stereo';
  layout: StereoSupernetLayout;
  params: number;
}

export class StereoSupernet extends ElasticSupernet<StereoSubnetLayout> implements Supernet<tf.Tensor4D, tf.Tensor4D[]> {
  readonly space: SearchSpace;
  readonly layout: StereoSupernetLayout;
  readonly height: number;
  readonly width: number;
  private readonly stemConv: ElasticConv2d;
  private readonly stemBn: ElasticBatchNorm;
  private readonly blocks: ElasticMBConv[];
  private readonly redirectConv: ElasticConv2d;
  private readonly redirectBn: ElasticBatchNorm;
  private readonly decoder: DecoderStageLayers[];

  constructor(config: SupernetConfig, readonly opts: StereoSupernetOptions) {
    super(new VariableStore(freeScope(opts.scope ?? 'stereo'), opts.seed));
    this.space = new SearchSpace(config);
    this.height = opts.height;
    this.width = opts.width;
    this.layout = stereoSupernetLayout(this.space, config.stereo, opts.inputChannels, opts.maxDisparity);
    const l = this.layout;
    this.stemConv = new ElasticConv2d(this.store, 'stem/conv', l.stem.kernel, l.stem.in, l.stem.out, 1);
    this.stemBn = new ElasticBatchNorm(this.store, 'stem/bn', l.stem.out);
    this.blocks = l.blocks.map((b) => new ElasticMBConv(this.store, b));
    this.redirectConv = new ElasticConv2d(this.store, 'redirect/conv', 1, l.redirect.maxIn, l.redirect.out, 1);
    this.redirectBn = new ElasticBatchNorm(this.store, 'redirect/bn', l.redirect.out);
    this.decoder = l.decoder.map((d) => ({
      deconv: new ElasticDeconv2d(this.store, `${d.name}/deconv`, d.deconvMaxIn, d.width),
      deconvBn: new ElasticBatchNorm(this.store, `${d.name}/deconvBn`, d.width),
      upDisparity: d.upDisparity ? new ElasticDeconv2d(this.store, `${d.name}/upDisparity`, 1, 1, bilinearKernel()) : undefined,
      iconv: new ElasticConv2d(this.store, `${d.name}/iconv`, 3, d.iconvMaxIn, d.width, 1),
      iconvBn: new ElasticBatchNorm(this.store, `${d.name}/iconvBn`, d.width),
      predict: new ElasticConv2d(this.store, `${d.name}/predict`, 3, d.width, 1, 1),
      // A refining stage starts as a zero correction; the first (and every stage without refinement) at the middle.
      predictBias: this.store.create(`${d.name}/predict/bias`, [1], { kind: 'fill', value: d.upDisparity && config.stereo.residual ? 0 : opts.maxDisparity / 2 }),
    }));
  }

  /** The subnet `arch` selects at a pair size (default: the size costs are counted at). */
  subnet(arch: Arch, height = this.height, width = this.width): StereoSubnetLayout {
    return stereoSubnetLayout(this.space, this.layout, arch, height, width);
  }

  /** x: both views stacked on the channel axis, [N, H, W, 2·C] (left first). Disparities coarse (1/32) to fine. */
  forward(x: tf.Tensor4D, arch: Arch, opts: ForwardOptions): tf.Tensor4D[] {
    const layout = this.subnet(arch, x.shape[1], x.shape[2]);
    this.checkInput(x);
    return tf.tidy(() => this.run(x, layout, opts.training ? 'train' : 'infer'));
  }

  async recalibrateBatchNorm(arch: Arch, batches: Iterable<tf.Tensor4D> | AsyncIterable<tf.Tensor4D>): Promise<void> {
    await this.recalibrateWith(batches, (x, sink) => {
      this.checkInput(x);
      this.run(x, this.subnet(arch, x.shape[1], x.shape[2]), sink);
    });
  }

  snapshot(): StereoSupernet {
    return this.withWeightsOf(new StereoSupernet(this.space.supernet, { ...this.opts, seed: 0, scope: `${this.scope}_frozen` }));
  }

  protected elasticBlocks(): readonly ElasticMBConv[] {
    return this.blocks;
  }

  protected buildModel(layout: StereoSubnetLayout, weights: SubnetWeights): tf.LayersModel {
    return buildStereoModel(layout, weights);
  }

  protected layoutCosts(layout: StereoSubnetLayout): { macs: number; params: number } {
    return stereoCosts(layout);
  }

  describe(): StereoSupernetDescription {
    return { task: 'stereo', layout: JSON.parse(JSON.stringify(this.layout)) as StereoSupernetLayout, params: this.countParams() };
  }

  private checkInput(x: tf.Tensor4D): void {
    const c = 2 * this.layout.inputChannels;
    if (x.rank !== 4 || x.shape[3] !== c) throw new Error(`StereoSupernet: input must be [N, H, W, ${c}] (both views on the channel axis); got [${x.shape.join(', ')}]`);
    if (x.shape[1] % STEREO_STRIDE !== 0 || x.shape[2] % STEREO_STRIDE !== 0) {
      throw new Error(`StereoSupernet: the pair is ${x.shape[2]}×${x.shape[1]}; both sides must be multiples of ${STEREO_STRIDE}`);
    }
  }

  /** The forward pass of a subnet layout; every stage's disparity, coarse to fine. */
  private run(x: tf.Tensor4D, l: StereoSubnetLayout, bn: BnMode): tf.Tensor4D[] {
    const n = x.shape[0];
    const c = l.inputChannels;
    // Siamese part: both views as one batch of 2N through the same weights (left first), split after the last
    // siamese unit. Batch norm sees both views' statistics, the same in training, calibration and extraction.
    const left = tf.slice(x, [0, 0, 0, 0], [n, -1, -1, c]);
    const right = tf.slice(x, [0, 0, 0, c], [n, -1, -1, c]);
    let h = tf.concat([left, right], 0);
    h = this.stemBn.apply(this.stemConv.apply(h, l.stem.out), bn, l.stem.activation);
    const leftOf = (t: tf.Tensor4D): tf.Tensor4D => tf.slice(t, [0, 0, 0, 0], [n, -1, -1, -1]);
    const stemLeft = leftOf(h);
    const unitOutputs: tf.Tensor4D[] = [];
    let unit = -1;
    for (const b of l.blocks) {
      if (b.unit !== unit) {
        if (unit >= 0) unitOutputs[unit] = unit < l.siameseUnits ? leftOf(h) : h;
        if (b.unit === l.siameseUnits) h = this.correlate(h, l, bn);
        unit = b.unit;
      }
      h = this.blocks[b.slot].apply(h, b, bn);
    }
    unitOutputs[unit] = h;
    const predictions: tf.Tensor4D[] = [];
    let features = h;
    l.decoder.forEach((d, j) => {
      const layers = this.decoder[j];
      const up = layers.deconvBn.apply(layers.deconv.apply(features, d.width), bn, 'relu');
      const skip = d.skip.from === 'stem' ? stemLeft : unitOutputs[d.skip.from];
      const upDisparity = layers.upDisparity?.apply(predictions[j - 1], 1);
      const parts = upDisparity ? [up, upDisparity, skip] : [up, skip];
      features = layers.iconvBn.apply(layers.iconv.apply(tf.concat(parts, 3), d.width), bn, 'relu');
      const predicted = tf.add(conv2d(features, layers.predict.activeKernel(d.width, 1), 1), layers.predictBias) as tf.Tensor4D;
      predictions.push(upDisparity && this.layout.residual ? tf.add(predicted, upDisparity) : predicted);
    });
    return predictions;
  }

  /** The 2N-batch siamese features → [correlation of left with right, redirected left features] (N). */
  private correlate(h: tf.Tensor4D, l: StereoSubnetLayout, bn: BnMode): tf.Tensor4D {
    const n = h.shape[0] / 2;
    const left = tf.slice(h, [0, 0, 0, 0], [n, -1, -1, -1]);
    const right = tf.slice(h, [n, 0, 0, 0], [n, -1, -1, -1]);
    const cost = correlation1d(left, right, l.correlation.maxDisplacement, l.correlation.stride);
    const redirect = this.redirectBn.apply(this.redirectConv.apply(left, l.redirect.out), bn, l.redirect.activation);
    return tf.concat([cost, redirect], 3);
  }

  /** The extracted model's weights, by layer name; every tensor is a fresh handle the caller disposes. */
  protected subnetWeights(l: StereoSubnetLayout): SubnetWeights {
    const n = stereoLayerNames;
    const w: SubnetWeights = new Map();
    tf.tidy(() => {
      const put = (name: string, tensors: tf.Tensor[]): void => {
        w.set(name, tensors.map((t) => tf.keep(tf.clone(t))));
      };
      put(n.stemConv, [this.stemConv.activeKernel(l.stem.in, l.stem.out)]);
      put(n.stemBn, this.stemBn.activeWeights(l.stem.out));
      for (const b of l.blocks) for (const [name, tensors] of this.blocks[b.slot].activeLayerWeights(b)) put(name, tensors);
      put(n.redirectConv, [this.redirectConv.activeKernel(l.redirect.in, l.redirect.out)]);
      put(n.redirectBn, this.redirectBn.activeWeights(l.redirect.out));
      l.decoder.forEach((d, j) => {
        const layers = this.decoder[j];
        put(n.deconv(j), [layers.deconv.activeKernel(d.deconvIn, d.width)]);
        put(n.deconvBn(j), layers.deconvBn.activeWeights(d.width));
        if (layers.upDisparity) put(n.upDisparity(j), [layers.upDisparity.activeKernel(1, 1)]);
        put(n.iconv(j), [layers.iconv.activeKernel(d.iconvIn, d.width)]);
        put(n.iconvBn(j), layers.iconvBn.activeWeights(d.width));
        put(n.predict(j), [layers.predict.activeKernel(d.width, 1), layers.predictBias]);
      });
    });
    return w;
  }
}
