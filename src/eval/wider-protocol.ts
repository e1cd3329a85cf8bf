import { UltrafaceError } from '../core/errors.js';
import { knownKeys, oneOf } from '../core/validate.js';
import type { WiderGroundTruth, WiderImageGroundTruth, WiderSetting } from '../data/wider-types.js';
import { allPointAp } from './voc-ap.js';

/**
 * The official WIDER FACE evaluation (`widerface_evaluate/evaluation.py`, SPEC §10.3), reproduced number for
 * number: float64 throughout, the same operation order, NumPy's NaN behaviour and pairwise summation.
 */

/** Predictions per image, keyed `event/name` (see `widerImageKey`): [K, 5] x, y, w, h (pixels), score. */
export type WiderPredictions = ReadonlyMap<string, Float64Array>;

/** Number of score thresholds of the PR curve (`thresh_num`). */
export const WIDER_THRESHOLD_COUNT = 1000;
/** IoU needed to match a face (`iou_thresh`). */
export const WIDER_IOU_THRESHOLD = 0.5;

/** Key of an image in `WiderPredictions`: `0--Parade/0_Parade_marchingband_1_20`. */
export function widerImageKey(event: string, name: string): string {
  return `${event}/${name}`;
}

export interface WiderEvalOptions {
  /**
   * An image of the ground truth with no entry in the predictions: `'error'` (default; the official tool raises
   * KeyError) throws E_DATASET naming the first missing images; `'empty'` treats it as an image without
   * detections (its faces still count).
   */
  readonly missing?: 'error' | 'empty';
}

export interface WiderSettingResult {
  readonly setting: WiderSetting;
  /** SPEC §10.3 step 7. NaN when the setting counts no face (recall 0/0, as NumPy). */
  readonly ap: number;
  /** [1000] normalised-score threshold of each PR point, `1 − (t + 1)/1000` (0.999 down to 0). */
  readonly thresholds: Float64Array;
  /** [1000] `tp / proposals`; NaN where there is no proposal (0/0, as NumPy). */
  readonly precision: Float64Array;
  /** [1000] `tp / faceCount`. */
  readonly recall: Float64Array;
  /** [1000] proposals (`pr_curve[:, 0]`): predictions up to the threshold, minus those on ignored faces. */
  readonly proposals: Float64Array;
  /** [1000] true positives (`pr_curve[:, 1]`): counted faces recalled up to the threshold. */
  readonly truePositives: Float64Array;
  /** `count_face`: entries of the setting's keep lists over all images (with or without predictions). */
  readonly faceCount: number;
}

export interface WiderEvaluation {
  readonly easy: WiderSettingResult;
  readonly medium: WiderSettingResult;
  readonly hard: WiderSettingResult;
  /** Raw scores mapped to 0 and 1 by the normalisation (SPEC §10.3 step 2). min = max leaves NaN scores. */
  readonly scoreRange: { readonly min: number; readonly max: number };
  /** Images of the ground truth. */
  readonly imageCount: number;
  /** `event/name` of ground-truth images without predictions (empty unless `missing: 'empty'`). */
  readonly missingImages: readonly string[];
}

function fail(message: string): never {
  throw new UltrafaceError('E_DATASET', message);
}

/**
 * SPEC §10.3 step 2 (`norm_score`) over the **whole** prediction set, images outside the ground truth
 * included: `max` starts at 0 and `min` at 1, so raw scores in (0, 1) never stretch past those bounds. Every
 * score becomes `(s − min) / (max − min)`; when max = min every score becomes NaN (0/0), which the official
 * tool lets through and which then passes no threshold (AP 0). Returns new arrays; the input is not modified.
 */
export function normalizeWiderScores(predictions: WiderPredictions): {
  readonly predictions: Map<string, Float64Array>;
  readonly min: number;
  readonly max: number;
} {
  let max = 0;
  let min = 1;
  for (const [key, boxes] of predictions) {
    if (boxes.length % 5 !== 0) {
      fail(`Expected predictions of length 5·K for ${key} but received length ${boxes.length}`);
    }
    for (let k = 0; k < boxes.length; k++) {
      if (!Number.isFinite(boxes[k])) fail(`Expected finite predictions for ${key} but received ${boxes[k]}`);
    }
    for (let s = 4; s < boxes.length; s += 5) {
      max = Math.max(max, boxes[s]);
      min = Math.min(min, boxes[s]);
    }
  }
  const diff = max - min;
  const out = new Map<string, Float64Array>();
  for (const [key, boxes] of predictions) {
    const copy = Float64Array.from(boxes);
    for (let s = 4; s < copy.length; s += 5) copy[s] = (copy[s] - min) / diff;
    out.set(key, copy);
  }
  return { predictions: out, min, max };
}

