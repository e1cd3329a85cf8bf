import type { Dim, OnnxGraphBuilder } from '../../model/onnx/builder.js';
import { TensorDataType } from '../../model/onnx/proto.js';

/**
 * Which standard-ONNX construction each gradient uses. All variants compute the same values; they differ in
 * speed and memory (notes/engines.md §4 measured them on the slim detector, batch 16 at 320x240).
 */
export interface GradientVariants {
  /**
   * Filter gradient of depthwise convs. `unfold-matmul`: x unfolded once by a fixed one-hot depthwise Conv
   * ([N, C·k², Ho, Wo], contiguous reads at any stride), then a batched MatMul with dY. `shifted-products`: per
   * kernel tap, a strided Slice of the padded input times dY, summed over N, H and W (k² passes, no copy; strided
   * slices are slow). `auto`: `unfold-matmul` for strided convs and output maps of ≥ 4096 pixels, else
   * `shifted-products`. `group-c`: one Conv with `group = C` over batch-transposed tensors (X → [1, C·N, H, W],
   * dY → [C, N, Ho, Wo]) — ORT expands it k²-fold. `group-nc`: a Conv with `group = N·C` without transposes, then
   * a ReduceSum over N; needs a fixed batch size.
   */
  readonly depthwiseFilter: 'auto' | 'unfold-matmul' | 'shifted-products' | 'group-c' | 'group-nc';
  /**
   * Filter gradient of dense (group 1) convs other than 1x1. `transposed-conv`: a Conv of the batch-transposed
   * input with dY as its kernel. `unfold-matmul`: the input unfolded by a one-hot depthwise Conv, then a batched
   * MatMul with dY.
   */
  readonly convFilter: 'transposed-conv' | 'unfold-matmul';
  /**
   * Data gradient of stride-1 depthwise and dense convs. `conv-transpose`: ConvTranspose(dY, W). `flipped-conv`:
   * Conv(dY, W flipped in space (dense: and transposed to [C, M, k, k]), pads d·(k − 1) − p). Strided and other
   * grouped convs always use ConvTranspose.
   */
  readonly convData: 'conv-transpose' | 'flipped-conv';
  /**
   * Training-mode BatchNorm. `fused`: statistics from ReduceMean and ReduceSum((x − mean)²), applied by the
   * inference BatchNormalization op; backward dx = A·dY + K + B·(x − mean) per channel, A·dY + K again one
   * BatchNormalization. `basic`: x̂ = (x − mean)·rstd materialized and kept for backward; plain Mul/Add.
   * (engines.md's one-pass var = E[x²] − mean² is not offered: it gave 1e-2 gradient errors on RFB, from
   * near-constant channels.)
   */
  readonly batchNorm: 'fused' | 'basic';
  /**
   * ReLU backward: `mask` = dY · Cast(Y > 0) (vectorized kernels; ~2x faster than the others here); `sign` =
   * dY · Sign(Y); `where` = Where(Y > 0, dY, 0).
   */
  readonly reluGradient: 'mask' | 'sign' | 'where';
}

/**
 * The fastest on this project's 2-core AVX2 machine, op by op at batch 12, one thread (one shard's work).
 * Depthwise filter gradient, shifted-products vs unfold-matmul: stride 2 at 120x160 (32 channels) 82 vs 30 ms,
 * at 60x80 16 vs 8 ms, at 30x40 6.5 vs 4.7 ms; stride 1 at 120x160 (16 channels) 54 vs 37 ms, at 60x80 22 vs 18 ms,
 * but at 30x40 7.7 vs 10.7 ms and at 15x20 3.7 vs 6.5 ms — hence `auto` (group-c: 99 ms at 16 channels, 120x160).
 * Whole RFB-320 step with dense filters unfolded too: 0.88x the time of shifted-products / transposed-conv
 * (interleaved A/B, 16 rounds); then flipped-conv data gradients for dense convs and Mul + ReduceSum for the
 * BatchNorm variance: 0.97x again (20 rounds). flipped-conv 13 ms vs ConvTranspose 27 ms (depthwise); mask 7 ms
 * vs Sign + Mul 15 ms (32 channels at 120x160). `fused` BatchNorm: engines.md §4.
 */
