// An exported ONNX subnet on disk: model.onnx and a README.md saying what goes in and comes out.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { tf } from '../../engine';
import { buildOnnx, INPUT_LAYOUT, type OnnxExport, type OnnxExportOptions } from './export';
import type { OnnxValueInfo } from './model-proto';

export const ONNX_MODEL_FILE = 'model.onnx';
export const ONNX_README_FILE = 'README.md';

function dimsText(v: OnnxValueInfo): string {
  return `\`${v.name}\` float32 [${v.dims.join(', ')}]`;
}

function readme(exported: OnnxExport, notes: readonly string[]): string {
  const ops = Object.entries(exported.operators)
    .sort((a, b) => b[1] - a[1])
    .map(([op, n]) => `${op} ×${n}`)
    .join(', ');
  return [
    '# MANTA subnet (ONNX)',
    '',
    `\`${ONNX_MODEL_FILE}\`: ONNX opset ${exported.opset} (default domain), IR version ${exported.irVersion}, exported by MANTA from the`,
    'extracted subnet, without retraining.',
    '',
    `- Inputs (${INPUT_LAYOUT}, \`N\` the batch size): ${exported.inputs.map(dimsText).join('; ')}.`,
    `- Outputs: ${exported.outputs.map(dimsText).join('; ')}.`,
    '- Batch norm is folded into the preceding convolutions (W·γ/√(σ²+ε), β − μ·γ/√(σ²+ε)); dropout is removed;',
    '  h-swish and h-sigmoid are the standard HardSwish and HardSigmoid (α = 1/6, β = 0.5) operators.',
    ...notes.map((n) => `- ${n}`),
    `- Operators: ${ops}.`,
    '',
    'Run it with ONNX Runtime, e.g. in Node: `const s = await ort.InferenceSession.create(\'model.onnx\');',
    `await s.run({ ${exported.inputs.map((i) => `${i.name}: new ort.Tensor('float32', data, [${i.dims.map((d) => (typeof d === 'number' ? d : 1)).join(', ')}])`).join(', ')} })\`.`,
    '',
  ].join('\n');
}

/**
 * Writes `<dir>/model.onnx` and `<dir>/README.md` for `model`; `notes` are extra README lines (what the inputs' values
 * are, e.g. the normalisation). Returns the paths and the export's description.
 */
export function saveOnnxModel(
  model: tf.LayersModel,
  dir: string,
  opts: OnnxExportOptions & { notes?: readonly string[] } = {},
): { modelPath: string; files: string[]; exported: OnnxExport } {
  const exported = buildOnnx(model, opts);
  mkdirSync(dir, { recursive: true });
  const modelPath = join(dir, ONNX_MODEL_FILE);
  writeFileSync(modelPath, exported.bytes);
  writeFileSync(join(dir, ONNX_README_FILE), readme(exported, opts.notes ?? []));
  return { modelPath, files: [ONNX_MODEL_FILE, ONNX_README_FILE], exported };
}
