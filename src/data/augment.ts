/**
 * Training augmentation on raw RGB (SPEC §6.3, with its crop fixed — B1 — and SSD's zoom-out added).
 *
 * One sample: uint8 RGB image + face boxes in pixels → the network input `[3, H, W]` float32, normalized
 * `(v − 127) / 128`, plus the surviving faces as normalized corner boxes. The steps, in upstream's order:
 *
 * 1. **Photometric distortion** (SPEC §6.3 step 2, same order, probabilities and ranges; values are never clipped,
 *    as upstream): brightness (add `uniform(−32, 32)`), then with equal odds either contrast → HSV → saturation →
 *    hue → RGB, or HSV → saturation → hue → RGB → contrast (multiply by `uniform(0.5, 1.5)`), then a random channel
 *    permutation (identity included). Saturation (× `uniform(0.5, 1.5)` on S) and hue (+ `uniform(−18, 18)` degrees
 *    on H, wrapped once) are the only steps that need HSV: they use OpenCV's float `RGB2HSV` / `HSV2RGB` formulas
 *    (H in degrees, S in 0..1, V = max(R, G, B) in the pixel scale) for each pixel; the round trip is skipped when
 *    neither applies (upstream always runs it; it is the identity up to float rounding on non-negative values).
 *    Only the source pixels the output reads (window ∩ image) are distorted; the zoom-out fill stays at the mean.
 * 2. **Zoom-out** (SSD `Expand`; not in upstream): with probability p the image is placed at a random integer
 *    offset on a canvas `ratio` times larger (ratio uniform in [1, maxRatio]) filled with 127 (the mean, so the fill
 *    normalizes to ~0). Large-face photos then also teach the small priors.
 * 3. **Random crop that crops** (upstream's intended `RandomSampleCrop_v2`, generalized; upstream's never fires —
 *    B1): with probability p, up to `maxTrials` times: scale s ~ U(minScale, 1) of each canvas side, aspect change
 *    a ~ log-uniform in [1/maxAspectChange, maxAspectChange] (the crop is `s·√a` wide and `s/√a` high, clamped to
 *    the canvas), position uniform; integer rectangle. A trial is accepted when some face lies inside it for at
 *    least `minCoverage` of its area (1 = a whole face, as upstream intended) and some face centre lies strictly
 *    inside; faces whose centre is outside are dropped, the others clipped (SSD). Images without faces accept the
 *    first trial. If every trial fails, nothing is cropped. We chose this coverage rule over SSD's min-IoU sampling:
 *    a face is small relative to any crop, so IoU thresholds of 0.1–0.9 between face and crop would almost never
 *    be met except by crops that are themselves face-sized.
 * 4. **Mirror** with probability p (upstream: 0.5): `x1' = W − x2`, `x2' = W − x1`.
 * 5. **Resize** of the (expanded, cropped, mirrored) window to the network size, aspect not kept, then normalize.
 *    `resize: 'float'` (training, SPEC §6.3 step 6 / §6.7 last paragraph): OpenCV's bilinear coefficient tables
 *    with float weights on float pixels — computed straight from the source image, so the expanded canvas and the
 *    crop are never materialized. `resize: 'uint8'` (validation, SPEC §6.5; requires photometric off): the window
 *    as uint8, then the bit-exact OpenCV fixed-point {@link resizeBilinear} — identical to inference input.
 *
 * Boxes are continuous pixel coordinates (pixel i spans [i, i+1)). Output boxes are clipped to the output image;
 * faces left with no area, or smaller than `minFaceSize` network pixels on a side, are dropped.
 *
 * Randomness comes only from the {@link Random} passed in; draws happen in the order of the steps above.
 */
import { UltrafaceError } from '../core/errors.js';
import { assertRgbImage, toInputTensor, type RgbImage } from '../core/image.js';
import { IMAGE_MEAN, IMAGE_STD } from '../core/presets.js';
import type { Random } from '../core/random.js';
import { linearAxisTable, resizeBilinear, RowPairCache } from '../core/resize.js';
import { integerInRange, invalidOption, knownKeys, numberInRange, oneOf } from '../core/validate.js';

export interface PhotometricOptions {
  /** Probability of adding a brightness delta (SPEC §6.3: 0.5). */
  readonly brightnessProbability: number;
  /** The delta is uniform in [−brightnessDelta, brightnessDelta] pixel levels (32). */
  readonly brightnessDelta: number;
  readonly contrastProbability: number; // 0.5
  /** Contrast factor range (0.5, 1.5). */
  readonly contrastLower: number;
  readonly contrastUpper: number;
  readonly saturationProbability: number; // 0.5
  /** Saturation factor range (0.5, 1.5). */
  readonly saturationLower: number;
  readonly saturationUpper: number;
  readonly hueProbability: number; // 0.5
  /** Hue delta in degrees, uniform in [−hueDelta, hueDelta] (18). */
  readonly hueDelta: number;
  /** Probability of permuting the channels (`RandomLightingNoise`, 0.5; the identity is one of the 6). */
  readonly channelSwapProbability: number;
}

export interface ExpandOptions {
  readonly probability: number;
  /** The canvas side is `ratio` times the image side, ratio uniform in [1, maxRatio]. */
  readonly maxRatio: number;
  /** Canvas colour, one level for all three channels (default 127 = the mean). */
  readonly fill: number;
}