/** `1 − (t + 1)/1000` for t = 0..999, as Python computes it. */
function thresholds(): Float64Array {
  return Float64Array.from({ length: WIDER_THRESHOLD_COUNT }, (_, t) => 1 - (t + 1) / WIDER_THRESHOLD_COUNT);
}

/**
 * The part of `image_eval` that does not depend on the setting: for each prediction (file order), the index of
 * the gt box with the highest IoU if that IoU ≥ 0.5, else −1. Boxes go to corners as `[x, y, x + w, y + h]`;
 * IoU is `box_overlaps.pyx` (+1 pixel convention, float64, same operation order); ties → first gt (`argmax`).
 * @param preds [K, 5] x, y, w, h, score
 * @param gts [G, 4] x, y, w, h
 * @returns [K] gt index or −1
 */
function bestMatches(preds: Float64Array, gts: Float64Array): Int32Array {
  const k = preds.length / 5;
  const g = gts.length / 4;
  const best = new Int32Array(k).fill(-1);
  for (let h = 0; h < k; h++) {
    const px1 = preds[h * 5];
    const py1 = preds[h * 5 + 1];
    const px2 = preds[h * 5 + 2] + px1;
    const py2 = preds[h * 5 + 3] + py1;
    const predArea = (px2 - px1 + 1) * (py2 - py1 + 1);
    let maxOverlap = -Infinity;
    let maxIdx = 0;
    for (let n = 0; n < g; n++) {
      const gx1 = gts[n * 4];
      const gy1 = gts[n * 4 + 1];
      const gx2 = gts[n * 4 + 2] + gx1;
      const gy2 = gts[n * 4 + 3] + gy1;
      let overlap = 0;
      const iw = Math.min(px2, gx2) - Math.max(px1, gx1) + 1;
      if (iw > 0) {
        const ih = Math.min(py2, gy2) - Math.max(py1, gy1) + 1;
        if (ih > 0) {
          const gtArea = (gx2 - gx1 + 1) * (gy2 - gy1 + 1);
          overlap = (iw * ih) / (predArea + gtArea - iw * ih);
        }
      }
      if (Number.isNaN(overlap)) {
        // numpy: max() is NaN and argmax() the first NaN; NaN ≥ 0.5 is false
        maxOverlap = NaN;
        break;
      }
      if (overlap > maxOverlap) {
        maxOverlap = overlap;
        maxIdx = n;
      }
    }
    if (maxOverlap >= WIDER_IOU_THRESHOLD) best[h] = maxIdx;
  }
  return best;
}

/**
 * For each threshold t, the last prediction index (file order) whose normalised score is ≥ the threshold, or −1
 * (`r_index[-1]` of `img_pr_info`). Scores need not be sorted; NaN scores never pass.
 * @returns [1000]
 */
function lastIndexPerThreshold(preds: Float64Array, thresh: Float64Array): Int32Array {
  const last = new Int32Array(WIDER_THRESHOLD_COUNT).fill(-1);
  for (let h = 0; h < preds.length / 5; h++) {
    const score = preds[h * 5 + 4];
    // first t with thresh[t] <= score (thresh decreases with t); binary search
    let lo = 0;
    let hi = WIDER_THRESHOLD_COUNT;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (score >= thresh[mid]) hi = mid;
      else lo = mid + 1;
    }
    if (lo < WIDER_THRESHOLD_COUNT) last[lo] = h; // h increases, so this is the max so far
  }
  for (let t = 1; t < WIDER_THRESHOLD_COUNT; t++) last[t] = Math.max(last[t], last[t - 1]);
  return last;
}

interface PreparedImage {
  readonly gt: WiderImageGroundTruth;
  /** [K, 5] with normalised scores, or undefined when the image has no gt or no prediction (skipped). */
  readonly preds?: Float64Array;
  readonly best?: Int32Array;
  readonly last?: Int32Array;
}

/**
 * SPEC §10.3 steps 4–5 for one image and one setting (`image_eval` + `img_pr_info`), added into `pr`.
 * @param pr [1000, 2] proposals, true positives (accumulated)
 */
function accumulateImage(image: PreparedImage, setting: WiderSetting, pr: Float64Array): void {
  const { preds, best, last, gt } = image;
  if (preds === undefined || best === undefined || last === undefined) return;
  const counted = new Uint8Array(gt.boxes.length / 4); // `ignore` of the official code: 1 = counted
  for (const index of gt.keep[setting]) counted[index] = 1;
  const recalled = new Uint8Array(counted.length); // recall_list == 1
  const proposalsSoFar = new Int32Array(best.length); // prefix count of proposal_list == 1
  const predRecall = new Int32Array(best.length); // pred_recall
  let recalledCount = 0;
  let proposals = 0;
  for (let h = 0; h < best.length; h++) {
    const g = best[h];
    let proposal = true;
    if (g >= 0) {
      if (!counted[g])
        proposal = false; // a face outside the keep list: neither helps nor hurts
      else if (!recalled[g]) {
        recalled[g] = 1;
        recalledCount++;
      } // else: duplicate on a recalled face, stays a proposal (a false positive)
    }
    if (proposal) proposals++;
    proposalsSoFar[h] = proposals;
    predRecall[h] = recalledCount;
  }
  for (let t = 0; t < WIDER_THRESHOLD_COUNT; t++) {
    const r = last[t];
    if (r < 0) continue;
    pr[2 * t] += proposalsSoFar[r];
    pr[2 * t + 1] += predRecall[r];
  }
}

