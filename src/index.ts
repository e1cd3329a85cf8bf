/** ultraface for Node.js: the detector on onnxruntime-node + sharp, model tools, and the pure core. */
export {
  createFaceDetector,
  DEFAULT_MODEL_PATH,
  type FaceDetector,
  type FaceDetectorOptions,
  type DetectBatchOptions,
  type BatchItemResult,
  type ResizeMode,
  type ImageInput,
} from './runtime/node/detector.js';
export {
  BUNDLED_MODELS,
  BUNDLED_MODEL_NAMES,
  resolveModelSource,
  resolveWeightsSource,
  type BundledModelName,
} from './runtime/node/bundled-models.js';
export {
  upstreamCacheDir,
  upstreamModelPath,
  upstreamWeightsPath,
  type UpstreamCacheOptions,
} from './runtime/node/upstream-cache.js';
export type { ResolvedModel } from './runtime/model-info.js';
export type { RgbImage } from './core/image.js';
export * from './core/index.js';

export { buildNetwork } from './model/network.js';
export type { ModelGraph, GraphNode, ParamSpec } from './model/graph.js';
export { complexity, type Complexity } from './model/complexity.js';
export { createModel, detectVersion, type UltrafaceModel } from './model/model.js';
export type { Weights, WeightTensor } from './model/weights.js';
export { exportOnnx, type ExportOptions } from './model/onnx/writer.js';
export { convertWeightsToOnnx, type ConvertOptions, type StateDictSource } from './model/convert.js';
export { readWeightsFile, type ImportedWeights } from './model/import/weights-file.js';
export { readPth } from './model/import/pth.js';
export {
  downloadUpstreamWeights,
  UPSTREAM_WEIGHTS,
  UPSTREAM_NAMES,
  UPSTREAM_MODEL_NAMES,
  type UpstreamName,
} from './model/import/upstream.js';

export {
  quantizeModel,
  QUANTIZATION_METADATA_KEY,
  type QuantizeOptions,
  type QuantizeResult,
  type QuantizeReport,
  type QuantizeSettings,
} from './quantize/quantize.js';
export type { CalibrationImage, CalibrationSource } from './quantize/calibration-data.js';
export type { ScoreAgreement } from './quantize/agreement.js';
export { CALIBRATION_METHODS, type CalibrationMethod, type ValueRange } from './quantize/ranges.js';
export { WEIGHT_RANGES, type WeightRange } from './quantize/weights.js';
