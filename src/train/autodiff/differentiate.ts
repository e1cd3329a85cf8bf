import type { BatchNormNode, GraphNode } from '../../model/graph.js';
import {
  batchNormBackward,
  batchNormEvalForward,
  batchNormTrainForward,
  type BatchNormSaved,
} from './batchnorm.js';
import type { EmitContext } from './context.js';
import { convBackward, convForward, type ConvOperands } from './conv.js';
import { addBackward, addForward, reluBackward, reluForward } from './elementwise.js';
import { concatBackward, concatForward, headFlattenBackward, headFlattenForward } from './layout.js';

/** The part of a model graph the differentiator reads: nodes in topological order and per-sample shapes. */
export interface DifferentiableGraph {
  readonly nodes: readonly GraphNode[];
  /** Shape of every tensor without the batch dimension ([C, H, W] or [P, K]). */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
}

/** State-dict name (`base_net.0.0.weight`, `….running_mean`) → the ONNX value holding it. */
export type ParamLookup = (name: string) => string;

export interface BatchStatistics {
  readonly node: BatchNormNode;
  /** [C] batch mean. */
  readonly mean: string;
  /** [C] unbiased batch variance. */
  readonly variance: string;
}

export interface Gradients {
  /** dL/dθ by state-dict name, for every learnable parameter that reaches a seed. */
  readonly params: ReadonlyMap<string, string>;
  /** dL/dt for each requested source tensor (e.g. the network input, in tests). */
  readonly inputs: ReadonlyMap<string, string>;
}

/**
 * Reverse-mode differentiation of a model graph into ONNX nodes: `forward` emits the forward pass (keeping what
 * the backward rules read), `backward` walks the nodes in reverse from the seed gradients, summing the
 * contributions of tensors used more than once (one Sum node per such tensor).
 */
export class GraphDifferentiator {
  private readonly values = new Map<string, string>();
  private readonly batchNorms = new Map<string, BatchNormSaved>();
  private readonly produced: ReadonlySet<string>;

  constructor(
    private readonly ctx: EmitContext,
    private readonly graph: DifferentiableGraph,
    private readonly param: ParamLookup,
  ) {
    this.produced = new Set(graph.nodes.map((n) => n.output));
  }

  /** The ONNX value of a graph tensor (after `forward`). */
  value(tensor: string): string {
    const v = this.values.get(tensor);
    if (v === undefined) throw new Error(`differentiate: tensor ${tensor} has no value yet`);
    return v;
  }

  private shape(tensor: string): readonly number[] {
    const s = this.graph.shapes.get(tensor);
    if (s === undefined) throw new Error(`differentiate: no shape for tensor ${tensor}`);
    return s;
  }

  /**
   * Emits the forward pass. `sources` maps each graph input tensor to its ONNX value. In `train` mode every
   * BatchNorm normalizes with batch statistics; in `eval` mode with `<bn>.running_mean` / `.running_var`.
   */
  forward(sources: ReadonlyMap<string, string>, mode: 'train' | 'eval'): void {
    for (const [tensor, value] of sources) this.values.set(tensor, value);
    for (const node of this.graph.nodes) this.values.set(node.output, this.forwardNode(node, mode));
  }

  private forwardNode(node: GraphNode, mode: 'train' | 'eval'): string {
    switch (node.op) {
      case 'conv':
        return convForward(this.ctx, node, this.convOperands(node));
      case 'batchnorm': {
        const operands = {
          input: this.value(node.input),
          gamma: this.param(`${node.name}.weight`),
          beta: this.param(`${node.name}.bias`),
          inputShape: this.shape(node.input),
        };
        if (mode === 'eval') {
          return batchNormEvalForward(this.ctx, node, operands, {
            mean: this.param(`${node.name}.running_mean`),
            variance: this.param(`${node.name}.running_var`),
          });
        }
        const { output, saved } = batchNormTrainForward(this.ctx, node, operands);
        this.batchNorms.set(node.name, saved);
        return output;
      }
      case 'relu':
        return reluForward(this.ctx, node, this.value(node.input));
      case 'add':
        return addForward(this.ctx, node, this.value(node.inputs[0]), this.value(node.inputs[1]));
      case 'concat':
        return concatForward(
          this.ctx,
          node,
          node.inputs.map((t) => this.value(t)),
        );
      case 'head_flatten':
        return headFlattenForward(this.ctx, node, this.value(node.input));
    }
  }

