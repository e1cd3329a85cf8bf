/**
 * Weight and bias quantization for QDQ convolutions. Pure functions on typed arrays.
 *
 * Weights are int8, symmetric (zero point 0), one scale per output channel (or one per tensor).
 *
 * Why the range matters: onnxruntime's u8·s8 GEMM on x86 without VNNI (AVX2, AVX-512BW) multiplies with
 * `vpmaddubsw`, which adds the products of two neighbouring weights (reduction index 2j and 2j + 1, in the kernel's
 * order k·C + c) in a saturating 16-bit sum: 255·(|q_2j| + |q_2j+1|) must stay ≤ 32767. Full 8-bit weights break
 * that (measured on RFB-320: mean face-score error 0.22 instead of 0.02). Three ways to stay safe:
 *
 * - 'reduced': |q| ≤ 63 everywhere (onnxruntime's `reduce_range`): always safe, 7-bit precision.
 * - 'pairwise' (default): |q| ≤ 127 and |q_2j| + |q_2j+1| ≤ 128 in each output channel, so the scale follows the
 *   largest neighbouring pair rather than twice the largest weight: between 7- and 8-bit precision, safe.
 *   Depthwise convs run on another kernel (32-bit products, no pairing) and get the full ±127.
 * - 'full': |q| ≤ 127: exact on VNNI and Arm CPUs only.
 *
 * Bias: int32 with scale s_in · s_w[c] and zero point 0, the form QLinearConv consumes, optionally corrected for the
 * mean shift that weight rounding causes.
 */

export type WeightRange = 'pairwise' | 'reduced' | 'full';
export const WEIGHT_RANGES: readonly WeightRange[] = ['pairwise', 'reduced', 'full'];

export interface QuantizedWeights {
  /** Same layout as the float weights ([M, C/g, kh, kw]). */
  readonly values: Int8Array;
  /** [M] per output channel, or [1] per tensor. */
  readonly scales: Float32Array;
}

export interface WeightQuantizeOptions {
  readonly perChannel: boolean;
  readonly range: WeightRange;
}

export interface ConvShape {
  /** Weight dims [M, C/g, kh, kw]. */
  readonly shape: readonly number[];
  readonly groups: number;
  /**
   * Mean of each input channel over the calibration images. When given, the bias absorbs the mean output shift
   * that weight rounding causes: b − Σ (ŵ − w) · E[x] (bias correction, Nagel et al. 2019 §4.2).
   */
  readonly inputMeans?: ArrayLike<number>;
}

/** Weight scale for an all-zero channel: any positive value represents it exactly. */
const ZERO_CHANNEL_SCALE = 1;
const FULL = 127;
const REDUCED = 63;
/** |q_2j| + |q_2j+1| ≤ PAIR_LIMIT + 1 = 128 after rounding: 255 · 128 < 32767. */
const PAIR_LIMIT = 127;

/** Depthwise: one input channel per group and as many groups as output channels. */
function isDepthwise(shape: ConvShape): boolean {
  return shape.groups > 1 && shape.shape[1] === 1 && shape.groups === shape.shape[0];
}

/**
 * The largest |w_a| + |w_b| over neighbouring pairs of each output channel, in the GEMM reduction order
 * (kernel position major, input channel minor: index k · C + c).
 */
function largestPairSums(weights: Float32Array, shape: readonly number[]): Float64Array {
  const [outChannels, channels] = shape;
  const perOut = weights.length / outChannels;
  const kernel = perOut / channels;
  const out = new Float64Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let best = 0;
    for (let index = 0; index < perOut; index += 2) {
      // reduction index r ↔ weight [o, c = r mod C, k = ⌊r / C⌋]
      const at = (r: number): number =>
        r < perOut ? Math.abs(weights[o * perOut + (r % channels) * kernel + Math.floor(r / channels)]) : 0;
      best = Math.max(best, at(index) + at(index + 1));
    }
    out[o] = best;
  }
  return out;
}

/** Symmetric quantization of conv weights (ONNX QuantizeLinear rounding: half to even). */
export function quantizeWeights(
  weights: Float32Array,
  conv: ConvShape,
  options: WeightQuantizeOptions,
): QuantizedWeights {
  const outChannels = conv.shape[0];
  const depthwise = isDepthwise(conv);
  const qmax = options.range === 'reduced' ? REDUCED : FULL;
  const pairSums =
    options.range === 'pairwise' && !depthwise ? largestPairSums(weights, conv.shape) : undefined;
  const perOut = weights.length / outChannels;
  const groups = options.perChannel ? outChannels : 1;
  const groupSize = options.perChannel ? perOut : weights.length;
  const scales = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    let absMax = 0;
    let pairMax = 0;
    for (let i = g * groupSize; i < (g + 1) * groupSize; i++) absMax = Math.max(absMax, Math.abs(weights[i]));
    if (pairSums) {
      for (let o = (g * groupSize) / perOut; o < ((g + 1) * groupSize) / perOut; o++) {
        pairMax = Math.max(pairMax, pairSums[o]);
      }
    }
    const scale = Math.max(absMax / qmax, pairMax / PAIR_LIMIT);
    scales[g] = scale > 0 ? scale : ZERO_CHANNEL_SCALE;
  }
  return { values: quantizeWithScales(weights, scales, groupSize, qmax), scales };
}

