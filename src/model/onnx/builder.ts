import { AttributeType, onnx, TensorDataType, type OnnxTypes } from './proto.js';

/** An attribute value: int, ints, float (`{ float: x }` forces FLOAT for integral values), floats, string. */
export type AttributeValue = number | readonly number[] | string | { readonly float: number };
export type Dim = number | string;

function attribute(name: string, value: AttributeValue): OnnxTypes.IAttributeProto {
  if (typeof value === 'string')
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'object' && 'float' in value)
    return { name, type: AttributeType.FLOAT, f: value.float };
  if (typeof value === 'number') {
    return Number.isInteger(value)
      ? { name, type: AttributeType.INT, i: value }
      : { name, type: AttributeType.FLOAT, f: value };
  }
  return value.every(Number.isInteger)
    ? { name, type: AttributeType.INTS, ints: [...value] }
    : { name, type: AttributeType.FLOATS, floats: [...value] };
}

function attributes(
  values: Readonly<Record<string, AttributeValue | undefined>>,
): OnnxTypes.IAttributeProto[] {
  return Object.entries(values)
    .filter((entry): entry is [string, AttributeValue] => entry[1] !== undefined)
    .map(([key, value]) => attribute(key, value));
}

function valueInfo(name: string, dims: readonly Dim[], elemType: number): OnnxTypes.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

/**
 * A small ONNX graph builder (onnx-proto underneath), shared by the inference exporter, the training-graph
 * compiler and the quantizer. Weights are always initializers, never graph inputs.
 */
export class OnnxGraphBuilder {
  private readonly nodes: OnnxTypes.INodeProto[] = [];
  private readonly initializers: OnnxTypes.ITensorProto[] = [];
  private readonly inputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly outputs: OnnxTypes.IValueInfoProto[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  /** A fresh tensor name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}__${this.counter++}`;
  }

  /** Adds a node; returns its (first) output name. */
  node(
    opType: string,
    inputs: readonly string[],
    output: string = this.fresh(opType),
    attrs: Readonly<Record<string, AttributeValue | undefined>> = {},
    name: string = output,
  ): string {
    this.nodes.push({ opType, input: [...inputs], output: [output], name, attribute: attributes(attrs) });
    return output;
  }

  /** Adds a node with several outputs. */
  multiNode(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[],
    attrs: Readonly<Record<string, AttributeValue | undefined>> = {},
  ): readonly string[] {
    this.nodes.push({
      opType,
      input: [...inputs],
      output: [...outputs],
      name: outputs[0],
      attribute: attributes(attrs),
    });
    return outputs;
  }

  /** A float32 initializer (little-endian raw data, copied). */
  float(name: string, dims: readonly number[], data: Float32Array): string {
    const raw = new Uint8Array(data.byteLength);
    new Float32Array(raw.buffer).set(data);
    this.initializers.push({ name, dims: [...dims], dataType: TensorDataType.FLOAT, rawData: raw });
    return name;
  }

  /** An int64 initializer. */
  int64(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    this.initializers.push({ name, dims: [...dims], dataType: TensorDataType.INT64, int64Data: [...values] });
    return name;
  }

  /** A float32 scalar constant, shared between uses. */
  scalar(value: number): string {
    const key = `f${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.float(this.fresh('const'), [], Float32Array.of(value));
      this.constants.set(key, name);
    }
    return name;
  }

  /** An int64 1-D constant (shapes, axes, slice bounds), shared between uses. */
  ints(values: readonly number[]): string {
    const key = `i${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.int64(this.fresh('ints'), values);
      this.constants.set(key, name);
    }
    return name;
  }

  input(name: string, dims: readonly Dim[], elemType: number = TensorDataType.FLOAT): string {
    this.inputs.push(valueInfo(name, dims, elemType));
    return name;
  }

  output(name: string, dims: readonly Dim[], elemType: number = TensorDataType.FLOAT): string {
    this.outputs.push(valueInfo(name, dims, elemType));
    return name;
  }

  build(options: { name: string; opset: number; metadata?: Readonly<Record<string, string>> }): Uint8Array {
    const model: OnnxTypes.IModelProto = {
      irVersion: 8,
      producerName: 'ultraface',
      opsetImport: [{ domain: '', version: options.opset }],
      metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      graph: {
        name: options.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
  }
}