  private convOperands(node: GraphNode & { op: 'conv' }): ConvOperands {
    return {
      input: this.value(node.input),
      weight: this.param(`${node.name}.weight`),
      ...(node.bias ? { bias: this.param(`${node.name}.bias`) } : {}),
      inputShape: this.shape(node.input),
      outputShape: this.shape(node.output),
    };
  }

  /** Batch mean and unbiased variance of every training-mode BatchNorm, in graph order. */
  batchStatistics(): BatchStatistics[] {
    return this.graph.nodes.flatMap((node) => {
      if (node.op !== 'batchnorm') return [];
      const saved = this.batchNorms.get(node.name);
      return saved ? [{ node, mean: saved.mean, variance: saved.unbiasedVariance }] : [];
    });
  }

  /**
   * Emits the backward pass from `seeds` (tensor → dL/dtensor). Gradients flow to every produced tensor and to
   * the source tensors listed in `inputGradients`; other sources (the image) get none.
   */
  backward(seeds: ReadonlyMap<string, string>, inputGradients: readonly string[] = []): Gradients {
    const { b } = this.ctx;
    const pending = new Map<string, string[]>();
    const add = (tensor: string, grad: string): void => {
      if (!this.produced.has(tensor) && !inputGradients.includes(tensor)) return;
      const list = pending.get(tensor);
      if (list) list.push(grad);
      else pending.set(tensor, [grad]);
    };
    const take = (tensor: string): string | undefined => {
      const list = pending.get(tensor);
      if (!list) return undefined;
      pending.delete(tensor);
      return list.length === 1 ? list[0] : b.node('Sum', list);
    };
    for (const [tensor, grad] of seeds) add(tensor, grad);

    const params = new Map<string, string>();
    for (let i = this.graph.nodes.length - 1; i >= 0; i--) {
      const node = this.graph.nodes[i];
      const dY = take(node.output);
      if (dY === undefined) continue; // does not reach the loss
      switch (node.op) {
        case 'conv': {
          const needInput = this.produced.has(node.input) || inputGradients.includes(node.input);
          const g = convBackward(this.ctx, node, this.convOperands(node), dY, needInput);
          params.set(`${node.name}.weight`, g.weight);
          if (g.bias !== undefined) params.set(`${node.name}.bias`, g.bias);
          if (g.input !== undefined) add(node.input, g.input);
          break;
        }
        case 'batchnorm': {
          const saved = this.batchNorms.get(node.name);
          if (!saved) throw new Error(`differentiate: ${node.name} was not run in training mode`);
          const g = batchNormBackward(this.ctx, node, saved, dY);
          params.set(`${node.name}.weight`, g.gamma);
          params.set(`${node.name}.bias`, g.beta);
          add(node.input, g.input);
          break;
        }
        case 'relu':
          add(node.input, reluBackward(this.ctx, this.value(node.output), dY));
          break;
        case 'add': {
          const [da, db] = addBackward(dY);
          add(node.inputs[0], da);
          add(node.inputs[1], db);
          break;
        }
        case 'concat': {
          const axis = node.axis - 1; // per-sample shapes have no batch dimension
          const parts = concatBackward(
            this.ctx,
            node,
            node.inputs.map((t) => this.shape(t)[axis]),
            dY,
          );
          node.inputs.forEach((t, j) => {
            add(t, parts[j]);
          });
          break;
        }
        case 'head_flatten':
          add(node.input, headFlattenBackward(this.ctx, this.shape(node.input), dY));
          break;
      }
    }
    const inputs = new Map<string, string>();
    for (const tensor of inputGradients) {
      const g = take(tensor);
      if (g !== undefined) inputs.set(tensor, g);
    }
    return { params, inputs };
  }
}
