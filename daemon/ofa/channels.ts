// Channel arithmetic shared by the supernet, the cost model and extraction, so that all three agree exactly.
// The rules are OFA's (ofa/utils/pytorch_modules.py make_divisible, Python's round, SE reduction 4).

/** Channel counts are multiples of this (OFA's MyNetwork.CHANNEL_DIVISIBLE). */
export const CHANNEL_DIVISOR = 8;

/** Squeeze-and-excite reduction (OFA's SEModule.REDUCTION). */
export const SE_REDUCTION = 4;

/**
 * OFA's make_divisible: the multiple of `divisor` nearest to v (halves up), at least `minValue`, and never more
 * than 10% below v.
 */
export function makeDivisible(v: number, divisor = CHANNEL_DIVISOR, minValue = divisor): number {
  let rounded = Math.max(minValue, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

/** Python 3's round(): halves go to the even neighbour (OFA rounds in * expand with it). */
export function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const diff = v - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Expanded (middle) channels of an MBConv block with `inChannels` inputs and expand ratio `ratio`. */
export function expandedChannels(inChannels: number, ratio: number): number {
  return makeDivisible(roundHalfEven(inChannels * ratio));
}

/** Hidden channels of a squeeze-and-excite over `channels` channels. */
export function seChannels(channels: number): number {
  return makeDivisible(Math.floor(channels / SE_REDUCTION));
}

/**
 * Output channels of a unit of configured width `width` under width multiplier `multiplier`. The full width is
 * kept exactly (it need not be a multiple of 8); narrower ones are rounded as OFA rounds widths, never wider.
 */
export function unitChannels(width: number, multiplier: number): number {
  if (multiplier >= 1) return width;
  return Math.min(width, makeDivisible(width * multiplier));
}

/** Output size of a 'same'-padded convolution: ceil(size / stride). */
export function convOutputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}
