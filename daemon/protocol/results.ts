// results.json, typed once: what a finished run leaves for its user and what `manta/getRunResults` returns — the
// re-measured Pareto front, the predicted front, the measured subnets, the predictor's quality, the latency table's
// error, the search and training figures and every warning. Written by daemon/search/results.ts.
import type { BackendInfo, ParetoPoint, TaskPreview } from './events';
import type { Arch, Constraints, DerivedFrom, Objective, PhaseResult, PredictorStats } from './values';

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
  /**
   * Where the subnet comes from: the predictor's measured set, or the evolution's front re-measured (the front is the
   * Pareto set of every subnet measured in the run). Absent in results written before it was recorded.
   */
  source?: 'measured' | 'searched';
}

/** A point of the evolution's front re-measured (on the final front or beaten there by another measured subnet). */
export interface RemeasuredPoint extends MeasuredPoint {
  predictedAccuracy: number;
  validationLoss?: number;
  testAccuracy?: number;
  testLoss?: number;
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
  /** The searched points re-measured (validation and test); with `measured`, everything the front was chosen from. */
  remeasured?: RemeasuredPoint[];
  /** A derived run (search again, fine-tune): the run it was made from, without retraining. */
  derivedFrom?: DerivedFrom;
  predictor: PredictorStats;
  /**
   * How good the latency model is against directly timed subnets. `model`: a per-block lookup table (`tableEntries`
   * timed block variants) or a fit to whole timed subnets (`tableEntries` of them); absent means a table (format 1).
   * `runtime`: what the latencies are of (the engine's backend or 'onnxruntime', its device: CPU, threads, batch);
   * absent: the run's backend. `medianRelativeError`: the median of the subnets' relative errors.
   */
  latency?: {
    meanRelativeError: number;
    medianRelativeError?: number;
    samples: { estimatedMs: number; measuredMs: number }[];
    tableEntries: number;
    model?: 'table' | 'fitted';
    runtime?: BackendInfo;
  };
  search: { population: number; generations: number; candidatesScored: number; uniqueCandidates: number; wallMs: number; candidatesPerSec: number };
  training: { phases: PhaseResult[]; steps: number; wallMs: number };
  /** Simple methods measured on the test split with the task's metrics, to set the front against (stereo only). */
  baselines?: { name: string; metrics: Record<string, number> }[];
  warnings: string[];
  /** A fine-tuning run's (`manta finetune`): its one front entry is the fine-tuned subnet; this says before and after. */
  finetune?: FinetuneSummary;
}

/** A subnet measured with its batch norms recalibrated: the task's headline metric and loss on validation and test. */
export interface SubnetMeasurement {
  validationAccuracy: number;
  validationLoss: number;
  testAccuracy: number;
  testLoss: number;
}

/**
 * What a fine-tune distilled from: 'largest-phase' the frozen teacher the source run's checkpoint keeps (the supernet
 * at the end of its 'largest' phase, OFA's teacher); 'final-largest' the source run's trained largest subnet, frozen
 * (a checkpoint without a teacher); 'none' no distillation (kdRatio 0).
 */
export type FinetuneTeacher = 'largest-phase' | 'final-largest' | 'none';

/** How a subnet was fine-tuned and what it gained: written into the derived run's results.json. */
export interface FinetuneSummary {
  sourceRunId: string;
  /** The source run's front entry, when the subnet was one. */
  frontIndex?: number;
  arch: Arch;
  macs: number;
  params: number;
  /** The task's headline metric (what the `…Accuracy` fields hold) and its direction. */
  metric: string;
  higherIsBetter: boolean;
  settings: { epochs: number; learningRate: number; warmupEpochs: number; kdRatio: number; batchSize: number; steps: number; stepsPerEpoch: number; warmupSteps: number };
  teacher: FinetuneTeacher;
  /** The subnet as searched (the source run's supernet), measured as `after` is. */
  before: SubnetMeasurement;
  after: SubnetMeasurement;
  /** Milliseconds of the training loop alone, and of the fine-tune once its source was open (measuring before and
   * after, training, exporting). */
  trainWallMs: number;
  wallMs: number;
  /** The exported fine-tuned subnet, relative to the derived run's folder: tfjs model.json, and ONNX when written. */
  model: string;
  onnxModel?: string;
}

// ——— the headline metric as people read it ———
// One formatter for every place that shows `accuracy`/`validationAccuracy`/`testAccuracy`/`predictedAccuracy` (the
// CLI, the report, the status bar, the monitor): those fields hold the task's headline metric, which is a fraction for
// classification but pixels for stereo, so printing them all as percentages is wrong.

/** Metrics that are fractions of examples or pixels, shown as percentages. */
const RATE_METRICS: ReadonlySet<string> = new Set(['accuracy', 'd1', 'over1px', 'over3px']);

const METRIC_LABELS: Readonly<Record<string, string>> = {
  accuracy: 'top-1 accuracy',
  epe: 'end-point error (px)',
  d1: 'D1 outliers',
  over1px: '>1 px',
  over3px: '>3 px',
};

/** Whether a metric is a fraction shown as a percentage (chart axes scale it by 100). */
export function isRateMetric(metric: string): boolean {
  return RATE_METRICS.has(metric);
}

/** A metric's value for people: `91.2%` for rates, `1.234 px` for EPE, 4 significant digits otherwise, `–` if none. */
export function formatMetric(metric: string, value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (RATE_METRICS.has(metric)) return `${(value * 100).toFixed(1)}%`;
  if (metric === 'epe') return `${value.toFixed(3)} px`;
  return value.toPrecision(4);
}

/** A metric's name for headings and axes: 'top-1 accuracy', 'end-point error (px)', …; unknown ones as they are. */
export function metricLabel(metric: string): string {
  return METRIC_LABELS[metric] ?? metric;
}

/**
 * The headline metric of a task kind, for clients that know only `run.started`'s `task` (results.json's `task` says
 * it outright and wins). Mirrors each task's `metricInfo` (daemon/tasks/<task>/task.ts); unknown kinds read as
 * classification, the task that came first.
 */
export function taskMetric(kind: string | undefined): { metric: string; higherIsBetter: boolean } {
  return kind === 'stereo' ? { metric: 'epe', higherIsBetter: false } : { metric: 'accuracy', higherIsBetter: true };
}
