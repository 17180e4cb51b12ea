// The shape of the supernet and of each subnet as plain data (OFA's config / get_active_subnet_config): channels,
// kernels, strides and feature-map sizes of every layer. The supernet's forward, the cost model, extraction and the
// visualizer all read these, so they cannot disagree about what an arch means.
import type { ActivationName } from '../engine/ops';
import type { Arch } from './arch';
import { convOutputSize, expandedChannels, seChannels, unitChannels } from './channels';
import type { SearchSpace } from './space';

/** The activation of OFA-MobileNetV3's final expand and feature-mix layers (not a config field). */
export const HEAD_ACTIVATION: ActivationName = 'hswish';

/** An MBConv block at its largest: what the supernet allocates. */
export interface SupernetBlockLayout {
  /** Stable name, the prefix of the block's weights: 'first' or 'u<unit>b<index>'. */
  name: string;
  /** Unit index, -1 for the fixed first block. */
  unit: number;
  /** Index into Arch.ks / Arch.e, -1 for the fixed first block. */
  slot: number;
  maxIn: number;
  maxMid: number;
  maxOut: number;
  /** Kernel sizes the depthwise conv offers, ascending; one entry for the fixed first block. */
  kernels: number[];
  stride: number;
  activation: ActivationName;
  se: boolean;
  /** Whether the block has a 1×1 expand conv (not when its only expand ratio is 1, as OFA's first block). */
  expand: boolean;
  /** Identity shortcut: stride 1 and equal input and output width (OFA decides on the largest widths). */
  residual: boolean;
}

export interface SupernetLayout {
  inputChannels: number;
  classes: number;
  stem: { name: 'stem'; in: number; out: number; kernel: number; stride: number; activation: ActivationName };
  /** The first block, then units × maxDepth block slots, unit-major. */
  blocks: SupernetBlockLayout[];
  finalExpand: { name: 'finalExpand'; maxIn: number; out: number; activation: ActivationName };
  featureMix: { name: 'featureMix'; in: number; out: number; activation: ActivationName };
  classifier: { name: 'classifier'; in: number; out: number };
  dropout: number;
}

/** One active MBConv block of a subnet. */
export interface BlockLayout {
  name: string;
  unit: number;
  slot: number;
  in: number;
  mid: number;
  out: number;
  kernel: number;
  stride: number;
  activation: ActivationName;
  se: boolean;
  /** Hidden channels of the squeeze-and-excite, 0 without one. */
  seMid: number;
  expand: boolean;
  residual: boolean;
  /** Input and output feature-map height (= width). */
  inSize: number;
  outSize: number;
}

export interface SubnetLayout {
  arch: Arch;
  inputChannels: number;
  classes: number;
  resolution: number;
  stem: { name: 'stem'; in: number; out: number; kernel: number; stride: number; activation: ActivationName; outSize: number };
  blocks: BlockLayout[];
  finalExpand: { name: 'finalExpand'; in: number; out: number; activation: ActivationName; size: number };
  featureMix: { name: 'featureMix'; in: number; out: number; activation: ActivationName };
  classifier: { name: 'classifier'; in: number; out: number };
  dropout: number;
}

export function supernetLayout(space: SearchSpace, inputChannels: number, classes: number): SupernetLayout {
  const cfg = space.supernet;
  const stem = { name: 'stem' as const, in: inputChannels, out: cfg.stem.width, kernel: 3, stride: cfg.stem.stride, activation: cfg.stem.activation };
  const fb = cfg.firstBlock;
  const blocks: SupernetBlockLayout[] = [
    {
      name: 'first',
      unit: -1,
      slot: -1,
      maxIn: stem.out,
      // Expand ratio 1: the depthwise conv runs on the input channels (OFA: round(in × 1)).
      maxMid: stem.out,
      maxOut: fb.width,
      kernels: [fb.kernel],
      stride: fb.stride,
      activation: fb.activation,
      se: fb.squeezeExcite,
      expand: false,
      residual: fb.stride === 1 && stem.out === fb.width,
    },
  ];
  let inChannels = fb.width;
  cfg.units.forEach((unit, u) => {
    blocks.push(...unitBlockLayouts(space, unit, u, inChannels, unit.stride));
    inChannels = unit.width;
  });
  return {
    inputChannels,
    classes,
    stem,
    blocks,
    finalExpand: { name: 'finalExpand', maxIn: inChannels, out: cfg.finalExpandWidth, activation: HEAD_ACTIVATION },
    featureMix: { name: 'featureMix', in: cfg.finalExpandWidth, out: cfg.featureMixWidth, activation: HEAD_ACTIVATION },
    classifier: { name: 'classifier', in: cfg.featureMixWidth, out: classes },
    dropout: cfg.dropout,
  };
}

