// A stock tfjs LayersModel (what ElasticSupernet.extractSubnet builds, for any task) as an ONNX graph. The converter
// walks the model's graph from its outputs back to its inputs, one stock layer at a time, and emits standard ONNX
// operators in NCHW (ONNX's convention, and what ONNX Runtime's CPU kernels take): a rank-4 tfjs tensor [N, H, W, C]
// is held as [N, C, H, W], rank-2 ones [N, F] as they are. Rewrites, all exact up to float rounding:
// - batch norm after a conv (Conv2D, DepthwiseConv2D, Conv2DTranspose) is folded into it: W' = W·γ/√(σ²+ε),
//   b' = (b − μ)·γ/√(σ²+ε) + β; a batch norm anywhere else becomes BatchNormalization;
// - a ZeroPadding2D feeding only a conv becomes that conv's pads; 'same' padding becomes the explicit pads tfjs
//   computes (the extra row/column at the end when the total is odd: stride 2 on an even input);
// - MANTA's composed h-sigmoid (rescaling +3 → relu6 → rescaling ×1/6) becomes HardSigmoid(α = 1/6, β = 0.5), and
//   x · h-sigmoid(x) becomes HardSwish (opset 14);
// - dropout is the identity at inference and disappears; a nested model (the stereo siamese trunk) is inlined once
//   per call, so the two views share weights by value.
// Anything else fails with OnnxExportError naming the layer, rather than export something that computes otherwise.
import { tf } from '../../engine';
import { UserError } from '../../protocol/user-error';
import type { OnnxAttribute, OnnxGraph, OnnxInitializer, OnnxNode, OnnxValueInfo } from './model-proto';

type Sym = tf.SymbolicTensor;
type Layer = tf.layers.Layer;
type LayerNode = Layer['inboundNodes'][number];

export class OnnxExportError extends UserError {
  constructor(message: string) {
    super(message, 'export.onnx');
  }
}

/** A converted tensor: its ONNX name and its tfjs shape (batch as -1; NHWC when rank 4, held NCHW in ONNX). */
interface Value {
  name: string;
  shape: number[];
}

/** One inlined (call of a) model: the ONNX values bound to its input tensors, and the tensors read outside it. */
interface Scope {
  key: string;
  prefix: string;
  bindings: Map<number, Value>;
  /** Ids of this model's output tensors: never folded into a consumer, since something outside reads them. */
  escaping: Set<number>;
}

/** What a tfjs conv layer carries, read from its config and weights (kernel in tfjs layout, bias or zeros). */
interface ConvParts {
  kind: 'conv' | 'depthwise' | 'transpose';
  /** The ONNX weight [out, in/group, kh, kw] (Conv) or [in, out, kh, kw] (ConvTranspose). */
  weight: Float32Array;
  weightDims: number[];
  bias: Float32Array;
  /** Output channels; for ConvTranspose the weight's axis 1, else axis 0. */
  outChannels: number;
  group: number;
  kernel: [number, number];
  strides: [number, number];
  dilations: [number, number];
}

const HSIGMOID_OFFSET = 3;
const HSIGMOID_SCALE = 1 / 6;

function sameFloat(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-7 * Math.max(1, Math.abs(b));
}

function pair(v: unknown, what: string, layer: Layer): [number, number] {
  const a = typeof v === 'number' ? [v, v] : (v as number[]);
  if (!Array.isArray(a) || a.length !== 2 || !a.every(Number.isInteger)) throw unsupported(layer, `its ${what} ${JSON.stringify(v)} is not a pair of integers`);
  return [a[0], a[1]];
}

function unsupported(layer: Layer, why: string): OnnxExportError {
  return new OnnxExportError(`ONNX export: layer "${layer.name}" (${layer.getClassName()}) cannot be converted: ${why}`);
}

function shapeOf(t: Sym): number[] {
  return t.shape.map((d) => d ?? -1);
}

