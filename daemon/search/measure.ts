// Which subnets to measure for the accuracy predictor: the ends of the cost range, an even spread over it, and
// uniform samples (the measuring itself is the pipeline's measure stage).
import type { Rng } from '../engine/rng';
import type { Arch } from '../ofa/arch';
import type { SearchSpace } from '../ofa/space';
import type { SampleSpace } from '../protocol/values';

/**
 * `count` distinct subnets to measure for the predictor: the smallest and the largest (the ends of the cost range),
 * then — when a cost is given — half spread evenly over the cost range (one per equal-width cost bin, so the rare
 * cheap and expensive subnets where the front's ends lie are measured too), the rest uniformly at random (OFA's
 * sampling, representative of the space). Draws are bounded, so a small space yields fewer subnets rather than
 * looping forever.
 */
export function sampleSubnetsToMeasure(space: SearchSpace, count: number, rng: Rng, cost?: (arch: Arch) => number): Arch[] {
  const seen = new Set<string>();
  const out: Arch[] = [];
  const add = (arch: Arch): void => {
    const key = space.key(arch);
    if (!seen.has(key) && out.length < count) {
      seen.add(key);
      out.push(space.canonical(arch));
    }
  };
  add(space.smallest());
  add(space.largest());
  if (cost) {
    const spread = Math.ceil(count / 2);
    // The pool reaches the extremes: each draw picks a size t and samples every choice near t (from the search
    // space's own lists, restricted), or is uniform.
    const pool = Array.from({ length: spread * 20 }, (_, i) => (i % 2 ? space.sample(rng) : space.sample(rng, sizedChoices(space, rng.next())))).map((arch) => ({
      arch,
      cost: cost(arch),
    }));
    const lo = Math.min(...pool.map((p) => p.cost));
    const hi = Math.max(...pool.map((p) => p.cost));
    const bins: Arch[][] = Array.from({ length: spread }, () => []);
    for (const p of pool) bins[Math.min(spread - 1, Math.floor(((p.cost - lo) / (hi - lo || 1)) * spread))].push(p.arch);
    for (const bin of rng.shuffle(bins.filter((b) => b.length > 0))) {
      if (out.length >= spread) break;
      add(rng.pick(bin));
    }
  }
  for (let draws = 0; out.length < count && draws < count * 50; draws++) add(space.sample(rng));
  return out;
}

/** The choices nearest the relative size t ∈ [0, 1] in each list (one or two of them). */
function sizedChoices(space: SearchSpace, t: number): SampleSpace {
  const near = (list: readonly number[]): number[] => {
    const x = t * (list.length - 1);
    return [...new Set([list[Math.floor(x)], list[Math.ceil(x)]])];
  };
  return { kernel: near(space.kernel), expand: near(space.expand), depth: near(space.depth), width: near(space.width), resolution: near(space.resolution) };
}
