// A stereo subnet as a standalone tfjs LayersModel of stock layers only, so a saved model loads with a plain
// `tf.loadLayersModel` (OFA's rule that deployed subnets are static layers). Inputs: the left and right views,
// [N, H, W, C] each, values in [0, 1] (the model normalises them itself); output: the full-resolution disparity
// [N, H, W, 1] in pixels. The siamese trunk is one sub-model applied to both views (shared weights); the correlation
// is composed from padding, cropping, multiply and a fixed 1×1 mean conv per displacement.
import { tf } from '../../engine';
import { activationLayers, applyOne, batchNorm, conv, mbconvLayers, type SubnetWeights, type Sym } from '../../ofa/extract';
import type { StereoSubnetLayout } from './layout';
import { DECONV_KERNEL } from './layout';

/** What the task feeds the supernet: (view − 0.5) · 4, roughly zero mean and unit spread for byte images / 255. */
export const VIEW_OFFSET = -0.5;
export const VIEW_SCALE = 4;


export const stereoLayerNames = {
  stemConv: 'stem_conv',
  stemBn: 'stem_bn',
  redirectConv: 'redirect_conv',
  redirectBn: 'redirect_bn',
  deconv: (j: number) => `dec${j}_deconv`,
  deconvBn: (j: number) => `dec${j}_deconv_bn`,
  upDisparity: (j: number) => `dec${j}_up_disparity`,
  iconv: (j: number) => `dec${j}_iconv`,
  iconvBn: (j: number) => `dec${j}_iconv_bn`,
  predict: (j: number) => `dec${j}_predict`,
} as const;

function deconv(x: Sym, name: string, filters: number): Sym {
  return applyOne(tf.layers.conv2dTranspose({ name, filters, kernelSize: DECONV_KERNEL, strides: 2, padding: 'same', useBias: false }), x);
}

/** The correlation of `left` with `right` shifted right by each displacement, channel-mean by a fixed 1×1 conv. */
function correlationLayers(left: Sym, right: Sym, l: StereoSubnetLayout, fixed: SubnetWeights): Sym {
  const planes: Sym[] = [];
  const c = l.correlation.inChannels;
  for (let d = 0; d <= l.correlation.maxDisplacement; d += l.correlation.stride) {
    let shifted = right;
    if (d > 0) {
      const padded = applyOne(tf.layers.zeroPadding2d({ name: `corr${d}_pad`, padding: [[0, 0], [d, 0]] }), right);
      shifted = applyOne(tf.layers.cropping2D({ name: `corr${d}_crop`, cropping: [[0, 0], [0, d]] }), padded);
    }
    const product = applyOne(tf.layers.multiply({ name: `corr${d}_mul` }), [left, shifted]);
    const name = `corr${d}_mean`;
    planes.push(applyOne(tf.layers.conv2d({ name, filters: 1, kernelSize: 1, useBias: false, trainable: false }), product));
    fixed.set(name, [tf.fill([1, 1, c, 1], 1 / c)]);
  }
  return planes.length === 1 ? planes[0] : applyOne(tf.layers.concatenate({ name: 'correlation', axis: -1 }), planes);
}

/** Builds the model of `l` and loads `weights` into it. The weights are copied; the caller keeps ownership. */
export function buildStereoModel(l: StereoSubnetLayout, weights: SubnetWeights, name = 'manta_stereo_subnet'): tf.LayersModel {
  const n = stereoLayerNames;
  const shape = [l.height, l.width, l.inputChannels];
  const fixed: SubnetWeights = new Map();
  try {
    // The siamese trunk: stem and units 1…siameseUnits, one sub-model applied to both views.
    const view = tf.input({ shape, name: 'view' });
    let t = applyOne(tf.layers.rescaling({ name: 'normalise', scale: VIEW_SCALE, offset: VIEW_OFFSET * VIEW_SCALE }), view);
    t = activationLayers(batchNorm(conv(t, n.stemConv, l.stem.out, l.stem.kernel, 1), n.stemBn), l.stem.activation, 'stem_act');
    const trunkOutputs: Sym[] = [t];
    let unit = -1;
    const siameseBlocks = l.blocks.filter((b) => b.unit < l.siameseUnits);
    for (const b of siameseBlocks) {
      if (b.unit !== unit && unit >= 0) trunkOutputs.push(t);
      unit = b.unit;
      t = mbconvLayers(t, b);
    }
    trunkOutputs.push(t);
    const trunk = tf.model({ inputs: view, outputs: trunkOutputs, name: 'siamese' });
    const leftInput = tf.input({ shape, name: 'left' });
    const rightInput = tf.input({ shape, name: 'right' });
    const leftFeatures = trunk.apply(leftInput) as Sym[];
    const rightFeatures = trunk.apply(rightInput) as Sym[];
    const stemLeft = leftFeatures[0];
    const unitOutputs: Sym[] = leftFeatures.slice(1);
    const lastLeft = leftFeatures[leftFeatures.length - 1];
    const lastRight = rightFeatures[rightFeatures.length - 1];

    const cost = correlationLayers(lastLeft, lastRight, l, fixed);
    const redirect = activationLayers(batchNorm(conv(lastLeft, n.redirectConv, l.redirect.out, 1, 1), n.redirectBn), l.redirect.activation, 'redirect_act');
    let h = applyOne(tf.layers.concatenate({ name: 'correlation_redirect', axis: -1 }), [cost, redirect]);
    unit = -1;
    for (const b of l.blocks.filter((x) => x.unit >= l.siameseUnits)) {
      if (b.unit !== unit && unit >= 0) unitOutputs[unit] = h;
      unit = b.unit;
      h = mbconvLayers(h, b);
    }
    unitOutputs[unit] = h;

    let prediction: Sym | undefined;
    l.decoder.forEach((d, j) => {
      const up = activationLayers(batchNorm(deconv(h, n.deconv(j), d.width), n.deconvBn(j)), 'relu', `dec${j}_deconv_act`);
      const skip = d.skip.from === 'stem' ? stemLeft : unitOutputs[d.skip.from];
      const upDisparity = prediction ? deconv(prediction, n.upDisparity(j), 1) : undefined;
      const parts = upDisparity ? [up, upDisparity, skip] : [up, skip];
      h = applyOne(tf.layers.concatenate({ name: `dec${j}_concat`, axis: -1 }), parts);
      h = activationLayers(batchNorm(conv(h, n.iconv(j), d.width, 3, 1), n.iconvBn(j)), 'relu', `dec${j}_iconv_act`);
      prediction = applyOne(tf.layers.conv2d({ name: n.predict(j), filters: 1, kernelSize: 3, padding: 'same', useBias: true }), h);
      if (upDisparity && l.residual) prediction = applyOne(tf.layers.add({ name: `dec${j}_refine` }), [prediction, upDisparity]);
    });
    const model = tf.model({ inputs: [leftInput, rightInput], outputs: prediction!, name });
    const setLayer = (layer: tf.layers.Layer): void => {
      if (layer.weights.length === 0) return;
      const values = weights.get(layer.name) ?? fixed.get(layer.name);
      if (!values) throw new Error(`internal: no weights for extracted layer ${layer.name}`);
      layer.setWeights(values);
    };
    for (const layer of model.layers) {
      if (layer === trunk) trunk.layers.forEach(setLayer);
      else setLayer(layer);
    }
    return model;
  } finally {
    for (const list of fixed.values()) tf.dispose(list);
  }
}
