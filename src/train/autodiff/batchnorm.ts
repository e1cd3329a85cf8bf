import type { BatchNormNode } from '../../model/graph.js';
import type { EmitContext } from './context.js';

/**
 * BatchNorm2d in training mode (SPEC §2.1): statistics of the batch, over N, H and W per channel, biased
 * variance for normalizing, eps = node.eps. y = (x − mean) / √(var + eps) · γ + β.
 */

export interface BatchNormOperands {
  /** x [N, C, H, W]. */
  readonly input: string;
  readonly gamma: string;
  readonly beta: string;
  /** Per-sample input shape [C, H, W]. */
  readonly inputShape: readonly number[];
}

/** What the backward pass reads, and the batch statistics the trainer blends into the running ones. */
export interface BatchNormSaved {
  readonly operands: BatchNormOperands;
  /** [C] batch mean. */
  readonly mean: string;
  /** [C] unbiased batch variance (·M/(M − 1), M = N·H·W): what PyTorch blends into running_var. */
  readonly unbiasedVariance: string;
  /** [C] or [1, C, 1, 1] (basic) 1/√(var + eps). */
  readonly rstd: string;
  /** fused only: x − mean [N, C, H, W]. */
  readonly centered?: string;
  /** basic only: x̂ [N, C, H, W]. */
  readonly normalized?: string;
}

const SPATIAL = [0, 2, 3];

export function batchNormTrainForward(
  ctx: EmitContext,
  node: BatchNormNode,
  o: BatchNormOperands,
): { output: string; saved: BatchNormSaved } {
  const { b } = ctx;
  const [C, H, W] = o.inputShape;
  const m = ctx.count(H * W);
  // M/(M − 1), guarded at M = 1 (PyTorch refuses a batch of one value per channel; we return var·1)
  const unbias = b.node('Div', [m, b.node('Max', [b.node('Sub', [m, b.scalar(1)]), b.scalar(1)])]);
  const epsilon = { float: node.eps };

  const channel = b.ints([1, C, 1, 1]);
  if (ctx.variants.batchNorm === 'fused') {
    // Two-pass statistics on x − mean: the one-pass E[x²] − mean² loses all digits on near-constant channels
    // (dead ReLU inputs), and so did the backward sums built on it (1e-2 gradient errors on RFB, measured).
    const mean = b.node('ReduceMean', [o.input], undefined, { axes: SPATIAL, keepdims: 0 });
    const centered = b.node('Sub', [o.input, b.node('Reshape', [mean, channel])]);
    // Mul + ReduceSum: onnxruntime's ReduceSumSquare over N, H, W is not vectorized (8.1 vs 3.7 ms at
    // [12, 32, 120, 160], one thread)
    const squares = b.node('Mul', [centered, centered]);
    const sumSquares = b.node('ReduceSum', [squares, b.ints(SPATIAL)], undefined, { keepdims: 0 });
    const variance = b.node('Div', [sumSquares, m]);
    const output = b.node(
      'BatchNormalization',
      [o.input, o.gamma, o.beta, mean, variance],
      b.fresh(node.name),
      {
        epsilon,
      },
    );
    const rstd = b.node('Reciprocal', [b.node('Sqrt', [b.node('Add', [variance, b.scalar(node.eps)])])]);
    const unbiasedVariance = b.node('Mul', [variance, unbias]);
    return { output, saved: { operands: o, mean, unbiasedVariance, rstd, centered } };
  }

  const mean4 = b.node('ReduceMean', [o.input], undefined, { axes: SPATIAL, keepdims: 1 });
  const centered = b.node('Sub', [o.input, mean4]);
  const variance4 = b.node('Div', [
    b.node('ReduceSumSquare', [centered], undefined, { axes: SPATIAL, keepdims: 1 }),
    m,
  ]);
  const rstd = b.node('Reciprocal', [b.node('Sqrt', [b.node('Add', [variance4, b.scalar(node.eps)])])]);
  const normalized = b.node('Mul', [centered, rstd]);
  const output = b.node(
    'Add',
    [
      b.node('Mul', [normalized, b.node('Reshape', [o.gamma, channel])]),
      b.node('Reshape', [o.beta, channel]),
    ],
    b.fresh(node.name),
  );
  const flat = b.ints([C]);
  return {
    output,
    saved: {
      operands: o,
      mean: b.node('Reshape', [mean4, flat]),
      unbiasedVariance: b.node('Reshape', [b.node('Mul', [variance4, unbias]), flat]),
      rstd,
      normalized,
    },
  };
}

