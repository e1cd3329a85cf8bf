/**
 * `quantizeModel`: an ultraface detector (ONNX or `.pth`) → an int8 QDQ ONNX model, calibrated on images.
 *
 * 1. The weights are re-exported as our fp32 graph with BatchNorm folded and raw box regression: box decoding
 *    moves to the runtime (exact, float32, SPEC §5.1), so no prior table is stored (70 KB at 320).
 * 2. That graph runs over the calibration images with every activation to quantize exposed: per-tensor and
 *    per-channel min/max and means (and |x| histograms for percentile or entropy ranges).
 * 3. Channels are equalized between convolutions (equalize.ts), ranges chosen (ranges.ts), and the graph
 *    rewritten into QDQ form (qdq.ts) with bias-corrected int32 biases (weights.ts); names are shortened.
 * 4. The int8 model is loaded once by onnxruntime and its scores compared with the fp32 graph's on a few
 *    calibration images (`report.agreement`).
 */
import { pinnedUpstreamWeights } from '../runtime/node/model-file.js';
import { readModelSource } from '../runtime/node/session.js';

import { checkOptionsObject, resolveInputSize } from '../core/detect-options.js';
import { UltrafaceError } from '../core/errors.js';
import type { InputSizeName } from '../core/presets.js';
import { integerInRange, invalidOption, numberInRange, oneOf } from '../core/validate.js';
import { convertWeightsToOnnx } from '../model/convert.js';
import { sniffWeightsFormat } from '../model/import/weights-file.js';
import { MODEL_METADATA_KEY, type ModelMetadata } from '../model/onnx/metadata.js';
import { onnx } from '../model/onnx/proto.js';
import { decodeOnnx, inspectOnnx, type OnnxModel } from '../model/onnx/reader.js';
import type { ScoreAgreement } from './agreement.js';
import { collectStats, compareScores, loadCalibrationImages } from './calibrate.js';
import { selectCalibrationImages, type CalibrationSource } from './calibration-data.js';
import { compactNames } from './compact.js';
import { equalizeActivations } from './equalize.js';
import { planQuantization, writeQdq } from './qdq.js';
import {
  CALIBRATION_METHODS,
  channelMeans,
  chooseRange,
  type CalibrationMethod,
  type TensorStats,
  type ValueRange,
} from './ranges.js';
import { WEIGHT_RANGES, type WeightRange } from './weights.js';

export interface QuantizeOptions {
  /** The fp32 model: an ultraface ONNX file (path or bytes), or any weights `ultraface import` reads. */
  readonly model: string | Uint8Array;
  /** A folder of images, a Pascal-VOC root or its `ImageSets/Main/<split>.txt`, or a list of images. */
  readonly calibration: CalibrationSource;
  /** VOC split when `calibration` is a VOC root (default `trainval`: calibrate on training images). */
  readonly split?: string;
  /** Calibration images, spread evenly over the source (default 100). */
  readonly images?: number;
  /** How activation ranges are chosen (default 'minmax', the most accurate here; see README "int8"). */
  readonly method?: CalibrationMethod;
  /** For 'percentile': the share of non-zero |x| kept inside each range, in percent (default 99.99). */
  readonly percentile?: number;
  /** One weight scale per output channel (default true); false: one per tensor (far less accurate). */
  readonly perChannel?: boolean;
  /** Rescale channels between convolutions so one range per tensor suits all channels (default true). */
  readonly equalize?: boolean;
  /** Fold the mean output shift of weight rounding into the biases (default true). */
  readonly biasCorrection?: boolean;
  /**
   * How int8 weights avoid the 16-bit saturation of x86 int8 kernels without VNNI (weights.ts): 'pairwise'
   * (default; safe, nearly 8-bit), 'reduced' (±63, as onnxruntime's reduce_range), 'full' (±127: VNNI/Arm only).
   */
  readonly weightRange?: WeightRange;
  /** Convs to leave in float, by module path (e.g. `base_net.0.0`); default none. */
  readonly floatConvs?: readonly string[];
  /** Network input size of the int8 model (default: the source model's). */
  readonly inputSize?: InputSizeName;
  /** onnxruntime threads for the calibration runs (default: one per core). */
  readonly threads?: number;
  /** Called as calibration images are processed: (done, total); total counts each pass over the images. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** The settings an int8 model was made with; also stored in its metadata (`ultraface.quantization`). */
export interface QuantizeSettings {
  readonly method: CalibrationMethod;
  readonly percentile?: number;
  readonly perChannel: boolean;
  readonly equalize: boolean;
  readonly biasCorrection: boolean;
  readonly weightRange: WeightRange;
  readonly floatConvs: readonly string[];
  /** Calibration images used, and where they came from. */
  readonly images: number;
  readonly calibration: string;
}

export interface QuantizeReport extends QuantizeSettings {
  /** Images the calibration source holds. */
  readonly available: number;
  readonly inputSize: { readonly width: number; readonly height: number };
  /** Convolutions with int8 weights; activation tensors with a uint8 range (the input included). */
  readonly convs: number;
  readonly activations: number;
  /** Activation tensors whose channels were equalized. */
  readonly equalized: number;
  /** Output channels whose weight scale was enlarged so their int32 bias fits. */
  readonly adjustedChannels: number;
  /** Bytes of the fp32 graph that was quantized (BN folded, raw boxes) and of the int8 model. */
  readonly fp32Bytes: number;
  readonly int8Bytes: number;
  /** int8 vs fp32 face scores on (up to 8 of) the calibration images, run by onnxruntime as the runtime does. */
  readonly agreement: ScoreAgreement;
  /** The activation ranges, by tensor name (names of the fp32 graph). */
  readonly ranges: Readonly<Record<string, ValueRange>>;
}

export interface QuantizeResult {
  /** The int8 QDQ model; `createFaceDetector({ model })` loads it like an fp32 one. */
  readonly onnx: Uint8Array;
  readonly report: QuantizeReport;
}

/** Metadata key of the quantization settings in an int8 model (JSON); the `ultraface` entry keeps its format. */
export const QUANTIZATION_METADATA_KEY = 'ultraface.quantization';

const OPTION_KEYS = [
  'model',
  'calibration',
  'split',
  'images',
  'method',
  'percentile',
  'perChannel',
  'equalize',
  'biasCorrection',
  'weightRange',
  'floatConvs',
  'inputSize',
  'threads',
  'onProgress',
];
const DEFAULT_IMAGES = 100;
const MAX_IMAGES = 10_000;
const AGREEMENT_IMAGES = 8;

function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(name, 'true or false', value);
  return value;
}

