// The search space of the classification supernet: its choice lists and the operations on architectures that
// training and search need (sample, largest/smallest, mutate, crossover, one-hot encoding, key, validation).
// Architectures are plain JSON (arch.ts); every random choice goes through a seeded Rng.
import type { Rng } from '../engine/rng';
import type { SampleSpace } from '../protocol/values';
import type { ResolvedConfig } from '../../schemas';
import type { Arch } from './arch';
import { ArchError, SupernetConfigError } from './errors';

export type SupernetConfig = ResolvedConfig['supernet'];

type ChoiceField = keyof SampleSpace;

/** Which Arch field each choice list governs, for messages. */
const ARCH_FIELD: Record<ChoiceField, string> = { kernel: 'ks', expand: 'e', depth: 'd', width: 'w', resolution: 'r' };
const CONFIG_FIELD: Record<ChoiceField, string> = {
  kernel: 'kernelChoices',
  expand: 'expandChoices',
  depth: 'depthChoices',
  width: 'widthChoices',
  resolution: 'resolutionChoices',
};

function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export class SearchSpace {
  /** The choice lists, ascending. */
  readonly kernel: readonly number[];
  readonly expand: readonly number[];
  readonly depth: readonly number[];
  readonly width: readonly number[];
  readonly resolution: readonly number[];
  /** Searchable units (5 for the classification supernet). */
  readonly units: number;
  /** Block slots per unit: the largest depth choice. */
  readonly maxDepth: number;
  /** Block slots in all: units × maxDepth, the length of Arch.ks and Arch.e. */
  readonly blocks: number;

  constructor(readonly supernet: SupernetConfig) {
    this.kernel = ascending(supernet.kernelChoices);
    this.expand = ascending(supernet.expandChoices);
    this.depth = ascending(supernet.depthChoices);
    this.width = ascending(supernet.widthChoices);
    this.resolution = ascending(supernet.resolutionChoices);
    for (const k of this.kernel) {
      if (k % 2 !== 1) throw new SupernetConfigError(`supernet.kernelChoices has ${k}: kernel sizes must be odd`);
    }
    if (this.width[this.width.length - 1] !== 1) {
      throw new SupernetConfigError(`supernet.widthChoices must include 1 (the full width); it is [${this.width.join(', ')}]`);
    }
    this.units = supernet.units.length;
    this.maxDepth = this.depth[this.depth.length - 1];
    this.blocks = this.units * this.maxDepth;
  }

  /** Every choice list: what an unrestricted phase samples from. */
  choices(): SampleSpace {
    return {
      kernel: [...this.kernel],
      expand: [...this.expand],
      depth: [...this.depth],
      width: [...this.width],
      resolution: [...this.resolution],
    };
  }

  /** A random architecture; with `restrict`, each dimension is drawn from the phase's list (a subset of the choices). */
  sample(rng: Rng, restrict?: SampleSpace): Arch {
    const s = this.restriction(restrict);
    // Fixed draw order (all kernels, all expands, depths, width, resolution) keeps a seed's archs stable.
    const ks = Array.from({ length: this.blocks }, () => rng.pick(s.kernel));
    const e = Array.from({ length: this.blocks }, () => rng.pick(s.expand));
    const d = Array.from({ length: this.units }, () => rng.pick(s.depth));
    const w = rng.pick(s.width);
    const r = rng.pick(s.resolution);
    return { ks, e, d, r, w };
  }

  /** The largest architecture (of the restriction, when given). */
  largest(restrict?: SampleSpace): Arch {
    return this.uniform(this.restriction(restrict), (list) => list[list.length - 1]);
  }

  /** The smallest architecture (of the restriction, when given). */
  smallest(restrict?: SampleSpace): Arch {
    return this.uniform(this.restriction(restrict), (list) => list[0]);
  }

  /**
   * A mutated copy, as OFA's evolution mutates: each block slot redraws its kernel and expand ratio with probability
   * `prob`, each unit its depth, and the width and resolution likewise.
   */
  mutate(arch: Arch, rng: Rng, prob: number, restrict?: SampleSpace): Arch {
    this.validate(arch);
    const s = this.restriction(restrict);
    const out = copyArch(arch);
    for (let i = 0; i < this.blocks; i++) {
      if (rng.next() < prob) {
        out.ks[i] = rng.pick(s.kernel);
        out.e[i] = rng.pick(s.expand);
      }
    }
    for (let u = 0; u < this.units; u++) if (rng.next() < prob) out.d[u] = rng.pick(s.depth);
    if (rng.next() < prob) out.w = rng.pick(s.width);
    if (rng.next() < prob) out.r = rng.pick(s.resolution);
    return out;
  }

  /** A child taking every entry from one parent or the other with equal chance (OFA's crossover). */
  crossover(a: Arch, b: Arch, rng: Rng): Arch {
    this.validate(a);
    this.validate(b);
    const pick = (x: number, y: number): number => (rng.next() < 0.5 ? x : y);
    return {
      ks: a.ks.map((k, i) => pick(k, b.ks[i])),
      e: a.e.map((v, i) => pick(v, b.e[i])),
      d: a.d.map((v, i) => pick(v, b.d[i])),
      r: pick(a.r, b.r),
      w: pick(a.w, b.w),
    };
  }

  /** Whether block slot `slot` (unit-major) is inside its unit's depth. */
  isActive(arch: Arch, slot: number): boolean {
    return slot % this.maxDepth < arch.d[Math.floor(slot / this.maxDepth)];
  }

  /** The same network with the entries of inactive block slots set to the smallest choices. */
  canonical(arch: Arch): Arch {
    const out = copyArch(arch);
    for (let i = 0; i < this.blocks; i++) {
      if (!this.isActive(arch, i)) {
        out.ks[i] = this.kernel[0];
        out.e[i] = this.expand[0];
      }
    }
    return out;
  }

  /**
   * Length of `encode`'s vector. Layout (each group a one-hot over the ascending choice list):
   *   [0, B·|K|)                 kernel of block slot b at b·|K| (unit-major), all zero when the slot is inactive
   *   [B·|K|, B·(|K|+|E|))       expand ratio of block slot b, all zero when inactive
   *   next U·|D|                 depth of unit u
   *   next |W|                   width multiplier
   *   next |R|                   resolution
   * with B = units × maxDepth block slots and U units. Blocks and resolution follow OFA's MobileNetArchEncoder; the
   * depth and width groups make depth explicit and cover the width dimension OFA's MobileNet encoder lacks.
   */
  get featureLength(): number {
    const B = this.blocks;
    return B * this.kernel.length + B * this.expand.length + this.units * this.depth.length + this.width.length + this.resolution.length;
  }

  /** The one-hot encoding the accuracy predictor reads (layout: `featureLength`). */
  encode(arch: Arch): Float32Array {
    this.validate(arch);
    const f = new Float32Array(this.featureLength);
    const K = this.kernel.length;
    const E = this.expand.length;
    const eBase = this.blocks * K;
    const dBase = eBase + this.blocks * E;
    const wBase = dBase + this.units * this.depth.length;
    const rBase = wBase + this.width.length;
    for (let b = 0; b < this.blocks; b++) {
      if (!this.isActive(arch, b)) continue;
      f[b * K + this.kernel.indexOf(arch.ks[b])] = 1;
      f[eBase + b * E + this.expand.indexOf(arch.e[b])] = 1;
    }
    for (let u = 0; u < this.units; u++) f[dBase + u * this.depth.length + this.depth.indexOf(arch.d[u])] = 1;
    f[wBase + this.width.indexOf(arch.w)] = 1;
    f[rBase + this.resolution.indexOf(arch.r)] = 1;
    return f;
  }

  /** Inverse of `encode`; inactive block slots come back as the smallest choices (as `canonical` sets them). */
  decode(feature: ArrayLike<number>): Arch {
    if (feature.length !== this.featureLength) {
      throw new ArchError(`arch feature has ${feature.length} entries; this search space encodes ${this.featureLength}`);
    }
    const K = this.kernel.length;
    const E = this.expand.length;
    const eBase = this.blocks * K;
    const dBase = eBase + this.blocks * E;
    const wBase = dBase + this.units * this.depth.length;
    const rBase = wBase + this.width.length;
    const hot = (start: number, length: number, what: string, allowNone: boolean): number => {
      let found = -1;
      for (let i = 0; i < length; i++) {
        const v = feature[start + i];
        if (v === 1 && found === -1) found = i;
        else if (v !== 0) throw new ArchError(`arch feature group ${what} is not one-hot (entry ${start + i} is ${v})`);
      }
      if (found === -1 && !allowNone) throw new ArchError(`arch feature group ${what} has no entry set`);
      return found;
    };
    const d = Array.from({ length: this.units }, (_, u) => this.depth[hot(dBase + u * this.depth.length, this.depth.length, `depth[${u}]`, false)]);
    const ks: number[] = [];
    const e: number[] = [];
    for (let b = 0; b < this.blocks; b++) {
      const active = b % this.maxDepth < d[Math.floor(b / this.maxDepth)];
      const ki = hot(b * K, K, `ks[${b}]`, !active);
      const ei = hot(eBase + b * E, E, `e[${b}]`, !active);
      if (!active && (ki !== -1 || ei !== -1)) throw new ArchError(`arch feature sets block slot ${b}, which its unit's depth leaves out`);
      ks.push(active ? this.kernel[ki] : this.kernel[0]);
      e.push(active ? this.expand[ei] : this.expand[0]);
    }
    const w = this.width[hot(wBase, this.width.length, 'w', false)];
    const r = this.resolution[hot(rBase, this.resolution.length, 'r', false)];
    return { ks, e, d, r, w };
  }

  /**
   * A stable string naming the network an arch denotes: equal keys mean the same subnet (entries of inactive block
   * slots are left out). Format: `r32-w1-` then per unit its active blocks as `k<kernel>e<expand>` joined by '.',
   * units joined by '_'.
   */
  key(arch: Arch): string {
    this.validate(arch);
    const units: string[] = [];
    for (let u = 0; u < this.units; u++) {
      const blocks: string[] = [];
      for (let i = 0; i < arch.d[u]; i++) {
        const slot = u * this.maxDepth + i;
        blocks.push(`k${arch.ks[slot]}e${arch.e[slot]}`);
      }
      units.push(blocks.join('.'));
    }
    return `r${arch.r}-w${arch.w}-${units.join('_')}`;
  }

  /** Throws an ArchError naming the first field that does not fit this search space. */
  validate(arch: Arch): void {
    if (typeof arch !== 'object' || arch === null) throw new ArchError('arch must be an object {ks, e, d, r, w}');
    this.checkList(arch.ks, 'ks', this.blocks, this.kernel, 'kernel');
    this.checkList(arch.e, 'e', this.blocks, this.expand, 'expand');
    this.checkList(arch.d, 'd', this.units, this.depth, 'depth');
    this.checkValue(arch.r, 'arch.r', this.resolution, 'resolution');
    this.checkValue(arch.w, 'arch.w', this.width, 'width');
  }

  private checkList(list: unknown, field: string, length: number, choices: readonly number[], what: ChoiceField): void {
    if (!Array.isArray(list)) throw new ArchError(`arch.${field} must be a list of ${length} numbers`);
    if (list.length !== length) {
      throw new ArchError(`arch.${field} has ${list.length} entries; this search space has ${length} (${field === 'd' ? 'units' : 'units × maxDepth block slots'})`);
    }
    list.forEach((v: unknown, i) => this.checkValue(v, `arch.${field}[${i}]`, choices, what));
  }

  private checkValue(v: unknown, where: string, choices: readonly number[], what: ChoiceField): void {
    if (typeof v !== 'number' || !choices.includes(v)) {
      throw new ArchError(`${where} is ${JSON.stringify(v)}; choose one of supernet.${CONFIG_FIELD[what]} [${choices.join(', ')}]`);
    }
  }

  /** The lists to draw from: the restriction after checking it is a non-empty subset of the choices. */
  private restriction(restrict?: SampleSpace): SampleSpace {
    if (!restrict) return this.choices();
    const out = {} as SampleSpace;
    for (const field of Object.keys(ARCH_FIELD) as ChoiceField[]) {
      const list = restrict[field];
      const allowed = this[field];
      if (!Array.isArray(list) || list.length === 0) {
        throw new SupernetConfigError(`the phase's ${field} list is empty; give at least one of supernet.${CONFIG_FIELD[field]} [${allowed.join(', ')}]`);
      }
      for (const v of list) {
        if (!allowed.includes(v)) {
          throw new SupernetConfigError(`the phase's ${field} list has ${v}, which is not in supernet.${CONFIG_FIELD[field]} [${allowed.join(', ')}]`);
        }
      }
      out[field] = ascending(list);
    }
    return out;
  }

  private uniform(s: SampleSpace, choose: (list: number[]) => number): Arch {
    return {
      ks: new Array<number>(this.blocks).fill(choose(s.kernel)),
      e: new Array<number>(this.blocks).fill(choose(s.expand)),
      d: new Array<number>(this.units).fill(choose(s.depth)),
      w: choose(s.width),
      r: choose(s.resolution),
    };
  }
}

export function copyArch(arch: Arch): Arch {
  return { ks: [...arch.ks], e: [...arch.e], d: [...arch.d], r: arch.r, w: arch.w };
}