export interface CropOptions {
  readonly probability: number;
  /** Smallest crop side as a fraction of the canvas side (upstream's intended 0.3). */
  readonly minScale: number;
  /** Largest change of aspect ratio versus the canvas (1 = same aspect as the image). */
  readonly maxAspectChange: number;
  /** A trial needs a face at least this fraction inside the crop (upstream's intended 1: a whole face). */
  readonly minCoverage: number;
  readonly maxTrials: number;
}

export interface AugmentOptions {
  /** `null` = off. */
  readonly photometric: PhotometricOptions | null;
  readonly expand: ExpandOptions | null;
  readonly crop: CropOptions | null;
  readonly mirrorProbability: number;
  /** 'float' (training, SPEC §6.3) or 'uint8' (OpenCV fixed point, SPEC §6.5/§6.7; needs photometric off). */
  readonly resize: 'float' | 'uint8';
  /** Faces smaller than this on either side, in network-input pixels, are dropped (0 keeps every face). */
  readonly minFaceSize: number;
}

export type AugmentPresetName = 'upstream' | 'default' | 'none';

/** Upstream `PhotometricDistort` (SPEC §6.3 step 2). */
const UPSTREAM_PHOTOMETRIC: PhotometricOptions = Object.freeze({
  brightnessProbability: 0.5,
  brightnessDelta: 32,
  contrastProbability: 0.5,
  contrastLower: 0.5,
  contrastUpper: 1.5,
  saturationProbability: 0.5,
  saturationLower: 0.5,
  saturationUpper: 1.5,
  hueProbability: 0.5,
  hueDelta: 18,
  channelSwapProbability: 0.5,
});

export const AUGMENT_PRESETS: Readonly<Record<AugmentPresetName, AugmentOptions>> = Object.freeze({
  /** What upstream effectively trains with (B1: its crop never crops): photometric + mirror, float resize. */
  upstream: Object.freeze({
    photometric: UPSTREAM_PHOTOMETRIC,
    expand: null,
    crop: null,
    mirrorProbability: 0.5,
    resize: 'float',
    minFaceSize: 0,
  }),
  /**
   * Upstream plus the geometry SSD relies on. Zoom-out up to 3x (not SSD's 4x: faces here are mostly 20–200 px in
   * ≤ 640 px photos, i.e. 10–100 px at 320x240, and 4x would push most below the smallest 10 px prior), in 40 % of
   * samples; a crop that keeps a whole face, in half of them, zooming in up to 1/0.3 and changing the aspect by up
   * to 1.5x (inference squashes any photo to 4:3, so faces arrive stretched either way).
   */
  default: Object.freeze({
    photometric: UPSTREAM_PHOTOMETRIC,
    expand: Object.freeze({ probability: 0.4, maxRatio: 3, fill: IMAGE_MEAN }),
    crop: Object.freeze({
      probability: 0.5,
      minScale: 0.3,
      maxAspectChange: 1.5,
      minCoverage: 1,
      maxTrials: 50,
    }),
    mirrorProbability: 0.5,
    resize: 'float',
    minFaceSize: 0,
  }),
  /** No randomness: upstream's validation transform (SPEC §6.5), bit-identical to inference pre-processing. */
  none: Object.freeze({
    photometric: null,
    expand: null,
    crop: null,
    mirrorProbability: 0,
    resize: 'uint8',
    minFaceSize: 0,
  }),
});

/** A preset name, or a preset (default 'default') with some fields replaced; sub-objects merge field by field. */
export type AugmentOptionsInput =
  | AugmentPresetName
  | {
      readonly preset?: AugmentPresetName;
      readonly photometric?: Partial<PhotometricOptions> | null;
      readonly expand?: Partial<ExpandOptions> | null;
      readonly crop?: Partial<CropOptions> | null;
      readonly mirrorProbability?: number;
      readonly resize?: 'float' | 'uint8';
      readonly minFaceSize?: number;
    };

const PRESET_NAMES: readonly AugmentPresetName[] = ['upstream', 'default', 'none'];

/**
 * Validated, frozen options. A sub-object given for a step that is off in the preset starts from the 'default'
 * preset's values for that step (upstream's for photometric).
 * @throws UltrafaceError E_INVALID_OPTION
 */
