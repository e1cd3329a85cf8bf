/**
 * Training augmentation on raw RGB (SPEC §6.3, with its crop fixed — B1 — and SSD's zoom-out added).
 *
 * One sample: uint8 RGB image + face boxes in pixels → the network input `[3, H, W]` float32, normalized
 * `(v − 127) / 128`, plus the surviving faces as normalized corner boxes. The steps, in upstream's order:
 *
 * 1. **Photometric distortion** (SPEC §6.3 step 2; photometric.ts): brightness, contrast, saturation, hue, channel
 *    swap, unclipped, in upstream's order.
 * 2. **Zoom-out** (SSD `Expand`; geometry.ts): the image on a larger canvas filled with the mean.
 * 3. **Random crop that crops** (upstream's intended `RandomSampleCrop_v2`; geometry.ts).
 * 4. **Mirror** (geometry.ts).
 * 5. **Resize** of the (expanded, cropped, mirrored) window to the network size, then normalize (resample.ts).
 *
 * **Mosaic** (mosaic.ts; off by default): a sample may instead become a 2x2 mosaic of itself and three other
 * samples, each quarter being one photo through steps 1–5 at the quarter's size. The partners are planned with
 * {@link Augmenter.planMosaic} before their images are needed, and passed in as {@link AugmentInput.mosaic}.
 *
 * Options, presets and their validation are in options.ts.
 *
 * Boxes are continuous pixel coordinates (pixel i spans [i, i+1)). Output boxes are clipped to the output image;
 * faces left with no area are dropped; faces smaller than `minFaceSize` network pixels on a side become ignore
 * regions (label IGNORE_LABEL: neither face nor background). Ignore regions pass through like faces.
 *
 * **Undistorted copy** (for a distillation teacher): on request the same window is also written without step 1,
 * into a second tensor ({@link AugmentTarget.undistorted}): the student reads the distorted view, a teacher the clean
 * one of the same geometry, so its targets line up prior by prior without what the distortion costs the teacher.
 *
 * Randomness comes only from the {@link Random} passed in; draws happen in the order of the steps above (for a
 * mosaic: the sample's quarter, then each partner's; the plan itself comes from a fork of it, see mosaic.ts).
 */
import { UltrafaceError } from '../../core/errors.js';
import { assertRgbImage, type RgbImage } from '../../core/image.js';
import { IMAGE_MEAN } from '../../core/presets.js';
import type { Random } from '../../core/random.js';
import { resizeToInputTensor } from '../../core/resize.js';
import { integerInRange } from '../../core/validate.js';
import { drawGeometry, transformBoxes, type GeometryPlan, type Rect } from './geometry.js';
import { pasteQuarter, placeBoxes, planMosaic, quarterRect, type MosaicPlan } from './mosaic.js';
import { resolveAugmentOptions, type AugmentOptions, type AugmentOptionsInput } from './options.js';
import { drawPhotometric, pixelRecipe, type PhotometricPlan } from './photometric.js';
import { materializeWindow, resampleWindow } from './resample.js';

export {
  AUGMENT_PRESETS,
  resolveAugmentOptions,
  type AugmentOptions,
  type AugmentOptionsInput,
  type AugmentPresetName,
  type CropOptions,
  type ExpandOptions,
  type MosaicOptions,
  type PhotometricOptions,
} from './options.js';
export type { MosaicPlan } from './mosaic.js';
export type { PhotometricPlan } from './photometric.js';

/** One photo and its faces. */
export interface AugmentSample {
  /** [H, W, 3 or 4] uint8 (alpha ignored). */
  readonly image: RgbImage;
  /** [N, 4] x1, y1, x2, y2 in image pixels. */
  readonly boxes: ArrayLike<number>;
  /** [N] class of each box. */
  readonly labels: ArrayLike<number>;
}

/** One training sample before augmentation. */
export interface AugmentInput extends AugmentSample {
  /**
   * Make the sample a 2x2 mosaic with three partners, as {@link Augmenter.planMosaic} planned it (partners in the
   * plan's order). Omitted: the sample alone.
   */
  readonly mosaic?: {
    readonly plan: MosaicPlan;
    readonly partners: readonly [AugmentSample, AugmentSample, AugmentSample];
  };
}

/** What one call applied: the random draws, for logs and tests. */
export interface AppliedAugmentation {
  readonly photometric: PhotometricPlan | null;
  /** Canvas size and where the image's top-left corner sits on it, in pixels. */
  readonly expand: GeometryPlan['expand'];
  /** Crop rectangle on the canvas, in pixels (integers). */
  readonly crop: Readonly<Rect> | null;
  readonly mirror: boolean;
  /**
   * When the sample became a mosaic: its plan, and what the partners' quarters applied (the fields above are then
   * those of the sample's own quarter). Null otherwise.
   */
  readonly mosaic: {
    readonly plan: MosaicPlan;
    readonly partners: readonly [AppliedAugmentation, AppliedAugmentation, AppliedAugmentation];
  } | null;
}

