// results.json: what a run leaves for its user — the re-measured Pareto front (arch, MACs, params, latency,
// predicted and measured accuracy, where each exported model is), the predictor's quality, the latency table's
// error, the search and training figures and every warning. Plain JSON; the report and `manta export` read it.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Arch } from '../ofa/arch';
import type { BackendInfo, ParetoPoint } from '../protocol/events';
import { UserError } from '../protocol/user-error';
import type { Constraints, Objective, PhaseResult } from '../protocol/values';
import type { PredictorStats } from './predictor';

export interface FrontEntry extends ParetoPoint {
  /** Position in `front`; the exported model is subnets/<index>/model.json. */
  index: number;
  validationLoss?: number;
  testLoss?: number;
  /** Whether another re-measured point beats this one on measured validation accuracy and cost. */
  dominated: boolean;
  /** model.json relative to the run directory. */
  model?: string;
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

export function writeResults(file: string, results: ResultsFile): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(results, null, 2) + '\n');
  renameSync(tmp, file);
}

/** Reads a run's results.json; throws a one-line error naming the file when it is missing or not a results file. */
export function readResults(file: string): ResultsFile {
  let value: Partial<ResultsFile>;
  try {
    value = JSON.parse(readFileSync(file, 'utf8')) as Partial<ResultsFile>;
  } catch (e) {
    throw new ResultsError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the run has no results yet (it has not finished)' : (e as Error).message}`);
  }
  if (value.format !== 1 || !Array.isArray(value.front)) throw new ResultsError(`${file} is not a MANTA results file`);
  return value as ResultsFile;
}

export class ResultsError extends UserError {
  constructor(message: string) {
    super(message, 'run.results');
  }
}