export function resolveAugmentOptions(input: AugmentOptionsInput = 'default'): AugmentOptions {
  if (typeof input === 'string') return AUGMENT_PRESETS[oneOf('augment preset', input, PRESET_NAMES)];
  if (typeof input !== 'object' || (input as unknown) === null) {
    throw invalidOption('augment', 'a preset name or an options object', input);
  }
  knownKeys('augment options', input, [
    'preset',
    'photometric',
    'expand',
    'crop',
    'mirrorProbability',
    'resize',
    'minFaceSize',
  ]);
  const base = AUGMENT_PRESETS[oneOf('augment.preset', input.preset ?? 'default', PRESET_NAMES)];
  const defaults = AUGMENT_PRESETS.default;
  const merge = <T extends object>(
    name: string,
    given: Partial<T> | null | undefined,
    current: T | null,
    fallback: T,
  ): T | null => {
    if (given === undefined) return current;
    if (given === null) return null;
    if (typeof given !== 'object') throw invalidOption(`augment.${name}`, 'an object or null', given);
    knownKeys(`augment.${name}`, given, Object.keys(fallback));
    return { ...(current ?? fallback), ...given };
  };

  const photometric = merge('photometric', input.photometric, base.photometric, UPSTREAM_PHOTOMETRIC);
  if (photometric !== null) {
    const p = (key: keyof PhotometricOptions): void => {
      numberInRange(`augment.photometric.${key}`, photometric[key], 0, 1);
    };
    p('brightnessProbability');
    p('contrastProbability');
    p('saturationProbability');
    p('hueProbability');
    p('channelSwapProbability');
    numberInRange('augment.photometric.brightnessDelta', photometric.brightnessDelta, 0, 255);
    numberInRange('augment.photometric.hueDelta', photometric.hueDelta, 0, 180);
    numberInRange('augment.photometric.contrastLower', photometric.contrastLower, 0, 10);
    numberInRange(
      'augment.photometric.contrastUpper',
      photometric.contrastUpper,
      photometric.contrastLower,
      10,
    );
    numberInRange('augment.photometric.saturationLower', photometric.saturationLower, 0, 10);
    numberInRange(
      'augment.photometric.saturationUpper',
      photometric.saturationUpper,
      photometric.saturationLower,
      10,
    );
  }
  const expand = merge('expand', input.expand, base.expand, defaults.expand!);
  if (expand !== null) {
    numberInRange('augment.expand.probability', expand.probability, 0, 1);
    numberInRange('augment.expand.maxRatio', expand.maxRatio, 1, 16);
    integerInRange('augment.expand.fill', expand.fill, 0, 255);
  }
  const crop = merge('crop', input.crop, base.crop, defaults.crop!);
  if (crop !== null) {
    numberInRange('augment.crop.probability', crop.probability, 0, 1);
    numberInRange('augment.crop.minScale', crop.minScale, 0.01, 1);
    numberInRange('augment.crop.maxAspectChange', crop.maxAspectChange, 1, 10);
    numberInRange('augment.crop.minCoverage', crop.minCoverage, 0, 1);
    integerInRange('augment.crop.maxTrials', crop.maxTrials, 1, 10_000);
  }
  const mirrorProbability = numberInRange(
    'augment.mirrorProbability',
    input.mirrorProbability ?? base.mirrorProbability,
    0,
    1,
  );
  const resize = oneOf('augment.resize', input.resize ?? base.resize, ['float', 'uint8'] as const);
  if (resize === 'uint8' && photometric !== null) {
    throw invalidOption('augment.resize', '"float" while photometric distortion is on', resize);
  }
  const minFaceSize = numberInRange('augment.minFaceSize', input.minFaceSize ?? base.minFaceSize, 0, 1e6);
  return Object.freeze({
    photometric: photometric === null ? null : Object.freeze(photometric),
    expand: expand === null ? null : Object.freeze(expand),
    crop: crop === null ? null : Object.freeze(crop),
    mirrorProbability,
    resize,
    minFaceSize,
  });
}

/** One training sample before augmentation. */
export interface AugmentInput {
  /** [H, W, 3 or 4] uint8 (alpha ignored). */
  readonly image: RgbImage;
  /** [N, 4] x1, y1, x2, y2 in image pixels. */
  readonly boxes: ArrayLike<number>;
  /** [N] class of each box. */
  readonly labels: ArrayLike<number>;
}

/** What one call applied: the random draws, for logs and tests. */
export interface AppliedAugmentation {
  readonly photometric: {
    readonly brightness: number | null;
    readonly contrast: number | null;
    readonly contrastFirst: boolean;
    readonly saturation: number | null;
    readonly hue: number | null;
    /** New channel c is old channel `channels[c]`; null when not permuted. */
    readonly channels: readonly [number, number, number] | null;
  } | null;
  /** Canvas size and where the image's top-left corner sits on it, in pixels. */
  readonly expand: {
    readonly width: number;
    readonly height: number;
    readonly left: number;
    readonly top: number;
  } | null;
  /** Crop rectangle on the canvas, in pixels (integers). */
  readonly crop: {
    readonly x: number;
    readonly y: number;
    readonly width: number;
    readonly height: number;
  } | null;
  readonly mirror: boolean;
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
   * @param target where to write the [3, H, W] input (e.g. item i of an [N, 3, H, W] batch at offset i·3·H·W)
   * @throws UltrafaceError E_INVALID_INPUT for a malformed image or box array
   */
  augment(
    input: AugmentInput,
    random: Random,
    target?: { tensor: Float32Array; offset: number },
  ): AugmentResult;
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
  const augment = (
    input: AugmentInput,
    random: Random,
    target?: { tensor: Float32Array; offset: number },
  ): AugmentResult => augmentSample(input, random, resolved, width, height, target);
  return Object.freeze({ options: resolved, width, height, augment });
}

const PERMUTATIONS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
] as const;

type PhotometricPlan = NonNullable<AppliedAugmentation['photometric']>;

