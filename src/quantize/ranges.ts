/**
 * Activation statistics gathered during calibration, and the three ways of turning them into a quantization range
 * (minmax, percentile, entropy). Pure: no I/O, no onnxruntime.
 */

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

/** Bins of the |x| histograms (TensorRT's and onnxruntime's entropy calibrators use 2048 too). */
export const HISTOGRAM_BINS = 2048;

/** A real-valued interval [min, max] that an activation tensor is quantized over; always contains 0. */
export interface ValueRange {
  readonly min: number;
  readonly max: number;
}

/** Running statistics of one activation tensor over all calibration images. */
export interface TensorStats {
  min: number;
  max: number;
  /** Per channel (axis 1 of an [N, C, ...] tensor) minimum and maximum, for activation equalization. */
  channelMin?: Float64Array;
  channelMax?: Float64Array;
  /** Per channel sum of the values and the number of values per channel, for means (bias correction). */
  channelSum?: Float64Array;
  channelCount?: number;
  /** Histogram of the non-zero |x| over [0, absMax] in `HISTOGRAM_BINS` equal bins (second pass, not for minmax). */
  histogram?: Float64Array;
  /** The |x| bound the histogram was laid over (max(|min|, |max|) from the first pass). */
  histogramMax?: number;
}

export function emptyStats(): TensorStats {
  return { min: Infinity, max: -Infinity };
}

/**
 * First pass: extend min and max (overall and per channel) by the values of one tensor.
 * @param values [N, C, ...spatial] (`dims`), NCHW
 */
export function updateMinMax(stats: TensorStats, values: Float32Array, dims: readonly number[]): void {
  const channels = dims.length >= 2 ? dims[1] : 1;
  const spatial = dims.slice(2).reduce((a, b) => a * b, 1);
  if (!stats.channelMin || !stats.channelMax || !stats.channelSum) {
    stats.channelMin = new Float64Array(channels).fill(Infinity);
    stats.channelMax = new Float64Array(channels).fill(-Infinity);
    stats.channelSum = new Float64Array(channels);
    stats.channelCount = 0;
  }
  const channelMin = stats.channelMin;
  const channelMax = stats.channelMax;
  const channelSum = stats.channelSum;
  for (let offset = 0, c = 0; offset < values.length; offset += spatial, c = (c + 1) % channels) {
    let lo = channelMin[c];
    let hi = channelMax[c];
    let sum = 0;
    for (let i = offset; i < offset + spatial; i++) {
      const v = values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      sum += v;
    }
    channelMin[c] = lo;
    channelMax[c] = hi;
    channelSum[c] += sum;
  }
  stats.channelCount = (stats.channelCount ?? 0) + values.length / channels;
  stats.min = Math.min(stats.min, ...channelMin);
  stats.max = Math.max(stats.max, ...channelMax);
}

/** Per-channel means from the first pass (zeros before any data). */
export function channelMeans(stats: TensorStats): Float64Array {
  const count = stats.channelCount ?? 0;
  return (stats.channelSum ?? new Float64Array(0)).map((sum) => (count > 0 ? sum / count : 0));
}

/** Second pass (after min and max are final): add the values of one tensor to the |x| histogram. */
export function updateHistogram(stats: TensorStats, values: Float32Array): void {
  if (!stats.histogram) {
    stats.histogram = new Float64Array(HISTOGRAM_BINS);
    stats.histogramMax = Math.max(Math.abs(stats.min), Math.abs(stats.max));
  }
  const histogram = stats.histogram;
  const top = stats.histogramMax!;
  if (top === 0) return;
  const perUnit = HISTOGRAM_BINS / top;
  const last = HISTOGRAM_BINS - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === 0) continue; // exact zeros (ReLU) are always representable: they must not pull the range in
    const bin = Math.floor(Math.abs(v) * perUnit);
    histogram[bin > last ? last : bin]++;
  }
}

export interface RangeOptions {
  /** For 'percentile': the share of non-zero |x| values kept inside the range, in percent (default 99.99). */
  readonly percentile?: number;
}

/** `[min(lo, 0), max(hi, 0)]`: zero must be exactly representable (padding, ReLU). */
function withZero(lo: number, hi: number): ValueRange {
  return { min: Math.min(lo, 0), max: Math.max(hi, 0) };
}

/**
 * The range a tensor is quantized over. 'minmax': the observed extremes. 'percentile' and 'entropy' clip the
 * tail: they choose a bound t on |x| (the given percentile of |x|, or the KL-optimal threshold) and clip the
 * observed range to [−t, t]. Non-negative tensors (after ReLU) keep their lower bound 0.
 */
