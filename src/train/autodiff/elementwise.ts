import type { AddNode, ReluNode } from '../../model/graph.js';
import { TensorDataType } from '../../model/onnx/proto.js';
import type { EmitContext } from './context.js';

/** ReLU: y = max(x, 0). */
export function reluForward(ctx: EmitContext, node: ReluNode, input: string): string {
  return ctx.b.node('Relu', [input], ctx.b.fresh(node.name));
}

/** dx = dY where y > 0, else 0 (the subgradient 0 at x = 0, as PyTorch). Reads the output y, not x. */
export function reluBackward(ctx: EmitContext, output: string, dY: string): string {
  const { b } = ctx;
  switch (ctx.variants.reluGradient) {
    case 'where':
      return b.node('Where', [b.node('Greater', [output, b.scalar(0)]), dY, b.scalar(0)]);
    case 'sign':
      return b.node('Mul', [dY, b.node('Sign', [output])]); // y ≥ 0, so Sign(y) ∈ {0, 1}
    case 'mask': {
      const positive = b.node('Greater', [output, b.scalar(0)]);
      return b.node('Mul', [dY, b.node('Cast', [positive], undefined, { to: TensorDataType.FLOAT })]);
    }
  }
}

export function addForward(ctx: EmitContext, node: AddNode, a: string, c: string): string {
  return ctx.b.node('Add', [a, c], ctx.b.fresh(node.name));
}

/** Both summands receive dY unchanged (same shapes; no broadcasting in these nets). */
export function addBackward(dY: string): readonly [string, string] {
  return [dY, dY];
}