/** Draws in upstream's order: `randint(2)` → our `chance(p)`, then the value when applied. */
function drawPhotometric(o: PhotometricOptions, random: Random): PhotometricPlan {
  const brightness = random.chance(o.brightnessProbability)
    ? random.uniform(-o.brightnessDelta, o.brightnessDelta)
    : null;
  const contrastFirst = random.chance(0.5);
  const contrastDraw = (): number | null =>
    random.chance(o.contrastProbability) ? random.uniform(o.contrastLower, o.contrastUpper) : null;
  let contrast = contrastFirst ? contrastDraw() : null;
  const saturation = random.chance(o.saturationProbability)
    ? random.uniform(o.saturationLower, o.saturationUpper)
    : null;
  const hue = random.chance(o.hueProbability) ? random.uniform(-o.hueDelta, o.hueDelta) : null;
  if (!contrastFirst) contrast = contrastDraw();
  const channels = random.chance(o.channelSwapProbability) ? PERMUTATIONS[random.int(6)] : null;
  return { brightness, contrast, contrastFirst, saturation, hue, channels };
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

function augmentSample(
  input: AugmentInput,
  random: Random,
  options: AugmentOptions,
  outW: number,
  outH: number,
  target: { tensor: Float32Array; offset: number } | undefined,
): AugmentResult {
  const { image, boxes, labels } = input;
  assertRgbImage(image, 'image');
  const count = labels.length;
  if (boxes.length !== 4 * count) {
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      `Expected ${4 * count} box values for ${count} labels but received ${boxes.length}`,
    );
  }
  const plane = outW * outH;
  const tensor = target?.tensor ?? new Float32Array(3 * plane);
  const offset = target?.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset + 3 * plane > tensor.length) {
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      `Expected a target with room for [3, ${outH}, ${outW}] at offset ${offset} but it holds ${tensor.length}`,
    );
  }

  // ---- random draws, in step order ----
  const photometric = options.photometric === null ? null : drawPhotometric(options.photometric, random);
  const { width: W, height: H } = image;
  let canvasW = W;
  let canvasH = H;
  let left = 0;
  let top = 0;
  let expandApplied: AppliedAugmentation['expand'] = null;
  if (options.expand !== null && random.chance(options.expand.probability)) {
    const ratio = random.uniform(1, options.expand.maxRatio);
    canvasW = Math.max(W, Math.floor(W * ratio));
    canvasH = Math.max(H, Math.floor(H * ratio));
    left = Math.floor(random.uniform(0, canvasW - W));
    top = Math.floor(random.uniform(0, canvasH - H));
    expandApplied = { width: canvasW, height: canvasH, left, top };
  }
  // Boxes on the canvas (float64 while transforming).
  const canvasBoxes = new Float64Array(4 * count);
  for (let i = 0; i < count; i++) {
    canvasBoxes[4 * i] = boxes[4 * i] + left;
    canvasBoxes[4 * i + 1] = boxes[4 * i + 1] + top;
    canvasBoxes[4 * i + 2] = boxes[4 * i + 2] + left;
    canvasBoxes[4 * i + 3] = boxes[4 * i + 3] + top;
  }
  let window: Rect = { x: 0, y: 0, width: canvasW, height: canvasH };
  let cropApplied: Rect | null = null;
  if (options.crop !== null && random.chance(options.crop.probability)) {
    cropApplied = sampleCrop(options.crop, canvasW, canvasH, canvasBoxes, random);
    if (cropApplied !== null) window = cropApplied;
  }
  const mirror = random.chance(options.mirrorProbability);

  // ---- boxes: keep centres inside a crop, clip to the window, mirror, normalize ----
  const keptBoxes: number[] = [];
  const keptLabels: number[] = [];
  const wx1 = window.x + window.width;
  const wy1 = window.y + window.height;
  for (let i = 0; i < count; i++) {
    let [x1, y1, x2, y2] = canvasBoxes.subarray(4 * i, 4 * i + 4);
    if (cropApplied !== null) {
      const cx = (x1 + x2) / 2;
      const cy = (y1 + y2) / 2;
      if (!(cx > window.x && cx < wx1 && cy > window.y && cy < wy1)) continue;
    }
    x1 = Math.max(x1, window.x) - window.x;
    y1 = Math.max(y1, window.y) - window.y;
    x2 = Math.min(x2, wx1) - window.x;
    y2 = Math.min(y2, wy1) - window.y;
    if (mirror) [x1, x2] = [window.width - x2, window.width - x1];
    const nx1 = Math.fround(x1 / window.width);
    const ny1 = Math.fround(y1 / window.height);
    const nx2 = Math.fround(x2 / window.width);
    const ny2 = Math.fround(y2 / window.height);
    if (!(nx2 > nx1 && ny2 > ny1)) continue;
    if ((nx2 - nx1) * outW < options.minFaceSize || (ny2 - ny1) * outH < options.minFaceSize) continue;
    keptBoxes.push(nx1, ny1, nx2, ny2);
    keptLabels.push(labels[i]);
  }

  // ---- pixels ----
  if (options.resize === 'uint8') {
    const windowImage =
      window.x === 0 && window.y === 0 && window.width === W && window.height === H && !mirror
        ? image
        : materializeWindow(image, left, top, window, mirror, options.expand?.fill ?? IMAGE_MEAN);
    toInputTensor(resizeBilinear(windowImage, outW, outH), tensor, offset);
  } else {
    const source = { image, left, top, recipe: pixelRecipe(photometric) };
    resampleWindow(source, window, mirror, options.expand?.fill ?? IMAGE_MEAN, outW, outH, tensor, offset);
  }

  return {
    image: offset === 0 && tensor.length === 3 * plane ? tensor : tensor.subarray(offset, offset + 3 * plane),
    boxes: Float32Array.from(keptBoxes),
    labels: Int32Array.from(keptLabels),
    applied: { photometric, expand: expandApplied, crop: cropApplied, mirror },
  };
}

