import { generatePriors, priorCount as priorCountOf } from '../../core/priors.js';
import { CENTER_VARIANCE, SIZE_VARIANCE, type InputSize, type NetVersion } from '../../core/presets.js';
import type { BatchNormNode, ConvNode, ModelGraph } from '../graph.js';
import type { WeightTensor, Weights } from '../weights.js';
import { AttributeType, onnx, TensorDataType, type OnnxTypes } from './proto.js';
import { MODEL_METADATA_KEY, type ModelMetadata } from './metadata.js';

export interface ExportOptions {
  /** Network input size; the exported graph is fixed to it (priors depend on it). */
  readonly inputSize: InputSize;
  /** Size the weights were trained at, recorded in the metadata (default: `inputSize`). */
  readonly trainedSize?: InputSize;
  /** Append softmax + box decoding so `boxes` are normalized corners (default true). Scores are always softmaxed. */
  readonly postprocess?: boolean;
  /** Fold BatchNorm into the preceding convolutions (default true): fewer nodes, same outputs. */
  readonly foldBatchNorm?: boolean;
  /** ONNX opset, ≥ 13 (default 17). */
  readonly opset?: number;
  /** Free-form producer note stored in the metadata (e.g. where the weights came from). */
  readonly source?: string;
}

export interface ExportableModel {
  readonly version: NetVersion;
  readonly graph: ModelGraph;
  readonly weights: Weights;
}

type Attribute = OnnxTypes.IAttributeProto;

const ints = (name: string, values: number[]): Attribute => ({
  name,
  type: AttributeType.INTS,
  ints: values,
});
const int = (name: string, value: number): Attribute => ({ name, type: AttributeType.INT, i: value });
const float = (name: string, value: number): Attribute => ({ name, type: AttributeType.FLOAT, f: value });

function floatTensor(name: string, dims: readonly number[], data: Float32Array): OnnxTypes.ITensorProto {
  // raw_data is little-endian; copy so the proto owns its bytes whatever the source buffer is.
  const raw = new Uint8Array(data.byteLength);
  new Float32Array(raw.buffer).set(data);
  return { name, dims: [...dims], dataType: TensorDataType.FLOAT, rawData: raw };
}

function int64Tensor(name: string, values: number[]): OnnxTypes.ITensorProto {
  return { name, dims: [values.length], dataType: TensorDataType.INT64, int64Data: values };
}

