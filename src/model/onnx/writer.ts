import { CENTER_VARIANCE, SIZE_VARIANCE, type InputSize, type NetVersion } from '../../core/presets.js';
import { generatePriors } from '../../core/priors.js';
import { convBatchNormPairs, type BatchNormNode, type ConvNode, type ModelGraph } from '../graph.js';
import { inferShapes } from '../shapes.js';
import type { Weights } from '../weights.js';
import { OnnxGraphBuilder } from './builder.js';
import { MODEL_METADATA_KEY, type ModelMetadata } from './metadata.js';

export interface ExportOptions {
  /** Network input size; the exported graph is fixed to it (priors depend on it). */
  readonly inputSize: InputSize;
  /** Size the weights were trained at, recorded in the metadata (default: `inputSize`). */
  readonly trainedSize?: InputSize;
  /** Append box decoding so `boxes` are normalized corners (default true). Scores are always softmaxed. */
  readonly postprocess?: boolean;
  /** Fold BatchNorm into the preceding convolutions (default true): fewer nodes, same outputs. */
  readonly foldBatchNorm?: boolean;
  /**
   * Leave the input's height and width free (default false), for aspect-keeping evaluation. Needs
   * `postprocess: false`: priors depend on the size, so the runtime decodes boxes.
   */
  readonly dynamicInputSize?: boolean;
  /** ONNX opset, ≥ 13 (default 17). */
  readonly opset?: number;
  /** Free-form producer note stored in the metadata (e.g. where the weights came from). */
  readonly source?: string;
  /**
   * Inner tensors of the graph also given as outputs, each named `feature:<tensor>`, `[batch, C, H, W]` (a
   * distillation teacher's feature maps, `headFeature`). Not with a dynamic input size.
   */
  readonly featureOutputs?: readonly string[];
}

/** The output name `exportOnnx` gives an inner tensor listed in `featureOutputs`. */
export const featureOutputName = (tensor: string): string => `feature:${tensor}`;

export interface ExportableModel {
  readonly version: NetVersion;
  readonly graph: ModelGraph;
  readonly weights: Weights;
}

function floatData(weights: Weights, name: string): Float32Array {
  const tensor = weights.get(name);
  if (!(tensor?.data instanceof Float32Array)) throw new Error(`exportOnnx: missing float tensor ${name}`);
  return tensor.data;
}

/**
 * Conv weights and bias with the following BatchNorm folded in:
 * w' = w · γ / √(σ² + ε), b' = (b − μ) · γ / √(σ² + ε) + β, computed in float64.
 */