/** Inference-mode BatchNorm with the running statistics (for eval-mode loss, as upstream's validation). */
export function batchNormEvalForward(
  ctx: EmitContext,
  node: BatchNormNode,
  o: BatchNormOperands,
  running: { readonly mean: string; readonly variance: string },
): string {
  return ctx.b.node(
    'BatchNormalization',
    [o.input, o.gamma, o.beta, running.mean, running.variance],
    ctx.b.fresh(node.name),
    { epsilon: { float: node.eps } },
  );
}

/**
 * With x̂ = (x − mean)·rstd and M = N·H·W:
 * dβ = Σ dY, dγ = Σ dY·x̂, dx = γ·rstd·(dY − dβ/M − x̂·dγ/M).
 */
export function batchNormBackward(
  ctx: EmitContext,
  node: BatchNormNode,
  saved: BatchNormSaved,
  dY: string,
): { input: string; gamma: string; beta: string } {
  const { b } = ctx;
  const o = saved.operands;
  const [C, H, W] = o.inputShape;
  const invM = b.node('Reciprocal', [ctx.count(H * W)]);
  const negInvM = b.node('Neg', [invM]);
  const channel = b.ints([1, C, 1, 1]);

  if (saved.centered !== undefined) {
    // fused: with xc = x − mean, dγ = rstd·Σ dY·xc, dβ = Σ dY; dx = A·dY + K + B·xc with A = γ·rstd,
    // K = −A·dβ/M, B = −A·rstd·dγ/M. A·dY + K runs as one inference BatchNormalization (mean 0, var 1 − eps).
    const sumDy = b.node('ReduceSum', [dY, b.ints(SPATIAL)], undefined, { keepdims: 0 });
    const sumDyXc = b.node('ReduceSum', [b.node('Mul', [dY, saved.centered]), b.ints(SPATIAL)], undefined, {
      keepdims: 0,
    });
    const gamma = b.node('Mul', [saved.rstd, sumDyXc]);
    const a = b.node('Mul', [o.gamma, saved.rstd]);
    const bx = b.node('Mul', [b.node('Mul', [a, saved.rstd]), b.node('Mul', [gamma, negInvM])]);
    const k = b.node('Mul', [a, b.node('Mul', [sumDy, negInvM])]);
    const zeros = ctx.floatVector(new Array<number>(C).fill(0));
    const ones = ctx.floatVector(new Array<number>(C).fill(1 - node.eps));
    const scaled = b.node('BatchNormalization', [dY, a, k, zeros, ones], undefined, {
      epsilon: { float: node.eps },
    });
    const input = b.node('Add', [scaled, b.node('Mul', [saved.centered, b.node('Reshape', [bx, channel])])]);
    return { input, gamma, beta: sumDy };
  }
  if (saved.normalized === undefined) throw new Error(`batchNormBackward: ${node.name} has no saved state`);

  const beta4 = b.node('ReduceSum', [dY, b.ints(SPATIAL)], undefined, { keepdims: 1 });
  const gamma4 = b.node('ReduceSum', [b.node('Mul', [dY, saved.normalized]), b.ints(SPATIAL)], undefined, {
    keepdims: 1,
  });
  const a = b.node('Mul', [b.node('Reshape', [o.gamma, channel]), saved.rstd]);
  const coefX = b.node('Mul', [a, b.node('Mul', [gamma4, negInvM])]);
  const shift = b.node('Mul', [a, b.node('Mul', [beta4, negInvM])]);
  const input = b.node('Add', [
    b.node('Add', [b.node('Mul', [dY, a]), b.node('Mul', [saved.normalized, coefX])]),
    shift,
  ]);
  const flat = b.ints([C]);
  return { input, gamma: b.node('Reshape', [gamma4, flat]), beta: b.node('Reshape', [beta4, flat]) };
}