/** See step 3 of the module comment. @returns the accepted rectangle, or null when every trial failed */
function sampleCrop(
  o: CropOptions,
  canvasW: number,
  canvasH: number,
  boxes: Float64Array,
  random: Random,
): Rect | null {
  const count = boxes.length / 4;
  const logAspect = Math.log(o.maxAspectChange);
  for (let trial = 0; trial < o.maxTrials; trial++) {
    const scale = random.uniform(o.minScale, 1);
    const aspect = Math.sqrt(Math.exp(random.uniform(-logAspect, logAspect)));
    const w = Math.min(canvasW, scale * aspect * canvasW);
    const h = Math.min(canvasH, (scale / aspect) * canvasH);
    const l = random.uniform(0, canvasW - w);
    const t = random.uniform(0, canvasH - h);
    const x = Math.floor(l);
    const y = Math.floor(t);
    const rect = {
      x,
      y,
      width: Math.max(1, Math.min(canvasW, Math.floor(l + w)) - x),
      height: Math.max(1, Math.min(canvasH, Math.floor(t + h)) - y),
    };
    if (count === 0) return rect;
    const rx1 = rect.x + rect.width;
    const ry1 = rect.y + rect.height;
    let covered = false;
    let centred = false;
    for (let i = 0; i < count; i++) {
      const [x1, y1, x2, y2] = boxes.subarray(4 * i, 4 * i + 4);
      const area = Math.max(x2 - x1, 0) * Math.max(y2 - y1, 0);
      const inter =
        Math.max(Math.min(x2, rx1) - Math.max(x1, rect.x), 0) *
        Math.max(Math.min(y2, ry1) - Math.max(y1, rect.y), 0);
      if (area > 0 && inter >= o.minCoverage * area) covered = true;
      const cx = (x1 + x2) / 2;
      const cy = (y1 + y2) / 2;
      if (cx > rect.x && cx < rx1 && cy > rect.y && cy < ry1) centred = true;
    }
    if (covered && centred) return rect;
  }
  return null;
}

const FLT_EPSILON = 1.1920928955078125e-7;
/** 1 / 128: multiplying by a power of two is exact, so this equals upstream's division. */
const INV_STD = 1 / IMAGE_STD;

/**
 * A photometric plan compiled for one image. Upstream runs each step as a pass over a float32 image; here each
 * pixel goes through all of them at once and the same float32 values come out, so the result is bit-identical.
 * Brightness and the leading contrast act on each channel alone, so on uint8 input they are a table of 256 levels;
 * without an HSV step, the trailing contrast folds into that table too.
 *
 * The level table, the distorted row and the column weights are Float64Array holding float32 values: the same
 * numbers as upstream's float32 images, read without a float32 → float64 conversion each time.
 */
interface PixelRecipe {
  /** Per input level: float32((level + brightness) · leading contrast), then · trailing contrast without `hsv`. */
  readonly levels: Float64Array;
  /**
   * The HSV round trip's saturation factor and hue shift, then the trailing contrast factor (1 when none); null when
   * neither saturation nor hue applies. A Float64Array so that the HSV loop reads raw doubles: V8 re-checks a number
   * parameter at each use inside a loop.
   */
  readonly hsv: Float64Array | null;
  /** The channel swap: output channel k is input channel `channels[k]`. */
  readonly channels: readonly [number, number, number];
}

/** The recipe of a plan; with no plan, the identity (levels 0..255). */
function pixelRecipe(plan: PhotometricPlan | null): PixelRecipe {
  const levels = new Float64Array(256);
  if (plan === null) {
    for (let level = 0; level < 256; level++) levels[level] = level;
    return { levels, hsv: null, channels: [0, 1, 2] };
  }
  const brightness = plan.brightness ?? 0;
  const before = plan.contrastFirst ? (plan.contrast ?? 1) : 1;
  const after = plan.contrastFirst ? 1 : (plan.contrast ?? 1);
  const hsv =
    plan.saturation !== null || plan.hue !== null
      ? Float64Array.of(plan.saturation ?? 1, plan.hue ?? 0, after)
      : null;
  for (let level = 0; level < 256; level++) {
    levels[level] = Math.fround((level + brightness) * before);
    // Without HSV, the trailing contrast is the next pass over the same float32 values.
    if (hsv === null) levels[level] = Math.fround(levels[level] * after);
  }
  return { levels, hsv, channels: plan.channels ?? [0, 1, 2] };
}

/**
 * Photometric distortion (SPEC §6.3 step 2), unclipped, of the pixels in `runs` (pairs [from, to) of columns) of the
 * image row starting at element `start` of `data`, into `row` with the image's layout (pixel x at cn · x, RGB); the
 * other pixels of `row` are left as they are.
 */
function distortRow(
  data: RgbImage['data'],
  start: number,
  cn: number,
  runs: Int32Array,
  recipe: PixelRecipe,
  row: Float64Array,
): void {
  const { levels, hsv } = recipe;
  if (hsv !== null) {
    hsvDistort(data, start, cn, runs, levels, hsv, recipe.channels, row);
    return;
  }
  const [c0, c1, c2] = recipe.channels;
  for (let run = 0; run < runs.length; run += 2) {
    for (let o = cn * runs[run], end = cn * runs[run + 1]; o < end; o += cn) {
      row[o] = levels[data[start + o + c0]];
      row[o + 1] = levels[data[start + o + c1]];
      row[o + 2] = levels[data[start + o + c2]];
    }
  }
}

/**
 * {@link distortRow} with the HSV step: levels, then RGB → HSV, S × saturation, H + hue (wrapped once, as upstream's
 * `RandomHue`), HSV → RGB, the trailing contrast and the channel swap. OpenCV's float formulas (`RGB2HSV_f`,
 * `HSV2RGB_f`; H in degrees, S = (V − min) / |V|, V = max) also define the result for values outside 0..255.
 */
