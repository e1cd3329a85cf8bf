import { UltrafaceError } from '../core/errors.js';
import type { NetVersion } from '../core/presets.js';
import { convBatchNormPairs, type ModelGraph } from './graph.js';
import { buildNetwork } from './network.js';
import { elementCount, type WeightTensor, type Weights } from './weights.js';

/** A network definition with a complete, validated set of weights. */
export interface UltrafaceModel {
  readonly version: NetVersion;
  readonly numClasses: number;
  readonly graph: ModelGraph;
  readonly weights: Weights;
}

/** slim and RFB differ only in base_net.7 (SPEC §2.2); the RFB block has branch convolutions. */
export function detectVersion(weights: Weights): NetVersion {
  return weights.has('base_net.7.branch0.0.conv.weight') ? 'RFB' : 'slim';
}

/** Classes from the level-0 classification head: 3 anchors × C outputs. */
export function detectNumClasses(weights: Weights): number {
  const head = weights.get('classification_headers.0.2.weight');
  if (!head) {
    throw new UltrafaceError(
      'E_WEIGHTS_MISMATCH',
      'Expected detector weights but found no classification_headers.0',
    );
  }
  return head.shape[0] / 3;
}

/**
 * Re-expresses BN-folded weights (ultraface's fp32 exports: `<conv>.weight` and `<conv>.bias` with no BN
 * tensors) in the unfolded network, exactly: the BN becomes y = (x − 0) / √(1 − ε + ε) · 1 + bias.
 * Weights that are not folded are returned unchanged.
 */
export function unfoldBatchNorm(graph: ModelGraph, weights: Weights): Weights {
  const out = new Map(weights);
  for (const [convName, bn] of convBatchNormPairs(graph)) {
    const foldedBias = weights.get(`${convName}.bias`);
    if (weights.has(`${bn.name}.running_var`) || !foldedBias) continue;
    const c = bn.channels;
    out.delete(`${convName}.bias`);
    out.set(`${bn.name}.weight`, { shape: [c], data: new Float32Array(c).fill(1) });
    out.set(`${bn.name}.bias`, foldedBias);
    out.set(`${bn.name}.running_mean`, { shape: [c], data: new Float32Array(c) });
    out.set(`${bn.name}.running_var`, { shape: [c], data: new Float32Array(c).fill(1 - bn.eps) });
  }
  return out;
}

/**
 * Checks `weights` against the network's parameter table (names and shapes) and returns them in state-dict
 * order. Missing BN counters (`num_batches_tracked`, unused at inference) are filled with 0; anything else
 * missing, misshapen or extra is an E_WEIGHTS_MISMATCH error.
 */
export function createModel(weights: Weights, version = detectVersion(weights)): UltrafaceModel {
  const numClasses = detectNumClasses(weights);
  const graph = buildNetwork(version, numClasses);
  weights = unfoldBatchNorm(graph, weights);
  const ordered = new Map<string, WeightTensor>();
  const problems: string[] = [];
  for (const param of graph.params) {
    const tensor = weights.get(param.name);
    if (!tensor) {
      if (param.role === 'num_batches') ordered.set(param.name, { shape: [], data: new BigInt64Array(1) });
      else problems.push(`missing ${param.name}`);
      continue;
    }
    const expectedType = param.role === 'num_batches' ? BigInt64Array : Float32Array;
    if (
      tensor.shape.join() !== param.shape.join() ||
      !(tensor.data instanceof expectedType) ||
      tensor.data.length !== elementCount(param.shape)
    ) {
      problems.push(
        `${param.name}: expected [${param.shape.join(', ')}] but found [${tensor.shape.join(', ')}]`,
      );
      continue;
    }
    ordered.set(param.name, tensor);
  }
  const known = new Set(graph.params.map((p) => p.name));
  for (const name of weights.keys()) if (!known.has(name)) problems.push(`unexpected ${name}`);
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ');
    const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
    throw new UltrafaceError(
      'E_WEIGHTS_MISMATCH',
      `Weights do not fit the ${version} network (${numClasses} classes): ${shown}${more}`,
    );
  }
  return Object.freeze({ version, numClasses, graph, weights: ordered });
}
