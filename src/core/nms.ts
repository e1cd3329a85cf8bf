import { iouAt } from './boxes.js';

export interface HardNmsOptions {
  /** Suppress a box whose IoU with an already picked one is above this (upstream 0.3). */
  readonly iouThreshold: number;
  /** Keep at most this many boxes; ≤ 0 for no limit. */
  readonly topK: number;
  /** Consider only the best this-many candidates (upstream 200 in the ONNX scripts). */
  readonly candidateSize: number;
}

/**
 * Candidate order: score descending; equal scores keep the lower index first (upstream's sort is unstable,
 * SPEC §8.2; we pick this deterministic rule).
 */
function orderByScore(scores: ArrayLike<number>): number[] {
  const order = Array.from({ length: scores.length }, (_, i) => i);
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Hard NMS (SPEC §8.2). Does not touch its arguments.
 * @param boxes [K, 4] corner form (any unit, the same for all boxes)
 * @param scores [K]
 * @returns indices into `boxes` of the kept boxes, in pick order (descending score)
 */
export function hardNms(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: HardNmsOptions,
): number[] {
  let remaining = orderByScore(scores).slice(0, Math.max(options.candidateSize, 0));
  const picked: number[] = [];
  while (remaining.length > 0) {
    const current = remaining[0];
    picked.push(current);
    if ((options.topK > 0 && picked.length === options.topK) || remaining.length === 1) break;
    remaining = remaining.slice(1).filter((i) => iouAt(boxes, current, i) <= options.iouThreshold);
  }
  return picked;
}

export interface SoftNmsOptions {
  /** Drop boxes whose decayed score falls to this or below. */
  readonly scoreThreshold: number;
  /** Gaussian decay `exp(−iou² / sigma)` (upstream 0.5). */
  readonly sigma: number;
  /** Keep at most this many boxes; ≤ 0 for no limit. */
  readonly topK: number;
}

/**
 * Soft NMS with Gaussian decay (SPEC §8.3). Returns picked indices and their decayed scores, in pick order.
 */
export function softNms(
  boxes: ArrayLike<number>,
  scores: ArrayLike<number>,
  options: SoftNmsOptions,
): { indices: number[]; scores: number[] } {
  const live = Array.from({ length: scores.length }, (_, i) => i);
  const current = Array.from(scores);
  const indices: number[] = [];
  const kept: number[] = [];
  while (live.length > 0) {
    let best = 0;
    for (let k = 1; k < live.length; k++) if (current[live[k]] > current[live[best]]) best = k;
    const pick = live[best];
    indices.push(pick);
    kept.push(current[pick]);
    if ((options.topK > 0 && indices.length === options.topK) || live.length === 1) break;
    // Upstream moves the last row into the picked slot; the survivors' order only matters for ties.
    const last = live.pop() as number;
    if (best < live.length) live[best] = last;
    for (let k = live.length - 1; k >= 0; k--) {
      const i = live[k];
      const overlap = iouAt(boxes, pick, i);
      current[i] = current[i] * Math.exp(-(overlap * overlap) / options.sigma);
      if (current[i] <= options.scoreThreshold) live.splice(k, 1);
    }
  }
  return { indices, scores: kept };
}