function hsvDistort(
  data: RgbImage['data'],
  start: number,
  cn: number,
  runs: Int32Array,
  levels: Float64Array,
  hsv: Float64Array,
  channels: readonly [number, number, number],
  row: Float64Array,
): void {
  // Read once, here, as raw numbers (`| 0` for integers): V8 re-checks parameters and module constants at each use
  // inside a loop.
  const satFactor = hsv[0];
  const hueShift = hsv[1];
  const after = hsv[2];
  const scaled = after !== 1;
  const epsilon = FLT_EPSILON;
  const base = start | 0;
  const step = cn | 0;
  // Input channel c goes to slot[c] of the output pixel.
  const slot0 = channels.indexOf(0) | 0;
  const slot1 = channels.indexOf(1) | 0;
  const slot2 = channels.indexOf(2) | 0;
  for (let run = 0; run < runs.length; run += 2) {
    for (let o = step * runs[run], end = step * runs[run + 1]; o < end; o += step) {
      const r = levels[data[base + o]];
      const g = levels[data[base + o + 1]];
      const b = levels[data[base + o + 2]];
      // V = max and the channel RGB2HSV takes H from (the first of R, G, B equal to V), by comparisons: the same as
      // Math.max and `V === R`, `V === G` except that a tie of +0 and −0 may keep −0, a sign every consumer loses
      // (V and H only scale or add; the resize ends in `− 127`). Math.max/min cost V8 three branches each.
      const rIsMax = r >= g && r >= b;
      const gIsMax = !rIsMax && g >= b;
      const v = rIsMax ? r : gIsMax ? g : b;
      const vmin = r <= g ? (r <= b ? r : b) : g <= b ? g : b;
      const diff = v - vmin;
      const sat = (diff / (Math.abs(v) + epsilon)) * satFactor;
      let red = v;
      let green = v;
      let blue = v;
      if (sat !== 0) {
        const k = 60 / (diff + epsilon);
        let h = rIsMax ? (g - b) * k : gIsMax ? (b - r) * k + 120 : (r - g) * k + 240;
        if (h < 0) h += 360;
        h += hueShift;
        if (h > 360) h -= 360;
        else if (h < 0) h += 360;
        // OpenCV: h = fmod(h · 6/360, 6), + 6 if negative; then a sector check that cannot fail for finite input.
        // Here h is in [0, 360] (RGB2HSV gives [0, 360], the hue shift wraps once), so h · 6/360 is in [0, 6]
        // and one subtraction is the same (and avoids a slow floating-point `%`).
        h = (h * 6) / 360;
        if (h >= 6) h -= 6;
        const sector = Math.floor(h);
        h -= sector;
        const p = v * (1 - sat); // OpenCV tab[1]
        const q = v * (1 - sat * h); // tab[2]
        const t = v * (1 - sat * (1 - h)); // tab[3]
        // OpenCV's sector table {1,3,0}, {1,0,2}, {3,0,1}, {0,2,1}, {0,1,3}, {2,1,0} picks (b, g, r) from tab.
        switch (sector) {
          case 0:
            green = t;
            blue = p;
            break;
          case 1:
            red = q;
            blue = p;
            break;
          case 2:
            red = p;
            blue = t;
            break;
          case 3:
            red = p;
            green = q;
            break;
          case 4:
            red = t;
            green = p;
            break;
          default:
            green = p;
            blue = q;
        }
      }
      // Upstream stores HSV2RGB's result as float32, then multiplies by the trailing contrast (if any).
      let out0 = Math.fround(red);
      let out1 = Math.fround(green);
      let out2 = Math.fround(blue);
      if (scaled) {
        out0 = Math.fround(out0 * after);
        out1 = Math.fround(out1 * after);
        out2 = Math.fround(out2 * after);
      }
      row[o + slot0] = out0;
      row[o + slot1] = out1;
      row[o + slot2] = out2;
    }
  }
}

/** The image placed on the canvas: image pixel (i, j) is canvas pixel (left + i, top + j); elsewhere is fill. */
interface Source {
  readonly image: RgbImage;
  readonly left: number;
  readonly top: number;
  /** What each image pixel goes through before the resize (the identity when photometric distortion is off). */
  readonly recipe: PixelRecipe;
}

/**
 * OpenCV `INTER_LINEAR` on float pixels (SPEC §6.7 last paragraph) of the canvas window `window` (mirrored when
 * asked) to outW x outH, without materializing the canvas, then `(v − 127) / 128` into planar [3, outH, outW].
 * The window is the resize's source image: columns clamp at its borders and rows are clamped when read, as in
 * OpenCV; canvas pixels outside the image read as `fill`. For an exact 2x reduction the weights are all 0.5, which
 * equals OpenCV's area averaging on integer-valued input.
 *
 * The photometric distortion happens on the fly, on the image pixels the resize reads (window ∩ image; of a
 * zoomed-out image, not every row and column): through the level table as they are read when there is no HSV step,
 * else a row at a time into a buffer. No distorted or expanded copy of the image is made.
 */