/** The ONNX (NCHW for rank 4) dims of a tfjs shape, the batch as the symbolic 'N'. */
export function onnxDims(shape: readonly (number | null)[]): (number | string)[] {
  const dims: (number | string)[] = shape.map((d, i) => (i === 0 || d === null || d < 0 ? 'N' : d));
  return dims.length === 4 ? [dims[0], dims[3], dims[1], dims[2]] : dims;
}

/** The ONNX axis of a tfjs axis of a rank-`rank` tensor (NHWC → NCHW for rank 4). */
function onnxAxis(axis: number, rank: number, layer: Layer): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw unsupported(layer, `axis ${axis} of a rank-${rank} tensor`);
  return rank === 4 ? [0, 2, 3, 1][a] : a;
}

/** tfjs's 'same' padding of one spatial axis: the total split with the extra at the end (TF's convention). */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + effective - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

export class TfjsToOnnx {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxInitializer[] = [];
  private readonly names = new Set<string>();
  private readonly memo = new Map<string, Value>();
  private readonly scopes = new Map<string, Scope>();
  private readonly constants = new Map<string, string>();
  /** Weight initializers by the layers they come from: a nested model called twice shares them. */
  private readonly layerTensors = new Map<string, string>();
  private readonly graphInputs: OnnxValueInfo[] = [];
  private readonly graphInputValues = new Map<number, Value>();

  constructor(private readonly model: tf.LayersModel) {}

  /** The whole graph; graph outputs are renamed to `outputNames` (default: the model's output layer names). */
  convert(outputNames?: readonly string[]): OnnxGraph {
    const top: Scope = { key: 'top', prefix: '', bindings: new Map(), escaping: new Set(this.model.outputs.map((t) => t.id)) };
    const names = outputNames ?? this.model.outputNames;
    if (names.length !== this.model.outputs.length) throw new OnnxExportError(`ONNX export: ${names.length} output names given for ${this.model.outputs.length} outputs`);
    for (const [i, t] of this.model.inputs.entries()) this.graphInput(t, this.model.inputNames[i]);
    const outputs: OnnxValueInfo[] = [];
    for (const [i, t] of this.model.outputs.entries()) {
      const v = this.resolve(t, top);
      const producer = this.nodes.find((n) => n.outputs.includes(v.name));
      if (!producer || outputs.some((o) => o.name === v.name)) {
        // A graph output that is a graph input or another output's value: give it its own name.
        this.emit('Identity', [v.name], names[i]);
      } else {
        this.rename(v.name, names[i]);
      }
      outputs.push({ name: names[i], dims: onnxDims(v.shape) });
    }
    return { name: this.model.name, nodes: this.nodes, initializers: this.initializers, inputs: this.graphInputs, outputs };
  }

  // ——— the walk ———

  private graphInput(t: Sym, name: string): void {
    const shape = shapeOf(t);
    if (shape.length !== 4 && shape.length !== 2) throw new OnnxExportError(`ONNX export: input "${name}" has rank ${shape.length}; only images [N, H, W, C] and vectors [N, F] are supported`);
    this.names.add(name);
    const v = { name, shape };
    this.graphInputValues.set(t.id, v);
    this.graphInputs.push({ name, dims: onnxDims(shape) });
  }

  private resolve(t: Sym, scope: Scope): Value {
    const key = `${scope.key}:${t.id}`;
    const known = this.memo.get(key);
    if (known) return known;
    const v = this.convertTensor(t, scope);
    this.memo.set(key, v);
    return v;
  }

  private convertTensor(t: Sym, scope: Scope): Value {
    const layer = t.sourceLayer;
    const node = layer.inboundNodes[t.nodeIndex];
    if (layer instanceof tf.LayersModel) return this.inlineModel(layer, node, t, scope);
    if (layer.getClassName() === 'InputLayer') {
      const bound = scope.bindings.get(t.id) ?? (scope.key === 'top' ? this.graphInputValues.get(t.id) : undefined);
      if (!bound) throw new OnnxExportError(`ONNX export: input tensor of layer "${layer.name}" is not an input of the model`);
      return bound;
    }
    if (node.inputTensors.length === 0) throw unsupported(layer, 'it has no inputs');
    return this.convertLayer(layer, node, t, scope);
  }