/** The `maxDepth` block slots of unit `u` at their largest, its first block with `firstStride`. */
export function unitBlockLayouts(space: SearchSpace, unit: { width: number; activation: ActivationName; squeezeExcite: boolean }, u: number, inChannels: number, firstStride: number): SupernetBlockLayout[] {
  const maxExpand = space.expand[space.expand.length - 1];
  const expand = maxExpand !== 1;
  const blocks: SupernetBlockLayout[] = [];
  for (let i = 0; i < space.maxDepth; i++) {
    const stride = i === 0 ? firstStride : 1;
    const maxIn = i === 0 ? inChannels : unit.width;
    blocks.push({
      name: `u${u}b${i}`,
      unit: u,
      slot: u * space.maxDepth + i,
      maxIn,
      maxMid: expand ? expandedChannels(maxIn, maxExpand) : maxIn,
      maxOut: unit.width,
      kernels: [...space.kernel],
      stride,
      activation: unit.activation,
      se: unit.squeezeExcite,
      expand,
      residual: stride === 1 && maxIn === unit.width,
    });
  }
  return blocks;
}

/** A block slot as the arch runs it, from `inChannels` inputs of size `inSize` (the fixed first block: unit −1). */
export function activeBlockLayout(b: SupernetBlockLayout, arch: Arch, inChannels: number, inSize: number, outSize: number): BlockLayout {
  const first = b.unit < 0;
  const out = first ? b.maxOut : unitChannels(b.maxOut, arch.w);
  const mid = first || !b.expand ? inChannels : expandedChannels(inChannels, arch.e[b.slot]);
  if (mid > b.maxMid) throw new Error(`internal: block ${b.name} needs ${mid} expanded channels, has ${b.maxMid}`);
  return {
    name: b.name,
    unit: b.unit,
    slot: b.slot,
    in: inChannels,
    mid,
    out,
    kernel: first ? b.kernels[0] : arch.ks[b.slot],
    stride: b.stride,
    activation: b.activation,
    se: b.se,
    seMid: b.se ? seChannels(mid) : 0,
    expand: b.expand,
    // With a width multiplier below 1 a structural shortcut can join unequal widths; it is then left out.
    residual: b.residual && inChannels === out,
    inSize,
    outSize,
  };
}

/** The subnet an arch selects: which blocks run, with which channels, kernels and feature-map sizes. */
export function subnetLayout(space: SearchSpace, arch: Arch, inputChannels: number, classes: number): SubnetLayout {
  space.validate(arch);
  const sup = supernetLayout(space, inputChannels, classes);
  const stemOut = convOutputSize(arch.r, sup.stem.stride);
  let size = stemOut;
  const blocks: BlockLayout[] = [];
  let inChannels = sup.stem.out;
  for (const b of sup.blocks) {
    if (b.unit >= 0 && !space.isActive(arch, b.slot)) continue;
    const block = activeBlockLayout(b, arch, inChannels, size, convOutputSize(size, b.stride));
    blocks.push(block);
    inChannels = block.out;
    size = block.outSize;
  }
  return {
    arch,
    inputChannels,
    classes,
    resolution: arch.r,
    stem: { ...sup.stem, outSize: stemOut },
    blocks,
    finalExpand: { name: 'finalExpand', in: inChannels, out: sup.finalExpand.out, activation: sup.finalExpand.activation, size },
    featureMix: { ...sup.featureMix },
    classifier: { ...sup.classifier },
    dropout: sup.dropout,
  };
}