function checkGroundTruth(gt: WiderImageGroundTruth): void {
  const where = widerImageKey(gt.event, gt.name);
  if (gt.boxes.length % 4 !== 0) {
    fail(`Expected ground-truth boxes of length 4·K for ${where} but received length ${gt.boxes.length}`);
  }
  const count = gt.boxes.length / 4;
  for (const setting of ['easy', 'medium', 'hard'] as const) {
    for (const index of gt.keep[setting]) {
      if (index >= count) {
        fail(`Expected ${setting} keep indices below ${count} for ${where} but received ${index}`);
      }
    }
  }
}

function evaluateSetting(
  setting: WiderSetting,
  images: readonly PreparedImage[],
  thresh: Float64Array,
): WiderSettingResult {
  const pr = new Float64Array(2 * WIDER_THRESHOLD_COUNT);
  let faceCount = 0;
  for (const image of images) {
    faceCount += image.gt.keep[setting].length;
    accumulateImage(image, setting, pr);
  }
  const proposals = new Float64Array(WIDER_THRESHOLD_COUNT);
  const truePositives = new Float64Array(WIDER_THRESHOLD_COUNT);
  const precision = new Float64Array(WIDER_THRESHOLD_COUNT);
  const recall = new Float64Array(WIDER_THRESHOLD_COUNT);
  for (let t = 0; t < WIDER_THRESHOLD_COUNT; t++) {
    proposals[t] = pr[2 * t];
    truePositives[t] = pr[2 * t + 1];
    precision[t] = truePositives[t] / proposals[t]; // step 6: 0/0 → NaN
    recall[t] = truePositives[t] / faceCount;
  }
  return {
    setting,
    ap: allPointAp(recall, precision),
    thresholds: thresh.slice(),
    precision,
    recall,
    proposals,
    truePositives,
    faceCount,
  };
}

/**
 * The WIDER FACE protocol (SPEC §10.3) for easy, medium and hard.
 *
 * - Scores are normalised over the whole prediction set first (`normalizeWiderScores`).
 * - Each image's predictions are used **in the given order**, as the official tool does: a prediction file must
 *   list boxes by descending score (`writePredictionFiles` guarantees it). Unsorted input is not re-sorted; it
 *   gives the same numbers as the official tool on the same unsorted file.
 * - A prediction whose best-IoU face is outside the setting's keep list is excluded (neither helps nor hurts);
 *   a second prediction on an already recalled face is a false positive.
 * - An image with no gt box or no prediction contributes nothing but its faces to the count.
 * @param groundTruth images in `.mat` order (the order does not change the result)
 * @param predictions keyed `event/name`; [K, 5] x, y, w, h, score — not modified
 */
export function evaluateWider(
  groundTruth: WiderGroundTruth,
  predictions: WiderPredictions,
  options: WiderEvalOptions = {},
): WiderEvaluation {
  knownKeys('options', options, ['missing']);
  const missing = oneOf('missing', options.missing ?? 'error', ['error', 'empty'] as const);
  groundTruth.images.forEach(checkGroundTruth);

  const missingImages = groundTruth.images
    .map((gt) => widerImageKey(gt.event, gt.name))
    .filter((key) => !predictions.has(key));
  if (missing === 'error' && missingImages.length > 0) {
    const shown = missingImages.slice(0, 5).join(', ');
    const more = missingImages.length > 5 ? ` and ${missingImages.length - 5} more` : '';
    fail(
      `Expected predictions for every ground-truth image but received none for ${missingImages.length} ` +
        `image(s): ${shown}${more} (pass missing: 'empty' to count them as images without detections)`,
    );
  }

  const normalized = normalizeWiderScores(predictions);
  const thresh = thresholds();
  const images: PreparedImage[] = groundTruth.images.map((gt) => {
    const preds = normalized.predictions.get(widerImageKey(gt.event, gt.name));
    if (preds === undefined || preds.length === 0 || gt.boxes.length === 0) return { gt };
    return { gt, preds, best: bestMatches(preds, gt.boxes), last: lastIndexPerThreshold(preds, thresh) };
  });

  return {
    easy: evaluateSetting('easy', images, thresh),
    medium: evaluateSetting('medium', images, thresh),
    hard: evaluateSetting('hard', images, thresh),
    scoreRange: { min: normalized.min, max: normalized.max },
    imageCount: groundTruth.images.length,
    missingImages,
  };
}
