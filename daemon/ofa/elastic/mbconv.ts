// Elastic MBConv block (OFA's DynamicMBConvLayer): 1×1 expand → BN → act, depthwise k×k → BN → act, optional SE,
// 1×1 project → BN, plus the identity shortcut when the layout has one. All weights at the largest size; the block
// layout of a subnet says which slice runs.
import { tf } from '../../engine';
import { expandedChannels } from '../channels';
import { layerNames } from '../layer-names';
import type { BlockLayout, SupernetBlockLayout } from '../layout';
import { ElasticBatchNorm, type BnMode } from './batchnorm';
import { ElasticConv2d } from './conv';
import { ElasticDepthwiseConv2d } from './depthwise';
import { convBn, depthwiseBn } from './fold';
import { descendingOrder, ElasticSqueezeExcite } from './se';
import type { VariableStore } from './store';

export class ElasticMBConv {
  readonly expandConv?: ElasticConv2d;
  readonly expandBn?: ElasticBatchNorm;
  readonly depthwise: ElasticDepthwiseConv2d;
  readonly depthwiseBn: ElasticBatchNorm;
  readonly se?: ElasticSqueezeExcite;
  readonly project: ElasticConv2d;
  readonly projectBn: ElasticBatchNorm;

  constructor(store: VariableStore, readonly layout: SupernetBlockLayout) {
    const { name, maxIn, maxMid, maxOut } = layout;
    if (layout.expand) {
      this.expandConv = new ElasticConv2d(store, `${name}/expand`, 1, maxIn, maxMid, 1);
      this.expandBn = new ElasticBatchNorm(store, `${name}/expandBn`, maxMid);
    }
    this.depthwise = new ElasticDepthwiseConv2d(store, `${name}/dw`, layout.kernels, maxMid, layout.stride);
    this.depthwiseBn = new ElasticBatchNorm(store, `${name}/dwBn`, maxMid);
    if (layout.se) this.se = new ElasticSqueezeExcite(store, `${name}/se`, maxMid);
    this.project = new ElasticConv2d(store, `${name}/project`, 1, maxMid, maxOut, 1);
    this.projectBn = new ElasticBatchNorm(store, `${name}/projectBn`, maxOut);
  }

  apply(x: tf.Tensor4D, active: BlockLayout, bn: BnMode): tf.Tensor4D {
    let h = x;
    if (this.expandConv && this.expandBn) h = convBn(this.expandConv, this.expandBn, h, active.mid, bn, active.activation);
    h = depthwiseBn(this.depthwise, this.depthwiseBn, h, active.kernel, bn, active.activation);
    if (this.se) h = this.se.apply(h);
    h = convBn(this.project, this.projectBn, h, active.out, bn);
    return active.residual ? tf.add(h, x) : h;
  }

  /**
   * OFA's re_organize_middle_weights: sorts the expanded channels by importance (L1 norm of their project weights)
   * and permutes every tensor coupled to them with one index, so that a smaller expand ratio's leading channels are
   * the most important ones. The block computes the same function afterwards. With `expandStage` > 0 the channels
   * beyond each smaller ratio's width stay in their group (OFA's staged sorting).
   */
  reorganize(expandStage: number, expandChoices: readonly number[]): void {
    if (!this.expandConv) return; // without an expand conv the middle channels are the block's inputs: not sortable here
    // float64: the staged offsets (±1e5) would swallow float32 differences between close importances.
    const importance = Float64Array.from(tf.tidy(() => tf.sum(tf.abs(this.project.kernel), [0, 1, 3]).dataSync()));
    if (expandStage > 0) {
      const widths = [...expandChoices].sort((a, b) => b - a).map((e) => expandedChannels(this.layout.maxIn, e));
      let right = importance.length;
      let base = -widths.length * 1e5;
      for (let i = 0; i <= expandStage && i < widths.length; i++) {
        const left = widths[i];
        for (let c = left; c < right; c++) importance[c] += base;
        base += 1e5;
        right = left;
      }
    }
    const index = tf.tensor1d(descendingOrder(importance), 'int32');
    this.project.permuteInputs(index);
    this.depthwiseBn.permuteChannels(index);
    this.depthwise.permuteChannels(index);
    this.se?.permuteChannels(index);
    this.expandBn?.permuteChannels(index);
    this.expandConv.permuteOutputs(index);
    index.dispose();
  }

  /** The active weights of this block as the extracted model's layers want them, by layer name (ofa/extract). */
  activeLayerWeights(b: BlockLayout): [string, tf.Tensor[]][] {
    const n = layerNames;
    const out: [string, tf.Tensor[]][] = [];
    if (this.expandConv && this.expandBn) {
      out.push([n.expand(b.name), [this.expandConv.activeKernel(b.in, b.mid)]]);
      out.push([n.expandBn(b.name), this.expandBn.activeWeights(b.mid)]);
    }
    out.push([n.depthwise(b.name), [this.depthwise.activeKernel(b.mid, b.kernel)]]);
    out.push([n.depthwiseBn(b.name), this.depthwiseBn.activeWeights(b.mid)]);
    if (this.se) {
      const [rk, rb, ek, eb] = this.se.activeWeights(b.mid);
      out.push([n.seReduce(b.name), [rk, rb]]);
      out.push([n.seExpand(b.name), [ek, eb]]);
    }
    out.push([n.project(b.name), [this.project.activeKernel(b.mid, b.out)]]);
    out.push([n.projectBn(b.name), this.projectBn.activeWeights(b.out)]);
    return out;
  }

  batchNorms(): ElasticBatchNorm[] {
    return [this.expandBn, this.depthwiseBn, this.projectBn].filter((b): b is ElasticBatchNorm => b !== undefined);
  }
}
