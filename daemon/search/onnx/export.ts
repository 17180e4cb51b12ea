// exportOnnx: the converter and the encoder together — a stock tfjs LayersModel in, ModelProto bytes out. Needs no
// ONNX Runtime: the bytes are written by MANTA's own protobuf writer.
import { tf } from '../../engine';
import { OnnxExportError, TfjsToOnnx } from './convert';
import { encodeModel, irVersionOf, type OnnxValueInfo } from './model-proto';

declare const MANTA_VERSION: string | undefined;

/** ONNX's default-domain opset the export targets unless told otherwise (ONNX 1.12; HardSwish needs ≥ 14). */
export const DEFAULT_OPSET = 17;
/** Opsets whose forms of every emitted operator are the same (Clip/Pad/Slice/Reshape take inputs; no ReduceMean). */
export const SUPPORTED_OPSETS: readonly number[] = [14, 15, 16, 17, 18, 19, 20, 21];
/** Image tensors are NCHW in the exported model (ONNX's convention); tfjs models are NHWC. */
export const INPUT_LAYOUT = 'NCHW';

export interface OnnxExportOptions {
  /** Default-domain opset, 14…21 (default 17). */
  opset?: number;
  docString?: string;
  /** Names of the graph outputs (default: the tfjs model's output layer names). */
  outputNames?: readonly string[];
  /** Extra metadata_props entries (string → string). */
  metadata?: Record<string, string>;
}

export interface OnnxExport {
  bytes: Uint8Array;
  opset: number;
  irVersion: number;
  /** Graph inputs and outputs with their ONNX dims (NCHW for images, 'N' the batch). */
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** How many nodes of each operator type the graph holds. */
  operators: Record<string, number>;
}

/** The model as ONNX, with what a reader of the exported folder needs to know about it. */
export function buildOnnx(model: tf.LayersModel, opts: OnnxExportOptions = {}): OnnxExport {
  const opset = opts.opset ?? DEFAULT_OPSET;
  const irVersion = irVersionOf(opset);
  if (!SUPPORTED_OPSETS.includes(opset) || irVersion === undefined) {
    throw new OnnxExportError(`ONNX export: opset ${opset} is not supported; use one of ${SUPPORTED_OPSETS.join(', ')} (default ${DEFAULT_OPSET})`);
  }
  const graph = new TfjsToOnnx(model).convert(opts.outputNames);
  const operators: Record<string, number> = {};
  for (const n of graph.nodes) operators[n.opType] = (operators[n.opType] ?? 0) + 1;
  const bytes = encodeModel({
    graph,
    opset,
    producerName: 'MANTA',
    producerVersion: typeof MANTA_VERSION === 'string' ? MANTA_VERSION : 'dev',
    docString: opts.docString,
    metadata: { input_layout: INPUT_LAYOUT, batch_norm: 'folded into the preceding convolutions', ...opts.metadata },
  });
  return { bytes, opset, irVersion, inputs: graph.inputs, outputs: graph.outputs, operators };
}

/** The serialized ONNX ModelProto of a stock tfjs LayersModel (the model stays the caller's). */
export function exportOnnx(model: tf.LayersModel, opts: OnnxExportOptions = {}): Uint8Array {
  return buildOnnx(model, opts).bytes;
}
