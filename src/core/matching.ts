/**
 * Prior matching and target encoding for training: upstream's `MatchPrior` = `assign_priors` (SPEC §5.3) followed
 * by `corner_form_to_center_form` and `convert_boxes_to_locations` (SPEC §5.1).
 *
 * Upstream runs these on float32 tensors; every arithmetic step here is rounded to float32 in the same order
 * (`Math.fround`), so IoUs, ties, the threshold test and the labels are bit-identical to PyTorch's, and locations
 * agree to within PyTorch's `logf` accuracy (checked against a golden fixture from scripts/fixtures).
 *
 * Memory is O(P): the P x T IoU matrix is never built. Targets are visited in order and each prior keeps its best
 * target so far (a strictly greater IoU replaces it, so ties go to the first target, like `max(1)`); each target
 * keeps its best prior (strictly greater again: ties go to the first prior, like `max(0)`).
 */
import { UltrafaceError } from './errors.js';
import { CENTER_VARIANCE, SIZE_VARIANCE } from './presets.js';
import { numberInRange } from './validate.js';

/** `train.py --overlap_threshold` (SPEC §5.3); not the NMS threshold 0.3. */
export const DEFAULT_MATCH_THRESHOLD = 0.35;

/** Label of a prior (and of a target box) that is neither a face nor background: no loss, never mined. */
export const IGNORE_LABEL = -1;

/** Training targets of one image. */
export interface PriorMatch {
  /** [P] class per prior; 0 = background, IGNORE_LABEL (−1) = ignored. */
  readonly labels: Int32Array;
  /** [P, 4] encoded dx, dy, dw, dh (SPEC §5.1) of each prior's assigned face, background priors included. */
  readonly locations: Float32Array;
}

export interface PriorMatcher {
  readonly priorCount: number;
  readonly threshold: number;
  /**
   * Targets for one image.
   * @param boxes [T, 4] x1, y1, x2, y2 corner form, normalized to the network input (rounded to float32 first,
   *   as upstream's tensors are float32). Boxes of zero width or height give infinite dw / dh, as upstream.
   * @param labels [T] class of each box (≥ 1), or IGNORE_LABEL for an ignore region (a face that must be learned
   *   neither as a face nor as background: WIDER `invalid`, VOC `difficult`, too small, an uncertain teacher face)
   * @param out optional destination (e.g. subarrays of a batch): labels of length P, locations of length 4P
   * @returns `out` when given, else new arrays. With T = 0 (upstream cannot run this) every prior is background
   *   and every location is 0.
   *
   * Faces are matched exactly as upstream, as if the ignore regions were absent. Then every prior still
   * background whose IoU with an ignore region reaches the threshold, and the best prior of each ignore region
   * (when still background), gets IGNORE_LABEL: the priors that would have learned that face.
   */
  match(boxes: ArrayLike<number>, labels: ArrayLike<number>, out?: PriorMatch): PriorMatch;
}

export interface PriorMatcherOptions {
  /** Priors whose best IoU is below this are background (SPEC §5.3). Default 0.35. */
  readonly threshold?: number;
}

const f = Math.fround;
const F_EPS = f(1e-5); // iou_of's eps, added to a float32 tensor (so cast to float32)
const F_CENTER_VARIANCE = f(CENTER_VARIANCE);
const F_SIZE_VARIANCE = f(SIZE_VARIANCE);

/**
 * @param priors [P, 4] cx, cy, w, h center form, normalized (from `generatePriors`)
 */
