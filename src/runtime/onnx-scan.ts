/**
 * The few facts a runtime needs from an ONNX file, read straight off the protobuf wire format (ONNX `onnx.proto3`
 * field numbers) without decoding the model: ~2 kB of code in a browser bundle instead of protobufjs + the
 * generated schema (~23 kB gzip). Initializers (the weights) are skipped over, never copied. Gives the same
 * `OnnxModelInfo` as `inspectOnnx` in `model/onnx/reader.ts` (a test compares the two on every model kind).
 */
import { UltrafaceError } from '../core/errors.js';
import { MODEL_METADATA_KEY, type ModelMetadata } from '../model/onnx/metadata.js';
import type { Dim, OnnxModelInfo } from '../model/onnx/info.js';

// ModelProto
const MODEL_GRAPH = 7;
const MODEL_METADATA_PROPS = 14;
// GraphProto
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
// NodeProto, TensorProto, ValueInfoProto, StringStringEntryProto
const NODE_OP_TYPE = 4;
const TENSOR_NAME = 8;
const VALUE_INFO_NAME = 1;
const VALUE_INFO_TYPE = 2;
const ENTRY_KEY = 1;
const ENTRY_VALUE = 2;
// TypeProto → TypeProto.Tensor → TensorShapeProto → Dimension
const TYPE_TENSOR = 1;
const TENSOR_TYPE_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM_VALUE = 1;
const DIM_PARAM = 2;

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

/** One field of a message: its number, and its value (a varint, or the byte range of a length-delimited value). */
interface Field {
  readonly number: number;
  readonly wire: number;
  /** Varint value (numbers past 2^53 lose precision; none of the fields read here come close). */
  readonly varint: number;
  /** For length-delimited fields: [start, end) of the payload. */
  readonly start: number;
  readonly end: number;
  /** [start, end) of the whole field, tag included. */
  readonly fieldStart: number;
}

class Truncated extends Error {}

function readVarint(bytes: Uint8Array, pos: { at: number }, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos.at >= end) throw new Truncated('varint runs past the end');
    const byte = bytes[pos.at++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 128;
  }
  throw new Truncated('varint longer than 10 bytes');
}

/** The fields of the message in bytes[start, end), in file order. */
function* fields(bytes: Uint8Array, start: number, end: number): Generator<Field> {
  const pos = { at: start };
  while (pos.at < end) {
    const fieldStart = pos.at;
    const tag = readVarint(bytes, pos, end);
    const number = Math.floor(tag / 8);
    const wire = tag % 8;
    if (number === 0) throw new Truncated('field number 0');
    let varint = 0;
    let payloadStart = pos.at;
    switch (wire) {
      case WIRE_VARINT:
        varint = readVarint(bytes, pos, end);
        break;
      case WIRE_I64:
        pos.at += 8;
        break;
      case WIRE_I32:
        pos.at += 4;
        break;
      case WIRE_LEN: {
        const length = readVarint(bytes, pos, end);
        payloadStart = pos.at;
        pos.at += length;
        break;
      }
      default:
        throw new Truncated(`unsupported wire type ${wire}`);
    }
    if (pos.at > end) throw new Truncated('field runs past the end of its message');
    yield { number, wire, varint, start: payloadStart, end: pos.at, fieldStart };
  }
}

const utf8 = new TextDecoder();

function text(bytes: Uint8Array, field: Field): string {
  return utf8.decode(bytes.subarray(field.start, field.end));
}

/** The string field `number` of the message in `field` ('' when absent, as protobuf defaults it). */
function stringOf(bytes: Uint8Array, field: Field, number: number): string {
  let out = '';
  for (const f of fields(bytes, field.start, field.end))
    if (f.number === number && f.wire === WIRE_LEN) out = text(bytes, f);
  return out;
}

/** The first embedded message `number` of the message in `field`. */
function messageOf(bytes: Uint8Array, field: Field | undefined, number: number): Field | undefined {
  if (!field) return undefined;
  for (const f of fields(bytes, field.start, field.end))
    if (f.number === number && f.wire === WIRE_LEN) return f;
  return undefined;
}

/** Input dims of a ValueInfoProto; symbolic ones as their names (a dim with neither reads 0, like protobufjs). */
function dimsOf(bytes: Uint8Array, valueInfo: Field | undefined): Dim[] {
  const shape = messageOf(
    bytes,
    messageOf(bytes, messageOf(bytes, valueInfo, VALUE_INFO_TYPE), TYPE_TENSOR),
    TENSOR_TYPE_SHAPE,
  );
  if (!shape) return [];
  const dims: Dim[] = [];
  for (const dim of fields(bytes, shape.start, shape.end)) {
    if (dim.number !== SHAPE_DIM || dim.wire !== WIRE_LEN) continue;
    let value = 0;
    let param = '';
    for (const f of fields(bytes, dim.start, dim.end)) {
      if (f.number === DIM_VALUE && f.wire === WIRE_VARINT) value = f.varint;
      if (f.number === DIM_PARAM && f.wire === WIRE_LEN) param = text(bytes, f);
    }
    dims.push(param || value);
  }
  return dims;
}

interface Scanned {
  readonly graph: Field;
  readonly info: OnnxModelInfo;
  /** The graph inputs that are initializers (old exporters), as fields of the graph. */
  readonly initializerInputs: readonly Field[];
}

