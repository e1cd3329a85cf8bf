/**
 * Static QDQ quantization of an ultraface fp32 ONNX graph (BN folded, raw boxes): the ONNX protobuf is rewritten
 * so that every convolution reads QuantizeLinear → DequantizeLinear activations (uint8, asymmetric, one range per
 * tensor from calibration) and DequantizeLinear weights (int8, symmetric, per output channel) and int32 biases.
 * onnxruntime fuses these patterns at load into QLinearConv, QLinearAdd and QLinearConcat; ReLUs before a
 * quantize with zero point 0 disappear into the clamp. Softmax and everything after the heads stay float.
 */
import { UltrafaceError } from '../core/errors.js';
import { IMAGE_MEAN, IMAGE_STD } from '../core/presets.js';
import { readInitializers, type OnnxModel } from '../model/onnx/reader.js';
import { AttributeType, onnx, TensorDataType, toNumber, type OnnxTypes } from '../model/onnx/proto.js';
import type { ValueRange } from './ranges.js';
import { quantizeConv, roundHalfEven, type WeightQuantizeOptions } from './weights.js';

/** Which tensors get a QuantizeLinear/DequantizeLinear pair, worked out from the fp32 graph. */
export interface QuantizationPlan {
  /** The graph input. */
  readonly input: string;
  /** A quantized conv reads the input: it gets the preprocessing's own exact grid, (u8 − 127) / 128. */
  readonly inputQuantized: boolean;
  /** Activation tensors to calibrate and quantize, in graph order (the input excluded). */
  readonly activations: readonly string[];
  /** Tensors that must share one range: a Concat's inputs and output (QLinearConcat then only copies bytes). */
  readonly sharedRanges: readonly (readonly string[])[];
  /** Conv nodes, by output name, whose weights become int8. */
  readonly convs: readonly string[];
  /** Conv nodes, by output name, left in float. */
  readonly floatConvs: readonly string[];
}

export interface PlanOptions {
  /** Convs (by output name) to leave in float, e.g. the first one, whose int8 kernel is slower than float. */
  readonly floatConvs?: readonly string[];
}

type Node = OnnxTypes.INodeProto;

function graphOf(model: OnnxModel): OnnxTypes.GraphProto {
  return model.graph as OnnxTypes.GraphProto;
}

function inputsOf(node: Node): string[] {
  return node.input ?? [];
}
function outputOf(node: Node): string {
  return (node.output ?? [])[0] ?? '';
}

export function planQuantization(model: OnnxModel, options: PlanOptions = {}): QuantizationPlan {
  const graph = graphOf(model);
  const weights = new Set(graph.initializer.map((t) => t.name));
  const consumers = new Map<string, Node[]>();
  for (const node of graph.node) {
    for (const name of inputsOf(node)) consumers.set(name, [...(consumers.get(name) ?? []), node]);
  }
  const graphInput = graph.input.find((i) => !weights.has(i.name))?.name ?? '';
  const quantized = new Set<string>();
  /** A tensor, or the output of the ReLU that is its only consumer (the ReLU then folds into the clamp). */
  const afterRelu = (tensor: string): string => {
    const users = consumers.get(tensor) ?? [];
    return users.length === 1 && users[0].opType === 'Relu' ? outputOf(users[0]) : tensor;
  };
  const float = new Set(options.floatConvs ?? []);
  const isQuantizedConv = (node: Node): boolean => node.opType === 'Conv' && !float.has(outputOf(node));
  const convs: string[] = [];
  const floatConvs: string[] = [];
  for (const node of graph.node) {
    if (node.opType !== 'Conv') continue;
    if (!isQuantizedConv(node)) {
      floatConvs.push(outputOf(node)); // its output is quantized only if a quantized conv reads it (below)
      continue;
    }
    convs.push(outputOf(node));
    quantized.add(inputsOf(node)[0]);
    // Outputs are quantized even where float ops read them (the heads' Transpose/Reshape): the conv then fuses
    // into QLinearConv, and measured accuracy is the same as with float head outputs.
    quantized.add(afterRelu(outputOf(node)));
  }
  const sharedRanges: string[][] = [];
  for (const node of graph.node) {
    const ins = inputsOf(node);
    if ((node.opType === 'Add' || node.opType === 'Concat') && ins.every((t) => quantized.has(t))) {
      const output = afterRelu(outputOf(node));
      quantized.add(output);
      if (node.opType === 'Concat') sharedRanges.push([...ins, output]);
    }
  }
  // Graph order, so Q/DQ pairs can be emitted right after each producer.
  const activations: string[] = [];
  for (const node of graph.node) {
    for (const out of node.output ?? []) if (quantized.has(out)) activations.push(out);
  }
  return {
    input: graphInput,
    inputQuantized: quantized.has(graphInput),
    activations,
    sharedRanges,
    convs,
    floatConvs,
  };
}

