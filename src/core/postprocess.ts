import type { PixelBox } from './boxes.js';
import type { ResolvedPostprocessOptions } from './detect-options.js';
import { hardNms, softNms } from './nms.js';

/** One detected face. */
export interface Detection {
  /** Corners in pixels of the original image (not clipped: boxes may extend past the border, as upstream). */
  readonly box: PixelBox;
  /** Face probability (softmax), 0..1. */
  readonly score: number;
}

/**
 * Network outputs → faces (SPEC §8.1 steps 4–6, for the face class).
 * @param scores [P, C] softmax probabilities of one image; class 1 is "face"
 * @param boxes [P, 4] decoded corners, normalized
 * @param imageWidth, imageHeight original image size in pixels (boxes are scaled to it)
 */
export function facesFromOutputs(
  scores: Float32Array,
  boxes: Float32Array,
  numClasses: number,
  imageWidth: number,
  imageHeight: number,
  options: ResolvedPostprocessOptions,
): Detection[] {
  const count = boxes.length / 4;
  const candidates: number[] = [];
  for (let p = 0; p < count; p++) {
    if (scores[p * numClasses + 1] > options.scoreThreshold) candidates.push(p); // strict, prior order
  }
  const candidateBoxes = new Float32Array(candidates.length * 4);
  const candidateScores = new Float32Array(candidates.length);
  candidates.forEach((p, k) => {
    candidateBoxes.set(boxes.subarray(p * 4, p * 4 + 4), k * 4);
    candidateScores[k] = scores[p * numClasses + 1]!;
  });

  let picked: number[];
  let pickedScores: ArrayLike<number>;
  if (options.nms === 'soft') {
    const result = softNms(candidateBoxes, candidateScores, {
      scoreThreshold: options.scoreThreshold,
      sigma: options.softNmsSigma,
      topK: options.topK,
    });
    picked = result.indices;
    pickedScores = result.scores;
  } else {
    picked = hardNms(candidateBoxes, candidateScores, options);
    pickedScores = picked.map((k) => candidateScores[k]);
  }

  // Scale in float32 like upstream (SPEC §8.1 step 6): x by the width, y by the height.
  const f = Math.fround;
  return picked.map((k, i) => ({
    box: {
      x1: f(candidateBoxes[k * 4] * imageWidth),
      y1: f(candidateBoxes[k * 4 + 1] * imageHeight),
      x2: f(candidateBoxes[k * 4 + 2] * imageWidth),
      y2: f(candidateBoxes[k * 4 + 3] * imageHeight),
    },
    score: pickedScores[i],
  }));
}
