// `manta export <run> --arch <json|index> [--format tfjs|onnx]`: any subnet of a trained run as a stock tfjs model or
// as ONNX — the supernet from the run's newest checkpoint, batch norm recalibrated for the arch, validation accuracy
// measured, extracted and saved.
import { join, resolve } from 'node:path';
import type { Arch } from '../ofa/arch';
import type { ExportFormat } from '../protocol/methods';
import { UserError } from '../protocol/user-error';
import { MODEL_FILE, saveModel, WEIGHTS_FILE } from '../search/export';
import { saveOnnxModel } from '../search/onnx';
import { readResults } from '../search/results';
import { evaluateSubnet } from '../train/evaluate';
import { RESULTS_FILE, SUBNETS_DIR } from './run-folder';
import { openRun } from './open-run';

export interface ExportedSubnet {
  arch: Arch;
  format: ExportFormat;
  /** The model.json or model.onnx written. */
  modelPath: string;
  /** The files written, by name, in modelPath's folder. */
  files: string[];
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

/** The graph output of an exported ONNX model (the inputs keep the extracted model's names: image, or left/right). */
export const ONNX_OUTPUT_NAME = 'output';

/**
 * Exports a subnet of the run in `runDir`: `which` is an arch, or the index of a point of the run's front
 * (results.json). Writes `<outDir>/model.json` + weights.bin (format tfjs, the default) or `<outDir>/model.onnx` +
 * README.md (format onnx); default outDir: runDir/subnets/<index> for a front point, runDir/subnets/custom-<n> for an
 * arch.
 */
export async function exportSubnet(
  runDir: string,
  which: Arch | number,
  opts: { outDir?: string; format?: ExportFormat; warn?: (m: string) => void } = {},
): Promise<ExportedSubnet> {
  const format = opts.format ?? 'tfjs';
  if (format !== 'tfjs' && format !== 'onnx') throw new ExportError(`export format ${JSON.stringify(format)} is not one of tfjs, onnx`);
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
    const outDir = opts.outDir ? resolve(opts.outDir) : defaultOut;
    const metadata = run.task.exportMetadata(arch);
    let modelPath: string;
    let files: string[];
    try {
      if (format === 'onnx') {
        ({ modelPath, files } = saveOnnxModel(model, outDir, {
          outputNames: [ONNX_OUTPUT_NAME],
          docString: `MANTA subnet ${JSON.stringify(arch)}`,
          metadata: { manta: JSON.stringify(metadata) },
          notes: [`What the inputs hold and the output means (the run's task): ${JSON.stringify(run.task.inputDescription())}.`, `Arch: ${JSON.stringify(arch)}.`],
        }));
      } else {
        modelPath = await saveModel(model, outDir, { manta: metadata });
        files = [MODEL_FILE, WEIGHTS_FILE];
      }
    } finally {
      model.dispose();
    }
    return {
      arch,
      format,
      modelPath,
      files,
      validationAccuracy: validation.accuracy,
      testAccuracy: test.accuracy,
      macs: run.task.supernet.macs(arch),
      params: run.task.supernet.params(arch),
    };
  } finally {
    run.task.dispose();
  }
}