/** The fp32 model with every planned activation also exposed as a graph output, for calibration. */
export function exposeActivations(model: OnnxModel, tensors: readonly string[]): Uint8Array {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = graphOf(copy);
  const existing = new Set(graph.output.map((o) => o.name));
  for (const name of tensors) {
    if (existing.has(name)) continue;
    graph.output.push(
      onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: TensorDataType.FLOAT } } }),
    );
  }
  return onnx.ModelProto.encode(copy).finish();
}

/** uint8 asymmetric parameters of a range (which contains 0): scale = (max − min) / 255, zero point −min / scale. */
export function activationParams(range: ValueRange): { scale: number; zeroPoint: number } {
  const span = range.max - range.min;
  if (!(span > 0)) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround(span / 255);
  const zeroPoint = Math.max(0, Math.min(255, roundHalfEven(-range.min / scale)));
  return { scale, zeroPoint };
}

/** The graph input's exact grid: every (u8 − 127) / 128 value is a uint8 step (SPEC §6.7). */
export const INPUT_PARAMS = Object.freeze({ scale: 1 / IMAGE_STD, zeroPoint: IMAGE_MEAN });

export interface QdqOptions extends WeightQuantizeOptions {
  /** Activation ranges by tensor name, for every tensor in `plan.activations`. */
  readonly ranges: ReadonlyMap<string, ValueRange>;
  /** Per-channel means of conv inputs (by tensor name) for bias correction; convs without one are not corrected. */
  readonly inputMeans?: ReadonlyMap<string, ArrayLike<number>>;
}

export interface QdqResult {
  readonly model: OnnxModel;
  /** Output channels whose weight scale was enlarged so their bias fits int32. */
  readonly adjustedChannels: number;
}

