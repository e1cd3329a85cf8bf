/**
 * A distillation teacher (issue #15, point 7): a detector with the student's prior layout, run on each augmented
 * training batch to give per-prior targets. It reads the very tensor the student reads ([N, 3, H, W],
 * (v − 127)/128), or its undistorted copy (the same crop: `DistillationConfig.input`), so its outputs line up prior
 * by prior with the student's. It never contributes weights to the student: only its outputs are used.
 */
import * as ort from 'onnxruntime-node';

import { UltrafaceError } from '../core/errors.js';
import { IGNORE_LABEL } from '../core/matching.js';
import type { InputSize } from '../core/presets.js';
import { priorCount } from '../core/priors.js';
import type { TrainingSample } from '../data/training-set.js';
import { createModel, detectNumClasses } from '../model/model.js';
import { headFeature } from '../model/graph.js';
import { exportOnnx, featureOutputName } from '../model/onnx/writer.js';
import type { Weights } from '../model/weights.js';
import { createSession } from '../runtime/node/session.js';

export interface TeacherOutputs {
  /** [N, P, C] softmax class probabilities. */
  readonly scores: Float32Array;
  /** [N, P, 4] raw regression (dx, dy, dw, dh against the priors, SPEC §5.1). */
  readonly locations: Float32Array;
  /** [N, C, H, W] the feature map the smallest priors' heads read (`headFeature` level 0), when asked for. */
  readonly features?: Float32Array;
}

export interface Teacher {
  readonly numClasses: number;
  /** @param images [N, 3, H, W] float32, the batch's network input */
  run(images: Float32Array, n: number): Promise<TeacherOutputs>;
  release(): Promise<void>;
}

/**
 * @param weights the teacher's state dict (any net ultraface builds; its version is read from the keys)
 * @param inputSize the student's training input: the teacher runs at the same size, so the priors agree
 * @param threads onnxruntime threads of the teacher's session
 * @param features also give the first level's head feature map (`TeacherOutputs.features`)
 */
export async function createTeacher(
  weights: Weights,
  inputSize: InputSize,
  threads: number | undefined,
  features = false,
): Promise<Teacher> {
  const model = createModel(weights);
  const numClasses = detectNumClasses(weights);
  const feature = features ? headFeature(model.graph, 0) : undefined;
  const onnx = exportOnnx(model, {
    inputSize,
    postprocess: false,
    source: 'distillation teacher',
    ...(feature ? { featureOutputs: [feature] } : {}),
  });
  const session = await createSession(onnx, 'the distillation teacher', threads);
  const priors = priorCount(inputSize);
  const plane = 3 * inputSize.width * inputSize.height;
  return {
    numClasses,
    async run(images, n) {
      if (images.length !== n * plane) {
        throw new UltrafaceError(
          'E_INVALID_INPUT',
          `Expected ${n * plane} input values for ${n} images but received ${images.length}`,
        );
      }
      const outputs = await session.run({
        input: new ort.Tensor('float32', images, [n, 3, inputSize.height, inputSize.width]),
      });
      const scores = outputs.scores.data as Float32Array;
      const locations = outputs.boxes.data as Float32Array;
      if (scores.length !== n * priors * numClasses || locations.length !== n * priors * 4) {
        throw new UltrafaceError(
          'E_MODEL_LOAD',
          `The distillation teacher gives ${scores.length / n / numClasses} priors per image at ` +
            `${inputSize.width}x${inputSize.height}; the student has ${priors}`,
        );
      }
      if (feature === undefined) return { scores, locations };
      return { scores, locations, features: outputs[featureOutputName(feature)].data as Float32Array };
    },
    release: () => session.release(),
  };
}

/**
 * Which images of a batch come from one of `datasets` (undefined: all): those the teacher teaches
 * (`DistillationConfig.datasets`), or whose small background is ignored (`TrainConfig.ignoreSmallBackground`).
 * @param sampleIndices [N] each image's index into `samples`
 * @returns [N] 1 where the sample comes from one of them, 0 elsewhere
 */
export function imagesFromDatasets(
  sampleIndices: Int32Array,
  samples: readonly TrainingSample[],
  datasets: readonly number[] | undefined,
): Uint8Array {
  const marked = new Uint8Array(sampleIndices.length);
  for (let n = 0; n < marked.length; n++) {
    marked[n] = datasets === undefined || datasets.includes(samples[sampleIndices[n]].dataset ?? 0) ? 1 : 0;
  }
  return marked;
}

/**
 * Background priors the teacher calls a face (probability ≥ `threshold`) become ignored (IGNORE_LABEL), so hard
 * negative mining never teaches an unannotated face as background. Mutates `labels` [N, P].
 * @param scores [N, P, C] the teacher's probabilities; face probability = 1 − background
 * @param taught [N] only in images marked 1 (imagesFromDatasets); undefined: in all
 * @returns how many priors were switched to ignored
 */
