/**
 * Named presets: network version × input size, with the feature-map tables of upstream's
 * `fd_config.define_img_size` (SPEC §4.2). Frozen values; everything else (priors, the graph) derives from them.
 */

export type NetVersion = 'slim' | 'RFB';
export const NET_VERSIONS: readonly NetVersion[] = ['slim', 'RFB'];

/** The six network input sizes upstream defines, keyed by the `--input_size` number (the width). */
export type InputSizeName = 128 | 160 | 320 | 480 | 640 | 1280;
export const INPUT_SIZE_NAMES: readonly InputSizeName[] = [128, 160, 320, 480, 640, 1280];

/** A network input size with the feature-map sizes of its four detection levels. */
export interface NetworkSize {
  /** Network input width and height in pixels. */
  readonly width: number;
  readonly height: number;
  /** Feature-map widths of levels 0..3 (= network output sizes; SPEC §4.2). */
  readonly featureWidths: readonly [number, number, number, number];
  /** Feature-map heights of levels 0..3. */
  readonly featureHeights: readonly [number, number, number, number];
}

/** One of upstream's six named sizes. */
export interface InputSize extends NetworkSize {
  readonly name: InputSizeName;
}

function inputSize(
  name: InputSizeName,
  width: number,
  height: number,
  featureWidths: InputSize['featureWidths'],
  featureHeights: InputSize['featureHeights'],
): InputSize {
  return Object.freeze({
    name,
    width,
    height,
    featureWidths: Object.freeze(featureWidths),
    featureHeights: Object.freeze(featureHeights),
  });
}

// SPEC §4.2: each level halves the previous one, rounding up (stride-2 3x3 convs with padding 1).
export const INPUT_SIZES: Readonly<Record<InputSizeName, InputSize>> = Object.freeze({
  128: inputSize(128, 128, 96, [16, 8, 4, 2], [12, 6, 3, 2]),
  160: inputSize(160, 160, 120, [20, 10, 5, 3], [15, 8, 4, 2]),
  320: inputSize(320, 320, 240, [40, 20, 10, 5], [30, 15, 8, 4]),
  480: inputSize(480, 480, 360, [60, 30, 15, 8], [45, 23, 12, 6]),
  640: inputSize(640, 640, 480, [80, 40, 20, 10], [60, 30, 15, 8]),
  1280: inputSize(1280, 1280, 960, [160, 80, 40, 20], [120, 60, 30, 15]),
});

/** Prior sizes per level in network-input pixels (SPEC §4.1); also the anchors per cell (3, 2, 2, 3). */
export const MIN_BOXES: readonly (readonly number[])[] = Object.freeze([
  Object.freeze([10, 16, 24]),
  Object.freeze([32, 48]),
  Object.freeze([64, 96]),
  Object.freeze([128, 192, 256]),
]);

/** SSD box-coding variances (SPEC §5.1). */
export const CENTER_VARIANCE = 0.1;
export const SIZE_VARIANCE = 0.2;

/** Input normalisation `(pixel − 127) / 128` (SPEC §6.7). */
export const IMAGE_MEAN = 127;
export const IMAGE_STD = 128;

/** Upstream's detection defaults (SPEC §8): IoU 0.3 for NMS; the ONNX scripts' threshold 0.7 and candidates 200. */
export const DEFAULT_IOU_THRESHOLD = 0.3;
export const DEFAULT_SCORE_THRESHOLD = 0.7;
export const DEFAULT_CANDIDATE_SIZE = 200;

export function isInputSizeName(value: unknown): value is InputSizeName {
  return typeof value === 'number' && (INPUT_SIZE_NAMES as readonly number[]).includes(value);
}

/**
 * Any input size, for models with free spatial dimensions (aspect-keeping evaluation protocols): each level
 * halves the previous one rounding up, exactly as the stride-2 convolutions do, which is also how the six
 * upstream tables were made (SPEC §4.2). Largest side 4096.
 */
export function networkSize(width: number, height: number): NetworkSize {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`networkSize: ${width}x${height} is not a positive integer size`);
  }
  const chain = (n: number): [number, number, number, number] => {
    const l0 = Math.ceil(Math.ceil(Math.ceil(n / 2) / 2) / 2);
    const l1 = Math.ceil(l0 / 2);
    const l2 = Math.ceil(l1 / 2);
    return [l0, l1, l2, Math.ceil(l2 / 2)];
  };
  return Object.freeze({ width, height, featureWidths: chain(width), featureHeights: chain(height) });
}

/** The preset whose network input is exactly `width` x `height`, if any. */
export function inputSizeFromDims(width: number, height: number): InputSize | undefined {
  return Object.values(INPUT_SIZES).find((s) => s.width === width && s.height === height);
}
