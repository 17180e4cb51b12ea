// The shape of the stereo supernet and of each subnet as plain data: the stem, the six units of elastic MBConv blocks
// (the first `correlationUnit` siamese), the correlation and its redirect, and the decoder's six stages with their
// U-links. The forward pass, the cost model, extraction and the visualizer read these, so they agree on what an
// arch means. Scales: unit u (0-based) outputs 1/2^(u+1) of the input; decoder stage j outputs 1/2^(5−j).
import type { ResolvedConfig } from '../../../schemas';
import type { Arch } from '../../ofa/arch';
import { activeBlockLayout, unitBlockLayouts, type BlockLayout, type SupernetBlockLayout } from '../../ofa/layout';
import type { SearchSpace } from '../../ofa/space';
import type { ActivationName } from '../../engine/ops';
import { correlationChannels } from './correlation';

/** Units of the stereo supernet; each halves the resolution, so pairs must be multiples of 2^6. */
export const STEREO_UNITS = 6;
export const STEREO_STRIDE = 2 ** STEREO_UNITS;
/** Decoder stages: one transposed convolution each, 1/64 → 1/32 → … → 1/1. */
export const DECODER_STAGES = 6;
/** Kernel and stride of the transposed convolutions (DispNet's upconv: 4×4, stride 2). */
export const DECONV_KERNEL = 4;

export type StereoSettings = ResolvedConfig['supernet']['stereo'];

/** A decoder stage at its largest: what the supernet allocates. */
export interface DecoderStageLayout {
  name: string;
  /** Input channels of the transposed conv (unit 6's output for the first stage, else the previous stage's). */
  deconvMaxIn: number;
  width: number;
  /** The encoder feature joined by the U-link: a unit index (0-based; left view for siamese units) or the stem. */
  skip: { from: number | 'stem'; maxChannels: number };
  /** Whether the coarser stage's disparity is upsampled and joined (every stage but the first). */
  upDisparity: boolean;
  /** Input channels of the 3×3 conv after the concatenation [deconv, upsampled disparity, skip] at their largest. */
  iconvMaxIn: number;
  /** Output stride of this stage (32 … 1). */
  scale: number;
}

export interface StereoSupernetLayout {
  inputChannels: number;
  maxDisparity: number;
  stem: { name: 'stem'; in: number; out: number; kernel: 3; stride: 1; activation: ActivationName };
  /** Units × maxDepth block slots, unit-major (slot = unit · maxDepth + index). */
  blocks: SupernetBlockLayout[];
  /** Units 0 … siameseUnits−1 see both views; the correlation follows unit siameseUnits−1. */
  siameseUnits: number;
  correlation: { maxDisplacement: number; stride: number; channels: number };
  redirect: { name: 'redirect'; maxIn: number; out: number; activation: ActivationName };
  decoder: DecoderStageLayout[];
  /** Stages after the first predict a correction added to the upsampled coarser disparity. */
  residual: boolean;
}

/** A decoder stage of a subnet: the actual channel counts and map size. */
export interface DecoderStage extends DecoderStageLayout {
  deconvIn: number;
  skipChannels: number;
  iconvIn: number;
  /** Size of the stage's output map. */
  mapHeight: number;
  mapWidth: number;
}

export interface StereoSubnetLayout {
  arch: Arch;
  inputChannels: number;
  height: number;
  width: number;
  stem: StereoSupernetLayout['stem'];
  /** The active blocks with their channels (inSize/outSize: map heights; widths follow the pair's aspect). */
  blocks: BlockLayout[];
  siameseUnits: number;
  correlation: StereoSupernetLayout['correlation'] & { inChannels: number };
  redirect: { name: 'redirect'; in: number; out: number; activation: ActivationName };
  /** Output channels of each unit (0-based), for the U-links. */
  unitOut: number[];
  decoder: DecoderStage[];
  residual: boolean;
}

export function stereoSupernetLayout(space: SearchSpace, settings: StereoSettings, inputChannels: number, maxDisparity: number): StereoSupernetLayout {
  const cfg = space.supernet;
  if (cfg.units.length !== STEREO_UNITS) throw new Error(`internal: the stereo supernet has ${STEREO_UNITS} units, the config ${cfg.units.length}`);
  const siameseUnits = settings.correlationUnit;
  const stem = { name: 'stem' as const, in: inputChannels, out: cfg.stem.width, kernel: 3 as const, stride: 1 as const, activation: cfg.stem.activation };
  const correlation = { maxDisplacement: settings.maxDisplacement, stride: settings.correlationStride, channels: correlationChannels(settings.maxDisplacement, settings.correlationStride) };
  const blocks: SupernetBlockLayout[] = [];
  let inChannels = stem.out;
  let redirect: StereoSupernetLayout['redirect'] | undefined;
  cfg.units.forEach((unit, u) => {
    if (u === siameseUnits) {
      redirect = { name: 'redirect', maxIn: inChannels, out: settings.redirectWidth, activation: 'relu' };
      inChannels = correlation.channels + settings.redirectWidth;
    }
    // Every stereo unit halves the resolution (the checks refuse another stride).
    blocks.push(...unitBlockLayouts(space, unit, u, inChannels, 2));
    inChannels = unit.width;
  });
  const decoder: DecoderStageLayout[] = [];
  let deconvIn = cfg.units[STEREO_UNITS - 1].width;
  settings.decoderWidths.forEach((width, j) => {
    // Stage j joins unit 4−j (units 5, 4, 3, 2, 1 in the design's 1-based names), the last stage the stem.
    const from = j < DECODER_STAGES - 1 ? STEREO_UNITS - 2 - j : ('stem' as const);
    const maxChannels = from === 'stem' ? stem.out : cfg.units[from].width;
    const upDisparity = j > 0;
    decoder.push({ name: `dec${j}`, deconvMaxIn: deconvIn, width, skip: { from, maxChannels }, upDisparity, iconvMaxIn: width + (upDisparity ? 1 : 0) + maxChannels, scale: 2 ** (DECODER_STAGES - 1 - j) });
    deconvIn = width;
  });
  return { inputChannels, maxDisparity, stem, blocks, siameseUnits, correlation, redirect: redirect!, decoder, residual: settings.residual };
}

