/**
 * ultraface/web: the face detector in the browser, on onnxruntime-web (WebGPU or wasm) with canvas pre-processing.
 * The same options, checks and results as the Node entry; pre- and post-processing are the shared core.
 */
export {
  createFaceDetector,
  MISSING_MODEL_HINT,
  type FaceDetector,
  type FaceDetectorOptions,
} from './detector.js';
export { decodeImage, type EncodedImage, type Resampling, type WebImageInput } from './image.js';
export type { BackendInfo, ExecutionProviderName } from './session.js';
export type {
  BatchItemResult,
  DetectBatchOptions,
  DetectOptions,
  ResizeMode,
  StageTimings,
} from '../detector-core.js';
export type { ResolvedModel } from '../model-info.js';
export type { RgbImage } from '../../core/image.js';
export type { Detection } from '../../core/postprocess.js';
export type { PixelBox } from '../../core/boxes.js';
export type { PostprocessOptions, NmsMethod } from '../../core/detect-options.js';
export type { InputSizeName } from '../../core/presets.js';
export { UltrafaceError, isUltrafaceError, type ErrorCode } from '../../core/errors.js';
