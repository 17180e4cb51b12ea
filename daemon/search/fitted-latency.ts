// A fitted latency model for supernets without daemon/ofa's unit stack (stereo), whose subnets do not decompose into
// block variants a lookup table could time: a few whole subnets are extracted and timed directly at batch 1 — the
// smallest, the largest and seeded random ones — and latency ≈ a + b·MACs (+ c·active blocks, when that predicts
// held-out subnets better) is fitted to them. Timings are cached per backend + version + device and the supernet's
// shape, so a resumed or second run of the same supernet times nothing.
import { readTimingCache, writeTimingCache } from './timing-cache';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { tf } from '../engine';
import { Rng } from '../engine/rng';
import type { Arch } from '../ofa/arch';
import type { SearchSpace } from '../ofa/space';
import type { BackendInfo } from '../protocol/events';
import { LatencyStoppedError, timeModel, type LatencyModel } from './latency';

/** Bump when the timing method or the sampled archs change, so old cache files are not reused. */
const FIT_VERSION = 1;
/** Fixed, not the run's seed: every run of the same supernet times the same subnets and so shares one cache file. */
const FIT_SEED = 0x1a7e;

/** What the fit needs of a supernet: its space, its stock-layers subnets and their MACs. */
export interface FittedLatencySubject {
  readonly space: SearchSpace;
  /** A standalone model of the subnet (the supernet's `extractSubnet`); the fit disposes it after timing. */
  build(arch: Arch): tf.LayersModel;
  macs(arch: Arch): number;
}

export interface FittedLatencyOptions {
  backend: BackendInfo;
  /**
   * What fixes the subnets' shapes besides the arch — the supernet config and the input size — as one string; the
   * cache file is per this key.
   */
  cacheKey: string;
  /** Directory of the cache files; none: time everything, cache nothing. */
  cacheDir?: string;
  /** Time every subnet again (the cache file is then rewritten). */
  refresh?: boolean;
  /** Subnets timed for the fit: the smallest, the largest and random ones (default 12; fewer if the space is smaller). */
  subnets?: number;
  /** Timed runs per subnet after warm-up; the lower quartile is kept (default 9, as the table). */
  repeats?: number;
  onProgress?: (done: number, total: number) => void;
  /** Stops between subnets (throws LatencyStoppedError; what was timed so far is cached). */
  signal?: AbortSignal;
}

export interface FittedSample {
  arch: Arch;
  macs: number;
  /** Active block slots (the sum of the unit depths). */
  blocks: number;
  measuredMs: number;
}

export interface FittedLatency extends LatencyModel {
  readonly backend: BackendInfo;
  /** ms ≈ intercept + perMegaMac·MACs/1e6 + perBlock·blocks, all ≥ 0 (perBlock is 0 when blocks did not help). */
  readonly coefficients: { intercept: number; perMegaMac: number; perBlock: number };
  /** The timed subnets the fit was made from. */
  readonly samples: readonly FittedSample[];
  /** Mean relative error of each timed subnet's estimate from a fit without it (leave-one-out). */
  readonly heldOutError: number;
  /** Subnets timed now (the rest came from the cache). */
  readonly timedNow: number;
  readonly cacheFile?: string;
}

function cachePath(cacheDir: string, backend: BackendInfo, key: string): string {
  const hash = createHash('sha256').update(`${FIT_VERSION}\n${backend.backend}\n${backend.version}\n${backend.device}\n${key}`).digest('hex').slice(0, 16);
  return join(cacheDir, `fitted-latency-${backend.backend.replace(/[^a-z0-9]/gi, '')}-${hash}.json`);
}

/** The smallest, the largest, then seeded random subnets, distinct as networks, up to `count`. */
export function fitArchs(space: SearchSpace, count: number): Arch[] {
  const out = new Map<string, Arch>();
  const add = (arch: Arch): void => {
    const c = space.canonical(arch);
    const k = space.key(c);
    if (!out.has(k)) out.set(k, c);
  };
  add(space.smallest());
  if (count > 1) add(space.largest());
  const rng = new Rng(FIT_SEED);
  // Bounded: a space with fewer distinct subnets than `count` ends the draw.
  for (let tries = 0; out.size < count && tries < count * 50; tries++) add(space.sample(rng));
  return [...out.values()];
}

// ——— the fit: weighted non-negative least squares, plain JS ———

/** Solves A x = b (n×n) by Gaussian elimination with partial pivoting; undefined when (near) singular. */
function solve(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  const scale = Math.max(1e-300, ...a.map((row) => Math.max(...row.map(Math.abs))));
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (Math.abs(m[p][c]) <= 1e-12 * scale) return undefined;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * x[k];
    x[r] = s / m[r][r];
  }
  return x;
}

/**
 * Least squares of y on the feature columns with weights 1/y² (so it minimises relative error, what is reported) and
 * every coefficient ≥ 0. With at most three columns the exact solution is found by trying every subset of them
 * unconstrained and keeping the best whose coefficients are all ≥ 0.
 */
