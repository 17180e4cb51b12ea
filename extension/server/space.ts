// The size of a config's search space, counted as OFA counts it: per unit, a depth and then a kernel size and an
// expand ratio for every active block; times the width and resolution choices.
import { choiceLists } from './checks';

export interface SpaceSize {
  /** Number of distinct subnets (a float: the default space has ~2·10^19). */
  subnets: number;
  units: number;
  /** The choice lists the count is made of (defaults filled). */
  kernel: number[];
  expand: number[];
  depth: number[];
  width: number[];
  resolution: number[];
}

export function searchSpaceSize(supernet: unknown): SpaceSize | undefined {
  const c = choiceLists(supernet);
  const units =
    typeof supernet === 'object' && supernet !== null && Array.isArray((supernet as { units?: unknown }).units)
      ? (supernet as { units: unknown[] }).units.length
      : 0;
  if (!c.kernelChoices || !c.expandChoices || !c.depthChoices || !c.widthChoices || !c.resolutionChoices || units === 0) return undefined;
  const perBlock = new Set(c.kernelChoices).size * new Set(c.expandChoices).size;
  const perUnit = [...new Set(c.depthChoices)].reduce((sum, d) => sum + perBlock ** d, 0);
  const subnets = perUnit ** units * new Set(c.widthChoices).size * new Set(c.resolutionChoices).size;
  return {
    subnets,
    units,
    kernel: c.kernelChoices,
    expand: c.expandChoices,
    depth: c.depthChoices,
    width: c.widthChoices,
    resolution: c.resolutionChoices,
  };
}

/** "2.2 × 10^19" for large counts, the plain number with thousands separators for small ones. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '∞';
  if (n < 1e6) return Math.round(n).toLocaleString('en-US');
  const exp = Math.floor(Math.log10(n));
  const mant = n / 10 ** exp;
  return `${mant.toFixed(1)} × 10^${exp}`;
}

/** "15.2 M" style for MAC counts. */
export function formatMacs(macs: number): string {
  if (macs >= 1e9) return `${(macs / 1e9).toFixed(2)} G`;
  if (macs >= 1e6) return `${(macs / 1e6).toFixed(1)} M`;
  if (macs >= 1e3) return `${(macs / 1e3).toFixed(1)} k`;
  return String(Math.round(macs));
}
