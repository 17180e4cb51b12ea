// The efficiency model: exact MACs and parameters of any subnet (for daemon/ofa's unit stack, its analytic counts
// tabulated per block so the evolution can cost tens of thousands of candidates; for other supernets, their own
// counts), latency from the latency model fitted to subnets timed on the configured runtime, and the constraints a
// subnet must meet. Efficiency comes from the arch alone, never from weights (OFA's rule).
import type { Arch } from '../ofa/arch';
import type { Constraints, Objective } from '../protocol/values';
import { layoutCosts } from '../ofa/costs';
import { subnetLayout, type SubnetLayout } from '../ofa/layout';
import type { SearchSpace } from '../ofa/space';
import type { CostFunction } from './evolution';
import type { LatencyModel } from './latency';

export interface SubnetCosts {
  macs: number;
  params: number;
  /** Batch-1 forward latency in ms from the latency model (absent without one). */
  latencyMs?: number;
}

/** Per (resolution, width) the costs outside the searchable blocks, and per block slot × kernel × expand its own. */
interface CostSlice {
  fixed: { macs: number; params: number };
  /** [slot][kernelIndex][expandIndex] */
  block: { macs: number; params: number }[][][];
}

/**
 * What the search asks of any supernet's costs: each subnet's MACs, parameters and (with a latency model) latency, the
 * cost an objective trades against accuracy, and the constraints. Subclasses say how a subnet's costs are found.
 */
export abstract class CostModel {
  constructor(
    readonly space: SearchSpace,
    readonly latency?: LatencyModel,
  ) {}

  /** MACs, parameters and (with a latency model) latency of the arch's subnet. */
  abstract costs(arch: Arch): SubnetCosts;

  /** The cost the search trades against accuracy. */
  objectiveCost(costs: SubnetCosts, objective: Objective): number {
    if (objective === 'latency') {
      if (costs.latencyMs === undefined) throw new Error('internal: latency objective without a latency model');
      return costs.latencyMs;
    }
    return costs[objective];
  }

  /** Whether the costs meet every given constraint. */
  static meets(costs: SubnetCosts, c: Constraints): boolean {
    if (c.maxMacs !== undefined && costs.macs > c.maxMacs) return false;
    if (c.maxParams !== undefined && costs.params > c.maxParams) return false;
    if (c.maxLatencyMs !== undefined && (costs.latencyMs === undefined || costs.latencyMs > c.maxLatencyMs)) return false;
    return true;
  }

  /** The evolution's cost function for an objective under constraints. */
  costFunction(objective: Objective, constraints: Constraints): CostFunction<Arch> {
    if ((objective === 'latency' || constraints.maxLatencyMs !== undefined) && !this.latency) {
      throw new Error('internal: a latency objective or constraint needs a latency model');
    }
    return (arch: Arch) => {
      const costs = this.costs(arch);
      return { cost: this.objectiveCost(costs, objective), feasible: CostModel.meets(costs, constraints) };
    };
  }
}

/**
 * A supernet's costs from its own exact counts and (optionally) a fitted latency model, memoised per subnet (no
 * per-block tabulation: the evolution meets each distinct subnet once in the memo).
 */
export class CountedCosts extends CostModel {
  private readonly known = new Map<string, SubnetCosts>();

  constructor(
    space: SearchSpace,
    private readonly count: (arch: Arch) => { macs: number; params: number },
    latency?: LatencyModel,
  ) {
    super(space, latency);
  }

  costs(arch: Arch): SubnetCosts {
    const key = this.space.key(arch);
    let c = this.known.get(key);
    if (!c) {
      const { macs, params } = this.count(arch);
      c = { macs, params };
      if (this.latency) c.latencyMs = this.latency.estimate(arch);
      this.known.set(key, c);
    }
    return { ...c };
  }
}

/**
 * daemon/ofa's unit stack (stem, elastic MBConv units, head), its counts tabulated per block so the evolution can
 * cost tens of thousands of candidates.
 */
export class EfficiencyModel extends CostModel {
  private readonly slices = new Map<string, CostSlice>();

  constructor(
    space: SearchSpace,
    readonly inputChannels: number,
    readonly classes: number,
    latency?: LatencyModel,
  ) {
    super(space, latency);
  }

  /** MACs, parameters and (with a latency model) latency of the arch's subnet. */
  costs(arch: Arch): SubnetCosts {
    const slice = this.slice(arch.r, arch.w);
    const { space } = this;
    let macs = slice.fixed.macs;
    let params = slice.fixed.params;
    for (let u = 0; u < space.units; u++) {
      for (let i = 0; i < arch.d[u]; i++) {
        const slot = u * space.maxDepth + i;
        const c = slice.block[slot][space.kernel.indexOf(arch.ks[slot])][space.expand.indexOf(arch.e[slot])];
        macs += c.macs;
        params += c.params;
      }
    }
    const out: SubnetCosts = { macs, params };
    if (this.latency) out.latencyMs = this.latency.estimate(arch);
    return out;
  }

  /** The exact counts from the subnet's layout (slower; what the tables are built from and checked against). */
  exactCosts(arch: Arch): { macs: number; params: number } {
    return layoutCosts(subnetLayout(this.space, arch, this.inputChannels, this.classes));
  }

  private slice(r: number, w: number): CostSlice {
    const id = `${r}/${w}`;
    let s = this.slices.get(id);
    if (!s) {
      s = this.buildSlice(r, w);
      this.slices.set(id, s);
    }
    return s;
  }

  /**
   * A subnet's costs are a sum over its layers, and a block's layers depend only on its slot, kernel, expand ratio,
   * the resolution and the width (its input is the previous block's output width, which depth does not change).
   * So the counts of the uniform largest-depth archs, split by block, give every block variant exactly; the rest is
   * the fixed part. `costs` is tested against `exactCosts` on random archs.
   */
  private buildSlice(r: number, w: number): CostSlice {
    const { space } = this;
    const depth = space.depth[space.depth.length - 1];
    const uniform = (k: number, e: number): SubnetLayout =>
      subnetLayout(
        space,
        { ks: new Array<number>(space.blocks).fill(k), e: new Array<number>(space.blocks).fill(e), d: new Array<number>(space.units).fill(depth), r, w },
        this.inputChannels,
        this.classes,
      );
    const base = uniform(space.kernel[0], space.expand[0]);
    const searchable = (l: SubnetLayout) => l.blocks.filter((b) => b.unit >= 0);
    const fixed = layoutCosts({ ...base, blocks: base.blocks.filter((b) => b.unit < 0) });
    const block = Array.from({ length: space.blocks }, () => space.kernel.map(() => space.expand.map(() => ({ macs: 0, params: 0 }))));
    space.kernel.forEach((k, ki) => {
      space.expand.forEach((e, ei) => {
        const l = uniform(k, e);
        for (const b of searchable(l)) {
          const only = layoutCosts({ ...l, blocks: [b] });
          const none = layoutCosts({ ...l, blocks: [] });
          block[b.slot][ki][ei] = { macs: only.macs - none.macs, params: only.params - none.params };
        }
      });
    });
    return { fixed, block };
  }
}
