import type { ConvNode } from '../../model/graph.js';
import type { EmitContext } from './context.js';

/**
 * Conv2d rules (SPEC §2.1: square kernels, symmetric zero padding, any stride, dilation and groups).
 * Forward y[n, m, i, j] = b[m] + Σ_{c ∈ group(m), kh, kw} W[m, c, kh, kw] · x[n, c, i·s + kh·d − p, j·s + kw·d − p].
 */

/** The tensors a conv's backward pass reads: its input activation and its parameter values. */
export interface ConvOperands {
  /** x [N, C, H, W]. */
  readonly input: string;
  /** W [M, C/g, k, k]. */
  readonly weight: string;
  readonly bias?: string;
  /** Per-sample input shape [C, H, W]. */
  readonly inputShape: readonly number[];
  /** Per-sample output shape [M, Ho, Wo]. */
  readonly outputShape: readonly number[];
}

export interface ConvGradients {
  readonly weight: string;
  readonly bias?: string;
  /** dL/dx, when asked for. */
  readonly input?: string;
}

function convAttributes(node: ConvNode): Record<string, number | number[]> {
  const { kernel: k, stride: s, padding: p, dilation: d } = node;
  return { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], dilations: [d, d], group: node.groups };
}

export function convForward(ctx: EmitContext, node: ConvNode, operands: ConvOperands): string {
  const inputs = [operands.input, operands.weight, ...(operands.bias === undefined ? [] : [operands.bias])];
  return ctx.b.node('Conv', inputs, ctx.b.fresh(node.name), convAttributes(node));
}

const isPointwise = (n: ConvNode): boolean =>
  n.kernel === 1 && n.stride === 1 && n.padding === 0 && n.groups === 1;
const isDepthwise = (n: ConvNode): boolean =>
  n.groups > 1 && n.groups === n.inChannels && n.groups === n.outChannels;

export function convBackward(
  ctx: EmitContext,
  node: ConvNode,
  operands: ConvOperands,
  dY: string,
  needInputGradient: boolean,
): ConvGradients {
  const { b } = ctx;
  const bias = node.bias
    ? b.node('ReduceSum', [dY, b.ints([0, 2, 3])], undefined, { keepdims: 0 })
    : undefined;
  const weight = filterGradient(ctx, node, operands, dY);
  const input = needInputGradient ? dataGradient(ctx, node, operands, dY) : undefined;
  return { weight, ...(bias === undefined ? {} : { bias }), ...(input === undefined ? {} : { input }) };
}

/** At stride 1, unfolding pays for itself from this output area (Ho·Wo) up (measured: DEFAULT_GRADIENT_VARIANTS). */
const UNFOLD_MIN_OUTPUT_AREA = 4096;

function useUnfold(ctx: EmitContext, node: ConvNode, outputArea: number): boolean {
  if (isDepthwise(node)) {
    const v = ctx.variants.depthwiseFilter;
    return (
      v === 'unfold-matmul' || (v === 'auto' && (node.stride > 1 || outputArea >= UNFOLD_MIN_OUTPUT_AREA))
    );
  }
  return node.groups === 1 && ctx.variants.convFilter === 'unfold-matmul';
}

const useShiftedProducts = (ctx: EmitContext): boolean =>
  ctx.variants.depthwiseFilter === 'shifted-products' || ctx.variants.depthwiseFilter === 'auto';

/**
 * dW[m, c, kh, kw] = Σ_{n,i,j} dY[n, m, i, j] · x[n, c, i·s + kh·d − p, j·s + kw·d − p]: a convolution of x
 * (batch and channel axes swapped) with dY as the kernel, with the roles of stride and dilation swapped.
 */