function resampleWindow(
  source: Source,
  window: Rect,
  mirror: boolean,
  fill: number,
  outW: number,
  outH: number,
  out: Float32Array,
  offset: number,
): void {
  const { image, left, top, recipe } = source;
  const { data, channels: cn, width: W, height: H } = image;
  const columns = columnTable(window, mirror, left, image, outW);
  const rows = coefficients(window.height, outH, false);
  const rowLength = outW * 3;
  const fillRow = new Float32Array(rowLength);
  for (let dx = 0; dx < outW; dx++) {
    const v = fill * columns.w0[dx] + fill * columns.w1[dx];
    fillRow[3 * dx] = fillRow[3 * dx + 1] = fillRow[3 * dx + 2] = v;
  }
  const partlyFill = columns.inLo > 0 || columns.inHi < outW;
  const pixels = new Float64Array(cn * W); // distorted pixels of one image row
  let distorted = -1; // the image row `pixels` holds
  // Calls only module-level functions: V8 deoptimizes code that inlined a closure created anew on each call.
  const horizontal = (windowRow: number, t: Float32Array): void => {
    const sy = window.y + windowRow - top;
    if (sy < 0 || sy >= H) {
      t.set(fillRow);
      return;
    }
    const start = sy * W * cn;
    if (sy !== distorted) {
      // Without HSV, only the pixels of the edge columns go through the buffer; the others are read through the
      // levels as the resize reads them.
      distortRow(data, start, cn, recipe.hsv === null ? columns.edgeRead : columns.read, recipe, pixels);
      distorted = sy;
    }
    if (partlyFill) {
      t.set(fillRow);
      resampleEdge(pixels, columns, fill, t, 0, columns.inLo);
      resampleEdge(pixels, columns, fill, t, columns.inHi, outW);
    }
    if (recipe.hsv === null) resampleLevels(data, start, recipe, columns, t);
    else resamplePixels(pixels, columns, t);
  };
  const rowPair = new RowPairCache(new Float32Array(rowLength), new Float32Array(rowLength), horizontal);
  const plane = outW * outH;
  const last = window.height - 1;
  for (let dy = 0; dy < outH; dy++) {
    const sy = rows.index[dy];
    const r0 = Math.min(Math.max(sy, 0), last);
    const r1 = Math.min(Math.max(sy + 1, 0), last);
    rowPair.load(r0, r1);
    const r = offset + dy * outW;
    resampleColumn(rowPair.first, rowPair.second, rows, dy, out, r, r + plane, r + 2 * plane, outW);
  }
}

/**
 * The vertical pass of {@link resampleWindow} for output row `dy`: rows `t0`, `t1` of the horizontal pass blended
 * with the row weights, normalized, into planar output at offsets `r`, `g`, `b`.
 */
function resampleColumn(
  t0: Float32Array,
  t1: Float32Array,
  rows: { readonly w0: Float32Array; readonly w1: Float32Array },
  dy: number,
  out: Float32Array,
  r: number,
  g: number,
  b: number,
  outW: number,
): void {
  const f = Math.fround;
  // Read once, here (see hsvDistort); the imported IMAGE_MEAN would otherwise be re-read and checked per pixel.
  const mean = IMAGE_MEAN;
  const scale = INV_STD;
  const w0 = rows.w0[dy];
  const w1 = rows.w1[dy];
  for (let dx = 0, x = 0; dx < outW; dx++, x += 3) {
    out[r + dx] = f(f(t0[x] * w0 + t1[x] * w1) - mean) * scale;
    out[g + dx] = f(f(t0[x + 1] * w0 + t1[x + 1] * w1) - mean) * scale;
    out[b + dx] = f(f(t0[x + 2] * w0 + t1[x + 2] * w1) - mean) * scale;
  }
}

/** The horizontal half of {@link resampleWindow}'s resize: per output column, its two source pixels and weights. */
interface ColumnTable {
  /** Element offsets cn · x of the two source pixels within an image row, or −1 where the canvas is fill. */
  readonly col0: Int32Array;
  readonly col1: Int32Array;
  /** Their weights (float32 values). */
  readonly w0: Float64Array;
  readonly w1: Float64Array;
  /**
   * Output columns [inLo, inHi) read two adjacent image pixels, the second at `step` = ±cn elements from the first
   * (source columns are monotonic, so this is one run); the others read fill, or clamp at the window's edge.
   */
  readonly inLo: number;
  readonly inHi: number;
  readonly step: number;
  /** The image columns read, as runs [from, to) in pairs, ascending. */
  readonly read: Int32Array;
  /** Those read by output columns outside [inLo, inHi). */
  readonly edgeRead: Int32Array;
}

function columnTable(
  window: Rect,
  mirror: boolean,
  left: number,
  image: RgbImage,
  outW: number,
): ColumnTable {
  const { index, w0, w1 } = coefficients(window.width, outW, true);
  const { width: W, channels: cn } = image;
  const col0 = new Int32Array(outW);
  const col1 = new Int32Array(outW);
  const imageColumn = (c: number): number => {
    const x = window.x + (mirror ? window.width - 1 - c : c) - left;
    return x >= 0 && x < W ? x : -1;
  };
  for (let dx = 0; dx < outW; dx++) {
    col0[dx] = imageColumn(index[dx]);
    col1[dx] = imageColumn(Math.min(index[dx] + 1, window.width - 1));
  }
  let inLo = 0;
  while (inLo < outW && (col0[inLo] < 0 || col1[inLo] < 0)) inLo++;
  const dir = mirror ? -1 : 1;
  let inHi = inLo;
  while (inHi < outW && col0[inHi] >= 0 && col1[inHi] >= 0 && col1[inHi] === col0[inHi] + dir) inHi++;
  // The image columns read by the output columns `dx` picks, as runs.
  const runsOf = (picks: (dx: number) => boolean): Int32Array => {
    const isRead = new Uint8Array(W + 1);
    for (let dx = 0; dx < outW; dx++) {
      if (!picks(dx)) continue;
      if (col0[dx] >= 0) isRead[col0[dx]] = 1;
      if (col1[dx] >= 0) isRead[col1[dx]] = 1;
    }
    const runs: number[] = [];
    for (let x = 0; x < W; x++) {
      if (isRead[x] === 1 && (x === 0 || isRead[x - 1] === 0)) runs.push(x);
      if (isRead[x] === 1 && isRead[x + 1] === 0) runs.push(x + 1);
    }
    return Int32Array.from(runs);
  };
  const read = runsOf(() => true);
  const edgeRead = runsOf((dx) => dx < inLo || dx >= inHi);
  for (let dx = 0; dx < outW; dx++) {
    if (col0[dx] >= 0) col0[dx] *= cn;
    if (col1[dx] >= 0) col1[dx] *= cn;
  }
  return {
    col0,
    col1,
    w0: Float64Array.from(w0),
    w1: Float64Array.from(w1),
    inLo,
    inHi,
    step: dir * cn,
    read,
    edgeRead,
  };
}

