// The latency model per runtime and device: a few dozen whole subnets — the smallest, the largest and seeded random
// ones — are extracted and timed directly on the runtime (latency-runtime.ts), and latency ≈ intercept + Σ weight ·
// feature (latency.ts: layer calls, MACs by kind, elementwise volume) is fitted to them by non-negative least squares
// on relative error, keeping the features that predict held-out subnets best. Timings are cached per runtime,
// version, device (threads, batch) and supernet shape, so a resumed or second run of the same supernet times nothing.
import { readTimingCache, writeTimingCache } from './timing-cache';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../engine/rng';
import type { Arch } from '../ofa/arch';
import type { SearchSpace } from '../ofa/space';
import type { BackendInfo } from '../protocol/events';
import { scaledFeatures, timeArchs, type LatencyModel, type LatencySubject } from './latency';
import { TimingStoppedError, type TimingOptions, type TimingRuntime } from './latency-runtime';

/** Bump when the timing rule, the features or the sampled archs change, so old cache files are not reused. */
const FIT_VERSION = 4;
/** Fixed, not the run's seed: every run of the same supernet times the same subnets and so shares one cache file. */
const FIT_SEED = 0x1a7e;
/** Subnets timed for the fit unless told otherwise. */
export const DEFAULT_FIT_SUBNETS = 32;

export class LatencyStoppedError extends Error {
  override name = 'LatencyStoppedError';
}

export interface FittedLatencyOptions {
  /** Directory of the cache files; none: time everything, cache nothing. */
  cacheDir?: string;
  /** Time every subnet again (the cache file is then rewritten). */
  refresh?: boolean;
  /** Subnets timed for the fit: the smallest, the largest and random ones (default 32; fewer if the space is smaller). */
  subnets?: number;
  /** How the subnets are timed (rounds, runs, warm-up). */
  timing?: TimingOptions;
  onProgress?: (done: number, total: number) => void;
  /** Stops between subnets (throws LatencyStoppedError; nothing of the unfinished timing is cached). */
  signal?: AbortSignal;
}

export interface FittedSample {
  arch: Arch;
  /** The subject's features of the subnet, unscaled. */
  features: number[];
  measuredMs: number;
}

export interface LatencyFit {
  intercept: number;
  /** Weight per feature (by name; 0 for a feature the fit left out), per unit of its scaled value. */
  weights: Record<string, number>;
  /** The features kept (the rest did not predict held-out subnets better). */
  used: string[];
  /** Mean relative error of each timed subnet's estimate from a fit without it (leave-one-out). */
  heldOutError: number;
}

export interface FittedLatency extends LatencyModel {
  readonly fit: LatencyFit;
  /** The timed subnets the fit was made from. */
  readonly samples: readonly FittedSample[];
  /** Subnets timed now (the rest came from the cache). */
  readonly timedNow: number;
  readonly cacheFile?: string;
}

function cachePath(cacheDir: string, backend: BackendInfo, key: string): string {
  const hash = createHash('sha256').update(`${FIT_VERSION}\n${backend.backend}\n${backend.version}\n${backend.device}\n${key}`).digest('hex').slice(0, 16);
  return join(cacheDir, `latency-${backend.backend.replace(/[^a-z0-9]/gi, '')}-${hash}.json`);
}