export function createPriorMatcher(priors: Float32Array, options: PriorMatcherOptions = {}): PriorMatcher {
  if (priors.length === 0 || priors.length % 4 !== 0) {
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      `Expected priors of shape [P, 4] with P ≥ 1 but received ${priors.length} values`,
    );
  }
  const threshold = numberInRange('threshold', options.threshold ?? DEFAULT_MATCH_THRESHOLD, 0, 1);
  // `labels[best_target_per_prior < iou_threshold] = 0` compares float32 with the threshold cast to float32.
  const fThreshold = f(threshold);
  const count = priors.length / 4;

  // center_form_to_corner_form in float32 (corners may fall outside 0..1), and area_of of each prior.
  const corners = new Float64Array(priors.length);
  const areas = new Float64Array(count);
  for (let p = 0, o = 0; p < count; p++, o += 4) {
    const halfW = priors[o + 2] / 2; // exact in float32
    const halfH = priors[o + 3] / 2;
    corners[o] = f(priors[o] - halfW);
    corners[o + 1] = f(priors[o + 1] - halfH);
    corners[o + 2] = f(priors[o] + halfW);
    corners[o + 3] = f(priors[o + 1] + halfH);
    areas[p] = area(corners[o], corners[o + 1], corners[o + 2], corners[o + 3]);
  }

  // Scratch, reused across calls (one matcher serves one thread).
  const bestIou = new Float64Array(count);
  const bestTarget = new Int32Array(count);

  const match = (boxes: ArrayLike<number>, labels: ArrayLike<number>, out?: PriorMatch): PriorMatch => {
    let ignored = 0;
    for (let t = 0; t < labels.length; t++) if (labels[t] < 0) ignored++;
    if (ignored === 0) return matchFaces(boxes, labels, out);
    if (boxes.length !== labels.length * 4) {
      throw new UltrafaceError(
        'E_INVALID_INPUT',
        `Expected ${labels.length * 4} box values for ${labels.length} labels but received ${boxes.length}`,
      );
    }
    const faceBoxes: number[] = [];
    const faceLabels: number[] = [];
    const ignoreBoxes: number[] = [];
    for (let t = 0; t < labels.length; t++) {
      const box = [boxes[4 * t], boxes[4 * t + 1], boxes[4 * t + 2], boxes[4 * t + 3]];
      if (labels[t] < 0) ignoreBoxes.push(...box);
      else {
        faceBoxes.push(...box);
        faceLabels.push(labels[t]);
      }
    }
    const result = matchFaces(faceBoxes, faceLabels, out);
    markIgnored(ignoreBoxes, result.labels);
    return result;
  };

  /** IGNORE_LABEL on background priors that overlap an ignore region [R, 4] (see `match`). */
  const markIgnored = (regions: readonly number[], outLabels: Int32Array): void => {
    for (let r = 0; r < regions.length; r += 4) {
      const gx1 = f(regions[r]);
      const gy1 = f(regions[r + 1]);
      const gx2 = f(regions[r + 2]);
      const gy2 = f(regions[r + 3]);
      const regionArea = area(gx1, gy1, gx2, gy2);
      let bestValue = 0;
      let best = -1;
      for (let p = 0, o = 0; p < count; p++, o += 4) {
        const w = f(Math.min(gx2, corners[o + 2]) - Math.max(gx1, corners[o]));
        if (!(w > 0)) continue;
        const h = f(Math.min(gy2, corners[o + 3]) - Math.max(gy1, corners[o + 1]));
        if (!(h > 0)) continue;
        const overlap = f(w * h);
        const iou = f(overlap / f(f(f(regionArea + areas[p]) - overlap) + F_EPS));
        if (iou > bestValue) {
          bestValue = iou;
          best = p;
        }
        if (iou >= fThreshold && outLabels[p] === 0) outLabels[p] = IGNORE_LABEL;
      }
      if (best >= 0 && outLabels[best] === 0) outLabels[best] = IGNORE_LABEL;
    }
  };

  const matchFaces = (boxes: ArrayLike<number>, labels: ArrayLike<number>, out?: PriorMatch): PriorMatch => {
    const targets = labels.length;
    if (boxes.length !== targets * 4) {
      throw new UltrafaceError(
        'E_INVALID_INPUT',
        `Expected ${targets * 4} box values for ${targets} labels but received ${boxes.length}`,
      );
    }
    const result = out ?? { labels: new Int32Array(count), locations: new Float32Array(count * 4) };
    if (result.labels.length !== count || result.locations.length !== count * 4) {
      throw new UltrafaceError(
        'E_INVALID_INPUT',
        `Expected outputs of ${count} labels and ${count * 4} locations but received ` +
          `${result.labels.length} and ${result.locations.length}`,
      );
    }
    if (targets === 0) {
      result.labels.fill(0);
      result.locations.fill(0);
      return result;
    }

    const gt = Float64Array.from(boxes, f);
    bestIou.fill(0);
    bestTarget.fill(0);
    const bestPrior = new Int32Array(targets);
    for (let t = 0; t < targets; t++) {
      const gx1 = gt[4 * t];
      const gy1 = gt[4 * t + 1];
      const gx2 = gt[4 * t + 2];
      const gy2 = gt[4 * t + 3];
      const gtArea = area(gx1, gy1, gx2, gy2);
      let bestValue = 0; // IoUs are ≥ 0, and with all of them 0 the first prior is the arg-max
      let best = 0;
      for (let p = 0, o = 0; p < count; p++, o += 4) {
        const w = f(Math.min(gx2, corners[o + 2]) - Math.max(gx1, corners[o]));
        if (!(w > 0)) continue; // IoU exactly 0: changes no maximum
        const h = f(Math.min(gy2, corners[o + 3]) - Math.max(gy1, corners[o + 1]));
        if (!(h > 0)) continue;
        const overlap = f(w * h);
        const iou = f(overlap / f(f(f(gtArea + areas[p]) - overlap) + F_EPS));
        if (iou > bestIou[p]) {
          bestIou[p] = iou;
          bestTarget[p] = t;
        }
        if (iou > bestValue) {
          bestValue = iou;
          best = p;
        }
      }
      bestPrior[t] = best;
    }
    // Every face keeps its best prior (a later face sharing it wins), forced positive with IoU 2.
    for (let t = 0; t < targets; t++) {
      bestTarget[bestPrior[t]] = t;
      bestIou[bestPrior[t]] = 2;
    }

    // corner_form_to_center_form of each face, then convert_boxes_to_locations against every prior.
    const centers = new Float64Array(targets * 4);
    for (let t = 0; t < targets; t++) {
      const o = 4 * t;
      centers[o] = f(gt[o] + gt[o + 2]) / 2;
      centers[o + 1] = f(gt[o + 1] + gt[o + 3]) / 2;
      centers[o + 2] = f(gt[o + 2] - gt[o]);
      centers[o + 3] = f(gt[o + 3] - gt[o + 1]);
    }
    const outLabels = result.labels;
    const locations = result.locations;
    for (let p = 0, o = 0; p < count; p++, o += 4) {
      const t = bestTarget[p];
      outLabels[p] = bestIou[p] < fThreshold ? 0 : labels[t];
      const c = 4 * t;
      const pw = priors[o + 2];
      const ph = priors[o + 3];
      locations[o] = f(f(f(centers[c] - priors[o]) / pw) / F_CENTER_VARIANCE);
      locations[o + 1] = f(f(f(centers[c + 1] - priors[o + 1]) / ph) / F_CENTER_VARIANCE);
      locations[o + 2] = f(f(Math.log(f(centers[c + 2] / pw))) / F_SIZE_VARIANCE);
      locations[o + 3] = f(f(Math.log(f(centers[c + 3] / ph))) / F_SIZE_VARIANCE);
    }
    return result;
  };

  return Object.freeze({ priorCount: count, threshold, match });
}

/** One-off {@link PriorMatcher.match}; build a matcher once when matching many images. */
export function matchPriors(
  boxes: ArrayLike<number>,
  labels: ArrayLike<number>,
  priors: Float32Array,
  options: PriorMatcherOptions = {},
): PriorMatch {
  return createPriorMatcher(priors, options).match(boxes, labels);
}

/** upstream `area_of` in float32: max(w, 0) · max(h, 0). */
function area(x1: number, y1: number, x2: number, y2: number): number {
  return f(Math.max(f(x2 - x1), 0) * Math.max(f(y2 - y1), 0));
}