  private inlineModel(inner: tf.LayersModel, node: LayerNode, t: Sym, outer: Scope): Value {
    const key = `${outer.key}/${inner.name}#${t.nodeIndex}`;
    let scope = this.scopes.get(key);
    if (!scope) {
      const bindings = new Map<number, Value>();
      inner.inputs.forEach((input, i) => bindings.set(input.id, this.resolve(node.inputTensors[i], outer)));
      scope = { key, prefix: `${outer.prefix}${inner.name}_${t.nodeIndex}/`, bindings, escaping: new Set(inner.outputs.map((o) => o.id)) };
      this.scopes.set(key, scope);
    }
    return this.resolve(inner.outputs[t.tensorIndex], scope);
  }

  /** The single input tensor of the node that made `t`. */
  private inputOf(t: Sym): Sym {
    return t.sourceLayer.inboundNodes[t.nodeIndex].inputTensors[0];
  }

  /** Whether `t` is read by exactly one layer call and by nothing outside its model, so a consumer may absorb it. */
  private foldable(t: Sym, scope: Scope): boolean {
    const layer = t.sourceLayer;
    return !(layer instanceof tf.LayersModel) && layer.inboundNodes.length === 1 && layer.outboundNodes.length === 1 && !scope.escaping.has(t.id);
  }

  /** x when `t` is MANTA's composed h-sigmoid of x (rescaling +3 → relu6 → rescaling ×1/6), each step foldable. */
  private hardSigmoidInput(t: Sym, scope: Scope): Sym | undefined {
    const isRescale = (s: Sym, scale: number, offset: number): boolean => {
      if (s.sourceLayer.getClassName() !== 'Rescaling') return false;
      const c = s.sourceLayer.getConfig() as { scale: number; offset: number };
      return sameFloat(c.scale, scale) && sameFloat(c.offset, offset);
    };
    const isRelu6 = (s: Sym): boolean => {
      const l = s.sourceLayer;
      const c = l.getConfig() as { activation?: string; maxValue?: number | null; threshold?: number; negativeSlope?: number };
      if (l.getClassName() === 'Activation') return c.activation === 'relu6';
      return l.getClassName() === 'ReLU' && c.maxValue === 6;
    };
    if (!isRescale(t, HSIGMOID_SCALE, 0)) return undefined;
    const clipped = this.inputOf(t);
    if (!isRelu6(clipped) || !this.foldable(clipped, scope)) return undefined;
    const shifted = this.inputOf(clipped);
    if (!isRescale(shifted, 1, HSIGMOID_OFFSET) || !this.foldable(shifted, scope)) return undefined;
    return this.inputOf(shifted);
  }

  // ——— layers ———

