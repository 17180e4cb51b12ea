// The units of OFA's MobileNetV3 supernet (ofa_mbv3.py: widths 24/40/80/112/160, strides 2,2,2,1,2, h-swish from the
// third unit, SE in units 2, 4, 5). With the schema's defaults for everything else (stem 16, first block 16, final
// expand 960, feature mix 1280, kernel {3,5,7}, expand {3,4,6}, depth {2,3,4}) a config with these units is
// OFAMobileNetV3 exactly.
import type { MantaConfig } from '../../schemas';

export const OFA_MBV3_UNITS: MantaConfig['supernet']['units'] = [
  { width: 24, stride: 2, activation: 'relu', squeezeExcite: false },
  { width: 40, stride: 2, activation: 'relu', squeezeExcite: true },
  { width: 80, stride: 2, activation: 'hswish', squeezeExcite: false },
  { width: 112, stride: 1, activation: 'hswish', squeezeExcite: true },
  { width: 160, stride: 2, activation: 'hswish', squeezeExcite: true },
];