/** The smallest, the largest, then seeded random subnets, distinct as networks, up to `count`. */
export function fitArchs(space: SearchSpace, count: number, seed = FIT_SEED): Arch[] {
  const out = new Map<string, Arch>();
  const add = (arch: Arch): void => {
    const c = space.canonical(arch);
    const k = space.key(c);
    if (!out.has(k)) out.set(k, c);
  };
  add(space.smallest());
  if (count > 1) add(space.largest());
  const rng = new Rng(seed);
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

const dot = (a: readonly number[], b: readonly number[]): number => a.reduce((s, v, i) => s + v * b[i], 0);

/**
 * Least squares of y on the columns with weights 1/y² (so it minimises relative error, what is reported) and every
 * coefficient ≥ 0 (a layer or a MAC never makes a network faster). With few columns the exact solution is found by
 * trying every subset of them unconstrained and keeping the best whose coefficients are all ≥ 0. Exported for tests.
 */
export function fitNonNegative(rows: readonly number[][], y: readonly number[]): number[] {
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

/**
 * Fits latency to timed samples: an intercept plus the subset of features with the lowest leave-one-out error (an
 * extra feature always fits the rest better; it has to earn its place on subnets it was not fitted to; a tie keeps
 * the fewer). Exported for tests; `buildFittedLatency` times the samples.
 */
export function fitLatency(featureNames: readonly string[], samples: readonly { features: readonly number[]; measuredMs: number }[]): LatencyFit {
  const y = samples.map((s) => s.measuredMs);
  const scaled = samples.map((s) => scaledFeatures(featureNames, s.features));
  let best: { used: number[]; err: number } | undefined;
  for (let mask = 0; mask < 1 << featureNames.length; mask++) {
    const used = featureNames.map((_, j) => j).filter((j) => mask & (1 << j));
    const rows = scaled.map((f) => [1, ...used.map((j) => f[j])]);
    const err = leaveOneOutError(rows, y);
    if (!best || err < best.err - 1e-9 || (Math.abs(err - best.err) <= 1e-9 && used.length < best.used.length) || Number.isNaN(best.err)) best = { used, err };
  }
  const used = best?.used ?? [];
  const coef = fitNonNegative(
    scaled.map((f) => [1, ...used.map((j) => f[j])]),
    y,
  );
  const weights: Record<string, number> = {};
  featureNames.forEach((name, j) => (weights[name] = used.includes(j) ? coef[1 + used.indexOf(j)] : 0));
  return { intercept: coef[0] ?? 0, weights, used: used.map((j) => featureNames[j]), heldOutError: best?.err ?? NaN };
}

/** The model of a fit over the subject's features. */
export function fittedModel(subject: LatencySubject, backend: BackendInfo, fit: LatencyFit, samples: readonly FittedSample[], extra: { timedNow: number; cacheFile?: string }): FittedLatency {
  const estimate = subject.linear(
    fit.intercept,
    subject.featureNames.map((n) => fit.weights[n] ?? 0),
  );
  return { backend, fit, samples, entries: samples.length, timedNow: extra.timedNow, cacheFile: extra.cacheFile, estimate };
}

/** Times the fit's subnets on the runtime (or reads them from the cache) and fits the latency model. */
export async function buildFittedLatency(subject: LatencySubject, runtime: TimingRuntime, opts: FittedLatencyOptions = {}): Promise<FittedLatency> {
  const { space } = subject;
  const backend = runtime.info;
  const file = opts.cacheDir ? cachePath(opts.cacheDir, backend, subject.cacheKey) : undefined;
  const entries: Record<string, number> = file && !opts.refresh ? readTimingCache(file, { version: FIT_VERSION, backend, key: subject.cacheKey }, (ms) => ms > 0) : {};
  const archs = fitArchs(space, Math.max(2, opts.subnets ?? DEFAULT_FIT_SUBNETS));
  const needed = archs.filter((a) => !(space.key(a) in entries));

  if (needed.length > 0) {
    let timed;
    try {
      timed = await timeArchs(runtime, (arch) => subject.build(arch), needed, { ...opts.timing, signal: opts.signal, onProgress: opts.onProgress });
    } catch (e) {
      if (e instanceof TimingStoppedError) throw new LatencyStoppedError('latency fit stopped');
      throw e;
    }
    needed.forEach((arch, i) => (entries[space.key(arch)] = timed[i].ms));
    if (file) {
      mkdirSync(opts.cacheDir!, { recursive: true });
      writeTimingCache(file, { version: FIT_VERSION, backend, key: subject.cacheKey, entries });
    }
  }

  const samples: FittedSample[] = archs.map((arch) => ({ arch, features: subject.features(arch), measuredMs: entries[space.key(arch)] }));
  const fit = fitLatency(subject.featureNames, samples);
  return fittedModel(subject, backend, fit, samples, { timedNow: needed.length, cacheFile: file });
}
