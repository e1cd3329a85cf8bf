/**
 * Size trimming for int8 models, where names and attributes are no longer small next to the weights (RFB-320:
 * 300 KB of tensors, ~30 KB of names). Behaviour is unchanged: only names and default-valued attributes go.
 */
import type { OnnxModel } from '../model/onnx/reader.js';
import { toNumber, type OnnxTypes } from '../model/onnx/proto.js';

/** Conv attributes equal to their ONNX defaults (kernel_shape is inferred from the weights). */
function isDefaultConvAttribute(attribute: OnnxTypes.IAttributeProto): boolean {
  const ints = (attribute.ints ?? []).map(toNumber);
  switch (attribute.name) {
    case 'kernel_shape':
      return true;
    case 'strides':
    case 'dilations':
      return ints.every((v) => v === 1);
    case 'pads':
      return ints.every((v) => v === 0);
    case 'group':
      return toNumber(attribute.i) === 1;
    default:
      return false;
  }
}

/**
 * Renames every tensor except the graph's inputs and outputs to a short base-36 id (in order of first use), drops
 * node names and default Conv attributes. Modifies `model` in place.
 */
export function compactNames(model: OnnxModel): void {
  const graph = model.graph as OnnxTypes.GraphProto;
  const keep = new Set([...graph.input, ...graph.output].map((v) => v.name));
  const names = new Map<string, string>();
  const short = (name: string): string => {
    if (name === '' || keep.has(name)) return name;
    let id = names.get(name);
    if (id === undefined) {
      id = names.size.toString(36);
      names.set(name, id);
    }
    return id;
  };
  for (const node of graph.node) {
    node.input = (node.input ?? []).map(short);
    node.output = (node.output ?? []).map(short);
    node.name = '';
    if (node.opType === 'Conv') {
      node.attribute = (node.attribute ?? []).filter((a) => !isDefaultConvAttribute(a));
    }
  }
  for (const tensor of graph.initializer) tensor.name = short(tensor.name ?? '');
  graph.valueInfo = [];
}
