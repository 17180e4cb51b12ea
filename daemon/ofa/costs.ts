// Analytic costs of a subnet, counted as OFA counts them (ofa/utils/flops_counter.py, count_parameters): MACs are
// the multiply-accumulates of convolutions and dense layers per image, forward (batch norm, activations, pooling,
// the SE rescale and the residual add are not counted); parameters are the trainable weights (batch-norm running
// statistics are not parameters).
import type { Arch } from './arch';
import { subnetLayout, type SubnetLayout } from './layout';
import type { SearchSpace } from './space';

export interface Costs {
  macs: number;
  params: number;
}

export function layoutCosts(l: SubnetLayout): Costs {
  let macs = 0;
  let params = 0;
  const conv = (inC: number, outC: number, kernel: number, outSize: number, groups = 1): void => {
    macs += ((inC / groups) * kernel * kernel * outC * outSize * outSize);
    params += (inC / groups) * kernel * kernel * outC;
  };
  const dense = (inF: number, outF: number, bias: boolean): void => {
    macs += inF * outF;
    params += inF * outF + (bias ? outF : 0);
  };
  const bn = (c: number): void => {
    params += 2 * c;
  };

  conv(l.stem.in, l.stem.out, l.stem.kernel, l.stem.outSize);
  bn(l.stem.out);
  for (const b of l.blocks) {
    if (b.expand) {
      conv(b.in, b.mid, 1, b.inSize);
      bn(b.mid);
    }
    conv(b.mid, b.mid, b.kernel, b.outSize, b.mid);
    bn(b.mid);
    if (b.se) {
      dense(b.mid, b.seMid, true);
      dense(b.seMid, b.mid, true);
    }
    conv(b.mid, b.out, 1, b.outSize);
    bn(b.out);
  }
  conv(l.finalExpand.in, l.finalExpand.out, 1, l.finalExpand.size);
  bn(l.finalExpand.out);
  dense(l.featureMix.in, l.featureMix.out, false);
  dense(l.classifier.in, l.classifier.out, true);
  return { macs, params };
}

/** Forward multiply-accumulates per image of the arch's subnet at the arch's resolution. */
export function macs(space: SearchSpace, arch: Arch, inputChannels: number, classes: number): number {
  return layoutCosts(subnetLayout(space, arch, inputChannels, classes)).macs;
}

/** Trainable parameters of the arch's subnet. */
export function params(space: SearchSpace, arch: Arch, inputChannels: number, classes: number): number {
  return layoutCosts(subnetLayout(space, arch, inputChannels, classes)).params;
}
