import { UltrafaceError } from '../../core/errors.js';
import type { WeightTensor } from '../weights.js';
import type { Dim, OnnxModelInfo } from './info.js';
import { MODEL_METADATA_KEY, type ModelMetadata } from './metadata.js';
import { onnx, TensorDataType, toNumber, type OnnxTypes } from './proto.js';

export type OnnxModel = OnnxTypes.ModelProto;
export type { Dim, OnnxModelInfo } from './info.js';

/** Parses ONNX bytes; anything that is not a model with a graph is an E_MODEL_LOAD error. */
export function decodeOnnx(bytes: Uint8Array, source = 'model'): OnnxModel {
  let model: OnnxModel;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new UltrafaceError(
      'E_MODEL_LOAD',
      `Expected an ONNX model in ${source} but it could not be parsed`,
      {
        cause,
      },
    );
  }
  if (!model.graph?.node?.length) {
    throw new UltrafaceError('E_MODEL_LOAD', `Expected an ONNX model in ${source} but found no graph`);
  }
  return model;
}

function tensorData(tensor: OnnxTypes.ITensorProto): Float32Array | BigInt64Array | undefined {
  const raw = tensor.rawData;
  if (tensor.dataType === TensorDataType.FLOAT) {
    if (raw && raw.length > 0) {
      if (raw.length % 4 !== 0) return undefined;
      // Copy into an aligned buffer (a Buffer's slice() would not copy); raw_data is little-endian like every platform onnxruntime targets.
      return new Float32Array(new Uint8Array(raw).buffer);
    }
    return Float32Array.from(tensor.floatData ?? []);
  }
  if (tensor.dataType === TensorDataType.INT64) {
    if (raw && raw.length > 0)
      return raw.length % 8 === 0 ? new BigInt64Array(new Uint8Array(raw).buffer) : undefined;
    return BigInt64Array.from((tensor.int64Data ?? []).map((v) => BigInt(toNumber(v))));
  }
  return undefined;
}

/** The graph of a model that `decodeOnnx` accepted (decoded messages have every repeated field set). */
function graphOf(model: OnnxModel): OnnxTypes.GraphProto {
  return model.graph as OnnxTypes.GraphProto;
}

/** The float32 and int64 initializers of a model, by name (upstream exports name them by state-dict key). */
export function readInitializers(model: OnnxModel): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  for (const tensor of graphOf(model).initializer) {
    const data = tensorData(tensor);
    if (!data) continue;
    const shape = (tensor.dims ?? []).map(toNumber);
    if (shape.reduce((a, b) => a * b, 1) !== data.length) {
      throw new UltrafaceError(
        'E_WEIGHTS_FORMAT',
        `Initializer ${tensor.name ?? '?'} has ${data.length} values for shape [${shape.join(', ')}]`,
      );
    }
    out.set(tensor.name ?? '', { shape, data });
  }
  return out;
}

function dimsOf(info: OnnxTypes.IValueInfoProto | undefined): Dim[] {
  return (info?.type?.tensorType?.shape?.dim ?? []).map((d) =>
    d.dimParam ? d.dimParam : toNumber(d.dimValue),
  );
}

function readMetadata(model: OnnxModel): ModelMetadata | undefined {
  const entry = model.metadataProps.find((p) => p.key === MODEL_METADATA_KEY);
  if (!entry?.value) return undefined;
  try {
    return JSON.parse(entry.value) as ModelMetadata;
  } catch (cause) {
    throw new UltrafaceError('E_MODEL_LOAD', `The model's ${MODEL_METADATA_KEY} metadata is not valid JSON`, {
      cause,
    });
  }
}

export function inspectOnnx(model: OnnxModel): OnnxModelInfo {
  const graph = graphOf(model);
  const initializerNames = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((i) => !initializerNames.has(i.name));
  if (inputs.length !== 1) {
    throw new UltrafaceError(
      'E_MODEL_LOAD',
      `Expected a face-detector model with one image input but found ${inputs.length} inputs`,
    );
  }
  const input = inputs[0];
  const outputNames = graph.output.map((o) => o.name ?? '');
  const scoresDims = dimsOf(graph.output.find((o) => o.name === 'scores'));
  const metadata = readMetadata(model);
  const classes = scoresDims[2];
  return {
    inputName: input.name ?? '',
    inputDims: dimsOf(input),
    outputNames,
    boxes: metadata?.boxes ?? (graph.node.some((n) => n.opType === 'Exp') ? 'decoded' : 'raw'),
    numClasses: metadata?.numClasses ?? (typeof classes === 'number' ? classes : undefined),
    metadata,
    initializerInputs: graph.input.length - inputs.length,
  };
}

/** Re-encodes the model without initializers in `graph.input`, so onnxruntime can fold and pre-pack them. */
export function stripInitializerInputs(model: OnnxModel): Uint8Array {
  const graph = graphOf(model);
  const initializerNames = new Set(graph.initializer.map((t) => t.name));
  graph.input = graph.input.filter((i) => !initializerNames.has(i.name));
  return onnx.ModelProto.encode(model).finish();
}

const QUANTIZED_OPS: ReadonlySet<string> = new Set([
  'QuantizeLinear',
  'DequantizeLinear',
  'QLinearConv',
  'QLinearMatMul',
  'ConvInteger',
  'MatMulInteger',
]);

/** Whether a model is quantized (QDQ or QLinear ops, as `ultraface quantize` writes): its weights are not fp32. */
export function isQuantizedOnnx(model: OnnxModel): boolean {
  return (model.graph?.node ?? []).some((n) => QUANTIZED_OPS.has(n.opType ?? ''));
}
