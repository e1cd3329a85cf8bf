/**
 * Training samples and the building of one batch from them: decode → augment → match (SPEC §6.3 + §5.3).
 * Used both inside the batch workers (batch-worker.ts) and, with `workers: 0`, in the calling thread.
 *
 * Decoding uses sharp directly, with the settings of the Node runtime's `loadImage` (EXIF orientation applied,
 * ICC ignored, grey/CMYK/16-bit → 8-bit sRGB, alpha dropped, truncated files refused), so training sees the pixels
 * inference sees. It is not imported from runtime/ because data/ sits below runtime/ (DESIGN.md layering).
 */
import sharp from 'sharp';

import { UltrafaceError } from '../core/errors.js';
import type { RgbImage } from '../core/image.js';
import { createPriorMatcher } from '../core/matching.js';
import { generatePriors, priorCount } from '../core/priors.js';
import type { InputSize } from '../core/presets.js';
import { createRandom } from '../core/random.js';
import {
  createAugmenter,
  type AugmentInput,
  type AugmentOptions,
  type AugmentSample,
  type MosaicPlan,
} from './augment/index.js';
import type { VocDataset } from './voc.js';

/** One training image and its faces. */
export interface TrainingSample {
  /** Name used in errors and logs (a VOC id, a file name). */
  readonly id: string;
  /** An image file (decoded when its batch is built) or decoded pixels [H, W, 3 or 4]. */
  readonly image: string | RgbImage;
  /** [N, 4] x1, y1, x2, y2 in image pixels. */
  readonly boxes: ArrayLike<number>;
  /** [N] class of each face (≥ 1). */
  readonly labels: ArrayLike<number>;
  /** Expected size of the decoded image (e.g. from the annotation); a different size is E_DATASET. */
  readonly width?: number;
  readonly height?: number;
  /** Which of several training datasets it comes from (training-datasets.ts, in spec order); absent: the first. */
  readonly dataset?: number;
}

export interface VocSamplesOptions {
  /**
   * Keep images with no (non-difficult) face. Default false: upstream's matcher cannot run on them, and with
   * 3:1 hard-negative mining (SPEC §5.4) an image without positives contributes nothing to the loss anyway.
   */
  readonly includeEmpty?: boolean;
}

/** The samples of a VOC split (`readVocDataset`), in list order. */
export function trainingSamplesFromVoc(
  dataset: VocDataset,
  options: VocSamplesOptions = {},
): TrainingSample[] {
  return dataset.images
    .filter((image) => options.includeEmpty === true || image.labels.length > 0)
    .map((image) => ({
      id: image.id,
      image: image.imagePath,
      boxes: image.boxes,
      labels: image.labels,
      width: image.width,
      height: image.height,
    }));
}

/**
 * Decodes a sample's image to 8-bit RGB [H, W, 3].
 * @throws UltrafaceError E_DATASET naming the file when it is missing, corrupt, over `maxPixels`, or not the size
 *   its annotation says
 */