/** Where {@link Augmenter.augment} writes the network input. */
export interface AugmentTarget {
  /** Receives the [3, H, W] input at `offset` (e.g. item i of an [N, 3, H, W] batch at offset i·3·H·W). */
  readonly tensor: Float32Array;
  readonly offset: number;
  /**
   * Also receives, at the same offset, the same sample without the photometric distortion (step 1): same window,
   * mirror, zoom-out and mosaic, same draws. As long as `tensor`.
   */
  readonly undistorted?: Float32Array;
}

export interface AugmentResult {
  /** [3, H, W] normalized network input: the `target` tensor when one was given, else a new array. */
  readonly image: Float32Array;
  /** [M, 4] x1, y1, x2, y2 of the surviving faces, normalized to the output (0..1), float32. */
  readonly boxes: Float32Array;
  /** [M] their classes. */
  readonly labels: Int32Array;
  readonly applied: AppliedAugmentation;
}

export interface Augmenter {
  readonly options: AugmentOptions;
  /** Network input width and height. */
  readonly width: number;
  readonly height: number;
  /**
   * Whether sample `index` of a data set of `count` becomes a mosaic, and with which partners; null when mosaic is
   * off or not drawn this time. Draws from a fork of `random` without advancing it: pass the same generator, next,
   * to {@link Augmenter.augment}. A pure function of (the generator's state, index, count).
   * @throws UltrafaceError E_INVALID_OPTION for an index outside 0..count−1
   */
  planMosaic(random: Random, index: number, count: number): MosaicPlan | null;
  /**
   * @param target where to write the [3, H, W] input, and its undistorted copy if asked for; omitted: a new array
   * @throws UltrafaceError E_INVALID_INPUT for a malformed image, box array, mosaic or target
   */
  augment(input: AugmentInput, random: Random, target?: AugmentTarget): AugmentResult;
}

/**
 * @param options a preset name, overrides of a preset, or a full {@link AugmentOptions} (re-validated)
 * @param size the network input (an `InputSize` preset fits)
 * @throws UltrafaceError E_INVALID_OPTION
 */
export function createAugmenter(
  options: AugmentOptionsInput,
  size: { readonly width: number; readonly height: number },
): Augmenter {
  const resolved = resolveAugmentOptions(options);
  const width = integerInRange('width', size.width, 1, 1 << 14);
  const height = integerInRange('height', size.height, 1, 1 << 14);
  const augment = (input: AugmentInput, random: Random, target?: AugmentTarget): AugmentResult =>
    augmentSample(input, random, resolved, width, height, target);
  const planMosaicOf = (random: Random, index: number, count: number): MosaicPlan | null =>
    planMosaic(resolved.mosaic, random, index, count);
  return Object.freeze({ options: resolved, width, height, planMosaic: planMosaicOf, augment });
}

function augmentSample(
  input: AugmentInput,
  random: Random,
  options: AugmentOptions,
  outW: number,
  outH: number,
  target: AugmentTarget | undefined,
): AugmentResult {
  checkSample(input);
  const plane = outW * outH;
  const tensor = target?.tensor ?? new Float32Array(3 * plane);
  const offset = target?.offset ?? 0;
  const undistorted = target?.undistorted;
  if (!Number.isInteger(offset) || offset < 0 || offset + 3 * plane > tensor.length) {
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      `Expected a target with room for [3, ${outH}, ${outW}] at offset ${offset} but it holds ${tensor.length}`,
    );
  }
  if (undistorted !== undefined && undistorted.length !== tensor.length) {
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      `Expected an undistorted target as long as the target (${tensor.length}) but it holds ${undistorted.length}`,
    );
  }
  const out = { tensor, offset, undistorted };
  const result =
    input.mosaic === undefined
      ? augmentImage(input, random, options, outW, outH, out)
      : augmentMosaic(input, input.mosaic, random, options, outW, outH, out);
  return {
    image: offset === 0 && tensor.length === 3 * plane ? tensor : tensor.subarray(offset, offset + 3 * plane),
    ...result,
  };
}

/** @throws UltrafaceError E_INVALID_INPUT for a malformed image or box array */
function checkSample(sample: AugmentSample, partner?: number): void {
  const { image, boxes, labels } = sample;
  const of = partner === undefined ? '' : ` of mosaic partner ${partner}`;
  assertRgbImage(image, `image${of}`);
  const count = labels.length;
  if (boxes.length !== 4 * count) {
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      `Expected ${4 * count} box values for ${count} labels${of} but received ${boxes.length}`,
    );
  }
}

