// Architectures as compact genomes for the evolution: one byte per choice (the index into the search space's choice
// list) instead of an Arch object, so that mutating, crossing, keying, costing and encoding a candidate costs well
// under a microsecond — the evolution handles tens of thousands of candidates per search. The operators follow the
// search space's (OFA's) exactly; Arch is used at the boundaries (toArch/fromArch), and the one-hot layout is the
// search space's `encode` (tested for equality).
import type { Rng } from '../engine/rng';
import type { Arch } from '../ofa/arch';
import type { SearchSpace } from '../ofa/space';

/** Gene layout: [kernel index × B][expand index × B][depth index × U][width index][resolution index]. */
export type Genome = Uint8Array;

export class ArchGenome {
  readonly length: number;
  private readonly B: number;
  private readonly U: number;
  private readonly eAt: number;
  private readonly dAt: number;
  private readonly wAt: number;
  private readonly rAt: number;
  /** Feature offsets of the one-hot groups (space.encode's layout). */
  private readonly fExpand: number;
  private readonly fDepth: number;
  private readonly fWidth: number;
  private readonly fRes: number;
  /** Scratch of `key` (reused: keys are built tens of thousands of times per search). */
  private readonly keyCodes: number[];

  constructor(readonly space: SearchSpace) {
    this.B = space.blocks;
    this.U = space.units;
    this.eAt = this.B;
    this.dAt = 2 * this.B;
    this.wAt = this.dAt + this.U;
    this.rAt = this.wAt + 1;
    this.length = this.rAt + 1;
    this.fExpand = this.B * space.kernel.length;
    this.fDepth = this.fExpand + this.B * space.expand.length;
    this.fWidth = this.fDepth + this.U * space.depth.length;
    this.fRes = this.fWidth + space.width.length;
    this.keyCodes = new Array<number>(this.length).fill(0);
    if (this.fRes + space.resolution.length !== space.featureLength) {
      throw new Error(`internal: genome feature layout (${this.fRes + space.resolution.length}) differs from SearchSpace.encode (${space.featureLength})`);
    }
    if (Math.max(space.kernel.length, space.expand.length, space.depth.length, space.width.length, space.resolution.length) > 255) {
      throw new Error('internal: a choice list longer than 255 does not fit a genome byte');
    }
  }

  fromArch(arch: Arch): Genome {
    const s = this.space;
    s.validate(arch);
    const g = new Uint8Array(this.length);
    for (let i = 0; i < this.B; i++) {
      g[i] = s.kernel.indexOf(arch.ks[i]);
      g[this.eAt + i] = s.expand.indexOf(arch.e[i]);
    }
    for (let u = 0; u < this.U; u++) g[this.dAt + u] = s.depth.indexOf(arch.d[u]);
    g[this.wAt] = s.width.indexOf(arch.w);
    g[this.rAt] = s.resolution.indexOf(arch.r);
    return g;
  }

  toArch(g: Genome): Arch {
    const s = this.space;
    const ks = new Array<number>(this.B);
    const e = new Array<number>(this.B);
    for (let i = 0; i < this.B; i++) {
      ks[i] = s.kernel[g[i]];
      e[i] = s.expand[g[this.eAt + i]];
    }
    const d = new Array<number>(this.U);
    for (let u = 0; u < this.U; u++) d[u] = s.depth[g[this.dAt + u]];
    return { ks, e, d, w: s.width[g[this.wAt]], r: s.resolution[g[this.rAt]] };
  }

  /** Uniform random choices (the search space's sample). */
  sample(rng: Rng): Genome {
    const s = this.space;
    const g = new Uint8Array(this.length);
    for (let i = 0; i < this.B; i++) g[i] = rng.int(s.kernel.length);
    for (let i = 0; i < this.B; i++) g[this.eAt + i] = rng.int(s.expand.length);
    for (let u = 0; u < this.U; u++) g[this.dAt + u] = rng.int(s.depth.length);
    g[this.wAt] = rng.int(s.width.length);
    g[this.rAt] = rng.int(s.resolution.length);
    return g;
  }