function filterGradient(ctx: EmitContext, node: ConvNode, o: ConvOperands, dY: string): string {
  const { b } = ctx;
  const [C, H, W] = o.inputShape;
  const [M, Ho, Wo] = o.outputShape;
  const { kernel: k, stride: s, padding: p, dilation: d, groups: g } = node;

  if (isPointwise(node)) {
    // [N, M, Ho·Wo] × [N, Ho·Wo, C] → [N, M, C], summed over N (ORT fuses the transpose into FusedMatMul)
    const x = b.node('Transpose', [b.node('Reshape', [o.input, b.ints([0, C, H * W])])], undefined, {
      perm: [0, 2, 1],
    });
    const product = b.node('MatMul', [b.node('Reshape', [dY, b.ints([0, M, Ho * Wo])]), x]);
    const summed = b.node('ReduceSum', [product, b.ints([0])], undefined, { keepdims: 0 });
    return b.node('Reshape', [summed, b.ints([M, C, 1, 1])]);
  }

  // The filter-gradient conv reads x with stride d and dilation s; pad its end so that it yields ≥ k outputs.
  const endPad = (size: number, out: number): number =>
    Math.max(0, (k - 1) * d + s * (out - 1) + 1 - size - p);
  const [padH, padW] = [endPad(H, Ho), endPad(W, Wo)];
  const attrs = (group: number): Record<string, number | number[]> => ({
    kernel_shape: [Ho, Wo],
    strides: [d, d],
    dilations: [s, s],
    pads: [p, p, padH, padW],
    group,
  });
  const outH = Math.floor((H + p + padH - s * (Ho - 1) - 1) / d) + 1;
  const outW = Math.floor((W + p + padW - s * (Wo - 1) - 1) / d) + 1;
  const cropToKernel = (z: string): string =>
    outH === k && outW === k ? z : b.node('Slice', [z, b.ints([0, 0]), b.ints([k, k]), b.ints([2, 3])]);

  const depthwise = isDepthwise(node);
  if (useUnfold(ctx, node, Ho * Wo)) {
    // Unfold x once by a fixed one-hot depthwise conv (contiguous reads, any stride and dilation), then one
    // batched MatMul with dY: cols [N, C·k², Ho·Wo], channel c·k² + (kh·k + kw), matching W's memory layout.
    const cols = b.node('Conv', [o.input, ctx.unfoldKernel(C, k)], undefined, {
      kernel_shape: [k, k],
      strides: [s, s],
      pads: [p, p, p, p],
      dilations: [d, d],
      group: C,
    });
    if (depthwise) {
      // [N, C, k², Ho·Wo] × [N, C, Ho·Wo, 1] → [N, C, k², 1], summed over N
      const product = b.node('MatMul', [
        b.node('Reshape', [cols, b.ints([0, C, k * k, Ho * Wo])]),
        b.node('Reshape', [dY, b.ints([0, C, Ho * Wo, 1])]),
      ]);
      const summed = b.node('ReduceSum', [product, b.ints([0])], undefined, { keepdims: 0 });
      return b.node('Reshape', [summed, b.ints([C, 1, k, k])]);
    }
    // [N, M, Ho·Wo] × [N, Ho·Wo, C·k²] → [N, M, C·k²], summed over N (ORT fuses the transpose)
    const flatCols = b.node('Reshape', [cols, b.ints([0, C * k * k, Ho * Wo])]);
    const colsT = b.node('Transpose', [flatCols], undefined, { perm: [0, 2, 1] });
    const product = b.node('MatMul', [b.node('Reshape', [dY, b.ints([0, M, Ho * Wo])]), colsT]);
    const summed = b.node('ReduceSum', [product, b.ints([0])], undefined, { keepdims: 0 });
    return b.node('Reshape', [summed, b.ints([M, C, k, k])]);
  }

  if (depthwise && useShiftedProducts(ctx)) {
    // dW[c, 0, i, j] = Σ_{n,y,x} dY[n, c, y, x] · x_padded[n, c, y·s + i·d, x·s + j·d]: one strided slice of the
    // padded x per tap, times dY, summed — k² passes over the data instead of a k²-fold im2col copy.
    const padded = p > 0 ? b.node('Pad', [o.input, b.ints([0, 0, p, p, 0, 0, p, p])]) : o.input;
    const taps: string[] = [];
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        const start = [i * d, j * d];
        const tap = b.node('Slice', [
          padded,
          b.ints(start),
          b.ints([start[0] + s * (Ho - 1) + 1, start[1] + s * (Wo - 1) + 1]),
          b.ints([2, 3]),
          b.ints([s, s]),
        ]);
        // [1, C, 1, 1]
        taps.push(
          b.node('ReduceSum', [b.node('Mul', [tap, dY]), b.ints([0, 2, 3])], undefined, { keepdims: 1 }),
        );
      }
    }
    const byTap = b.node('Reshape', [b.node('Concat', taps, undefined, { axis: 0 }), b.ints([k * k, C])]);
    return b.node('Reshape', [
      b.node('Transpose', [byTap], undefined, { perm: [1, 0] }),
      b.ints([C, 1, k, k]),
    ]);
  }

  if (depthwise && ctx.variants.depthwiseFilter === 'group-nc' && ctx.batch !== 'dynamic') {
    // x → [1, N·C, H, W], dY → [N·C, 1, Ho, Wo], group = N·C; then sum over N
    const n = ctx.batch;
    const z = cropToKernel(
      b.node(
        'Conv',
        [
          b.node('Reshape', [o.input, b.ints([1, n * C, H, W])]),
          b.node('Reshape', [dY, b.ints([n * C, 1, Ho, Wo])]),
        ],
        undefined,
        attrs(n * C),
      ),
    );
    const summed = b.node(
      'ReduceSum',
      [b.node('Reshape', [z, b.ints([n, C * k * k])]), b.ints([0])],
      undefined,
      {
        keepdims: 0,
      },
    );
    return b.node('Reshape', [summed, b.ints([C, 1, k, k])]);
  }

  // General grouped form (group-c): x → [C/g, g·N, H, W] with channel gi·N + n = x[n, gi·C/g + c'];
  // dY → [M, N, Ho, Wo]; Conv(group = g) → [C/g, M, k, k] = dW transposed.
  const cg = C / g;
  const xT =
    g === 1
      ? b.node('Transpose', [o.input], undefined, { perm: [1, 0, 2, 3] })
      : cg === 1
        ? b.node('Reshape', [
            b.node('Transpose', [o.input], undefined, { perm: [1, 0, 2, 3] }),
            b.ints([1, -1, H, W]),
          ])
        : b.node('Reshape', [
            b.node('Transpose', [b.node('Reshape', [o.input, b.ints([0, g, cg, H, W])])], undefined, {
              perm: [2, 1, 0, 3, 4],
            }),
            b.ints([cg, -1, H, W]),
          ]);
  const dYT = b.node('Transpose', [dY], undefined, { perm: [1, 0, 2, 3] });
  const z = cropToKernel(b.node('Conv', [xT, dYT], undefined, attrs(g)));
  return cg === 1
    ? b.node('Reshape', [z, b.ints([M, 1, k, k])])
    : b.node('Transpose', [z], undefined, { perm: [1, 0, 2, 3] });
}