  private convertLayer(layer: Layer, node: LayerNode, t: Sym, scope: Scope): Value {
    const cls = layer.getClassName();
    const out = `${scope.prefix}${layer.name}`;
    const outShape = shapeOf(t);
    const inputs = node.inputTensors;
    const one = (): Value => this.resolve(inputs[0], scope);
    switch (cls) {
      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'Conv2DTranspose':
        return this.convLayer(t, scope, undefined, out);
      case 'BatchNormalization':
        return this.batchNorm(layer, t, scope, out);
      case 'Activation': {
        const c = layer.getConfig() as { activation: string };
        return this.activation(one(), c.activation, layer, out);
      }
      case 'ReLU': {
        const c = layer.getConfig() as { maxValue?: number | null };
        return c.maxValue === null || c.maxValue === undefined ? this.activation(one(), 'relu', layer, out) : this.clip(one(), 0, c.maxValue, out);
      }
      case 'Rescaling': {
        const x = this.hardSigmoidInput(t, scope);
        if (x) return { name: this.emit('HardSigmoid', [this.resolve(x, scope).name], out, { alpha: { kind: 'float', value: HSIGMOID_SCALE }, beta: { kind: 'float', value: 0.5 } }), shape: outShape };
        const c = layer.getConfig() as { scale: number; offset: number };
        let v = one();
        if (c.scale !== 1) v = { name: this.emit('Mul', [v.name, this.scalar(c.scale)], c.offset !== 0 ? `${out}_scale` : out), shape: outShape };
        if (c.offset !== 0) v = { name: this.emit('Add', [v.name, this.scalar(c.offset)], out), shape: outShape };
        return v;
      }
      case 'Multiply':
      case 'Add': {
        if (cls === 'Multiply' && inputs.length === 2) {
          for (const [a, b] of [[0, 1], [1, 0]]) {
            const x = this.hardSigmoidInput(inputs[b], scope);
            if (x && x.id === inputs[a].id && this.foldable(inputs[b], scope)) return { name: this.emit('HardSwish', [this.resolve(x, scope).name], out), shape: outShape };
          }
        }
        const values = inputs.map((i) => this.resolve(i, scope));
        const rank = outShape.length;
        if (values.some((v) => v.shape.length !== rank)) throw unsupported(layer, 'its inputs differ in rank (broadcasting across ranks differs between NHWC and NCHW)');
        const op = cls === 'Multiply' ? 'Mul' : 'Add';
        let acc = values[0].name;
        for (let i = 1; i < values.length; i++) acc = this.emit(op, [acc, values[i].name], i === values.length - 1 ? out : `${out}_${i}`);
        return { name: acc, shape: outShape };
      }
      case 'Concatenate': {
        const c = layer.getConfig() as { axis: number };
        const values = inputs.map((i) => this.resolve(i, scope));
        return { name: this.emit('Concat', values.map((v) => v.name), out, { axis: { kind: 'int', value: onnxAxis(c.axis, outShape.length, layer) } }), shape: outShape };
      }
      case 'GlobalAveragePooling2D': {
        const c = layer.getConfig() as { dataFormat?: string; keepDims?: boolean };
        if (c.dataFormat && c.dataFormat !== 'channelsLast') throw unsupported(layer, `dataFormat ${c.dataFormat}`);
        if (c.keepDims) return { name: this.emit('GlobalAveragePool', [one().name], out), shape: outShape };
        const pooled = this.emit('GlobalAveragePool', [one().name], `${out}_pool`);
        return { name: this.emit('Flatten', [pooled], out, { axis: { kind: 'int', value: 1 } }), shape: outShape };
      }
      case 'Dense':
        return this.dense(layer, one(), outShape, out);
      case 'Reshape':
      case 'Flatten':
        return this.reshape(layer, one(), outShape, out);
      case 'Dropout':
      case 'SpatialDropout1D':
      case 'AlphaDropout':
      case 'GaussianDropout':
      case 'GaussianNoise':
        // Identity at inference.
        return one();
      case 'ZeroPadding2D': {
        const c = layer.getConfig() as { padding: [[number, number], [number, number]]; dataFormat?: string };
        if (c.dataFormat && c.dataFormat !== 'channelsLast') throw unsupported(layer, `dataFormat ${c.dataFormat}`);
        const [[top, bottom], [left, right]] = c.padding;
        const pads = this.int64s(`${out}_pads`, [0, 0, top, left, 0, 0, bottom, right]);
        return { name: this.emit('Pad', [one().name, pads], out, { mode: { kind: 'string', value: 'constant' } }), shape: outShape };
      }
      case 'Cropping2D': {
        const c = layer.getConfig() as { cropping: [[number, number], [number, number]]; dataFormat?: string };
        if (c.dataFormat && c.dataFormat !== 'channelsLast') throw unsupported(layer, `dataFormat ${c.dataFormat}`);
        const x = one();
        const [[top, bottom], [left, right]] = c.cropping;
        const [h, w] = [x.shape[1], x.shape[2]];
        const starts = this.int64s(`${out}_starts`, [top, left]);
        const ends = this.int64s(`${out}_ends`, [h - bottom, w - right]);
        const axes = this.int64s(`${out}_axes`, [2, 3]);
        return { name: this.emit('Slice', [x.name, starts, ends, axes], out), shape: outShape };
      }
      default:
        throw unsupported(layer, `MANTA's ONNX export has no conversion for ${cls} layers`);
    }
  }

