import type { Random } from '../core/random.js';
import type { ModelGraph } from '../model/graph.js';
import type { WeightTensor } from '../model/weights.js';

/**
 * Fresh weights as PyTorch initialises a module when nothing is loaded (what upstream trains from; SPEC §2.6):
 * conv weights kaiming-uniform with a = √5, i.e. U(−1/√fan_in, 1/√fan_in), conv biases the same bound;
 * BN γ = 1, β = 0, running mean 0, variance 1, counter 0.
 */
export function initialWeights(graph: ModelGraph, random: Random): Map<string, WeightTensor> {
  const weights = new Map<string, WeightTensor>();
  const fanIn = new Map<string, number>();
  for (const node of graph.nodes) {
    if (node.op === 'conv') fanIn.set(node.name, (node.inChannels / node.groups) * node.kernel * node.kernel);
  }
  for (const param of graph.params) {
    const size = param.shape.reduce((a, b) => a * b, 1);
    if (param.role === 'num_batches') {
      weights.set(param.name, { shape: param.shape, data: new BigInt64Array(1) });
      continue;
    }
    const data = new Float32Array(size);
    if (param.role === 'weight' || param.role === 'bias') {
      const bound = 1 / Math.sqrt(fanIn.get(param.node)!);
      for (let i = 0; i < size; i++) data[i] = random.uniform(-bound, bound);
    } else if (param.role === 'bn_weight' || param.role === 'running_var') {
      data.fill(1);
    }
    weights.set(param.name, { shape: param.shape, data });
  }
  return weights;
}
