/**
 * Weighted box fusion (Solovyev et al. 2021, "Weighted boxes fusion: ensembling boxes from different object
 * detection models"), for teacher labelling: the detections of R runs (teachers × input sizes × flips) of one
 * image become one list of boxes, each the score-weighted mean of the boxes it absorbed.
 *
 * Boxes of all runs are visited by descending score (ties: run order, then order within the run). A box joins
 * the first cluster whose current fused box it overlaps at IoU > `iouThreshold`, else starts a cluster. A cluster's
 * box is Σ sᵢ·boxᵢ / Σ sᵢ; its score the mean of its scores times min(members, R) / R, so a face only some runs
 * see scores lower than one all runs agree on.
 */
import { iou, type PixelBox } from '../core/boxes.js';

export interface ScoredBox {
  readonly box: PixelBox;
  readonly score: number;
}

export interface FusedBox extends ScoredBox {
  /** Boxes fused into it. */
  readonly members: number;
}

export interface FuseOptions {
  /** Overlap above which a box joins a cluster. Default 0.55 (the paper's). */
  readonly iouThreshold?: number;
}

/** @param runs one detection list per run; `runs.length` is R */
export function weightedBoxFusion(
  runs: readonly (readonly ScoredBox[])[],
  options: FuseOptions = {},
): FusedBox[] {
  const threshold = options.iouThreshold ?? 0.55;
  const all = runs.flatMap((run) => run);
  const order = all.map((_, i) => i).sort((a, b) => all[b].score - all[a].score || a - b);
  const clusters: { sum: PixelBox; weight: number; scores: number[] }[] = [];
  const fused: PixelBox[] = [];
  for (const i of order) {
    const { box, score } = all[i];
    let target = clusters.findIndex((_, c) => iou(fused[c], box) > threshold);
    if (target < 0) {
      clusters.push({ sum: { x1: 0, y1: 0, x2: 0, y2: 0 }, weight: 0, scores: [] });
      fused.push(box);
      target = clusters.length - 1;
    }
    const cluster = clusters[target];
    const { sum } = cluster;
    cluster.sum = {
      x1: sum.x1 + score * box.x1,
      y1: sum.y1 + score * box.y1,
      x2: sum.x2 + score * box.x2,
      y2: sum.y2 + score * box.y2,
    };
    cluster.weight += score;
    cluster.scores.push(score);
    const w = cluster.weight > 0 ? cluster.weight : 1;
    fused[target] = {
      x1: cluster.sum.x1 / w,
      y1: cluster.sum.y1 / w,
      x2: cluster.sum.x2 / w,
      y2: cluster.sum.y2 / w,
    };
  }
  const r = Math.max(runs.length, 1);
  return clusters
    .map((cluster, c) => {
      const mean = cluster.scores.reduce((a, b) => a + b, 0) / cluster.scores.length;
      return {
        box: fused[c],
        score: (mean * Math.min(cluster.scores.length, r)) / r,
        members: cluster.scores.length,
      };
    })
    .sort((a, b) => b.score - a.score);
}
