// results.json: what a run leaves for its user — the re-measured Pareto front (arch, MACs, params, latency,
// predicted and measured accuracy, where each exported model is), the predictor's quality, the latency table's
// error, the search and training figures and every warning. Plain JSON; the report and `manta export` read it.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { UserError } from '../protocol/user-error';
import type { ResultsFile } from '../protocol/results';

export type { FrontEntry, MeasuredPoint, RemeasuredPoint, ResultsFile } from '../protocol/results';

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