function valueInfo(name: string, dims: (number | string)[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: TensorDataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

function floatData(weights: Weights, name: string): Float32Array {
  const tensor: WeightTensor | undefined = weights.get(name);
  if (!tensor || !(tensor.data instanceof Float32Array))
    throw new Error(`exportOnnx: missing float tensor ${name}`);
  return tensor.data;
}

/**
 * Conv weights and bias with the following BatchNorm folded in:
 * w' = w · γ / √(σ² + ε), b' = (b − μ) · γ / √(σ² + ε) + β, computed in float64.
 */
function foldConvBn(
  conv: ConvNode,
  bn: BatchNormNode,
  weights: Weights,
): { weight: Float32Array; bias: Float32Array } {
  const w = floatData(weights, `${conv.name}.weight`);
  const b = conv.bias ? floatData(weights, `${conv.name}.bias`) : undefined;
  const gamma = floatData(weights, `${bn.name}.weight`);
  const beta = floatData(weights, `${bn.name}.bias`);
  const mean = floatData(weights, `${bn.name}.running_mean`);
  const variance = floatData(weights, `${bn.name}.running_var`);
  const perChannel = w.length / conv.outChannels;
  const weight = new Float32Array(w.length);
  const bias = new Float32Array(conv.outChannels);
  for (let c = 0; c < conv.outChannels; c++) {
    const scale = gamma[c] / Math.sqrt(variance[c] + bn.eps);
    for (let k = 0; k < perChannel; k++) weight[c * perChannel + k] = w[c * perChannel + k] * scale;
    bias[c] = ((b?.[c] ?? 0) - mean[c]) * scale + beta[c];
  }
  return { weight, bias };
}

/**
 * Writes the network with its weights as an ONNX model: input `input` [batch, 3, H, W]; outputs `scores`
 * [batch, P, C] (softmax) and `boxes` [batch, P, 4] (normalized corners, or raw regression without
 * post-processing — upstream's naming, SPEC §3). Weights are initializers only (never graph inputs: onnxruntime
 * would then skip constant folding and run ~2x slower).
 */
export function exportOnnx(model: ExportableModel, options: ExportOptions): Uint8Array {
  const { graph, weights } = model;
  const size = options.inputSize;
  const postprocess = options.postprocess ?? true;
  const foldBatchNorm = options.foldBatchNorm ?? true;
  const opset = options.opset ?? 17;
  if (!Number.isInteger(opset) || opset < 13) throw new RangeError(`exportOnnx: opset ${opset} < 13`);

  const nodes: OnnxTypes.INodeProto[] = [];
  const initializers: OnnxTypes.ITensorProto[] = [];
  const node = (
    opType: string,
    input: string[],
    output: string,
    name: string,
    attribute: Attribute[] = [],
  ): void => {
    nodes.push({ opType, input, output: [output], name, attribute });
  };
  const addFloat = (name: string, dims: readonly number[], data: Float32Array): string => {
    initializers.push(floatTensor(name, dims, data));
    return name;
  };
  const addParam = (name: string): string =>
    addFloat(name, weights.get(name)!.shape, floatData(weights, name));

  // With folding, a BN's output is renamed to its conv's output; `alias` maps graph tensor names to ONNX names.
  const alias = new Map<string, string>();
  const tensor = (name: string): string => alias.get(name) ?? name;
  const foldedInto = new Map<string, BatchNormNode>();
  if (foldBatchNorm) {
    for (const n of graph.nodes) {
      if (n.op !== 'batchnorm') continue;
      const producer = graph.nodes.find((c) => c.output === n.input);
      if (producer?.op !== 'conv') throw new Error(`exportOnnx: ${n.name} does not follow a conv`);
      foldedInto.set(producer.name, n);
      alias.set(n.output, producer.output);
    }
  }

  for (const n of graph.nodes) {
    switch (n.op) {
      case 'conv': {
        const attrs = [
          ints('kernel_shape', [n.kernel, n.kernel]),
          ints('strides', [n.stride, n.stride]),
          ints('pads', [n.padding, n.padding, n.padding, n.padding]),
          ints('dilations', [n.dilation, n.dilation]),
          int('group', n.groups),
        ];
        const bn = foldedInto.get(n.name);
        let inputs: string[];
        if (bn) {
          const folded = foldConvBn(n, bn, weights);
          const shape = weights.get(`${n.name}.weight`)!.shape;
          inputs = [
            addFloat(`${n.name}.weight`, shape, folded.weight),
            addFloat(`${n.name}.bias`, [n.outChannels], folded.bias),
          ];
        } else {
          inputs = [addParam(`${n.name}.weight`), ...(n.bias ? [addParam(`${n.name}.bias`)] : [])];
        }
        node('Conv', [tensor(n.input), ...inputs], n.output, n.name, attrs);
        break;
      }
      case 'batchnorm':
        if (foldBatchNorm) break;
        node(
          'BatchNormalization',
          [
            tensor(n.input),
            ...['weight', 'bias', 'running_mean', 'running_var'].map((s) => addParam(`${n.name}.${s}`)),
          ],
          n.output,
          n.name,
          [float('epsilon', n.eps), float('momentum', 1 - n.momentum)],
        );
        break;
      case 'relu':
        node('Relu', [tensor(n.input)], n.output, n.name);
        break;
      case 'add':
        node('Add', n.inputs.map(tensor), n.output, n.name);
        break;
      case 'concat':
        node('Concat', n.inputs.map(tensor), n.output, n.name, [int('axis', n.axis)]);
        break;
      case 'head_flatten': {
        // [N, A·K, H, W] → [N, H, W, A·K] → [N, H·W·A, K] (SPEC §2.5)
        node('Transpose', [tensor(n.input)], `${n.output}.nhwc`, `${n.name}.transpose`, [
          ints('perm', [0, 2, 3, 1]),
        ]);
        const shape = `${n.name}.shape`;
        initializers.push(int64Tensor(shape, [0, -1, n.valuesPerPrior]));
        node('Reshape', [`${n.output}.nhwc`, shape], n.output, `${n.name}.reshape`);
        break;
      }
    }
  }

  const { confidences, locations } = graph.outputs;
  node('Softmax', [tensor(confidences)], 'scores', 'scores', [int('axis', 2)]);
  if (postprocess) appendBoxDecoding(size, tensor(locations), node, addFloat, initializers);
  else node('Identity', [tensor(locations)], 'boxes', 'boxes');

  const priorCount = priorCountOf(size);
  const metadata: ModelMetadata = {
    format: 1,
    net: model.version,
    numClasses: graph.numClasses,
    inputSize: { width: size.width, height: size.height },
    trainedSize: { width: (options.trainedSize ?? size).width, height: (options.trainedSize ?? size).height },
    boxes: postprocess ? 'decoded' : 'raw',
    ...(options.source === undefined ? {} : { source: options.source }),
  };
  const proto: OnnxTypes.IModelProto = {
    irVersion: 8,
    producerName: 'ultraface',
    opsetImport: [{ domain: '', version: opset }],
    metadataProps: [{ key: MODEL_METADATA_KEY, value: JSON.stringify(metadata) }],
    graph: {
      name: `ultraface-${model.version}-${size.width}x${size.height}`,
      node: nodes,
      initializer: initializers,
      input: [valueInfo('input', ['batch', 3, size.height, size.width])],
      output: [
        valueInfo('scores', ['batch', priorCount, graph.numClasses]),
        valueInfo('boxes', ['batch', priorCount, 4]),
      ],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(proto)).finish();
}

/**
 * SSD decoding in the graph, op for op as upstream's export (SPEC §3 "Post-processing subgraph"):
 * cxcy = loc[..., :2] · 0.1 · prior_wh + prior_cxy; wh = exp(loc[..., 2:] · 0.2) · prior_wh;
 * boxes = concat(cxcy − wh / 2, cxcy + wh / 2).
 */
function appendBoxDecoding(
  size: InputSize,
  locations: string,
  node: (opType: string, input: string[], output: string, name: string, attribute?: Attribute[]) => void,
  addFloat: (name: string, dims: readonly number[], data: Float32Array) => string,
  initializers: OnnxTypes.ITensorProto[],
): void {
  const priors = generatePriors(size); // [P, 4] cx, cy, w, h
  const count = priors.length / 4;
  const centers = new Float32Array(count * 2);
  const sizes = new Float32Array(count * 2);
  for (let p = 0; p < count; p++) {
    centers.set(priors.subarray(p * 4, p * 4 + 2), p * 2);
    sizes.set(priors.subarray(p * 4 + 2, p * 4 + 4), p * 2);
  }
  const priorCxCy = addFloat('priors.cxcy', [1, count, 2], centers);
  const priorWh = addFloat('priors.wh', [1, count, 2], sizes);
  const scalar = (name: string, value: number): string => addFloat(name, [], Float32Array.of(value));
  const centerVariance = scalar('center_variance', CENTER_VARIANCE);
  const sizeVariance = scalar('size_variance', SIZE_VARIANCE);
  const two = scalar('two', 2);
  initializers.push(int64Tensor('slice.axes', [2]));

  node('Slice', [locations, 'slice.xy.starts', 'slice.xy.ends', 'slice.axes'], 'loc.xy', 'decode.slice_xy');
  node('Slice', [locations, 'slice.wh.starts', 'slice.wh.ends', 'slice.axes'], 'loc.wh', 'decode.slice_wh');
  initializers.push(
    int64Tensor('slice.xy.starts', [0]),
    int64Tensor('slice.xy.ends', [2]),
    int64Tensor('slice.wh.starts', [2]),
    int64Tensor('slice.wh.ends', [4]),
  );
  node('Mul', ['loc.xy', centerVariance], 'decode.xy_scaled', 'decode.xy_scale');
  node('Mul', ['decode.xy_scaled', priorWh], 'decode.xy_offset', 'decode.xy_offset');
  node('Add', ['decode.xy_offset', priorCxCy], 'decode.cxcy', 'decode.cxcy');
  node('Mul', ['loc.wh', sizeVariance], 'decode.wh_scaled', 'decode.wh_scale');
  node('Exp', ['decode.wh_scaled'], 'decode.wh_exp', 'decode.wh_exp');
  node('Mul', ['decode.wh_exp', priorWh], 'decode.wh', 'decode.wh');
  node('Div', ['decode.wh', two], 'decode.half_wh', 'decode.half_wh');
  node('Sub', ['decode.cxcy', 'decode.half_wh'], 'decode.x1y1', 'decode.x1y1');
  node('Add', ['decode.cxcy', 'decode.half_wh'], 'decode.x2y2', 'decode.x2y2');
  node('Concat', ['decode.x1y1', 'decode.x2y2'], 'boxes', 'boxes', [int('axis', 2)]);
}