/** Options checked once, at the boundary (STYLE.md §5). */
function resolveOptions(options: QuantizeOptions): Omit<QuantizeSettings, 'images' | 'calibration'> & {
  count: number;
  inputSize?: InputSizeName;
  threads?: number;
} {
  const opts = checkOptionsObject('quantizeModel options', options, OPTION_KEYS) as QuantizeOptions;
  if ((opts.model as unknown) === undefined) {
    throw new UltrafaceError('E_MODEL_MISSING', 'Expected a model to quantize');
  }
  if (typeof opts.model !== 'string' && !(opts.model instanceof Uint8Array)) {
    throw invalidOption('model', 'a file path or the bytes of a model', opts.model);
  }
  if (typeof opts.calibration !== 'string' && !Array.isArray(opts.calibration)) {
    throw invalidOption(
      'calibration',
      'a folder, a VOC root or split file, or an array of images',
      opts.calibration,
    );
  }
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') {
    throw invalidOption('onProgress', 'a function', opts.onProgress);
  }
  const method = oneOf<CalibrationMethod>('method', opts.method ?? 'minmax', CALIBRATION_METHODS);
  if (opts.percentile !== undefined && method !== 'percentile') {
    throw invalidOption('percentile', "no value unless method is 'percentile'", opts.percentile);
  }
  const floatConvs = opts.floatConvs ?? [];
  if (!Array.isArray(floatConvs) || !floatConvs.every((c) => typeof c === 'string')) {
    throw invalidOption('floatConvs', 'an array of conv names', floatConvs);
  }
  return {
    method,
    ...(method === 'percentile'
      ? { percentile: numberInRange('percentile', opts.percentile ?? 99.99, 50, 100) }
      : {}),
    count: integerInRange('images', opts.images ?? DEFAULT_IMAGES, 1, MAX_IMAGES),
    perChannel: booleanOption('perChannel', opts.perChannel, true),
    equalize: booleanOption('equalize', opts.equalize, true),
    biasCorrection: booleanOption('biasCorrection', opts.biasCorrection, true),
    weightRange: oneOf<WeightRange>('weightRange', opts.weightRange ?? 'pairwise', WEIGHT_RANGES),
    floatConvs: [...floatConvs],
    ...(opts.inputSize === undefined ? {} : { inputSize: resolveInputSize(opts.inputSize) }),
    ...(opts.threads === undefined ? {} : { threads: integerInRange('threads', opts.threads, 1, 256) }),
  };
}

/** An fp32 source's own metadata (if it is an ultraface ONNX); refuses models that are already quantized. */
function sourceMetadata(bytes: Uint8Array, source: string): ModelMetadata | undefined {
  if (bytes.length === 0 || sniffWeightsFormat(bytes) !== 'onnx') return undefined;
  const model = decodeOnnx(bytes, source);
  if (model.graph?.node?.some((n) => n.opType === 'DequantizeLinear' || n.opType === 'QLinearConv')) {
    throw new UltrafaceError(
      'E_MODEL_LOAD',
      `Expected an fp32 model to quantize but ${source} is already quantized; quantize its fp32 original`,
    );
  }
  return inspectOnnx(model).metadata;
}

/** Union of the ranges of tensors that must share one (Concat inputs and output). */
function shareRanges(ranges: Map<string, ValueRange>, groups: readonly (readonly string[])[]): void {
  for (const group of groups) {
    const union = {
      min: Math.min(...group.map((t) => ranges.get(t)!.min)),
      max: Math.max(...group.map((t) => ranges.get(t)!.max)),
    };
    for (const t of group) ranges.set(t, union);
  }
}

