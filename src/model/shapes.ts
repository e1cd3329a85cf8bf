import type { ModelGraph } from './graph.js';

/** Per-sample shape of a tensor: [C, H, W] for feature maps, [P, K] after a head flatten. */
export type TensorShape = readonly number[];

/** Output size of a conv along one axis (PyTorch formula). */
export function convOutputSize(
  size: number,
  kernel: number,
  stride: number,
  padding: number,
  dilation: number,
): number {
  return Math.floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Shape of every tensor of the graph for a `width` x `height` input, without the batch dimension. */
export function inferShapes(graph: ModelGraph, width: number, height: number): Map<string, TensorShape> {
  const shapes = new Map<string, TensorShape>([[graph.input, [3, height, width]]]);
  const get = (name: string): TensorShape => {
    const shape = shapes.get(name);
    if (!shape) throw new Error(`inferShapes: tensor ${name} used before it is produced`);
    return shape;
  };
  for (const node of graph.nodes) {
    switch (node.op) {
      case 'conv': {
        const [, h, w] = get(node.input) as [number, number, number];
        const out = (n: number): number =>
          convOutputSize(n, node.kernel, node.stride, node.padding, node.dilation);
        shapes.set(node.output, [node.outChannels, out(h), out(w)]);
        break;
      }
      case 'batchnorm':
      case 'relu':
        shapes.set(node.output, get(node.input));
        break;
      case 'add':
        shapes.set(node.output, get(node.inputs[0]));
        break;
      case 'concat': {
        const parts = node.inputs.map(get);
        const axis = node.axis - 1; // shapes here have no batch dimension
        const merged = [...parts[0]];
        merged[axis] = parts.reduce((sum, s) => sum + s[axis], 0);
        shapes.set(node.output, merged);
        break;
      }
      case 'head_flatten': {
        const [c, h, w] = get(node.input) as [number, number, number];
        shapes.set(node.output, [(h * w * c) / node.valuesPerPrior, node.valuesPerPrior]);
        break;
      }
    }
  }
  return shapes;
}
