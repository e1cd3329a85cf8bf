import { INPUT_SIZES, inputSizeFromDims, type InputSizeName, type NetVersion } from '../core/presets.js';
import { readWeightsFile } from './import/weights-file.js';
import { createModel, type UltrafaceModel } from './model.js';
import { exportOnnx } from './onnx/writer.js';
import type { Weights } from './weights.js';

export interface ConvertOptions {
  /** Network input size of the exported graph (default: the source ONNX's size, else `trainedSize`, else 320). */
  readonly inputSize?: InputSizeName;
  /** The size the weights were trained at, for the metadata (default: `inputSize`). */
  readonly trainedSize?: InputSizeName;
  /** Decode boxes in the graph (default true). */
  readonly postprocess?: boolean;
  /** Leave the input's height and width free; needs `postprocess: false` (default false). */
  readonly dynamicInputSize?: boolean;
  /** Fold BatchNorm into the convolutions (default true). */
  readonly foldBatchNorm?: boolean;
  /** Where the weights came from, recorded in the model's metadata. */
  readonly source?: string;
}

/**
 * A state dict already in memory (e.g. read from a training checkpoint, whose reader lives with the trainer):
 * exactly the network's parameters, named like upstream's state dict.
 */
export interface StateDictSource {
  readonly weights: Weights;
  /** The network the weights belong to (default: detected from the weights). */
  readonly net?: NetVersion;
}

/**
 * Weights file bytes (`.pth` legacy/zip, or ONNX) or an in-memory state dict → an ultraface ONNX model.
 * @throws UltrafaceError E_WEIGHTS_FORMAT for unreadable bytes, E_WEIGHTS_MISMATCH for weights that do not fit
 */
export function convertWeightsToOnnx(
  source: Uint8Array | StateDictSource,
  options: ConvertOptions = {},
  sourceName = 'weights file',
): { onnx: Uint8Array; model: UltrafaceModel; inputSize: InputSizeName } {
  const imported = source instanceof Uint8Array ? readWeightsFile(source, sourceName) : undefined;
  const model =
    source instanceof Uint8Array ? createModel(imported!.weights) : createModel(source.weights, source.net);
  const [, , height, width] = imported?.onnx?.inputDims ?? [];
  const sourceSize =
    typeof width === 'number' && typeof height === 'number'
      ? inputSizeFromDims(width, height)?.name
      : undefined;
  const trainedFromMetadata = imported?.onnx?.metadata?.trainedSize;
  const trained =
    options.trainedSize ??
    (trainedFromMetadata && inputSizeFromDims(trainedFromMetadata.width, trainedFromMetadata.height)?.name);
  const inputSize = options.inputSize ?? sourceSize ?? trained ?? 320;
  const onnx = exportOnnx(model, {
    inputSize: INPUT_SIZES[inputSize],
    trainedSize: INPUT_SIZES[trained ?? inputSize],
    ...(options.postprocess === undefined ? {} : { postprocess: options.postprocess }),
    ...(options.foldBatchNorm === undefined ? {} : { foldBatchNorm: options.foldBatchNorm }),
    ...(options.dynamicInputSize === undefined ? {} : { dynamicInputSize: options.dynamicInputSize }),
    ...(options.source === undefined ? {} : { source: options.source }),
  });
  return { onnx, model, inputSize };
}