function fitNonNegative(rows: readonly number[][], y: readonly number[]): number[] {
  const cols = rows[0]?.length ?? 0;
  const w = y.map((v) => 1 / Math.max(v, 1e-9) ** 2);
  let best = new Array<number>(cols).fill(0);
  let bestErr = Infinity;
  for (let mask = 1; mask < 1 << cols; mask++) {
    const use = Array.from({ length: cols }, (_, j) => j).filter((j) => mask & (1 << j));
    const ata = use.map((j) => use.map((k) => rows.reduce((s, r, i) => s + w[i] * r[j] * r[k], 0)));
    const aty = use.map((j) => rows.reduce((s, r, i) => s + w[i] * r[j] * y[i], 0));
    const x = solve(ata, aty);
    if (!x || x.some((v) => v < 0 || !Number.isFinite(v))) continue;
    const coef = new Array<number>(cols).fill(0);
    use.forEach((j, i) => (coef[j] = x[i]));
    const err = rows.reduce((s, r, i) => s + w[i] * (dot(coef, r) - y[i]) ** 2, 0);
    if (err < bestErr) {
      bestErr = err;
      best = coef;
    }
  }
  return best;
}

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);

/** Mean relative error of each sample predicted by a fit to the others. */
function leaveOneOutError(rows: readonly number[][], y: readonly number[]): number {
  if (y.length < 2) return NaN;
  let sum = 0;
  for (let i = 0; i < y.length; i++) {
    const coef = fitNonNegative(
      rows.filter((_, j) => j !== i),
      y.filter((_, j) => j !== i),
    );
    sum += Math.abs(dot(coef, rows[i]) - y[i]) / y[i];
  }
  return sum / y.length;
}

const activeBlocks = (arch: Arch): number => arch.d.reduce((s, d) => s + d, 0);

/**
 * Fits latency against MACs (and active blocks when they lower the held-out error) to timed samples. Exported for
 * tests; `buildFittedLatency` times the samples.
 */
export function fitLatency(samples: readonly Omit<FittedSample, 'arch'>[]): { coefficients: FittedLatency['coefficients']; heldOutError: number } {
  const y = samples.map((s) => s.measuredMs);
  const base = samples.map((s) => [1, s.macs / 1e6]);
  const withBlocks = samples.map((s) => [1, s.macs / 1e6, s.blocks]);
  const baseErr = leaveOneOutError(base, y);
  const blocksErr = leaveOneOutError(withBlocks, y);
  // The block term has to earn its place on subnets it was not fitted to (an extra term always fits the rest better).
  const useBlocks = blocksErr < baseErr;
  const coef = fitNonNegative(useBlocks ? withBlocks : base, y);
  return {
    coefficients: { intercept: coef[0] ?? 0, perMegaMac: coef[1] ?? 0, perBlock: useBlocks ? coef[2] : 0 },
    heldOutError: useBlocks ? blocksErr : baseErr,
  };
}

/** Times the fit's subnets (or reads them from the cache) and fits the latency model. */
export async function buildFittedLatency(subject: FittedLatencySubject, opts: FittedLatencyOptions): Promise<FittedLatency> {
  const { space } = subject;
  const repeats = opts.repeats ?? 9;
  const file = opts.cacheDir ? cachePath(opts.cacheDir, opts.backend, opts.cacheKey) : undefined;
  const entries: Record<string, number> = file && !opts.refresh ? readTimingCache(file, { version: FIT_VERSION, backend: opts.backend, key: opts.cacheKey }, (ms) => ms > 0) : {};
  const archs = fitArchs(space, Math.max(2, opts.subnets ?? 12));
  const needed = archs.filter((a) => !(space.key(a) in entries));

  let done = 0;
  const save = (): void => {
    if (!file || done === 0) return;
    mkdirSync(opts.cacheDir!, { recursive: true });
    writeTimingCache(file, { version: FIT_VERSION, backend: opts.backend, key: opts.cacheKey, entries });
  };
  for (const arch of needed) {
    if (opts.signal?.aborted) {
      save();
      throw new LatencyStoppedError('latency fit stopped');
    }
    const m = subject.build(arch);
    try {
      // The first model also pays the backend's one-time costs (kernel set-up, memory growth) past its own warm-up.
      if (done === 0) timeModel(m, 3);
      entries[space.key(arch)] = timeModel(m, repeats);
    } finally {
      m.dispose();
    }
    done++;
    opts.onProgress?.(done, needed.length);
    await new Promise((r) => setImmediate(r)); // whole subnets take a while: let telemetry and stop requests through
  }
  save();

  const samples: FittedSample[] = archs.map((arch) => ({ arch, macs: subject.macs(arch), blocks: activeBlocks(arch), measuredMs: entries[space.key(arch)] }));
  const { coefficients, heldOutError } = fitLatency(samples);
  const { intercept, perMegaMac, perBlock } = coefficients;
  return {
    backend: opts.backend,
    coefficients,
    samples,
    heldOutError,
    timedNow: needed.length,
    entries: samples.length,
    cacheFile: file,
    estimate(arch: Arch): number {
      return intercept + (perMegaMac * subject.macs(arch)) / 1e6 + perBlock * activeBlocks(arch);
    },
  };
}