export async function decodeSample(sample: TrainingSample, maxPixels: number): Promise<RgbImage> {
  let image: RgbImage;
  if (typeof sample.image !== 'string') {
    image = sample.image;
  } else {
    const path = sample.image;
    try {
      const { data, info } = await sharp(path, {
        limitInputPixels: maxPixels,
        autoOrient: true,
        ignoreIcc: true,
        failOn: 'error',
      })
        .toColourspace('srgb')
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      image = {
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
        width: info.width,
        height: info.height,
        channels: 3,
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new UltrafaceError(
        'E_DATASET',
        `${path}: cannot decode image of sample ${sample.id}: ${message}`,
        {
          cause: error,
        },
      );
    }
  }
  const { width, height } = sample;
  if ((width !== undefined && width !== image.width) || (height !== undefined && height !== image.height)) {
    const where = typeof sample.image === 'string' ? sample.image : `sample ${sample.id}`;
    throw new UltrafaceError(
      'E_DATASET',
      `${where}: image is ${image.width}x${image.height} but its annotation says ` +
        `${width ?? image.width}x${height ?? image.height}`,
    );
  }
  return image;
}

/** Everything a batch builder needs; structured-cloneable (it is sent to each worker once). */
export interface BatchBuildConfig {
  readonly samples: readonly TrainingSample[];
  readonly inputSize: InputSize;
  /** Resolved options (`resolveAugmentOptions`). */
  readonly augment: AugmentOptions;
  readonly matchThreshold: number;
  readonly seed: number;
  readonly maxPixels: number;
  /** Skip undecodable images (reported in `skipped`) instead of failing the batch. */
  readonly skipBadImages: boolean;
  /** Also build `TrainingBatch.undistortedImages` (for a distillation teacher). */
  readonly undistortedImages?: boolean;
}

/** One batch: network inputs, matched targets, and the ground truth kept for evaluation. */
export interface TrainingBatch {
  readonly epoch: number;
  /** Batch number within the epoch. */
  readonly index: number;
  /** N, the images in this batch (the last batch of an epoch can be smaller; skipped images are left out). */
  readonly size: number;
  /** [N, 3, H, W] float32, `(v − 127) / 128`. */
  readonly images: Float32Array;
  /**
   * [N, 3, H, W] the same inputs without the photometric distortion (augment/index.ts, undistorted copy), when
   * `BatchBuildConfig.undistortedImages` asks for them.
   */
  readonly undistortedImages?: Float32Array;
  /** [N, P] class per prior, 0 = background (int32; upstream's are int64). */
  readonly labels: Int32Array;
  /** [N, P, 4] encoded regression targets (SPEC §5.1). */
  readonly locations: Float32Array;
  /** Per image: [M, 4] augmented face boxes, normalized corner form (for AP on training batches). */
  readonly boxes: readonly Float32Array[];
  /** Per image: [M] their classes. */
  readonly boxLabels: readonly Int32Array[];
  /** Per image: index into the sample list, and its id. */
  readonly sampleIndices: Int32Array;
  readonly ids: readonly string[];
  /** Samples left out because their image could not be decoded (only with `onBadImage`). */
  readonly skipped: readonly { readonly index: number; readonly error: UltrafaceError }[];
}

/** The work of one batch; everything random derives from (seed, epoch, sample index). */
export interface BatchTask {
  readonly epoch: number;
  readonly index: number;
  readonly sampleIndices: readonly number[];
}

/** Random stream ids under the run's seed. */
export const STREAM_SHUFFLE = 1;
export const STREAM_AUGMENT = 2;

export interface BatchBuilder {
  build(task: BatchTask): Promise<TrainingBatch>;
}

export function createBatchBuilder(config: BatchBuildConfig): BatchBuilder {
  const { inputSize } = config;
  const augmenter = createAugmenter(config.augment, inputSize);
  const matcher = createPriorMatcher(generatePriors(inputSize), { threshold: config.matchThreshold });
  const P = priorCount(inputSize);
  const plane = 3 * inputSize.width * inputSize.height;

  const build = async (task: BatchTask): Promise<TrainingBatch> => {
    const count = config.samples.length;
    const randoms = task.sampleIndices.map((i) => createRandom(config.seed, STREAM_AUGMENT, task.epoch, i));
    // Mosaic partners (augment/mosaic.ts), drawn before decoding; planMosaic leaves each Random as it was.
    const plans = task.sampleIndices.map((i, k) => augmenter.planMosaic(randoms[k], i, count));
    // Decode all images, each once, concurrently (libvips threads), then augment in order.
    const decodes = new Map<number, Promise<RgbImage | UltrafaceError>>();
    const decode = (i: number): Promise<RgbImage | UltrafaceError> => {
      let promise = decodes.get(i);
      if (promise === undefined) {
        promise = (async () => {
          try {
            return await decodeSample(config.samples[i], config.maxPixels);
          } catch (error) {
            if (config.skipBadImages && error instanceof UltrafaceError && error.code === 'E_DATASET')
              return error;
            throw error;
          }
        })();
        decodes.set(i, promise);
      }
      return promise;
    };
    const [decoded, partners] = await Promise.all([
      Promise.all(task.sampleIndices.map(decode)),
      Promise.all(
        plans.map((plan) => (plan === null ? Promise.resolve(null) : Promise.all(plan.partners.map(decode)))),
      ),
    ]);
    const kept: number[] = [];
    const skipped: { index: number; error: UltrafaceError }[] = [];
    decoded.forEach((image, k) => {
      if (image instanceof UltrafaceError) skipped.push({ index: task.sampleIndices[k], error: image });
      else kept.push(k);
    });
    const n = kept.length;
    const images = new Float32Array(n * plane);
    const undistortedImages = config.undistortedImages ? new Float32Array(n * plane) : undefined;
    const labels = new Int32Array(n * P);
    const locations = new Float32Array(n * P * 4);
    const boxes: Float32Array[] = [];
    const boxLabels: Int32Array[] = [];
    const sampleIndices = new Int32Array(n);
    const ids: string[] = [];
    kept.forEach((k, item) => {
      const index = task.sampleIndices[k];
      const sample = config.samples[index];
      const input = { image: decoded[k] as RgbImage, boxes: sample.boxes, labels: sample.labels };
      const target = { tensor: images, offset: item * plane, undistorted: undistortedImages };
      const result = augmenter.augment(
        mosaicInput(input, plans[k], partners[k], config.samples),
        randoms[k],
        target,
      );
      matcher.match(result.boxes, result.labels, {
        labels: labels.subarray(item * P, (item + 1) * P),
        locations: locations.subarray(item * P * 4, (item + 1) * P * 4),
      });
      boxes.push(result.boxes);
      boxLabels.push(result.labels);
      sampleIndices[item] = index;
      ids.push(sample.id);
    });
    return {
      epoch: task.epoch,
      index: task.index,
      size: n,
      images,
      ...(undistortedImages ? { undistortedImages } : {}),
      labels,
      locations,
      boxes,
      boxLabels,
      sampleIndices,
      ids,
      skipped,
    };
  };
  return { build };
}

/**
 * The sample as a mosaic when it has a plan and every partner decoded. Without `skipBadImages` a partner that cannot
 * be decoded fails the batch like any other image; with it, the partner is reported when its own batch is built, and
 * this sample is used alone, augmented exactly as without mosaic (the plan did not advance its Random).
 */
function mosaicInput(
  input: AugmentInput,
  plan: MosaicPlan | null,
  images: readonly (RgbImage | UltrafaceError)[] | null,
  samples: readonly TrainingSample[],
): AugmentInput {
  if (plan === null || images === null) return input;
  const partners: AugmentSample[] = [];
  for (const [m, image] of images.entries()) {
    if (image instanceof UltrafaceError) return input;
    const partner = samples[plan.partners[m]];
    partners.push({ image, boxes: partner.boxes, labels: partner.labels });
  }
  return { ...input, mosaic: { plan, partners: [partners[0], partners[1], partners[2]] } };
}
