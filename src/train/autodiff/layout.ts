import type { ConcatNode, HeadFlattenNode } from '../../model/graph.js';
import type { EmitContext } from './context.js';

/** Concat along `node.axis` of the batched tensor (1: channels of NCHW, or priors of [N, P, K]). */
export function concatForward(ctx: EmitContext, node: ConcatNode, inputs: readonly string[]): string {
  return ctx.b.node('Concat', inputs, ctx.b.fresh(node.name), { axis: node.axis });
}

/** dY split back into the parts, along the same axis. `sizes`: each part's extent on that axis. */
export function concatBackward(
  ctx: EmitContext,
  node: ConcatNode,
  sizes: readonly number[],
  dY: string,
): readonly string[] {
  const { b } = ctx;
  if (sizes.length === 1) return [dY];
  const parts = sizes.map(() => b.fresh(`${node.name}.grad`));
  return b.multiNode('Split', [dY, b.ints(sizes)], parts, { axis: node.axis });
}

/** [N, A·K, H, W] → [N, H, W, A·K] → [N, H·W·A, K] (SPEC §2.5). */
export function headFlattenForward(ctx: EmitContext, node: HeadFlattenNode, input: string): string {
  const { b } = ctx;
  const nhwc = b.node('Transpose', [input], undefined, { perm: [0, 2, 3, 1] });
  return b.node('Reshape', [nhwc, b.ints([0, -1, node.valuesPerPrior])], b.fresh(node.name));
}

/** The inverse permutation: [N, P, K] → [N, H, W, A·K] → [N, A·K, H, W]. `inputShape` = [A·K, H, W]. */
export function headFlattenBackward(ctx: EmitContext, inputShape: readonly number[], dY: string): string {
  const { b } = ctx;
  const [c, h, w] = inputShape;
  const nhwc = b.node('Reshape', [dY, b.ints([0, h, w, c])]);
  return b.node('Transpose', [nhwc], undefined, { perm: [0, 3, 1, 2] });
}
