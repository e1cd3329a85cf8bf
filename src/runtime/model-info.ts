import { UltrafaceError } from '../core/errors.js';
import {
  inputSizeFromDims,
  INPUT_SIZES,
  type InputSize,
  type InputSizeName,
  type NetVersion,
} from '../core/presets.js';
import type { OnnxModelInfo } from '../model/onnx/info.js';
import { prepareOnnx } from './onnx-scan.js';

/** What the runtime needs to know about a loaded model, resolved once at load. */
export interface ResolvedModel {
  readonly inputName: string;
  /** The size images are stretched to (the fixed input, or the chosen preset for a model with free H and W). */
  readonly inputSize: InputSize;
  /** The graph's height and width are free: any input size works (its boxes are then raw, decoded here). */
  readonly dynamicSize: boolean;
  readonly numClasses: number;
  /** 'decoded': the graph decodes boxes; 'raw': the runtime decodes them with the priors (SPEC §3, B11). */
  readonly boxes: 'decoded' | 'raw';
  /** The graph accepts a batch dimension other than 1. */
  readonly dynamicBatch: boolean;
  readonly net: NetVersion | undefined;
}

/**
 * Checks an ONNX model has the detector's interface (one `[N, 3, H, W]` input; `scores` and `boxes` outputs)
 * and settles the input size: fixed by the graph, or chosen by `requested` when the graph's H and W are free.
 */
export function resolveModel(
  info: OnnxModelInfo,
  requested: InputSizeName | undefined,
  source: string,
): ResolvedModel {
  const fail = (what: string): never => {
    throw new UltrafaceError('E_MODEL_LOAD', `Expected an ultraface detector in ${source} but ${what}`);
  };
  for (const name of ['scores', 'boxes']) {
    if (!info.outputNames.includes(name))
      fail(`it has no "${name}" output (outputs: ${info.outputNames.join(', ')})`);
  }
  const [batch, channels, height, width] = info.inputDims;
  if (info.inputDims.length !== 4 || channels !== 3) {
    fail(`its input is [${info.inputDims.join(', ')}], not [N, 3, H, W]`);
  }
  if (info.numClasses === undefined || info.numClasses < 2) fail('the number of classes is unknown');

  let inputSize: InputSize;
  if (typeof width === 'number' && typeof height === 'number') {
    const fixed = inputSizeFromDims(width, height);
    if (!fixed) fail(`its input ${width}x${height} is not one of the supported sizes`);
    if (requested !== undefined && requested !== fixed!.name) {
      throw new UltrafaceError(
        'E_INVALID_OPTION',
        `Expected inputSize ${fixed!.name} (the model's fixed input is ${width}x${height}) but received ${requested}; ` +
          `export the model at the size you need with \`ultraface export --input-size ${requested}\``,
      );
    }
    inputSize = fixed!;
  } else {
    if (info.boxes !== 'raw') fail('its input size is free while its graph decodes boxes with fixed priors');
    const trained = info.metadata
      ? inputSizeFromDims(info.metadata.trainedSize.width, info.metadata.trainedSize.height)
      : undefined;
    inputSize = INPUT_SIZES[requested ?? trained?.name ?? 320];
  }
  return {
    inputName: info.inputName,
    inputSize,
    numClasses: info.numClasses!,
    boxes: info.boxes,
    dynamicSize: typeof width !== 'number' || typeof height !== 'number',
    dynamicBatch: batch !== 1,
    net: info.metadata?.net,
  };
}

/**
 * ONNX bytes → the checked interface (`resolveModel`) and the bytes to give onnxruntime (initializer inputs cut
 * out; see `prepareOnnx`). No protobuf decoding, so this runs in the browser bundle as it does in Node.
 * @throws UltrafaceError E_MODEL_LOAD, E_INVALID_OPTION (a requested input size the graph cannot take)
 */
export function prepareModel(
  bytes: Uint8Array,
  requested: InputSizeName | undefined,
  source: string,
): { model: ResolvedModel; runnable: Uint8Array } {
  const { info, runnable } = prepareOnnx(bytes, source);
  return { model: resolveModel(info, requested, source), runnable };
}