  private activation(x: Value, kind: string, layer: Layer, out: string): Value {
    const op = (type: string, attributes: Record<string, OnnxAttribute> = {}): Value => ({ name: this.emit(type, [x.name], out, attributes), shape: x.shape });
    switch (kind) {
      case 'linear':
        return x;
      case 'relu':
        return op('Relu');
      case 'relu6':
        return this.clip(x, 0, 6, out);
      case 'sigmoid':
        return op('Sigmoid');
      case 'tanh':
        return op('Tanh');
      case 'elu':
        return op('Elu');
      case 'hardSigmoid':
        // tfjs's hard sigmoid: clip(0.2·x + 0.5, 0, 1).
        return op('HardSigmoid', { alpha: { kind: 'float', value: 0.2 }, beta: { kind: 'float', value: 0.5 } });
      case 'softmax':
        return op('Softmax', { axis: { kind: 'int', value: x.shape.length === 4 ? 1 : -1 } });
      default:
        throw unsupported(layer, `activation '${kind}' has no conversion`);
    }
  }

  private clip(x: Value, min: number, max: number, out: string): Value {
    return { name: this.emit('Clip', [x.name, this.scalar(min), this.scalar(max)], out), shape: x.shape };
  }

  private batchNorm(layer: Layer, t: Sym, scope: Scope, out: string): Value {
    const c = layer.getConfig() as { axis: number | number[]; epsilon: number; center: boolean; scale: boolean };
    const rank = t.shape.length;
    const axis = Array.isArray(c.axis) ? c.axis : [c.axis];
    if (axis.length !== 1 || (axis[0] !== -1 && axis[0] !== rank - 1)) throw unsupported(layer, `it normalises axis ${JSON.stringify(c.axis)}; only the channel axis (-1) converts`);
    const w = layer.weights.map((v) => v.read().dataSync() as Float32Array);
    const channels = w[w.length - 1].length;
    const gamma = c.scale ? w[0] : new Float32Array(channels).fill(1);
    const beta = c.center ? w[c.scale ? 1 : 0] : new Float32Array(channels);
    const [mean, variance] = [w[w.length - 2], w[w.length - 1]];
    // y = x·k + (β − μ·k) with k = γ/√(σ²+ε), in float64 before rounding to float32.
    const k = Array.from(gamma, (g, i) => g / Math.sqrt(variance[i] + c.epsilon));
    const input = this.inputOf(t);
    const producer = input.sourceLayer.getClassName();
    if ((producer === 'Conv2D' || producer === 'DepthwiseConv2D' || producer === 'Conv2DTranspose') && this.foldable(input, scope)) {
      const activation = (input.sourceLayer.getConfig() as { activation?: string }).activation;
      if (activation === undefined || activation === 'linear') return this.convLayer(input, scope, { layer, k, shift: Array.from(beta, (b, i) => b - mean[i] * k[i]) }, out);
    }
    const x = this.resolve(input, scope);
    const params = [gamma, beta, mean, variance].map((p, i) => {
      const what = ['scale', 'bias', 'mean', 'var'][i];
      return this.layerTensor(`${layer.id}:${what}`, `${out}_${what}`, [channels], Float32Array.from(p));
    });
    return { name: this.emit('BatchNormalization', [x.name, ...params], out, { epsilon: { kind: 'float', value: c.epsilon } }), shape: x.shape };
  }

