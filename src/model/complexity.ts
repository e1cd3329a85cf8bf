import type { ModelGraph } from './graph.js';
import { inferShapes } from './shapes.js';

export interface Complexity {
  /** Learnable parameters (conv weights and biases, BN affine weights). */
  readonly params: number;
  /** Conv multiply-accumulates per image. */
  readonly convMacs: number;
  /**
   * ptflops-style total per image, as upstream's `cal_flops.py` reports it (SPEC §9.2): conv MACs including one
   * add per bias, 2 per element for affine BN, 1 per element for ReLU and for the RFB
   * residual add. (ptflops calls these MACs "FLOPs".)
   */
  readonly flops: number;
}

const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function complexity(graph: ModelGraph, width: number, height: number): Complexity {
  const shapes = inferShapes(graph, width, height);
  let convMacs = 0;
  let flops = 0;
  for (const node of graph.nodes) {
    const out = product(shapes.get(node.output)!);
    switch (node.op) {
      case 'conv': {
        const macs = out * (node.inChannels / node.groups) * node.kernel * node.kernel;
        convMacs += macs;
        flops += macs + (node.bias ? out : 0);
        break;
      }
      case 'batchnorm':
        flops += 2 * out;
        break;
      case 'relu':
      case 'add':
        flops += out;
        break;
      default:
        break;
    }
  }
  const params = graph.params.filter((p) => p.learnable).reduce((sum, p) => sum + product(p.shape), 0);
  return { params, convMacs, flops };
}
