// The ONNX graph the converter builds, as plain data, and its encoding as a ModelProto (onnx/onnx.proto field numbers).
import { ProtoMessage } from './protobuf';

/** TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;

export type OnnxAttribute =
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string };

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

/** A graph input or output: float32, each dimension a size or a symbolic name ('N' for the batch). */
export interface OnnxValueInfo {
  name: string;
  dims: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  opset: number;
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadata: Record<string, string>;
}

/** The IR version each default-domain opset was released with (onnx/docs/Versioning.md), 14 … 21. */
const IR_VERSION_OF_OPSET: Record<number, number> = { 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

export function irVersionOf(opset: number): number | undefined {
  return IR_VERSION_OF_OPSET[opset];
}

/** AttributeProto.AttributeType values. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

function attributeProto(name: string, a: OnnxAttribute): ProtoMessage {
  const m = new ProtoMessage().string(1, name);
  switch (a.kind) {
    case 'float':
      return m.float(2, a.value).varint(20, ATTR_FLOAT);
    case 'int':
      return m.varint(3, a.value).varint(20, ATTR_INT);
    case 'string':
      return m.string(4, a.value).varint(20, ATTR_STRING);
    case 'ints':
      return m.packedVarints(8, a.value).varint(20, ATTR_INTS);
  }
}

function nodeProto(n: OnnxNode): ProtoMessage {
  const m = new ProtoMessage();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  m.string(3, n.name).string(4, n.opType);
  for (const [k, a] of Object.entries(n.attributes)) m.message(5, attributeProto(k, a));
  return m;
}

function tensorProto(t: OnnxInitializer): ProtoMessage {
  const m = new ProtoMessage().packedVarints(1, t.dims);
  // raw_data is little-endian by the spec, whatever the host.
  let raw: Uint8Array;
  if (t.data instanceof Float32Array) {
    m.varint(2, ONNX_FLOAT);
    raw = new Uint8Array(t.data.length * 4);
    const view = new DataView(raw.buffer);
    t.data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  } else {
    m.varint(2, ONNX_INT64);
    raw = new Uint8Array(t.data.length * 8);
    const view = new DataView(raw.buffer);
    t.data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  }
  return m.string(8, t.name).bytes(9, raw);
}

function valueInfoProto(v: OnnxValueInfo): ProtoMessage {
  const shape = new ProtoMessage();
  for (const d of v.dims) shape.message(1, typeof d === 'number' ? new ProtoMessage().varint(1, d) : new ProtoMessage().string(2, d));
  const tensorType = new ProtoMessage().varint(1, ONNX_FLOAT).message(2, shape);
  return new ProtoMessage().string(1, v.name).message(2, new ProtoMessage().message(1, tensorType));
}

function graphProto(g: OnnxGraph): ProtoMessage {
  const m = new ProtoMessage();
  for (const n of g.nodes) m.message(1, nodeProto(n));
  m.string(2, g.name);
  for (const t of g.initializers) m.message(5, tensorProto(t));
  for (const i of g.inputs) m.message(11, valueInfoProto(i));
  for (const o of g.outputs) m.message(12, valueInfoProto(o));
  return m;
}

/** The serialized ModelProto (what a model.onnx file holds). */
export function encodeModel(model: OnnxModel): Uint8Array {
  const ir = irVersionOf(model.opset);
  if (ir === undefined) throw new Error(`internal: no IR version known for opset ${model.opset}`);
  const m = new ProtoMessage()
    .varint(1, ir)
    .string(2, model.producerName)
    .string(3, model.producerVersion)
    .message(7, graphProto(model.graph))
    .message(8, new ProtoMessage().string(1, '').varint(2, model.opset));
  if (model.docString) m.string(6, model.docString);
  for (const [key, value] of Object.entries(model.metadata)) m.message(14, new ProtoMessage().string(1, key).string(2, value));
  return m.finish();
}