  smallest(): Genome {
    const g = new Uint8Array(this.length);
    return g;
  }

  largest(): Genome {
    const s = this.space;
    const g = new Uint8Array(this.length);
    g.fill(s.kernel.length - 1, 0, this.B);
    g.fill(s.expand.length - 1, this.eAt, this.dAt);
    g.fill(s.depth.length - 1, this.dAt, this.wAt);
    g[this.wAt] = s.width.length - 1;
    g[this.rAt] = s.resolution.length - 1;
    return g;
  }

  /**
   * SearchSpace.mutate on genes: each block slot redraws kernel and expand with probability `prob`, each unit its
   * depth, then the width and the resolution.
   */
  mutate(parent: Genome, rng: Rng, prob: number): Genome {
    return this.mutateWith(parent, rng, { arch: prob, resolution: prob });
  }

  /**
   * OFA's mutate_resolution then mutate_arch: the resolution redrawn with probability `probs.resolution`, then each
   * block slot's kernel and expand, each unit's depth and the width with probability `probs.arch`.
   */
  mutateWith(parent: Genome, rng: Rng, probs: { arch: number; resolution: number }): Genome {
    const s = this.space;
    const g = parent.slice();
    if (rng.next() < probs.resolution) g[this.rAt] = rng.int(s.resolution.length);
    const prob = probs.arch;
    for (let i = 0; i < this.B; i++) {
      if (rng.next() < prob) {
        g[i] = rng.int(s.kernel.length);
        g[this.eAt + i] = rng.int(s.expand.length);
      }
    }
    for (let u = 0; u < this.U; u++) if (rng.next() < prob) g[this.dAt + u] = rng.int(s.depth.length);
    if (rng.next() < prob) g[this.wAt] = rng.int(s.width.length);
    return g;
  }

  /** SearchSpace.crossover on genes: every entry from one parent or the other with equal chance. */
  crossover(a: Genome, b: Genome, rng: Rng): Genome {
    const g = new Uint8Array(this.length);
    for (let i = 0; i < this.length; i++) g[i] = rng.next() < 0.5 ? a[i] : b[i];
    return g;
  }

  private active(g: Genome, slot: number): boolean {
    const u = (slot / this.space.maxDepth) | 0;
    return slot - u * this.space.maxDepth < this.space.depth[g[this.dAt + u]];
  }

  /** Equal keys ⇔ the same subnet: the genes with inactive block slots blanked, as a string. */
  key(g: Genome): string {
    const c = this.keyCodes;
    const maxDepth = this.space.maxDepth;
    for (let i = 0; i < this.B; i++) {
      const active = i % maxDepth < this.space.depth[g[this.dAt + ((i / maxDepth) | 0)]];
      c[i] = active ? g[i] : 255;
      c[this.eAt + i] = active ? g[this.eAt + i] : 255;
    }
    for (let i = this.dAt; i < this.length; i++) c[i] = g[i];
    return String.fromCharCode.apply(null, c);
  }



  /** Appends the indices of the one-hot's set entries (SearchSpace.encode's layout) to `out`; returns how many. */
  features(g: Genome, out: number[]): number {
    const s = this.space;
    const K = s.kernel.length;
    const E = s.expand.length;
    let n = 0;
    for (let i = 0; i < this.B; i++) {
      if (!this.active(g, i)) continue;
      out.push(i * K + g[i], this.fExpand + i * E + g[this.eAt + i]);
      n += 2;
    }
    const D = s.depth.length;
    for (let u = 0; u < this.U; u++) out.push(this.fDepth + u * D + g[this.dAt + u]);
    out.push(this.fWidth + g[this.wAt], this.fRes + g[this.rAt]);
    return n + this.U + 2;
  }
}