export function ignoreTeacherFaces(
  labels: Int32Array,
  scores: Float32Array,
  numClasses: number,
  threshold: number,
  taught?: Uint8Array,
): number {
  const images = taught?.length ?? 1;
  const perImage = labels.length / images;
  let switched = 0;
  for (let n = 0; n < images; n++) {
    if (taught && !taught[n]) continue;
    for (let p = n * perImage; p < (n + 1) * perImage; p++) {
      if (labels[p] === 0 && 1 - scores[p * numClasses] >= threshold) {
        labels[p] = IGNORE_LABEL;
        switched++;
      }
    }
  }
  return switched;
}

/**
 * Where the teacher teaches: 1 at priors the annotation leaves open, 0 at its positives (label > 0) and, with
 * `annotatedIou`, also at every prior that overlaps an annotated face (box label > 0) at IoU ≥ `annotatedIou`.
 * The second rule keeps a teacher that boxes faces in another style than a dataset's annotators from pulling the
 * student's scores and boxes around annotated faces its way, while it still teaches every face no one annotated.
 * With `positives` the positives stay open too: the loss then lets the teacher's box term in there (its class
 * term skips positives whatever the mask says; loss.ts `emitDistillationLoss`).
 *
 * @param labels [N, P] matched labels (0 background, > 0 face, −1 ignored)
 * @param boxes per image [M, 4] annotated boxes, normalized corners; `boxLabels` their labels
 * @param priors [P, 4] center form (cx, cy, w, h), normalized
 * @returns [N, P] float32 0/1
 */
export function distillationMask(
  labels: Int32Array,
  boxes: readonly Float32Array[],
  boxLabels: readonly Int32Array[],
  priors: Float32Array,
  options: {
    /** Close the priors that overlap an annotated face at this IoU or more; undefined: only positives. */
    readonly annotatedIou?: number | undefined;
    /** [N] 0 closes a whole image (imagesFromDatasets); undefined: every image open. */
    readonly taught?: Uint8Array | undefined;
    /** Leave the positives open (for the box term); not with `annotatedIou`. */
    readonly positives?: boolean;
  } = {},
): Float32Array {
  const { annotatedIou, taught, positives = false } = options;
  if (positives && annotatedIou !== undefined) {
    throw new Error('distillationMask: positives cannot stay open while annotatedIou closes annotated faces');
  }
  const count = priors.length / 4;
  const mask = new Float32Array(labels.length);
  for (let i = 0; i < labels.length; i++) mask[i] = labels[i] > 0 && !positives ? 0 : 1;
  if (taught) closeImagesInPlace(mask, taught);
  if (annotatedIou === undefined) return mask;
  for (let n = 0; n < boxes.length; n++) {
    if (taught && !taught[n]) continue; // already closed whole
    const imageBoxes = boxes[n];
    for (let m = 0; m < boxLabels[n].length; m++) {
      if (boxLabels[n][m] <= 0) continue;
      const x1 = imageBoxes[4 * m];
      const y1 = imageBoxes[4 * m + 1];
      const x2 = imageBoxes[4 * m + 2];
      const y2 = imageBoxes[4 * m + 3];
      const area = (x2 - x1) * (y2 - y1);
      for (let p = 0; p < count; p++) {
        const cx = priors[4 * p];
        const cy = priors[4 * p + 1];
        const hw = priors[4 * p + 2] / 2;
        const hh = priors[4 * p + 3] / 2;
        const w = Math.min(x2, cx + hw) - Math.max(x1, cx - hw);
        if (w <= 0) continue;
        const h = Math.min(y2, cy + hh) - Math.max(y1, cy - hh);
        if (h <= 0) continue;
        const inter = w * h;
        if (inter / (area + 4 * hw * hh - inter) >= annotatedIou) mask[n * count + p] = 0;
      }
    }
  }
  return mask;
}

/**
 * [P] 1 at the priors at most `maxPixels` wide at an input `inputWidth` pixels wide, 0 at the others (the box
 * term's reach with `--distill-box-max-prior`; priors are square in pixels, so the width alone decides).
 *
 * @param priors [P, 4] cx, cy, w, h, normalized
 */
export function priorsUpTo(priors: Float32Array, inputWidth: number, maxPixels: number): Float32Array {
  const mask = new Float32Array(priors.length / 4);
  // priors hold float32 widths (10 / 320 and back gives 10.000000x): compare with a tolerance far below 1 px
  for (let p = 0; p < mask.length; p++) mask[p] = priors[4 * p + 2] * inputWidth <= maxPixels + 1e-3 ? 1 : 0;
  return mask;
}

/**
 * A copy of a distillation mask [N, P] with the images not marked in `keep` [N] closed (all 0): e.g. the box
 * term's mask on some datasets' images only (`DistillationConfig.boxDatasets`).
 */
export function closeImages(mask: Float32Array, keep: Uint8Array): Float32Array {
  return closeImagesInPlace(mask.slice(), keep);
}

function closeImagesInPlace(mask: Float32Array, keep: Uint8Array): Float32Array {
  const count = mask.length / keep.length;
  keep.forEach((open, n) => {
    if (!open) mask.fill(0, n * count, (n + 1) * count);
  });
  return mask;
}
