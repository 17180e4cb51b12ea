// Agreement statistics between predicted and measured accuracies: how well the predictor ranks subnets (Kendall's
// tau, which is what the search relies on) with its confidence interval, and how far off its values are (RMSE).
import type { Rng } from '../engine/rng';

/**
 * Kendall's tau-b between two equally long lists: +1 same order, −1 reversed, 0 unrelated. Ties are handled as tau-b
 * does (pairs tied in one list count in neither numerator nor that list's normalizer). O(n²), which is fine for the
 * held-out sets of a predictor (hundreds to a few thousand). NaN when fewer than two pairs are untied in either list.
 */
export function kendallTau(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new Error(`kendallTau: lists differ in length (${n} vs ${b.length})`);
  let concordant = 0;
  let discordant = 0;
  let tiedA = 0; // pairs tied in a only
  let tiedB = 0; // pairs tied in b only
  for (let i = 0; i < n; i++) {
    const ai = a[i];
    const bi = b[i];
    for (let j = i + 1; j < n; j++) {
      const da = Math.sign(a[j] - ai);
      const db = Math.sign(b[j] - bi);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiedA++;
      else if (db === 0) tiedB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const untied = concordant + discordant;
  const denominator = Math.sqrt((untied + tiedA) * (untied + tiedB));
  return denominator === 0 ? NaN : (concordant - discordant) / denominator;
}

/** Root mean square of the differences. */
export function rmse(predicted: ArrayLike<number>, measured: ArrayLike<number>): number {
  const n = predicted.length;
  if (measured.length !== n) throw new Error(`rmse: lists differ in length (${n} vs ${measured.length})`);
  if (n === 0) return NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = predicted[i] - measured[i];
    sum += d * d;
  }
  return Math.sqrt(sum / n);
}

/** A confidence interval of Kendall's tau. */
export interface TauInterval {
  low: number;
  high: number;
  /** Its coverage, e.g. 0.95. */
  level: number;
  method: 'bootstrap';
}

/**
 * Percentile-bootstrap confidence interval of Kendall's tau-b between paired lists: the pairs are resampled with
 * replacement `resamples` times (seeded) and the interval is the central `level` of the resampled taus. It says how
 * far a tau measured on this few held-out subnets may be from the predictor's true rank quality. NaN bounds when
 * fewer than three pairs or when no resample gives a defined tau.
 */
export function kendallTauInterval(a: ArrayLike<number>, b: ArrayLike<number>, rng: Rng, opts: { resamples?: number; level?: number } = {}): TauInterval {
  const n = a.length;
  if (b.length !== n) throw new Error(`kendallTauInterval: lists differ in length (${n} vs ${b.length})`);
  const level = opts.level ?? 0.95;
  const resamples = opts.resamples ?? 1000;
  const taus: number[] = [];
  if (n >= 3) {
    const ra = new Float64Array(n);
    const rb = new Float64Array(n);
    for (let r = 0; r < resamples; r++) {
      for (let i = 0; i < n; i++) {
        const j = rng.int(n);
        ra[i] = a[j];
        rb[i] = b[j];
      }
      const t = kendallTau(ra, rb);
      if (!Number.isNaN(t)) taus.push(t);
    }
  }
  if (taus.length === 0) return { low: NaN, high: NaN, level, method: 'bootstrap' };
  taus.sort((x, y) => x - y);
  const at = (q: number): number => taus[Math.min(taus.length - 1, Math.max(0, Math.round(q * (taus.length - 1))))];
  return { low: at((1 - level) / 2), high: at(1 - (1 - level) / 2), level, method: 'bootstrap' };
}