/** A sample as a 2x2 mosaic (mosaic.ts): each photo augmented at its quarter's size, then pasted. */
function augmentMosaic(
  input: AugmentSample,
  mosaic: NonNullable<AugmentInput['mosaic']>,
  random: Random,
  options: AugmentOptions,
  outW: number,
  outH: number,
  out: CheckedTarget,
): Omit<AugmentResult, 'image'> {
  const { plan } = mosaic;
  // Widened: checked at run time for callers without types.
  const partners: readonly AugmentSample[] = mosaic.partners;
  const quarters: readonly number[] = plan.quarters;
  if (partners.length !== 3 || quarters.length !== 4 || [0, 1, 2, 3].some((q) => !quarters.includes(q))) {
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      'Expected a mosaic of three partners and quarters that are a permutation of 0..3 but received ' +
        `${partners.length} partners and quarters ${JSON.stringify(quarters)}`,
    );
  }
  if (outW < 2 || outH < 2) {
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      `Expected an output of at least 2x2 for a mosaic but it is ${outW}x${outH}`,
    );
  }
  partners.forEach((partner, k) => {
    checkSample(partner, k + 1);
  });
  const photos = [input, ...partners];
  const boxes: number[] = [];
  const labels: number[] = [];
  const applied: AppliedAugmentation[] = [];
  photos.forEach((photo, k) => {
    const rect = quarterRect(plan.quarters[k], outW, outH);
    const size = 3 * rect.width * rect.height;
    const part = {
      tensor: new Float32Array(size),
      offset: 0,
      undistorted: out.undistorted && new Float32Array(size),
    };
    const result = augmentImage(photo, random, options, rect.width, rect.height, part);
    pasteQuarter(part.tensor, rect, outW, outH, out.tensor, out.offset);
    if (part.undistorted && out.undistorted) {
      pasteQuarter(part.undistorted, rect, outW, outH, out.undistorted, out.offset);
    }
    placeBoxes(result.boxes, rect, outW, outH, boxes);
    labels.push(...result.labels);
    applied.push(result.applied);
  });
  return {
    boxes: Float32Array.from(boxes),
    labels: Int32Array.from(labels),
    applied: { ...applied[0], mosaic: { plan, partners: [applied[1], applied[2], applied[3]] } },
  };
}

/** A target whose tensors have room for the output at `offset`. */
interface CheckedTarget {
  readonly tensor: Float32Array;
  readonly offset: number;
  readonly undistorted: Float32Array | undefined;
}

/**
 * One (checked) photo through steps 1–5 into the planar [3, outH, outW] tensor at `offset`, and through steps 2–5
 * into `undistorted` when given.
 */
function augmentImage(
  input: AugmentSample,
  random: Random,
  options: AugmentOptions,
  outW: number,
  outH: number,
  out: CheckedTarget,
): Omit<AugmentResult, 'image'> {
  const { tensor, offset, undistorted } = out;
  const { image, boxes, labels } = input;

  // ---- random draws, in step order ----
  const photometric = options.photometric === null ? null : drawPhotometric(options.photometric, random);
  const { width: W, height: H } = image;
  const geometry = drawGeometry(options, W, H, boxes, random);
  const { window, mirror, left, top } = geometry;

  // ---- boxes: keep centres inside a crop, clip to the window, mirror, normalize ----
  const kept = transformBoxes(geometry, labels, options.minFaceSize, outW, outH);

  // ---- pixels ----
  const fill = options.expand?.fill ?? IMAGE_MEAN;
  if (options.resize === 'uint8') {
    const windowImage =
      window.x === 0 && window.y === 0 && window.width === W && window.height === H && !mirror
        ? image
        : materializeWindow(image, left, top, window, mirror, fill);
    resizeToInputTensor(windowImage, outW, outH, tensor, offset);
  } else {
    const source = { image, left, top, recipe: pixelRecipe(photometric) };
    resampleWindow(source, window, mirror, fill, outW, outH, tensor, offset);
  }
  if (undistorted !== undefined) {
    if (photometric === null) undistorted.set(tensor.subarray(offset, offset + 3 * outW * outH), offset);
    else {
      const source = { image, left, top, recipe: pixelRecipe(null) };
      resampleWindow(source, window, mirror, fill, outW, outH, undistorted, offset);
    }
  }

  return {
    boxes: Float32Array.from(kept.boxes),
    labels: Int32Array.from(kept.labels),
    applied: { photometric, expand: geometry.expand, crop: geometry.crop, mirror, mosaic: null },
  };
}