  private convParts(layer: Layer): ConvParts {
    const cls = layer.getClassName();
    const c = layer.getConfig() as { kernelSize: unknown; strides: unknown; dilationRate?: unknown; dataFormat?: string; useBias: boolean; depthMultiplier?: number };
    if (c.dataFormat && c.dataFormat !== 'channelsLast') throw unsupported(layer, `dataFormat ${c.dataFormat}`);
    const kernel = pair(c.kernelSize, 'kernel size', layer);
    const strides = pair(c.strides, 'strides', layer);
    const dilations = c.dilationRate === undefined ? ([1, 1] as [number, number]) : pair(c.dilationRate, 'dilation rate', layer);
    const k = layer.weights[0].read();
    const [kh, kw, a, b] = k.shape;
    const src = k.dataSync() as Float32Array;
    let weight: Float32Array;
    let weightDims: number[];
    let outChannels: number;
    let group = 1;
    if (cls === 'Conv2D') {
      // tfjs [kh, kw, in, out] → ONNX [out, in, kh, kw].
      outChannels = b;
      weightDims = [b, a, kh, kw];
      weight = new Float32Array(src.length);
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < a; i++) for (let o = 0; o < b; o++) weight[((o * a + i) * kh + y) * kw + x] = src[((y * kw + x) * a + i) * b + o];
    } else if (cls === 'DepthwiseConv2D') {
      // tfjs [kh, kw, in, multiplier] → ONNX [in·multiplier, 1, kh, kw], group = in; output channel i·multiplier + m.
      outChannels = a * b;
      group = a;
      weightDims = [a * b, 1, kh, kw];
      weight = new Float32Array(src.length);
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < a; i++) for (let m = 0; m < b; m++) weight[((i * b + m) * kh + y) * kw + x] = src[((y * kw + x) * a + i) * b + m];
    } else {
      // Conv2DTranspose: tfjs [kh, kw, out, in] → ONNX ConvTranspose [in, out, kh, kw].
      if (dilations[0] !== 1 || dilations[1] !== 1) throw unsupported(layer, 'dilated transposed convolution');
      outChannels = a;
      weightDims = [b, a, kh, kw];
      weight = new Float32Array(src.length);
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let o = 0; o < a; o++) for (let i = 0; i < b; i++) weight[((i * a + o) * kh + y) * kw + x] = src[((y * kw + x) * a + o) * b + i];
    }
    const bias = c.useBias ? Float32Array.from(layer.weights[1].read().dataSync() as Float32Array) : new Float32Array(outChannels);
    return { kind: cls === 'Conv2D' ? 'conv' : cls === 'DepthwiseConv2D' ? 'depthwise' : 'transpose', weight, weightDims, bias, outChannels, group, kernel, strides, dilations };
  }

  /** A conv layer's output `t`, optionally with a batch norm folded in (`bn`: per-channel k and shift) and named `out`. */
  private convLayer(t: Sym, scope: Scope, bn: { layer: Layer; k: number[]; shift: number[] } | undefined, out: string): Value {
    const layer = t.sourceLayer;
    const c = layer.getConfig() as { padding: string; activation?: string };
    const shareKey = `${layer.id}:${bn?.layer.id ?? ''}`;
    const p = this.convParts(layer);
    if (bn) {
      // Scale each output channel's weights; ConvTranspose keeps output channels on axis 1.
      const [d0, d1, kh, kw] = p.weightDims;
      const spatial = kh * kw;
      for (let i = 0; i < d0; i++) for (let j = 0; j < d1; j++) {
        const ch = p.kind === 'transpose' ? j : i;
        const base = (i * d1 + j) * spatial;
        for (let s = 0; s < spatial; s++) p.weight[base + s] = Math.fround(p.weight[base + s] * bn.k[ch]);
      }
      for (let ch = 0; ch < p.outChannels; ch++) p.bias[ch] = p.bias[ch] * bn.k[ch] + bn.shift[ch];
    }
    // The input, with a ZeroPadding2D before it absorbed into the pads.
    let input = this.inputOf(t);
    const pads = [0, 0, 0, 0]; // top, left, bottom, right
    if (p.kind !== 'transpose' && input.sourceLayer.getClassName() === 'ZeroPadding2D' && this.foldable(input, scope)) {
      const zc = input.sourceLayer.getConfig() as { padding: [[number, number], [number, number]]; dataFormat?: string };
      if (!zc.dataFormat || zc.dataFormat === 'channelsLast') {
        const [[top, bottom], [left, right]] = zc.padding;
        pads[0] += top;
        pads[1] += left;
        pads[2] += bottom;
        pads[3] += right;
        input = this.inputOf(input);
      }
    }
    const x = this.resolve(input, scope);
    const [h, w] = [x.shape[1] + pads[0] + pads[2], x.shape[2] + pads[1] + pads[3]];
    const outShape = shapeOf(t);
    const weightName = this.layerTensor(`${shareKey}:weight`, `${out}_weight`, p.weightDims, p.weight);
    const biasName = this.layerTensor(`${shareKey}:bias`, `${out}_bias`, [p.outChannels], p.bias);
    const attributes: Record<string, OnnxAttribute> = {
      kernel_shape: { kind: 'ints', value: p.kernel },
      strides: { kind: 'ints', value: p.strides },
    };
    let name: string;
    if (p.kind === 'transpose') {
      // The transposed conv is the gradient of a conv from the output size to the input size; its pads are that
      // conv's ('same': TF's split of max(k − s, 0), the extra at the end), and output_padding makes up the rest.
      const [ho, wo] = [outShape[1], outShape[2]];
      const padsOf = (size: number, outSize: number, k: number, s: number): [number, number] => {
        if (c.padding === 'valid') return [0, 0];
        if (c.padding !== 'same') throw unsupported(layer, `padding '${c.padding}'`);
        const total = Math.max((size - 1) * s + k - outSize, 0);
        return [Math.floor(total / 2), total - Math.floor(total / 2)];
      };
      const [pt, pb] = padsOf(x.shape[1], ho, p.kernel[0], p.strides[0]);
      const [pl, pr] = padsOf(x.shape[2], wo, p.kernel[1], p.strides[1]);
      const full = (size: number, k: number, s: number): number => s * (size - 1) + k;
      const outputPadding = [ho - (full(x.shape[1], p.kernel[0], p.strides[0]) - pt - pb), wo - (full(x.shape[2], p.kernel[1], p.strides[1]) - pl - pr)];
      if (outputPadding.some((o) => o < 0)) throw unsupported(layer, `output size ${ho}×${wo} is smaller than its pads allow`);
      attributes.pads = { kind: 'ints', value: [pt, pl, pb, pr] };
      if (outputPadding.some((o) => o > 0)) attributes.output_padding = { kind: 'ints', value: outputPadding };
      name = this.emit('ConvTranspose', [x.name, weightName, biasName], out, attributes);
    } else {
      if (c.padding === 'same') {
        const [st, sb] = samePads(h, p.kernel[0], p.strides[0], p.dilations[0]);
        const [sl, sr] = samePads(w, p.kernel[1], p.strides[1], p.dilations[1]);
        pads[0] += st;
        pads[1] += sl;
        pads[2] += sb;
        pads[3] += sr;
      } else if (c.padding !== 'valid') {
        throw unsupported(layer, `padding '${c.padding}'`);
      }
      attributes.pads = { kind: 'ints', value: pads };
      attributes.dilations = { kind: 'ints', value: p.dilations };
      attributes.group = { kind: 'int', value: p.group };
      name = this.emit('Conv', [x.name, weightName, biasName], out, attributes);
    }
    const activation = c.activation ?? 'linear';
    return activation === 'linear' ? { name, shape: outShape } : this.activation({ name, shape: outShape }, activation, layer, `${out}_act`);
  }

  private dense(layer: Layer, x: Value, outShape: number[], out: string): Value {
    if (x.shape.length !== 2) throw unsupported(layer, `its input has rank ${x.shape.length}; only [N, features] converts`);
    const c = layer.getConfig() as { useBias: boolean; activation?: string; units: number };
    const kernel = layer.weights[0].read();
    const weight = this.layerTensor(`${layer.id}:weight`, `${out}_weight`, kernel.shape, Float32Array.from(kernel.dataSync() as Float32Array));
    let name: string;
    if (c.useBias) {
      const bias = this.layerTensor(`${layer.id}:bias`, `${out}_bias`, [c.units], Float32Array.from(layer.weights[1].read().dataSync() as Float32Array));
      name = this.emit('Gemm', [x.name, weight, bias], out);
    } else {
      name = this.emit('MatMul', [x.name, weight], out);
    }
    const activation = c.activation ?? 'linear';
    return activation === 'linear' ? { name, shape: outShape } : this.activation({ name, shape: outShape }, activation, layer, `${out}_act`);
  }

  /**
   * Reshape and Flatten keep tfjs's element order (NHWC). Between a rank-4 value (NCHW in ONNX) and anything else the
   * data goes through NHWC — except when H·W = 1 or C = 1, where NHWC and NCHW order the elements alike (SE's gate).
   */
  private reshape(layer: Layer, x: Value, outShape: number[], out: string): Value {
    if (outShape.length !== 2 && outShape.length !== 4) throw unsupported(layer, `its output has rank ${outShape.length}; only ranks 2 and 4 convert`);
    const sameOrder = (s: number[]): boolean => s.length !== 4 || s[1] * s[2] === 1 || s[3] === 1;
    let input = x.name;
    if (x.shape.length === 4 && !sameOrder(x.shape)) input = this.emit('Transpose', [input], `${out}_nhwc`, { perm: { kind: 'ints', value: [0, 2, 3, 1] } });
    const direct = sameOrder(outShape);
    const target = outShape.length === 4 && direct ? [0, outShape[3], outShape[1], outShape[2]] : [0, ...outShape.slice(1)];
    const reshaped = this.emit('Reshape', [input, this.int64s(`${out}_shape`, target)], direct ? out : `${out}_reshape`);
    if (direct) return { name: reshaped, shape: outShape };
    return { name: this.emit('Transpose', [reshaped], out, { perm: { kind: 'ints', value: [0, 3, 1, 2] } }), shape: outShape };
  }

  // ——— graph building ———

  /** A fresh value name from `want` (made unique); returns it. */
  private fresh(want: string): string {
    const base = want.replace(/[^A-Za-z0-9_./-]/g, '_');
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }

  /** Appends a node with one output named after `out`; returns the output's name. */
  private emit(opType: string, inputs: string[], out: string, attributes: Record<string, OnnxAttribute> = {}): string {
    const output = this.fresh(out);
    this.nodes.push({ opType, name: output, inputs, outputs: [output], attributes });
    return output;
  }

  /** An initializer made once per (layer, what): a second call of the same layer reuses it. */
  private layerTensor(key: string, name: string, dims: readonly number[], data: Float32Array): string {
    let n = this.layerTensors.get(key);
    if (!n) {
      n = this.tensor(name, dims, data);
      this.layerTensors.set(key, n);
    }
    return n;
  }

  private tensor(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): string {
    const n = this.fresh(name);
    this.initializers.push({ name: n, dims, data });
    return n;
  }

  /** A shared float scalar constant. */
  private scalar(value: number): string {
    const key = `f:${Math.fround(value)}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.tensor(`const_${String(Math.fround(value)).replace(/[^0-9A-Za-z]/g, '_')}`, [], Float32Array.of(value));
      this.constants.set(key, name);
    }
    return name;
  }

  private int64s(name: string, values: readonly number[]): string {
    return this.tensor(name, [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  private rename(from: string, to: string): void {
    if (this.names.has(to) && from !== to) {
      throw new OnnxExportError(`ONNX export: output name "${to}" is already the name of a value in the graph; choose another`);
    }
    this.names.add(to);
    for (const n of this.nodes) {
      n.inputs = n.inputs.map((i) => (i === from ? to : i));
      n.outputs = n.outputs.map((o) => (o === from ? to : o));
    }
  }
}