/** round-half-to-even(w / s), clamped to ±qmax, with scale `scales[i / groupSize]`. */
function quantizeWithScales(
  weights: Float32Array,
  scales: Float32Array,
  groupSize: number,
  qmax: number,
): Int8Array {
  const values = new Int8Array(weights.length);
  for (let i = 0; i < weights.length; i++) {
    const q = roundHalfEven(weights[i] / scales[Math.floor(i / groupSize)]);
    values[i] = Math.max(-qmax, Math.min(qmax, q));
  }
  return values;
}

export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Bias correction: for output channel o, E[y_o] moves by Σ_{c,k} (ŵ − w)[o, c, k] · E[x_c] when weights are
 * rounded (ŵ = q · s); the corrected float bias subtracts it. Zero padding at the borders is ignored.
 */
export function correctBias(
  weights: Float32Array,
  quantized: QuantizedWeights,
  bias: Float32Array,
  inputMeans: ArrayLike<number>,
  groups: number,
): Float32Array {
  const outChannels = bias.length;
  const perOut = weights.length / outChannels;
  const perScale = weights.length / quantized.scales.length;
  const inPerGroup = inputMeans.length / groups;
  const outPerGroup = outChannels / groups;
  const kernel = perOut / inPerGroup;
  const out = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    const firstInput = Math.floor(o / outPerGroup) * inPerGroup;
    let shift = 0;
    for (let i = o * perOut; i < (o + 1) * perOut; i++) {
      const error = quantized.values[i] * quantized.scales[Math.floor(i / perScale)] - weights[i];
      shift += error * inputMeans[firstInput + Math.floor((i - o * perOut) / kernel)];
    }
    out[o] = bias[o] - shift;
  }
  return out;
}

const INT32_MAX = 2 ** 31 - 1;

export interface QuantizedConv {
  readonly weights: QuantizedWeights;
  /** [M] int32, scale inputScale · weights.scales[c]. */
  readonly bias: Int32Array;
  /** Output channels whose weight scale was enlarged so that the bias fits int32 (dead channels after BN folding). */
  readonly adjustedChannels: number;
}

/**
 * Quantizes a conv's weights and bias together. A channel whose folded weights are almost zero but whose bias is
 * not would need a bias beyond int32 (|b| / (s_in · s_w) > 2³¹); its weight scale is enlarged until the bias fits,
 * as onnxruntime's Python quantizer does. Per-tensor scales are enlarged as a whole.
 */
export function quantizeConv(
  weights: Float32Array,
  bias: Float32Array,
  inputScale: number,
  conv: ConvShape,
  options: WeightQuantizeOptions,
): QuantizedConv {
  const outChannels = bias.length;
  const first = quantizeWeights(weights, conv, options);
  const scales = Float32Array.from(first.scales);
  const groupSize = weights.length / scales.length;
  const perScale = outChannels / scales.length;
  let adjusted = 0;
  for (let g = 0; g < scales.length; g++) {
    let biasMax = 0;
    for (let c = g * perScale; c < (g + 1) * perScale; c++) biasMax = Math.max(biasMax, Math.abs(bias[c]));
    // Leave headroom (½ of int32) for the accumulator the bias is added to.
    const needed = Math.fround(biasMax / (inputScale * (INT32_MAX / 2)));
    if (needed > scales[g]) {
      scales[g] = needed;
      adjusted += perScale;
    }
  }
  // A larger scale only shrinks |q|, so the range's bounds (pairs included) still hold.
  const quantized =
    adjusted === 0
      ? first
      : {
          values: quantizeWithScales(
            weights,
            scales,
            groupSize,
            options.range === 'reduced' ? REDUCED : FULL,
          ),
          scales,
        };
  const corrected = conv.inputMeans
    ? correctBias(weights, quantized, bias, conv.inputMeans, conv.groups)
    : bias;
  const q = new Int32Array(outChannels);
  for (let c = 0; c < outChannels; c++) {
    const biasScale = Math.fround(inputScale * scales[Math.floor(c / perScale)]);
    q[c] = Math.max(-INT32_MAX, Math.min(INT32_MAX, roundHalfEven(corrected[c] / biasScale)));
  }
  return { weights: quantized, bias: q, adjustedChannels: adjusted };
}
