import { IGNORE_LABEL } from '../core/matching.js';
import { MIN_BOXES, type NetworkSize } from '../core/presets.js';

/**
 * How many priors the first (stride 8) level holds at an input size: they come first in the prior order
 * (priors.ts), and their boxes are the smallest (10, 16 and 24 px).
 */
export function smallPriorCount(size: NetworkSize): number {
  return size.featureWidths[0] * size.featureHeights[0] * MIN_BOXES[0].length;
}

/**
 * Background priors of the first level become ignored (IGNORE_LABEL) in the images marked 1: hard-negative mining
 * never picks them there. For datasets that annotate few small faces (faces-voc): their small-scale background,
 * mined as the hardest negatives, teaches the smallest priors that tiny faces are background (models/README.md,
 * Stage 16). Positives and their box targets are untouched. Mutates `labels` [N, P].
 *
 * @param images [N] 1 where the small background is ignored (e.g. `imagesFromDatasets` of the listed datasets)
 * @param smallPriors the first level's prior count at the batch's input size ({@link smallPriorCount})
 * @returns how many priors were switched to ignored
 */
export function ignoreSmallBackground(labels: Int32Array, images: Uint8Array, smallPriors: number): number {
  const perImage = labels.length / images.length;
  if (!Number.isInteger(perImage) || smallPriors > perImage) {
    throw new Error(
      `ignoreSmallBackground: ${labels.length} labels for ${images.length} images of ${smallPriors}+ priors`,
    );
  }
  let switched = 0;
  images.forEach((marked, n) => {
    if (!marked) return;
    for (let p = n * perImage; p < n * perImage + smallPriors; p++) {
      if (labels[p] === 0) {
        labels[p] = IGNORE_LABEL;
        switched++;
      }
    }
  });
  return switched;
}
