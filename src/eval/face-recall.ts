import { iou, type PixelBox } from '../core/boxes.js';

/**
 * How many `reference` faces `found` recovers: each reference face, in order, takes the unused found face that
 * overlaps it most at IoU ≥ `minIou` (one to one). The group-photo yardstick of issue #15: our model's faces
 * against upstream RFB-320's on the same photo.
 */
export function countRecovered(
  reference: readonly { readonly box: PixelBox }[],
  found: readonly { readonly box: PixelBox }[],
  minIou = 0.5,
): number {
  const used = new Set<number>();
  let recovered = 0;
  for (const face of reference) {
    let best = -1;
    let bestIou = minIou;
    found.forEach((candidate, j) => {
      const overlap = iou(face.box, candidate.box);
      if (!used.has(j) && overlap >= bestIou) [best, bestIou] = [j, overlap];
    });
    if (best >= 0) {
      used.add(best);
      recovered++;
    }
  }
  return recovered;
}