function scan(bytes: Uint8Array, source: string): Scanned {
  let graph: Field | undefined;
  let metadataJson: string | undefined;
  let inputs: Field[] = [];
  const outputs: Field[] = [];
  const initializerNames = new Set<string>();
  let nodes = 0;
  let hasExp = false;
  try {
    for (const f of fields(bytes, 0, bytes.length)) {
      if (f.number === MODEL_GRAPH && f.wire === WIRE_LEN) graph = f;
      if (
        f.number === MODEL_METADATA_PROPS &&
        f.wire === WIRE_LEN &&
        stringOf(bytes, f, ENTRY_KEY) === MODEL_METADATA_KEY
      ) {
        metadataJson = stringOf(bytes, f, ENTRY_VALUE);
      }
    }
    if (graph) {
      for (const f of fields(bytes, graph.start, graph.end)) {
        if (f.wire !== WIRE_LEN) continue;
        if (f.number === GRAPH_NODE) {
          nodes++;
          if (!hasExp && stringOf(bytes, f, NODE_OP_TYPE) === 'Exp') hasExp = true;
        } else if (f.number === GRAPH_INITIALIZER) initializerNames.add(stringOf(bytes, f, TENSOR_NAME));
        else if (f.number === GRAPH_INPUT) inputs.push(f);
        else if (f.number === GRAPH_OUTPUT) outputs.push(f);
      }
    }
  } catch (cause) {
    throw new UltrafaceError(
      'E_MODEL_LOAD',
      `Expected an ONNX model in ${source} but it could not be parsed`,
      {
        cause,
      },
    );
  }
  if (!graph || nodes === 0) {
    throw new UltrafaceError('E_MODEL_LOAD', `Expected an ONNX model in ${source} but found no graph`);
  }

  const all = inputs;
  const initializerInputs = all.filter((f) => initializerNames.has(stringOf(bytes, f, VALUE_INFO_NAME)));
  inputs = all.filter((f) => !initializerNames.has(stringOf(bytes, f, VALUE_INFO_NAME)));
  if (inputs.length !== 1) {
    throw new UltrafaceError(
      'E_MODEL_LOAD',
      `Expected a face-detector model with one image input but found ${inputs.length} inputs`,
    );
  }
  let metadata: ModelMetadata | undefined;
  if (metadataJson) {
    try {
      metadata = JSON.parse(metadataJson) as ModelMetadata;
    } catch (cause) {
      throw new UltrafaceError(
        'E_MODEL_LOAD',
        `The model's ${MODEL_METADATA_KEY} metadata is not valid JSON`,
        {
          cause,
        },
      );
    }
  }
  const outputNames = outputs.map((f) => stringOf(bytes, f, VALUE_INFO_NAME));
  const classes = dimsOf(
    bytes,
    outputs.find((f) => stringOf(bytes, f, VALUE_INFO_NAME) === 'scores'),
  )[2];
  return {
    graph,
    initializerInputs,
    info: {
      inputName: stringOf(bytes, inputs[0], VALUE_INFO_NAME),
      inputDims: dimsOf(bytes, inputs[0]),
      outputNames,
      boxes: metadata?.boxes ?? (hasExp ? 'decoded' : 'raw'),
      numClasses: metadata?.numClasses ?? (typeof classes === 'number' ? classes : undefined),
      metadata,
      initializerInputs: initializerInputs.length,
    },
  };
}

/**
 * What the graph says about its interface (inputs, outputs, box format, classes, ultraface metadata).
 * @throws UltrafaceError E_MODEL_LOAD when the bytes are not an ONNX model with a graph and one image input
 */
export function scanOnnx(bytes: Uint8Array, source = 'model'): OnnxModelInfo {
  return scan(bytes, source).info;
}

function varintBytes(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/**
 * The model ready for onnxruntime, with its interface: old exporters list the weights as graph inputs too, which
 * stops onnxruntime folding them (~2x slower); those inputs are cut out of the bytes (a copy; the argument is
 * not changed). Models without them are returned as given.
 */
export function prepareOnnx(
  bytes: Uint8Array,
  source = 'model',
): { info: OnnxModelInfo; runnable: Uint8Array } {
  const { graph, info, initializerInputs } = scan(bytes, source);
  if (initializerInputs.length === 0) return { info, runnable: bytes };
  const cut = initializerInputs.map((f) => [f.fieldStart, f.end] as const);
  const removed = cut.reduce((sum, [a, b]) => sum + b - a, 0);
  const graphLength = graph.end - graph.start - removed;
  const lengthBytes = varintBytes(graphLength);
  // The graph field's tag is one byte (field 7, wire type 2); its old length varint sits between tag and payload.
  const oldHeader = graph.start - graph.fieldStart;
  const out = new Uint8Array(bytes.length - removed - oldHeader + 1 + lengthBytes.length);
  let at = 0;
  const copy = (from: number, to: number): void => {
    out.set(bytes.subarray(from, to), at);
    at += to - from;
  };
  copy(0, graph.fieldStart);
  out[at++] = (MODEL_GRAPH << 3) | WIRE_LEN;
  out.set(lengthBytes, at);
  at += lengthBytes.length;
  let from = graph.start;
  for (const [a, b] of cut) {
    copy(from, a);
    from = b;
  }
  copy(from, graph.end);
  copy(graph.end, bytes.length);
  return { info, runnable: out };
}
