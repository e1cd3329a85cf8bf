import { MIN_BOXES, type NetworkSize } from './presets.js';

/**
 * SSD priors for one input size, bit-exact with upstream `generate_priors` (SPEC §4.1):
 * computed in float64, rounded to float32, clamped to [0, 1].
 *
 * @returns [P, 4] flattened: cx, cy, w, h, normalized. Order: level, row, column, min box.
 */
export function generatePriors(size: NetworkSize): Float32Array {
  const count = priorCount(size);
  const priors = new Float32Array(count * 4);
  let p = 0;
  for (let level = 0; level < 4; level++) {
    const fw = size.featureWidths[level];
    const fh = size.featureHeights[level];
    for (let j = 0; j < fh; j++) {
      for (let i = 0; i < fw; i++) {
        for (const minBox of MIN_BOXES[level]) {
          // Float32Array stores round-to-nearest; Math.min after rounding matches numpy's clip of float32 values.
          priors[p++] = Math.min(1, Math.fround((i + 0.5) / fw));
          priors[p++] = Math.min(1, Math.fround((j + 0.5) / fh));
          priors[p++] = Math.min(1, Math.fround(minBox / size.width));
          priors[p++] = Math.min(1, Math.fround(minBox / size.height));
        }
      }
    }
  }
  return priors;
}

/** Number of priors (= network outputs) for an input size: Σ fw·fh·anchors over the 4 levels. */
export function priorCount(size: NetworkSize): number {
  let count = 0;
  for (let level = 0; level < 4; level++) {
    count += size.featureWidths[level] * size.featureHeights[level] * MIN_BOXES[level].length;
  }
  return count;
}
