/**
 * The network as a small typed graph (DESIGN.md "One graph, many outputs"): ONNX export, FLOPs counting, weight
 * import and the training-graph compiler all read this one definition. Tensors are NCHW with a free batch
 * dimension; every node's `name` is its upstream module path, so parameter names equal state-dict keys.
 */

export interface ConvNode {
  readonly op: 'conv';
  /** Module path, e.g. `base_net.1.3`; parameters are `<name>.weight` [out, in/groups, k, k] and `<name>.bias`. */
  readonly name: string;
  readonly input: string;
  readonly output: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride: number;
  /** Zero padding, the same on all four sides. */
  readonly padding: number;
  readonly dilation: number;
  readonly groups: number;
  readonly bias: boolean;
}

export interface BatchNormNode {
  readonly op: 'batchnorm';
  /** Module path; parameters `<name>.{weight,bias,running_mean,running_var,num_batches_tracked}`. */
  readonly name: string;
  readonly input: string;
  readonly output: string;
  readonly channels: number;
  readonly eps: number;
  /** PyTorch convention: running = (1 − momentum)·running + momentum·batch (SPEC §2.1: 0.1, or 0.01 in RFB). */
  readonly momentum: number;
}

export interface ReluNode {
  readonly op: 'relu';
  readonly name: string;
  readonly input: string;
  readonly output: string;
}

export interface AddNode {
  readonly op: 'add';
  readonly name: string;
  readonly inputs: readonly [string, string];
  readonly output: string;
}

export interface ConcatNode {
  readonly op: 'concat';
  readonly name: string;
  readonly inputs: readonly string[];
  readonly output: string;
  /** 1 for channels of NCHW maps, 1 for the prior axis of [N, P, K] head outputs. */
  readonly axis: number;
}

/** NCHW → NHWC, then flatten to [N, H·W·A, K] (SPEC §2.5 `compute_header`). */
export interface HeadFlattenNode {
  readonly op: 'head_flatten';
  readonly name: string;
  readonly input: string;
  readonly output: string;
  /** Values per prior: classes for confidences, 4 for locations. */
  readonly valuesPerPrior: number;
}

export type GraphNode = ConvNode | BatchNormNode | ReluNode | AddNode | ConcatNode | HeadFlattenNode;

export type ParamRole =
  'weight' | 'bias' | 'bn_weight' | 'bn_bias' | 'running_mean' | 'running_var' | 'num_batches';

/** Where a parameter sits, for optimizer parameter groups (base net, extras, heads). */
export type ParamGroup = 'base_net' | 'extras' | 'heads';

export interface ParamSpec {
  /** Upstream state-dict key. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: ParamRole;
  readonly group: ParamGroup;
  /** Trained by gradient descent (false for BN running statistics and counters). */
  readonly learnable: boolean;
  /** The node that owns it. */
  readonly node: string;
}

export interface ModelGraph {
  /** Network input `[N, 3, H, W]`, RGB normalized as (x − 127) / 128. */
  readonly input: string;
  readonly nodes: readonly GraphNode[];
  /** `[N, P, C]` class logits and `[N, P, 4]` raw box regression (dx, dy, dw, dh). */
  readonly outputs: { readonly confidences: string; readonly locations: string };
  /** Every state-dict entry, in upstream state-dict order. */
  readonly params: readonly ParamSpec[];
  readonly numClasses: number;
}

function groupOf(name: string): ParamGroup {
  if (name.startsWith('base_net.')) return 'base_net';
  if (name.startsWith('extras.')) return 'extras';
  return 'heads';
}

/** The state-dict entries a node owns, in PyTorch registration order. */
export function nodeParams(node: GraphNode): ParamSpec[] {
  const group = groupOf(node.name);
  const spec = (suffix: string, shape: number[], role: ParamRole, learnable: boolean): ParamSpec => ({
    name: `${node.name}.${suffix}`,
    shape,
    role,
    group,
    learnable,
    node: node.name,
  });
  switch (node.op) {
    case 'conv': {
      const weight = [node.outChannels, node.inChannels / node.groups, node.kernel, node.kernel];
      return node.bias
        ? [spec('weight', weight, 'weight', true), spec('bias', [node.outChannels], 'bias', true)]
        : [spec('weight', weight, 'weight', true)];
    }
    case 'batchnorm': {
      const c = [node.channels];
      return [
        spec('weight', c, 'bn_weight', true),
        spec('bias', c, 'bn_bias', true),
        spec('running_mean', c, 'running_mean', false),
        spec('running_var', c, 'running_var', false),
        spec('num_batches_tracked', [], 'num_batches', false),
      ];
    }
    default:
      return [];
  }
}

/** The BatchNorm node that directly follows each conv, by conv name (every BN of these nets follows a conv). */
export function convBatchNormPairs(graph: ModelGraph): Map<string, BatchNormNode> {
  const pairs = new Map<string, BatchNormNode>();
  for (const node of graph.nodes) {
    if (node.op !== 'batchnorm') continue;
    const producer = graph.nodes.find((n) => n.output === node.input);
    if (producer?.op !== 'conv') throw new Error(`${node.name} does not follow a conv`);
    pairs.set(producer.name, node);
  }
  return pairs;
}

/**
 * The feature map the heads of one level read (`[N, C, H, W]`; level 0: stride 8, the smallest priors): the input
 * of its classification head's first convolution.
 */
export function headFeature(graph: ModelGraph, level: number): string {
  const node = graph.nodes.find((n) => n.name === `classification_headers.${level}.0`);
  if (node === undefined || node.op !== 'conv') {
    throw new Error(`headFeature: the graph has no classification_headers.${level}`);
  }
  return node.input;
}