/** dx = the transposed convolution of dY with W. */
function dataGradient(ctx: EmitContext, node: ConvNode, o: ConvOperands, dY: string): string {
  const { b } = ctx;
  const [, H, W] = o.inputShape;
  const { kernel: k, stride: s, padding: p, dilation: d, groups: g } = node;

  if (isPointwise(node)) {
    const wT = b.node('Transpose', [o.weight], undefined, { perm: [1, 0, 2, 3] });
    return b.node('Conv', [dY, wT], undefined, { kernel_shape: [1, 1] });
  }
  const flippedPad = d * (k - 1) - p;
  const flippable = isDepthwise(node) || g === 1;
  if (flippable && s === 1 && flippedPad >= 0 && ctx.variants.convData === 'flipped-conv') {
    // dense: W [M, C, k, k] → [C, M, k, k] first
    const kernel = g === 1 ? b.node('Transpose', [o.weight], undefined, { perm: [1, 0, 2, 3] }) : o.weight;
    const big = -(2 ** 31);
    const flipped = b.node('Slice', [
      kernel,
      b.ints([-1, -1]),
      b.ints([big, big]),
      b.ints([2, 3]),
      b.ints([-1, -1]),
    ]);
    return b.node('Conv', [dY, flipped], undefined, {
      kernel_shape: [k, k],
      pads: [flippedPad, flippedPad, flippedPad, flippedPad],
      dilations: [d, d],
      group: g,
    });
  }
  // Rows/columns of x that the last stride step never reached need output_padding to be restored.
  const rest = (size: number): number => (size + 2 * p - d * (k - 1) - 1) % s;
  return b.node('ConvTranspose', [dY, o.weight], undefined, {
    kernel_shape: [k, k],
    strides: [s, s],
    pads: [p, p, p, p],
    dilations: [d, d],
    group: g,
    output_padding: [rest(H), rest(W)],
  });
}