export const DEFAULT_GRADIENT_VARIANTS: GradientVariants = Object.freeze({
  depthwiseFilter: 'auto',
  convFilter: 'unfold-matmul',
  convData: 'flipped-conv',
  batchNorm: 'fused',
  reluGradient: 'mask',
});

/** Name of the symbolic batch dimension when the batch size is dynamic. */
export const BATCH_DIM = 'batch';

/**
 * What every rule needs: the ONNX builder, the batch size (fixed or symbolic) and the chosen variants, plus a
 * few cached constants. Tensors are NCHW (feature maps) or [N, P, K] (head outputs); per-sample shapes omit N.
 */
export class EmitContext {
  private readonly cache = new Map<string, string>();

  constructor(
    readonly b: OnnxGraphBuilder,
    readonly batch: number | 'dynamic',
    readonly variants: GradientVariants,
    /** A graph tensor whose first dimension is N (the network input), for dynamic-batch counts. */
    private readonly batchSource: string,
  ) {}

  /** The batch dimension as it appears in value infos. */
  get batchDim(): Dim {
    return this.batch === 'dynamic' ? BATCH_DIM : this.batch;
  }

  /** A shape with the batch dimension prepended. */
  full(perSample: readonly number[]): Dim[] {
    return [this.batchDim, ...perSample];
  }

  /** An int64 scalar (shape []) constant, shared between uses. */
  int64Scalar(value: number): string {
    return this.cached(`i64:${value}`, () => this.b.int64(this.b.fresh('int'), [value], []));
  }

  /** A float32 constant of shape [values.length], shared between uses. */
  floatVector(values: readonly number[]): string {
    return this.cached(`f32v:${values.join(',')}`, () =>
      this.b.float(this.b.fresh('floats'), [values.length], Float32Array.from(values)),
    );
  }

  /**
   * The fixed depthwise kernel that unfolds (im2col) a conv's input: [C·k², 1, k, k], where output channel
   * c·k² + t copies tap t = kh·k + kw of channel c. A Conv with it (group C) gives [N, C·k², Ho, Wo].
   */
  unfoldKernel(channels: number, k: number): string {
    return this.cached(`unfold:${channels}:${k}`, () => {
      const taps = k * k;
      const data = new Float32Array(channels * taps * taps);
      for (let c = 0; c < channels; c++) for (let t = 0; t < taps; t++) data[(c * taps + t) * taps + t] = 1;
      return this.b.float(this.b.fresh('unfold'), [channels * taps, 1, k, k], data);
    });
  }

  /**
   * N · perSample as a float32 scalar: the number of values a per-channel statistic averages over
   * (perSample = H·W). A constant for a fixed batch; computed from the input's shape otherwise.
   */
  count(perSample: number): string {
    if (this.batch !== 'dynamic') return this.b.scalar(this.batch * perSample);
    return this.cached(`count:${perSample}`, () => {
      const n = this.cached('batch:float', () => {
        const shape = this.b.node('Shape', [this.batchSource], undefined, { start: 0, end: 1 });
        return this.b.node('Cast', [shape], undefined, { to: TensorDataType.FLOAT });
      });
      // [1] → [] so it broadcasts like the static scalar
      const scalar = this.b.node('Reshape', [n, this.b.ints([])]);
      return perSample === 1 ? scalar : this.b.node('Mul', [scalar, this.b.scalar(perSample)]);
    });
  }

  private cached(key: string, make: () => string): string {
    let name = this.cache.get(key);
    if (name === undefined) {
      name = make();
      this.cache.set(key, name);
    }
    return name;
  }
}