/**
 * The horizontal pass of {@link resampleWindow} over output columns [inLo, inHi), from distorted pixels. The second
 * pixel and weight are derived (`p0 + step`, float32(1 − w1), as {@link coefficients}) rather than loaded: each
 * typed-array read costs V8 several checks.
 */
function resamplePixels(pixels: Float64Array, table: ColumnTable, t: Float32Array): void {
  const { col0, w1, inLo, inHi } = table;
  const step = table.step | 0;
  for (let dx = inLo, o = 3 * inLo; dx < inHi; dx++, o += 3) {
    const a1 = w1[dx];
    const a0 = Math.fround(1 - a1);
    const p0 = col0[dx];
    const p1 = p0 + step;
    t[o] = pixels[p0] * a0 + pixels[p1] * a1;
    t[o + 1] = pixels[p0 + 1] * a0 + pixels[p1 + 1] * a1;
    t[o + 2] = pixels[p0 + 2] * a0 + pixels[p1 + 2] * a1;
  }
}

/** {@link resamplePixels} reading the image row at `start` through the recipe's levels and channel swap (no HSV). */
function resampleLevels(
  data: RgbImage['data'],
  start: number,
  recipe: PixelRecipe,
  table: ColumnTable,
  t: Float32Array,
): void {
  const { col0, w1, inLo, inHi } = table;
  const { levels } = recipe;
  const [c0, c1, c2] = recipe.channels;
  const rowStart = start | 0; // read once (see hsvDistort)
  const step = table.step | 0;
  for (let dx = inLo, o = 3 * inLo; dx < inHi; dx++, o += 3) {
    const a1 = w1[dx];
    const a0 = Math.fround(1 - a1);
    const p0 = rowStart + col0[dx];
    const p1 = p0 + step;
    t[o] = levels[data[p0 + c0]] * a0 + levels[data[p1 + c0]] * a1;
    t[o + 1] = levels[data[p0 + c1]] * a0 + levels[data[p1 + c1]] * a1;
    t[o + 2] = levels[data[p0 + c2]] * a0 + levels[data[p1 + c2]] * a1;
  }
}

/** Output columns [from, to) of the horizontal pass outside the inner run: fill, or a clamped second pixel. */
function resampleEdge(
  pixels: Float64Array,
  table: ColumnTable,
  fill: number,
  t: Float32Array,
  from: number,
  to: number,
): void {
  const { col0, col1, w0, w1 } = table;
  const level = fill | 0; // read once (see hsvDistort); fill is an integer level
  for (let dx = from, o = 3 * from; dx < to; dx++, o += 3) {
    const p0 = col0[dx];
    const p1 = col1[dx];
    if (p0 < 0 && p1 < 0) continue; // all fill: the caller wrote the fill row
    for (let ch = 0; ch < 3; ch++) {
      t[o + ch] = (p0 < 0 ? level : pixels[p0 + ch]) * w0[dx] + (p1 < 0 ? level : pixels[p1 + ch]) * w1[dx];
    }
  }
}

/** OpenCV's linear coefficient table for one axis with float weights `(float32(1 − f), f)` (SPEC §6.7). */
function coefficients(
  src: number,
  dst: number,
  clamp: boolean,
): { index: Int32Array; w0: Float32Array; w1: Float32Array } {
  const { index, fraction } = linearAxisTable(src, dst, clamp);
  return { index, w0: fraction.map((f) => 1 - f), w1: fraction };
}

/** The canvas window as a uint8 image (for the fixed-point resize): fill, the image pasted, mirrored if asked. */
function materializeWindow(
  image: RgbImage,
  left: number,
  top: number,
  window: Rect,
  mirror: boolean,
  fill: number,
): RgbImage {
  const { data, channels: cn, width: W, height: H } = image;
  const out = new Uint8Array(window.width * window.height * 3).fill(fill);
  for (let y = 0; y < window.height; y++) {
    const sy = window.y + y - top;
    if (sy < 0 || sy >= H) continue;
    for (let x = 0; x < window.width; x++) {
      const sx = window.x + (mirror ? window.width - 1 - x : x) - left;
      if (sx < 0 || sx >= W) continue;
      const s = (sy * W + sx) * cn;
      const d = (y * window.width + x) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { data: out, width: window.width, height: window.height, channels: 3 };
}
