import { UltrafaceError } from '../core/errors.js';
import { numberInRange } from '../core/validate.js';

/**
 * VOC-style average precision at IoU 0.5, as the faces-voc reference figures were computed
 * (notes/eval-conventions.md; upstream `eval_ssd.py` + `measurements.compute_average_precision`), and the
 * all-point AP that the WIDER protocol shares (SPEC §10.3 step 7).
 */

/**
 * `np.sum` of a contiguous float64 vector, bit for bit: NumPy reduces with its pairwise summation
 * (`pairwise_sum` in `loops_utils.h.src`: plain loop below 8 values, 8 accumulators up to 128, halves above),
 * starting from the identity 0. Used so that AP values equal the Python tools' to the last bit.
 */
export function numpySum(values: ArrayLike<number>, start = 0, count = values.length - start): number {
  if (count < 8) {
    let sum = 0;
    for (let i = 0; i < count; i++) sum += values[start + i];
    return sum;
  }
  if (count <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => values[start + j]);
    let i = 8;
    for (; i < count - (count % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += values[start + i + j];
    }
    let sum = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < count; i++) sum += values[start + i];
    return sum;
  }
  let half = Math.floor(count / 2);
  half -= half % 8;
  return numpySum(values, start, half) + numpySum(values, start + half, count - half);
}

/**
 * All-point interpolated AP (SPEC §10.3 step 7, `voc_ap`; identical to upstream's `compute_average_precision`):
 * `mrec = [0, recall…, 1]`, `mpre = [0, precision…, 0]`, `mpre` made non-increasing from the right, then
 * `Σ (mrec[i+1] − mrec[i]) · mpre[i+1]` over the indices where `mrec` changes.
 *
 * NaN behaves as in NumPy: `np.maximum` propagates NaN, so a NaN precision turns every envelope value to its
 * left into NaN; a NaN recall differs from everything (`NaN != x`), so it always counts as a change. With the
 * WIDER curves this means NaN precision (0/0 at thresholds with no proposal, where recall is 0) never reaches
 * the sum, while a NaN recall (no face in the setting) makes the AP NaN.
 * @param recall [N] non-decreasing in practice
 * @param precision [N]
 */
export function allPointAp(recall: ArrayLike<number>, precision: ArrayLike<number>): number {
  const n = recall.length;
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  for (let i = 0; i < n; i++) {
    mrec[i + 1] = recall[i];
    mpre[i + 1] = precision[i];
  }
  mrec[n + 1] = 1;
  for (let i = n + 1; i > 0; i--) mpre[i - 1] = Math.max(mpre[i - 1], mpre[i]); // Math.max propagates NaN
  const areas: number[] = [];
  for (let i = 0; i < n + 1; i++) {
    // `!==` is true for NaN, like numpy's `!=`
    if (mrec[i + 1] !== mrec[i]) areas.push((mrec[i + 1] - mrec[i]) * mpre[i + 1]);
  }
  return numpySum(areas);
}

/** One image of a VOC-style split. */
export interface VocImage {
  /** [G, 4] ground-truth x1, y1, x2, y2 in image pixels (continuous coordinates). */
  readonly groundTruth: ArrayLike<number>;
  /** [G] non-zero = `difficult` (matched detections are neither true nor false positives); absent = none. */
  readonly difficult?: ArrayLike<number>;
  /** [D, 4] detections x1, y1, x2, y2 in image pixels, not rounded. */
  readonly boxes: ArrayLike<number>;
  /** [D] detection scores. */
  readonly scores: ArrayLike<number>;
}

export interface VocApOptions {
  /** A detection is a true positive when its best IoU is ≥ this. Default 0.5 (AP50). */
  readonly iouThreshold?: number;
}

export interface VocApResult {
  /** All-point AP. No (non-difficult) ground truth: NaN if any detection counts (recall 0/0, as NumPy), else 0. */
  readonly ap: number;
  /** [N] precision after each counted detection, detections in evaluation order (score descending). */
  readonly precision: Float64Array;
  /** [N] recall after each counted detection. */
  readonly recall: Float64Array;
  /** [N] score of each counted detection (descending). */
  readonly scores: Float64Array;
  /** Non-difficult ground-truth boxes: the recall denominator. */
  readonly groundTruthCount: number;
  /** Detections given, counted (N) or not. */
  readonly detectionCount: number;
  /** Detections whose best match is a difficult box: left out of the curve. */
  readonly ignoredCount: number;
  readonly truePositives: number;
  readonly falsePositives: number;
}

