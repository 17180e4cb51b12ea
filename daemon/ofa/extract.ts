// Subnet extraction: a standalone tfjs LayersModel built from stock layers only (zeroPadding2d, conv2d, depthwiseConv2d,
// batchNormalization, activation, rescaling, multiply, add, globalAveragePooling2d, dense, reshape, dropout), so a
// model saved as model.json + weights loads with a plain `tf.loadLayersModel` and never needs MANTA's code — OFA's
// rule that deployed subnets are static layers. h-swish and h-sigmoid are composed from stock layers.
// Convolutions pad k//2 on every side as the supernet's (a zeroPadding2d before a 'valid' conv where tfjs's 'same'
// would pad otherwise). Input: images [N, r, r, C] (NHWC); output: logits [N, classes] (apply softmax for probabilities).
import { tf } from '../engine';
import { symmetricPadding, type ActivationName } from '../engine/ops';
import { BN_EPSILON, type SubnetWeights } from './elastic';
import { layerNames } from './layer-names';
import type { BlockLayout, SubnetLayout } from './layout';

export { layerNames };
export type { SubnetWeights };


export type Sym = tf.SymbolicTensor;

export function applyOne(layer: tf.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** An activation from stock layers; h-swish is x · relu6(x + 3) / 6, h-sigmoid relu6(x + 3) / 6. */
export function activationLayers(x: Sym, kind: ActivationName, name: string): Sym {
  switch (kind) {
    case 'relu':
      return applyOne(tf.layers.activation({ activation: 'relu', name }), x);
    case 'relu6':
      return applyOne(tf.layers.activation({ activation: 'relu6', name }), x);
    case 'linear':
      return x;
    case 'hsigmoid':
      return hardSigmoid(x, name);
    case 'hswish':
      return applyOne(tf.layers.multiply({ name }), [x, hardSigmoid(x, `${name}_gate`)]);
  }
}

function hardSigmoid(x: Sym, name: string): Sym {
  const shifted = applyOne(tf.layers.rescaling({ scale: 1, offset: 3, name: `${name}_shift` }), x);
  const clipped = applyOne(tf.layers.activation({ activation: 'relu6', name: `${name}_relu6` }), shifted);
  return applyOne(tf.layers.rescaling({ scale: 1 / 6, name: `${name}_scale` }), clipped);
}

/**
 * `x` zero-padded for a k×k, stride-s convolution that pads k//2 on every side (the supernet's and OFA's), when a
 * 'valid' convolution is needed for it: tfjs layers only offer 'same', which pads a stride-2 convolution of an even
 * size only at the bottom and right. Where 'same' pads the same (stride 1, or an odd size) x stays as it is.
 */
function symmetricPad(x: Sym, name: string, kernel: number, stride: number): { x: Sym; padding: 'same' | 'valid' } {
  const p = symmetricPadding(kernel);
  const [, h, w] = x.shape;
  const sameTop = (size: number): number => Math.floor(Math.max(0, (Math.ceil(size / stride) - 1) * stride + kernel - size) / 2);
  if (p === 0 || (h != null && w != null && sameTop(h) === p && sameTop(w) === p)) return { x, padding: 'same' };
  return { x: applyOne(tf.layers.zeroPadding2d({ name: `${name}_pad`, padding: [[p, p], [p, p]] }), x), padding: 'valid' };
}

export function conv(x: Sym, name: string, filters: number, kernel: number, stride: number): Sym {
  const input = symmetricPad(x, name, kernel, stride);
  return applyOne(tf.layers.conv2d({ name, filters, kernelSize: kernel, strides: stride, padding: input.padding, useBias: false }), input.x);
}

/** A depthwise convolution (channel multiplier 1, no bias) padded as the supernet's. */
export function depthwiseConv(x: Sym, name: string, kernel: number, stride: number): Sym {
  const input = symmetricPad(x, name, kernel, stride);
  return applyOne(tf.layers.depthwiseConv2d({ name, kernelSize: kernel, strides: stride, padding: input.padding, depthMultiplier: 1, useBias: false }), input.x);
}

export function batchNorm(x: Sym, name: string): Sym {
  return applyOne(tf.layers.batchNormalization({ name, axis: -1, epsilon: BN_EPSILON }), x);
}

/** An elastic MBConv block at its active size as stock layers (weights by `layerNames`, set by the caller). */
export function mbconvLayers(x: Sym, b: BlockLayout): Sym {
  const n = layerNames;
  const blockInput = x;
  let h = x;
  if (b.expand) {
    h = conv(h, n.expand(b.name), b.mid, 1, 1);
    h = activationLayers(batchNorm(h, n.expandBn(b.name)), b.activation, `${b.name}_expand_act`);
  }
  h = depthwiseConv(h, n.depthwise(b.name), b.kernel, b.stride);
  h = activationLayers(batchNorm(h, n.depthwiseBn(b.name)), b.activation, `${b.name}_dw_act`);
  if (b.se) {
    let g = applyOne(tf.layers.globalAveragePooling2d({ name: `${b.name}_se_pool` }), h);
    g = applyOne(tf.layers.dense({ name: n.seReduce(b.name), units: b.seMid, activation: 'relu' }), g);
    g = applyOne(tf.layers.dense({ name: n.seExpand(b.name), units: b.mid }), g);
    g = activationLayers(g, 'hsigmoid', `${b.name}_se_gate`);
    g = applyOne(tf.layers.reshape({ name: `${b.name}_se_reshape`, targetShape: [1, 1, b.mid] }), g);
    h = applyOne(tf.layers.multiply({ name: `${b.name}_se_mul` }), [h, g]);
  }
  h = conv(h, n.project(b.name), b.out, 1, 1);
  h = batchNorm(h, n.projectBn(b.name));
  return b.residual ? applyOne(tf.layers.add({ name: `${b.name}_add` }), [h, blockInput]) : h;
}

/** Builds the model of `layout` and loads `weights` into it. The weights are copied; the caller keeps ownership. */
export function buildSubnetModel(layout: SubnetLayout, weights: SubnetWeights, name = 'manta_subnet'): tf.LayersModel {
  const n = layerNames;
  const input = tf.input({ shape: [layout.resolution, layout.resolution, layout.inputChannels], name: 'image' });
  let x = conv(input, n.stemConv, layout.stem.out, layout.stem.kernel, layout.stem.stride);
  x = activationLayers(batchNorm(x, n.stemBn), layout.stem.activation, 'stem_act');
  for (const b of layout.blocks) x = mbconvLayers(x, b);
  x = conv(x, n.finalExpandConv, layout.finalExpand.out, 1, 1);
  x = activationLayers(batchNorm(x, n.finalExpandBn), layout.finalExpand.activation, 'final_expand_act');
  x = applyOne(tf.layers.globalAveragePooling2d({ name: 'pool' }), x);
  x = applyOne(tf.layers.dense({ name: n.featureMix, units: layout.featureMix.out, useBias: false }), x);
  x = activationLayers(x, layout.featureMix.activation, 'feature_mix_act');
  if (layout.dropout > 0) x = applyOne(tf.layers.dropout({ name: 'dropout', rate: layout.dropout }), x);
  const logits = applyOne(tf.layers.dense({ name: n.classifier, units: layout.classifier.out }), x);
  const model = tf.model({ inputs: input, outputs: logits, name });

  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = weights.get(layer.name);
    if (!values) throw new Error(`internal: no weights for extracted layer ${layer.name}`);
    layer.setWeights(values);
  }
  return model;
}
