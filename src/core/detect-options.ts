import {
  DEFAULT_CANDIDATE_SIZE,
  DEFAULT_IOU_THRESHOLD,
  DEFAULT_SCORE_THRESHOLD,
  INPUT_SIZE_NAMES,
  type InputSizeName,
} from './presets.js';
import { integerInRange, invalidOption, knownKeys, numberInRange, oneOf } from './validate.js';

export type NmsMethod = 'hard' | 'soft';

/** Post-processing options shared by every runtime (SPEC §8). */
export interface PostprocessOptions {
  /** Keep faces whose score is strictly above this. Default 0.7 (upstream's ONNX scripts). */
  readonly scoreThreshold?: number;
  /** NMS IoU threshold. Default 0.3 (upstream). */
  readonly iouThreshold?: number;
  /** Keep at most this many faces per image; 0 or less for no limit. Default no limit. */
  readonly topK?: number;
  /** NMS considers only the best this-many candidates. Default 200 (upstream's ONNX scripts). */
  readonly candidateSize?: number;
  /** 'hard' (upstream default) or 'soft' (Gaussian, sigma 0.5). */
  readonly nms?: NmsMethod;
  /** Gaussian width of soft NMS. Default 0.5 (upstream). */
  readonly softNmsSigma?: number;
}

export interface ResolvedPostprocessOptions {
  readonly scoreThreshold: number;
  readonly iouThreshold: number;
  readonly topK: number;
  readonly candidateSize: number;
  readonly nms: NmsMethod;
  readonly softNmsSigma: number;
}

export const POSTPROCESS_OPTION_KEYS = [
  'scoreThreshold',
  'iouThreshold',
  'topK',
  'candidateSize',
  'nms',
  'softNmsSigma',
] as const;

export function resolvePostprocessOptions(options: PostprocessOptions = {}): ResolvedPostprocessOptions {
  return Object.freeze({
    scoreThreshold: numberInRange('scoreThreshold', options.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD, 0, 1),
    iouThreshold: numberInRange('iouThreshold', options.iouThreshold ?? DEFAULT_IOU_THRESHOLD, 0, 1),
    topK: integerInRange('topK', options.topK ?? 0, -1, 100_000),
    candidateSize: integerInRange(
      'candidateSize',
      options.candidateSize ?? DEFAULT_CANDIDATE_SIZE,
      1,
      1_000_000,
    ),
    nms: oneOf<NmsMethod>('nms', options.nms ?? 'hard', ['hard', 'soft']),
    softNmsSigma: numberInRange('softNmsSigma', options.softNmsSigma ?? 0.5, 1e-6, 100),
  });
}

/** Checks an options object is a plain object with only known keys. */
export function checkOptionsObject(name: string, options: unknown, allowed: readonly string[]): object {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidOption(name, 'an options object', options);
  }
  knownKeys(name, options, allowed);
  return options;
}

export function resolveInputSize(value: unknown): InputSizeName {
  return oneOf<InputSizeName>('inputSize', value, INPUT_SIZE_NAMES);
}