/** IoU in continuous coordinates, area = (x2 − x1)(y2 − y1), no +1 and no epsilon (eval-conventions.md). */
function iouContinuous(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): number {
  const w = Math.min(a[i + 2], b[j + 2]) - Math.max(a[i], b[j]);
  const h = Math.min(a[i + 3], b[j + 3]) - Math.max(a[i + 1], b[j + 1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const areaA = (a[i + 2] - a[i]) * (a[i + 3] - a[i + 1]);
  const areaB = (b[j + 2] - b[j]) * (b[j + 3] - b[j + 1]);
  return inter / (areaA + areaB - inter);
}

function checkVocImage(image: VocImage, index: number): void {
  const fail = (expected: string, received: string): never => {
    throw new UltrafaceError(
      'E_DATASET',
      `Expected ${expected} in VOC image ${index} but received ${received}`,
    );
  };
  const g = image.groundTruth.length;
  if (g % 4 !== 0) fail('groundTruth of length 4·G', `length ${g}`);
  if (image.difficult !== undefined && image.difficult.length * 4 !== g) {
    fail(`difficult of length ${g / 4}`, `length ${image.difficult.length}`);
  }
  const d = image.scores.length;
  if (image.boxes.length !== 4 * d)
    fail(`boxes of length 4·${d} (one box per score)`, `length ${image.boxes.length}`);
  for (const [name, values] of [
    ['groundTruth', image.groundTruth],
    ['boxes', image.boxes],
    ['scores', image.scores],
  ] as const) {
    for (let k = 0; k < values.length; k++) {
      if (!Number.isFinite(values[k])) fail(`finite ${name}`, `${values[k]} at index ${k}`);
    }
  }
}

/**
 * VOC AP over a split (notes/eval-conventions.md): all detections of all images sorted by score, descending —
 * **ties keep input order** (image order, then detection order; upstream's `np.argsort(-scores)` is unstable);
 * each detection takes its best-IoU ground truth in its own image (first on equal IoU); IoU ≥ threshold and
 * not yet matched → true positive (the box becomes matched); matched before, or IoU below the threshold → false
 * positive; best box difficult → ignored (no PR point — upstream records a point with unchanged counts, which
 * cannot change the AP). Recall denominator: all non-difficult ground-truth boxes. Arguments are not modified.
 */
export function evaluateVocAp(images: readonly VocImage[], options: VocApOptions = {}): VocApResult {
  const iouThreshold = numberInRange('iouThreshold', options.iouThreshold ?? 0.5, 0, 1);
  images.forEach(checkVocImage);

  const order: { image: number; det: number; score: number }[] = [];
  let groundTruthCount = 0;
  images.forEach((image, i) => {
    for (let d = 0; d < image.scores.length; d++) order.push({ image: i, det: d, score: image.scores[d] });
    for (let g = 0; g < image.groundTruth.length / 4; g++) if (!image.difficult?.[g]) groundTruthCount++;
  });
  order.sort((a, b) => b.score - a.score); // Array.prototype.sort is stable: ties keep input order

  const matched = images.map((image) => new Uint8Array(image.groundTruth.length / 4));
  const precision: number[] = [];
  const recall: number[] = [];
  const scores: number[] = [];
  let tp = 0;
  let fp = 0;
  let ignored = 0;
  for (const { image: i, det, score } of order) {
    const { groundTruth, difficult, boxes } = images[i];
    let best = -1;
    let bestIou = -Infinity;
    for (let g = 0; g < groundTruth.length / 4; g++) {
      const overlap = iouContinuous(boxes, det * 4, groundTruth, g * 4);
      if (overlap > bestIou) {
        bestIou = overlap;
        best = g;
      }
    }
    if (best >= 0 && bestIou >= iouThreshold) {
      if (difficult?.[best]) {
        ignored++;
        continue;
      }
      if (matched[i][best]) fp++;
      else {
        matched[i][best] = 1;
        tp++;
      }
    } else fp++;
    precision.push(tp / (tp + fp));
    recall.push(tp / groundTruthCount);
    scores.push(score);
  }
  return {
    ap: allPointAp(recall, precision),
    precision: Float64Array.from(precision),
    recall: Float64Array.from(recall),
    scores: Float64Array.from(scores),
    groundTruthCount,
    detectionCount: order.length,
    ignoredCount: ignored,
    truePositives: tp,
    falsePositives: fp,
  };
}
