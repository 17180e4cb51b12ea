// The number of distinct subnets a config's search space holds, counted as OFA counts it: per unit, a depth and then
// a kernel size and an expand ratio for every active block; times the width and resolution choices. One definition
// for the daemon (manta/describeSpace) and the config language server (its CodeLens, with or without a daemon).
import type { ResolvedPhase } from './config.generated';

/** The choice lists of a supernet (repeats count once): a read-only view of the generated config type's lists, the
 * shape daemon/protocol's `ChoiceLists` derives from too. */
export type SpaceChoices = { readonly [K in Exclude<ResolvedPhase['phase'], 'largest'>]-?: readonly number[] };

/** Distinct subnets of `units` searchable units (a float: the default space has ~2·10^19). */
export function countSubnets(choices: SpaceChoices, units: number): number {
  const distinct = (list: readonly number[]) => new Set(list).size;
  const perBlock = distinct(choices.kernel) * distinct(choices.expand);
  const perUnit = [...new Set(choices.depth)].reduce((sum, d) => sum + perBlock ** d, 0);
  return perUnit ** units * distinct(choices.width) * distinct(choices.resolution);
}