function tensor(
  name: string,
  dataType: number,
  dims: readonly number[],
  bytes: ArrayBufferView,
): OnnxTypes.TensorProto {
  const raw = new Uint8Array(bytes.byteLength);
  raw.set(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return onnx.TensorProto.create({ name, dataType, dims: [...dims], rawData: raw });
}

function node(opType: string, inputs: string[], output: string, axis?: number): OnnxTypes.NodeProto {
  return onnx.NodeProto.create({
    opType,
    input: inputs,
    output: [output],
    attribute: axis === undefined ? [] : [{ name: 'axis', type: AttributeType.INT, i: axis }],
  });
}

/**
 * Rewrites the fp32 model (decoded; it is modified in place and returned) into QDQ form following `plan`.
 * Conv weights and biases are replaced by their int8/int32 forms under the same initializer names, so no float
 * copy remains; scales are `<name>.scale`; bias scales are computed in the graph (s_in · s_w, folded by
 * onnxruntime at load) rather than stored.
 */
export function writeQdq(model: OnnxModel, plan: QuantizationPlan, options: QdqOptions): QdqResult {
  const graph = graphOf(model);
  const floats = readInitializers(model);
  const params = new Map<string, { scale: number; zeroPoint: number }>([[plan.input, INPUT_PARAMS]]);
  for (const name of plan.activations) {
    const range = options.ranges.get(name);
    if (!range) throw new Error(`writeQdq: no range for ${name}`);
    params.set(name, activationParams(range));
  }
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const added: OnnxTypes.ITensorProto[] = [];
  const nodes: OnnxTypes.INodeProto[] = [];

  // Generated names extend the tensor's own: `<t>.q` (uint8), `<t>.dq`, `<t>.scale`; zero points are shared
  // (`zero_point.<value>`). Conv weights and biases keep their state-dict names, now holding int8 and int32
  // values, with `<w>.scale`, `<b>.scale` (computed), `<w>.dq`, `<b>.dq`. (compactNames shortens them all.)
  const ids = new Set([...(plan.inputQuantized ? [plan.input] : []), ...plan.activations]);
  const quantizedConvs = new Set(plan.convs);
  const scaleOf = (t: string): string => `${t}.scale`;
  const dq = (t: string): string => `${t}.dq`;
  const zeroPoints = new Set<string>(); // shared between tensors: `zero_point.<value>`
  const emitQdq = (t: string): void => {
    const p = params.get(t)!;
    added.push(tensor(scaleOf(t), TensorDataType.FLOAT, [], Float32Array.of(p.scale)));
    // The zero point is always given, 0 too: onnxruntime's QDQ fusions do not match pairs without one.
    const zero = `zero_point.${p.zeroPoint}`;
    if (!zeroPoints.has(zero)) {
      zeroPoints.add(zero);
      added.push(tensor(zero, TensorDataType.UINT8, [], Uint8Array.of(p.zeroPoint)));
    }
    nodes.push(
      node('QuantizeLinear', [t, scaleOf(t), zero], `${t}.q`),
      node('DequantizeLinear', [`${t}.q`, scaleOf(t), zero], dq(t)),
    );
  };

  const rename = (t: string): string => (ids.has(t) ? dq(t) : t);
  let adjustedChannels = 0;
  if (plan.inputQuantized) emitQdq(plan.input);
  for (const n of graph.node) {
    const inputs = inputsOf(n);
    if (n.opType === 'Conv' && quantizedConvs.has(outputOf(n))) {
      const [x, w, b] = inputs;
      const weight = floats.get(w);
      const bias = floats.get(b);
      const xParams = params.get(x);
      if (!weight || !bias || !xParams) {
        throw new UltrafaceError(
          'E_MODEL_LOAD',
          `Expected a conv with float weights, a bias and a quantized input at ${outputOf(n)}`,
        );
      }
      const outChannels = weight.shape[0];
      const group = n.attribute?.find((a) => a.name === 'group');
      const means = options.inputMeans?.get(x);
      const q = quantizeConv(
        weight.data as Float32Array,
        bias.data as Float32Array,
        xParams.scale,
        {
          shape: weight.shape,
          groups: group ? toNumber(group.i) : 1,
          ...(means === undefined ? {} : { inputMeans: means }),
        },
        options,
      );
      adjustedChannels += q.adjustedChannels;
      const perChannel = q.weights.scales.length > 1;
      initializers.set(w, tensor(w, TensorDataType.INT8, weight.shape, q.weights.values));
      initializers.set(b, tensor(b, TensorDataType.INT32, [outChannels], q.bias));
      added.push(tensor(scaleOf(w), TensorDataType.FLOAT, perChannel ? [outChannels] : [], q.weights.scales));
      const axis = perChannel ? 0 : undefined;
      nodes.push(
        node('DequantizeLinear', [w, scaleOf(w)], dq(w), axis),
        node('Mul', [scaleOf(x), scaleOf(w)], scaleOf(b)),
        node('DequantizeLinear', [b, scaleOf(b)], dq(b), axis),
      );
      n.input = [rename(x), dq(w), dq(b)];
    } else {
      n.input = inputs.map(rename);
    }
    nodes.push(n);
    for (const out of n.output ?? []) if (ids.has(out)) emitQdq(out);
  }
  graph.node = nodes;
  graph.initializer = [...initializers.values(), ...added];
  graph.valueInfo = [];
  return { model, adjustedChannels };
}
