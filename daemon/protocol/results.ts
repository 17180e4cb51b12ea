// results.json, typed once: what a finished run leaves for its user and what `manta/getRunResults` returns — the
// re-measured Pareto front, the predicted front, the measured subnets, the predictor's quality, the latency table's
// error, the search and training figures and every warning. Written by daemon/search/results.ts.
import type { BackendInfo, ParetoPoint, TaskPreview } from './events';
import type { Arch, Constraints, Objective, PhaseResult, PredictorStats } from './values';

export interface FrontEntry extends ParetoPoint {
  /** Position in `front`; the exported model is subnets/<index>/model.json. */
  index: number;
  validationLoss?: number;
  testLoss?: number;
  /** Whether another re-measured point beats this one on measured validation accuracy and cost. */
  dominated: boolean;
  /** model.json relative to the run directory. */
  model?: string;
  /** The subnet's predictions on fixed validation examples (stereo: disparity pictures), where the task makes them. */
  preview?: TaskPreview;
}

export interface MeasuredPoint {
  arch: Arch;
  macs: number;
  params: number;
  latencyMs?: number;
  validationAccuracy: number;
}

export interface ResultsFile {
  format: 1;
  runId: string;
  name: string;
  finishedAt: string;
  wallMs: number;
  backend: BackendInfo;
  objective: Objective;
  constraints: Constraints;
  /**
   * How to feed an exported model, as the task describes it. Classification: resize to the arch's resolution r
   * (bilinear), NHWC floats (x/255 - mean) / std, `channels`, `classes`, `normalization`, `classNames`.
   */
  input: { channels?: number; classes?: number; normalization?: { mean: number[]; std: number[] }; classNames?: string[]; [detail: string]: unknown };
  /** The task and its headline metric (what `validationAccuracy`/`testAccuracy` hold) with its direction. */
  task?: { kind: string; metric: string; higherIsBetter: boolean };
  /** The re-measured front, by cost ascending. */
  front: FrontEntry[];
  /** The evolution's whole front (predicted accuracy only). */
  predictedFront: ParetoPoint[];
  /** The subnets measured to train the predictor. */
  measured: MeasuredPoint[];
  predictor: PredictorStats;
  latency?: { meanRelativeError: number; samples: { estimatedMs: number; measuredMs: number }[]; tableEntries: number };
  search: { population: number; generations: number; candidatesScored: number; uniqueCandidates: number; wallMs: number; candidatesPerSec: number };
  training: { phases: PhaseResult[]; steps: number; wallMs: number };
  warnings: string[];
}