/** The subnet an arch selects at a pair size of height × width (both multiples of 64). */
export function stereoSubnetLayout(space: SearchSpace, sup: StereoSupernetLayout, arch: Arch, height: number, width: number): StereoSubnetLayout {
  space.validate(arch);
  const blocks: BlockLayout[] = [];
  const unitOut: number[] = [];
  let inChannels = sup.stem.out;
  let size = height;
  let redirect: StereoSubnetLayout['redirect'] | undefined;
  let corrIn = 0;
  for (const b of sup.blocks) {
    if (b.unit === sup.siameseUnits && !redirect) {
      corrIn = inChannels;
      redirect = { name: 'redirect', in: inChannels, out: sup.redirect.out, activation: sup.redirect.activation };
      inChannels = sup.correlation.channels + sup.redirect.out;
    }
    if (!space.isActive(arch, b.slot)) continue;
    const block = activeBlockLayout(b, arch, inChannels, size, size / b.stride);
    blocks.push(block);
    unitOut[b.unit] = block.out;
    inChannels = block.out;
    size = block.outSize;
  }
  const decoder: DecoderStage[] = sup.decoder.map((d, j) => {
    const skipChannels = d.skip.from === 'stem' ? sup.stem.out : unitOut[d.skip.from];
    return {
      ...d,
      deconvIn: j === 0 ? unitOut[STEREO_UNITS - 1] : sup.decoder[j - 1].width,
      skipChannels,
      iconvIn: d.width + (d.upDisparity ? 1 : 0) + skipChannels,
      mapHeight: height / d.scale,
      mapWidth: width / d.scale,
    };
  });
  return {
    arch,
    inputChannels: sup.inputChannels,
    height,
    width,
    stem: sup.stem,
    blocks,
    siameseUnits: sup.siameseUnits,
    correlation: { ...sup.correlation, inChannels: corrIn },
    redirect: redirect!,
    unitOut,
    decoder,
    residual: sup.residual,
  };
}

/**
 * MACs per stereo pair and trainable parameters, counted as OFA counts them (convolutions and dense layers; batch
 * norm, activations, the SE rescale and adds are free) plus the correlation's multiplies. The siamese units run twice
 * (both views) and count twice; a transposed convolution costs in·k·k·out per input pixel.
 */
export function stereoCosts(l: StereoSubnetLayout): { macs: number; params: number } {
  let macs = 0;
  let params = 0;
  const conv = (inC: number, outC: number, k: number, outPixels: number, groups = 1, times = 1, bias = false): void => {
    macs += (inC / groups) * k * k * outC * outPixels * times;
    params += (inC / groups) * k * k * outC + (bias ? outC : 0);
  };
  const bn = (c: number): void => {
    params += 2 * c;
  };
  const aspect = l.width / l.height;
  const pixels = (h: number): number => h * h * aspect;
  conv(l.stem.in, l.stem.out, l.stem.kernel, pixels(l.height), 1, 2);
  bn(l.stem.out);
  for (const b of l.blocks) {
    const times = b.unit < l.siameseUnits ? 2 : 1;
    if (b.expand) {
      conv(b.in, b.mid, 1, pixels(b.inSize), 1, times);
      bn(b.mid);
    }
    conv(b.mid, b.mid, b.kernel, pixels(b.outSize), b.mid, times);
    bn(b.mid);
    if (b.se) {
      conv(b.mid, b.seMid, 1, 1, 1, times, true);
      conv(b.seMid, b.mid, 1, 1, 1, times, true);
    }
    conv(b.mid, b.out, 1, pixels(b.outSize), 1, times);
    bn(b.out);
  }
  const corrSize = l.height / 2 ** l.siameseUnits;
  macs += l.correlation.channels * l.correlation.inChannels * pixels(corrSize);
  conv(l.redirect.in, l.redirect.out, 1, pixels(corrSize));
  bn(l.redirect.out);
  for (const d of l.decoder) {
    const inPixels = (d.mapHeight / 2) * (d.mapWidth / 2);
    conv(d.deconvIn, d.width, DECONV_KERNEL, inPixels);
    bn(d.width);
    if (d.upDisparity) conv(1, 1, DECONV_KERNEL, inPixels);
    conv(d.iconvIn, d.width, 3, d.mapHeight * d.mapWidth);
    bn(d.width);
    conv(d.width, 1, 3, d.mapHeight * d.mapWidth, 1, 1, true);
  }
  return { macs, params };
}