export function chooseRange(
  stats: TensorStats,
  method: CalibrationMethod,
  options: RangeOptions = {},
): ValueRange {
  if (!(stats.min <= stats.max)) return { min: 0, max: 0 };
  if (method === 'minmax' || stats.max === stats.min) return withZero(stats.min, stats.max);
  if (!stats.histogram || stats.histogramMax === undefined) {
    throw new Error(`chooseRange: method ${method} needs the histogram pass`);
  }
  const threshold =
    method === 'percentile'
      ? percentileThreshold(stats.histogram, stats.histogramMax, options.percentile ?? 99.99)
      : entropyThreshold(stats.histogram, stats.histogramMax, stats.min >= 0 ? 255 : 128);
  return withZero(Math.max(stats.min, -threshold), Math.min(stats.max, threshold));
}

/** The upper edge of the first bin at which the cumulative share of values reaches `percent`. */
export function percentileThreshold(histogram: Float64Array, top: number, percent: number): number {
  let total = 0;
  for (const count of histogram) total += count;
  const wanted = (total * percent) / 100;
  let cumulative = 0;
  for (let i = 0; i < histogram.length; i++) {
    cumulative += histogram[i];
    if (cumulative >= wanted) return ((i + 1) * top) / histogram.length;
  }
  return top;
}

/**
 * The clipping threshold on |x| that minimises KL(P‖Q), where P is the histogram clipped at the threshold (the
 * clipped mass added to the last kept bin) and Q is the unclipped bins merged into `levels` levels and spread back
 * over P's non-empty bins — TensorRT's entropy calibration (as in MXNet; MNN's KL and onnxruntime's `entropy` are
 * its relatives). Searched from the last non-empty bin down to `levels` bins.
 *
 * @param levels quantization levels available over [0, t]: 255 for a non-negative tensor in uint8, 128 for a
 *   signed one (half of uint8 each side)
 */
export function entropyThreshold(histogram: Float64Array, top: number, levels: number): number {
  const bins = histogram.length;
  // Trailing empty bins never help: search no higher than the last non-empty one.
  let lastUsed = bins - 1;
  while (lastUsed > 0 && histogram[lastUsed] === 0) lastUsed--;
  if (lastUsed + 1 <= levels) return ((lastUsed + 1) * top) / bins;

  const p = new Float64Array(bins);
  const q = new Float64Array(bins);
  let tail = 0; // mass beyond the candidate threshold, bins [i, lastUsed]
  let best = lastUsed + 1;
  let bestDivergence = Infinity;
  for (let i = lastUsed + 1; i >= levels; i--) {
    if (i <= lastUsed) tail += histogram[i];
    // P: bins [0, i), the clipped tail folded into the last one.
    for (let j = 0; j < i; j++) p[j] = histogram[j];
    p[i - 1] += tail;
    // Q: the unclipped bins merged into `levels` groups, each group's mass spread over P's non-empty bins.
    for (let level = 0; level < levels; level++) {
      const start = Math.floor((level * i) / levels);
      const end = Math.floor(((level + 1) * i) / levels);
      let mass = 0;
      let used = 0;
      for (let j = start; j < end; j++) {
        mass += histogram[j];
        if (p[j] !== 0) used++;
      }
      for (let j = start; j < end; j++) q[j] = p[j] !== 0 ? mass / used : 0;
    }
    const divergence = klDivergence(p, q, i);
    if (divergence < bestDivergence) {
      bestDivergence = divergence;
      best = i;
    }
  }
  return (best * top) / bins;
}

/** KL(P‖Q) over the first `length` bins, both normalised; bins where P is 0 contribute nothing. */
function klDivergence(p: Float64Array, q: Float64Array, length: number): number {
  let sumP = 0;
  let sumQ = 0;
  for (let j = 0; j < length; j++) {
    sumP += p[j];
    sumQ += q[j];
  }
  if (sumP === 0 || sumQ === 0) return Infinity;
  let divergence = 0;
  for (let j = 0; j < length; j++) {
    if (p[j] === 0) continue;
    const pj = p[j] / sumP;
    // A bin P has and Q lacks (the folded tail): smoothed as MXNet/TensorRT do, so the cost is large but finite.
    const qj = Math.max(q[j] / sumQ, 1e-12);
    divergence += pj * Math.log(pj / qj);
  }
  return divergence;
}