function setMetadata(model: OnnxModel, source: string, settings: QuantizeSettings): void {
  const entry = model.metadataProps.find((p) => p.key === MODEL_METADATA_KEY);
  if (entry?.value) {
    const metadata = JSON.parse(entry.value) as ModelMetadata;
    entry.value = JSON.stringify({ ...metadata, source: `int8 of ${source}` });
  }
  model.metadataProps.push(
    onnx.StringStringEntryProto.create({ key: QUANTIZATION_METADATA_KEY, value: JSON.stringify(settings) }),
  );
}

/**
 * Quantizes a detector to int8: static QDQ with uint8 activations calibrated on images, int8 per-channel
 * weights and int32 biases; onnxruntime runs it with int8 kernels. Library code: no printing, progress through
 * `onProgress`.
 *
 * @throws UltrafaceError E_INVALID_OPTION; E_FILE_NOT_FOUND, E_MODEL_LOAD, E_WEIGHTS_* for the model; E_DATASET
 *   for a calibration source that is missing, empty, malformed or holds an image that does not decode
 */
export async function quantizeModel(options: QuantizeOptions): Promise<QuantizeResult> {
  const resolved = resolveOptions(options);
  const { count, inputSize, threads, ...chosen } = resolved;
  const { bytes, source } = await readModelSource(options.model);
  const metadata = sourceMetadata(bytes, source);
  const pinned = pinnedUpstreamWeights(bytes); // upstream's 640 weights quantize at 640x480, as they import
  const fp32 = convertWeightsToOnnx(
    bytes,
    {
      postprocess: false,
      ...(inputSize === undefined ? {} : { inputSize }),
      ...(pinned === undefined ? {} : { trainedSize: pinned.inputSize }),
    },
    source,
  ).onnx;
  const fp32Model = decodeOnnx(fp32, source);
  const [, , height, width] = inspectOnnx(fp32Model).inputDims as number[];
  const network = { width, height };
  const convNames = new Set(
    fp32Model.graph!.node!.filter((n) => n.opType === 'Conv').map((n) => n.output![0]),
  );
  const unknown = chosen.floatConvs.filter((c) => !convNames.has(c));
  if (unknown.length > 0) {
    throw invalidOption('floatConvs', 'conv module paths such as "base_net.0.0"', unknown[0]);
  }
  const plan = planQuantization(fp32Model, { floatConvs: chosen.floatConvs });

  const selection = await selectCalibrationImages(options.calibration, {
    count,
    ...(options.split === undefined ? {} : { split: options.split }),
  });
  // Progress: decoding, the min/max pass, and the histogram pass (percentile, entropy) each count every image.
  const total = selection.images.length * (chosen.method === 'minmax' ? 2 : 3);
  let done = 0;
  const advance = (images: number): void => {
    done += images;
    options.onProgress?.(done, total);
  };
  const decoded = await loadCalibrationImages(selection.images, network, () => {
    advance(1);
  });
  const run = { ...(threads === undefined ? {} : { threads }), onBatch: advance };
  const stats = new Map<string, TensorStats>();
  const observed = plan.inputQuantized ? [plan.input, ...plan.activations] : plan.activations;
  await collectStats(fp32Model, plan.input, observed, decoded, stats, { kind: 'minmax', ...run });
  const equalized = chosen.equalize ? equalizeActivations(fp32Model, plan, stats) : [];
  if (chosen.method !== 'minmax') {
    await collectStats(fp32Model, plan.input, plan.activations, decoded, stats, {
      kind: 'histogram',
      ...run,
    });
  }
  const ranges = new Map<string, ValueRange>();
  for (const name of plan.activations) {
    ranges.set(
      name,
      chooseRange(
        stats.get(name)!,
        chosen.method,
        chosen.percentile === undefined ? {} : { percentile: chosen.percentile },
      ),
    );
  }
  shareRanges(ranges, plan.sharedRanges);

  const { model: int8Model, adjustedChannels } = writeQdq(fp32Model, plan, {
    ranges,
    perChannel: chosen.perChannel,
    range: chosen.weightRange,
    ...(chosen.biasCorrection
      ? { inputMeans: new Map([...stats].map(([name, stat]) => [name, channelMeans(stat)])) }
      : {}),
  });
  const settings: QuantizeSettings = {
    ...chosen,
    images: selection.images.length,
    calibration: selection.description,
  };
  setMetadata(int8Model, metadata?.source ?? source, settings);
  compactNames(int8Model);
  const int8 = onnx.ModelProto.encode(int8Model).finish();
  const agreement = await compareScores(
    fp32,
    int8,
    decoded.filter((_, i) => i % Math.ceil(decoded.length / AGREEMENT_IMAGES) === 0),
    threads,
  );
  return {
    onnx: int8,
    report: {
      ...settings,
      available: selection.available,
      inputSize: network,
      convs: plan.convs.length,
      activations: plan.activations.length + (plan.inputQuantized ? 1 : 0),
      equalized: equalized.length,
      adjustedChannels,
      fp32Bytes: fp32.length,
      int8Bytes: int8.length,
      agreement,
      ranges: Object.fromEntries(ranges),
    },
  };
}