export function foldConvBatchNorm(
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
  const opset = options.opset ?? 17;
  const dynamic = options.dynamicInputSize ?? false;
  if (!Number.isInteger(opset) || opset < 13) throw new RangeError(`exportOnnx: opset ${opset} < 13`);
  if (dynamic && postprocess)
    throw new RangeError('exportOnnx: a dynamic input size needs postprocess: false');

  const b = new OnnxGraphBuilder();
  const param = (name: string): string => b.float(name, weights.get(name)!.shape, floatData(weights, name));
  // With folding, each BN disappears and its output is an alias of its conv's output.
  const folded =
    (options.foldBatchNorm ?? true) ? convBatchNormPairs(graph) : new Map<string, BatchNormNode>();
  const alias = new Map([...folded].map(([conv, bn]) => [bn.output, conv]));
  const tensor = (name: string): string => alias.get(name) ?? name;

  for (const n of graph.nodes) {
    switch (n.op) {
      case 'conv': {
        const bn = folded.get(n.name);
        let params: string[];
        if (bn) {
          const { weight, bias } = foldConvBatchNorm(n, bn, weights);
          params = [
            b.float(`${n.name}.weight`, weights.get(`${n.name}.weight`)!.shape, weight),
            b.float(`${n.name}.bias`, [n.outChannels], bias),
          ];
        } else {
          params = [param(`${n.name}.weight`), ...(n.bias ? [param(`${n.name}.bias`)] : [])];
        }
        b.node('Conv', [tensor(n.input), ...params], n.output, {
          kernel_shape: [n.kernel, n.kernel],
          strides: [n.stride, n.stride],
          pads: [n.padding, n.padding, n.padding, n.padding],
          dilations: [n.dilation, n.dilation],
          group: n.groups,
        });
        break;
      }
      case 'batchnorm':
        if (alias.has(n.output)) break;
        b.node(
          'BatchNormalization',
          [
            tensor(n.input),
            ...['weight', 'bias', 'running_mean', 'running_var'].map((s) => param(`${n.name}.${s}`)),
          ],
          n.output,
          { epsilon: { float: n.eps }, momentum: { float: 1 - n.momentum } },
        );
        break;
      case 'relu':
        b.node('Relu', [tensor(n.input)], n.output);
        break;
      case 'add':
        b.node('Add', n.inputs.map(tensor), n.output);
        break;
      case 'concat':
        b.node('Concat', n.inputs.map(tensor), n.output, { axis: n.axis });
        break;
      case 'head_flatten': {
        // [N, A·K, H, W] → [N, H, W, A·K] → [N, H·W·A, K] (SPEC §2.5)
        const nhwc = b.node('Transpose', [tensor(n.input)], `${n.output}.nhwc`, { perm: [0, 2, 3, 1] });
        b.node('Reshape', [nhwc, b.ints([0, -1, n.valuesPerPrior])], n.output);
        break;
      }
    }
  }

  const { confidences, locations } = graph.outputs;
  b.node('Softmax', [tensor(confidences)], 'scores', { axis: 2 });
  if (postprocess) appendBoxDecoding(b, size, tensor(locations));
  else b.node('Identity', [tensor(locations)], 'boxes');

  const priorCount = dynamic ? 'priors' : generatePriors(size).length / 4;
  b.input('input', dynamic ? ['batch', 3, 'height', 'width'] : ['batch', 3, size.height, size.width]);
  b.output('scores', ['batch', priorCount, graph.numClasses]);
  b.output('boxes', ['batch', priorCount, 4]);
  const features = options.featureOutputs ?? [];
  if (features.length > 0) {
    if (dynamic) throw new RangeError('exportOnnx: feature outputs need a fixed input size');
    const shapes = inferShapes(graph, size.width, size.height);
    for (const feature of features) {
      const shape = shapes.get(feature);
      if (shape === undefined) throw new RangeError(`exportOnnx: the graph has no tensor ${feature}`);
      b.node('Identity', [tensor(feature)], featureOutputName(feature));
      b.output(featureOutputName(feature), ['batch', ...shape]);
    }
  }
  const trained = options.trainedSize ?? size;
  const metadata: ModelMetadata = {
    format: 1,
    net: model.version,
    numClasses: graph.numClasses,
    inputSize: { width: size.width, height: size.height },
    trainedSize: { width: trained.width, height: trained.height },
    boxes: postprocess ? 'decoded' : 'raw',
    ...(options.source === undefined ? {} : { source: options.source }),
  };
  return b.build({
    name: `ultraface-${model.version}-${size.width}x${size.height}`,
    opset,
    metadata: { [MODEL_METADATA_KEY]: JSON.stringify(metadata) },
  });
}

/**
 * SSD decoding in the graph, op for op as upstream's export (SPEC §3 "Post-processing subgraph"):
 * cxcy = loc[..., :2] · 0.1 · prior_wh + prior_cxy; wh = exp(loc[..., 2:] · 0.2) · prior_wh;
 * boxes = concat(cxcy − wh / 2, cxcy + wh / 2).
 */
function appendBoxDecoding(b: OnnxGraphBuilder, size: InputSize, locations: string): void {
  const priors = generatePriors(size); // [P, 4] cx, cy, w, h
  const count = priors.length / 4;
  const centers = new Float32Array(count * 2);
  const sizes = new Float32Array(count * 2);
  for (let p = 0; p < count; p++) {
    centers.set(priors.subarray(p * 4, p * 4 + 2), p * 2);
    sizes.set(priors.subarray(p * 4 + 2, p * 4 + 4), p * 2);
  }
  const priorCxCy = b.float('priors.cxcy', [1, count, 2], centers);
  const priorWh = b.float('priors.wh', [1, count, 2], sizes);
  const axis = b.ints([2]);
  const xy = b.node('Slice', [locations, b.ints([0]), b.ints([2]), axis], 'decode.loc_xy');
  const wh = b.node('Slice', [locations, b.ints([2]), b.ints([4]), axis], 'decode.loc_wh');
  const xyScaled = b.node('Mul', [xy, b.scalar(CENTER_VARIANCE)], 'decode.xy_scaled');
  const cxcy = b.node(
    'Add',
    [b.node('Mul', [xyScaled, priorWh], 'decode.xy_offset'), priorCxCy],
    'decode.cxcy',
  );
  const expWh = b.node(
    'Exp',
    [b.node('Mul', [wh, b.scalar(SIZE_VARIANCE)], 'decode.wh_scaled')],
    'decode.wh_exp',
  );
  const halfWh = b.node('Div', [b.node('Mul', [expWh, priorWh], 'decode.wh'), b.scalar(2)], 'decode.half_wh');
  const x1y1 = b.node('Sub', [cxcy, halfWh], 'decode.x1y1');
  const x2y2 = b.node('Add', [cxcy, halfWh], 'decode.x2y2');
  b.node('Concat', [x1y1, x2y2], 'boxes', { axis: 2 });
}
