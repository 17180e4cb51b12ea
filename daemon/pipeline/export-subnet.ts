// `manta export <run> --arch <json|index>`: any subnet of a trained run as a stock tfjs model — the supernet from the
// run's newest checkpoint, batch norm recalibrated for the arch, validation accuracy measured, extracted and saved.
import { join, resolve } from 'node:path';
import type { Arch } from '../ofa/arch';
import { UserError } from '../protocol/user-error';
import { saveModel } from '../search/export';
import { readResults } from '../search/results';
import { evaluateSubnet } from '../train/evaluate';
import { RESULTS_FILE, SUBNETS_DIR } from './run-folder';
import { openRun } from './open-run';

export interface ExportedSubnet {
  arch: Arch;
  /** The model.json written. */
  modelPath: string;
  validationAccuracy: number;
  testAccuracy: number;
  macs: number;
  params: number;
}

export class ExportError extends UserError {
  constructor(message: string) {
    super(message, 'run.export');
  }
}

/**
 * Exports a subnet of the run in `runDir`: `which` is an arch, or the index of a point of the run's front
 * (results.json). Writes `<outDir>/model.json` + weights.bin (default outDir: runDir/subnets/<index> for a front
 * point, runDir/subnets/custom-<n> for an arch).
 */
export async function exportSubnet(runDir: string, which: Arch | number, opts: { outDir?: string; warn?: (m: string) => void } = {}): Promise<ExportedSubnet> {
  const dir = resolve(runDir);
  let arch: Arch;
  let defaultOut: string;
  if (typeof which === 'number') {
    const results = readResults(join(dir, RESULTS_FILE));
    const entry = results.front[which];
    if (!Number.isInteger(which) || !entry) {
      throw new ExportError(`the run's front has points 0…${results.front.length - 1}; --arch ${which} is not one of them`);
    }
    arch = entry.arch;
    defaultOut = join(dir, SUBNETS_DIR, String(which));
  } else {
    arch = which;
    defaultOut = join(dir, SUBNETS_DIR, `custom-${Date.now()}`);
  }
  const run = await openRun(dir, { warn: opts.warn });
  try {
    try {
      run.task.space.validate(arch);
    } catch (e) {
      throw new ExportError(`--arch does not fit this run's search space: ${(e as Error).message}`);
    }
    const base = { calibrationSize: run.config.training.bnCalibrationSize, batchSize: Math.max(run.config.training.batchSize, 100) };
    const validation = await evaluateSubnet(run.task, arch, { ...base, split: 'validation' });
    const test = await evaluateSubnet(run.task, arch, { ...base, split: 'test', recalibrate: false });
    const model = run.task.supernet.extractSubnet(arch);
    let modelPath: string;
    try {
      modelPath = await saveModel(model, opts.outDir ? resolve(opts.outDir) : defaultOut, {
        manta: run.task.exportMetadata(arch),
      });
    } finally {
      model.dispose();
    }
    return {
      arch,
      modelPath,
      validationAccuracy: validation.accuracy,
      testAccuracy: test.accuracy,
      macs: run.task.supernet.macs(arch),
      params: run.task.supernet.params(arch),
    };
  } finally {
    run.task.dispose();
  }
}
