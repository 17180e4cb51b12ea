// The size of a config's search space as typed (defaults filled, malformed lists tolerated), counted by the one
// definition the daemon also uses (schemas/space-size.ts), and the number formats of the CodeLens and hovers.
import type { CostRange } from '../../daemon/protocol/methods';
import type { ChoiceLists } from '../../daemon/protocol/values';
import { countSubnets } from '../../schemas/space-size';
import { choiceLists } from './checks';
import type { SpaceCosts } from './space-costs';

/** The choice lists the count is made of (defaults filled), with the count. */
export interface SpaceSize extends ChoiceLists {
  /** Number of distinct subnets (a float: the default space has ~2·10^19). */
  subnets: number;
  units: number;
}

export function searchSpaceSize(supernet: unknown): SpaceSize | undefined {
  const c = choiceLists(supernet);
  const units =
    typeof supernet === 'object' && supernet !== null && Array.isArray((supernet as { units?: unknown }).units)
      ? (supernet as { units: unknown[] }).units.length
      : 0;
  if (!c.kernelChoices || !c.expandChoices || !c.depthChoices || !c.widthChoices || !c.resolutionChoices || units === 0) return undefined;
  const subnets = countSubnets(
    { kernel: c.kernelChoices, expand: c.expandChoices, depth: c.depthChoices, width: c.widthChoices, resolution: c.resolutionChoices },
    units,
  );
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

/** "15.2M" style for MAC and parameter counts. */
export function formatCompact(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** "3.9M–15.2M". */
function formatRange(r: CostRange): string {
  return `${formatCompact(r.min)}–${formatCompact(r.max)}`;
}

/** "MACs 3.9M–15.2M · params 2.1M–6.4M", or what stands in for them ("MACs: start the MANTA daemon"). */
export function costsText(costs: SpaceCosts): string {
  switch (costs.kind) {
    case 'computing':
      return 'MACs: computing…';
    case 'unavailable':
      return `MACs: ${costs.reason}`;
    case 'described': {
      const d = costs.description;
      return d.macs && d.params ? `MACs ${formatRange(d.macs)} · params ${formatRange(d.params)}` : `MACs: ${d.costsUnavailable ?? 'unknown'}`;
    }
  }
}

/** "Search space: 2.2 × 10^19 subnets", and the costs when given. */
export function spaceSummary(supernet: unknown, costs?: SpaceCosts): string | undefined {
  const size = searchSpaceSize(supernet);
  if (!size) return undefined;
  return `Search space: ${formatCount(size.subnets)} subnets${costs ? ` · ${costsText(costs)}` : ''}`;
}

export interface SpaceLens {
  title: string;
  /** What clicking it does: open the supernet, connect (or start) the daemon, or nothing (a label). */
  action: 'showSupernet' | 'connectDaemon' | 'none';
}

/** The CodeLenses on the supernet: its size with the costs on one line; when the costs are not known, the size alone
 * and beside it why ("MACs: start the MANTA daemon", which then starts it). */
export function spaceLenses(supernet: unknown, costs: SpaceCosts): SpaceLens[] {
  const size = spaceSummary(supernet);
  if (!size) return [];
  if (costs.kind === 'described' && costs.description.macs) return [{ title: `${size} · ${costsText(costs)}`, action: 'showSupernet' }];
  const why: SpaceLens = { title: costsText(costs), action: costs.kind === 'unavailable' && costs.noDaemon ? 'connectDaemon' : 'none' };
  return [{ title: size, action: 'showSupernet' }, why];
}
