/**
 * Augmentation options: the option types, the named presets (each default with its reason) and
 * {@link resolveAugmentOptions}, the one place they are validated. Pure: no I/O, no module state.
 *
 * The steps these options drive are described where they are implemented: photometric.ts (step 1), geometry.ts
 * (steps 2–4), resample.ts (step 5), mosaic.ts; index.ts gives their order.
 */
import { IMAGE_MEAN } from '../../core/presets.js';
import { integerInRange, invalidOption, knownKeys, numberInRange, oneOf } from '../../core/validate.js';

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

export interface MosaicOptions {
  /** Probability that a sample becomes a 2x2 mosaic of itself and three other samples (mosaic.ts). */
  readonly probability: number;
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
  /** `null` = off (in every preset): see mosaic.ts. */
  readonly mosaic: MosaicOptions | null;
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

/**
 * What `mosaic: {}` starts from (no preset has a mosaic). A quarter of the samples: a mosaic halves every face, and
 * most WIDER faces are already near the smallest (10 px) prior at 320x240, so more would starve the large priors.
 */
const MOSAIC_DEFAULTS: MosaicOptions = Object.freeze({ probability: 0.25 });

export const AUGMENT_PRESETS: Readonly<Record<AugmentPresetName, AugmentOptions>> = Object.freeze({
  /** What upstream effectively trains with (B1: its crop never crops): photometric + mirror, float resize. */
  upstream: Object.freeze({
    photometric: UPSTREAM_PHOTOMETRIC,
    expand: null,
    crop: null,
    mirrorProbability: 0.5,
    resize: 'float',
    minFaceSize: 0,
    mosaic: null,
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
    mosaic: null,
  }),
  /** No randomness: upstream's validation transform (SPEC §6.5), bit-identical to inference pre-processing. */
  none: Object.freeze({
    photometric: null,
    expand: null,
    crop: null,
    mirrorProbability: 0,
    resize: 'uint8',
    minFaceSize: 0,
    mosaic: null,
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
      readonly mosaic?: Partial<MosaicOptions> | null;
    };

const PRESET_NAMES: readonly AugmentPresetName[] = ['upstream', 'default', 'none'];

/**
 * Validated, frozen options. A sub-object given for a step that is off in the preset starts from the 'default'
 * preset's values for that step (upstream's for photometric, {@link MOSAIC_DEFAULTS} for mosaic).
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
    'mosaic',
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
  const mosaic = merge('mosaic', input.mosaic, base.mosaic, MOSAIC_DEFAULTS);
  if (mosaic !== null) numberInRange('augment.mosaic.probability', mosaic.probability, 0, 1);
  return Object.freeze({
    photometric: photometric === null ? null : Object.freeze(photometric),
    expand: expand === null ? null : Object.freeze(expand),
    crop: crop === null ? null : Object.freeze(crop),
    mirrorProbability,
    resize,
    minFaceSize,
    mosaic: mosaic === null ? null : Object.freeze(mosaic),
  });
}
