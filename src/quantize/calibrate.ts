/**
 * Calibration runs: the fp32 graph over the calibration images, preprocessed exactly as the detector does
 * (stretch resize to the network size, then (x − 127) / 128), with every activation to quantize exposed as a
 * graph output.
 */
import * as ort from 'onnxruntime-node';

import { UltrafaceError, isUltrafaceError } from '../core/errors.js';
import { toInputTensor, type RgbImage } from '../core/image.js';
import { mapConcurrent } from '../data/dataset-io.js';
import type { OnnxModel } from '../model/onnx/reader.js';
import { preprocess } from '../runtime/node/image.js';
import { disableOrtTelemetry } from '../runtime/node/telemetry.js';
import type { ScoreAgreement } from './agreement.js';
import type { CalibrationImage } from './calibration-data.js';
import { exposeActivations } from './qdq.js';
import { emptyStats, updateHistogram, updateMinMax, type TensorStats } from './ranges.js';

/** Images per calibration run (the fp32 graph has a free batch dimension). */
const CALIBRATION_BATCH = 8;
/** Decompression-bomb guard, as the detector's default. */
const MAX_PIXELS = 100_000_000;

async function loadCalibrationImage(
  image: CalibrationImage,
  size: { readonly width: number; readonly height: number },
): Promise<RgbImage> {
  try {
    return (await preprocess(image, { width: size.width, height: size.height, maxPixels: MAX_PIXELS })).image;
  } catch (error) {
    if (!isUltrafaceError(error)) throw error;
    const what = typeof image === 'string' ? image : 'a given calibration image';
    throw new UltrafaceError('E_DATASET', `Calibration image ${what}: ${error.message}`, { cause: error });
  }
}

/**
 * Decodes the calibration images and resizes them to the network size ('stretch', as the detector does).
 * @returns [height, width, 3] uint8 images (3 bytes per network pixel are kept, for every pass)
 * @throws UltrafaceError E_DATASET naming the image that is missing or does not decode
 */
export async function loadCalibrationImages(
  images: readonly CalibrationImage[],
  size: { readonly width: number; readonly height: number },
  onImage?: () => void,
): Promise<RgbImage[]> {
  return mapConcurrent(images, 4, async (image) => {
    const loaded = await loadCalibrationImage(image, size);
    onImage?.();
    return loaded;
  });
}

export interface CollectOptions {
  /** 'minmax': overall and per-channel min/max, sums; 'histogram': |x| histograms (after a minmax pass). */
  readonly kind: 'minmax' | 'histogram';
  readonly threads?: number;
  /** Called after each run with the number of images it covered. */
  readonly onBatch?: (images: number) => void;
}

/**
 * Runs `model` over the images and adds the values of `tensors` to `stats`. The graph input may be one of the
 * tensors: its statistics come from the fed tensor.
 */
export async function collectStats(
  model: OnnxModel,
  inputName: string,
  tensors: readonly string[],
  images: readonly RgbImage[],
  stats: Map<string, TensorStats>,
  options: CollectOptions,
): Promise<void> {
  const exposed = tensors.filter((t) => t !== inputName);
  disableOrtTelemetry();
  const session = await ort.InferenceSession.create(exposeActivations(model, exposed), {
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(options.threads === undefined ? {} : { intraOpNumThreads: options.threads }),
  });
  try {
    for (let start = 0; start < images.length; start += CALIBRATION_BATCH) {
      const batch = images.slice(start, start + CALIBRATION_BATCH);
      const { width, height } = batch[0];
      const perImage = 3 * width * height;
      const input = new Float32Array(batch.length * perImage); // [N, 3, H, W]
      batch.forEach((image, n) => {
        toInputTensor(image, input, n * perImage);
      });
      const feed = new ort.Tensor('float32', input, [batch.length, 3, height, width]);
      const outputs = await session.run({ [inputName]: feed }, exposed);
      for (const name of tensors) {
        const tensor = name === inputName ? feed : outputs[name];
        let stat = stats.get(name);
        if (!stat) stats.set(name, (stat = emptyStats()));
        if (options.kind === 'minmax') updateMinMax(stat, tensor.data as Float32Array, tensor.dims);
        else updateHistogram(stat, tensor.data as Float32Array);
      }
      options.onBatch?.(batch.length);
    }
  } finally {
    await session.release();
  }
}

/**
 * Runs the fp32 and the int8 model (as the runtime loads them) over the same images and compares their face
 * scores (every class but background of `scores` [N, P, C]). Both models take `input` [N, 3, H, W].
 */
export async function compareScores(
  fp32: Uint8Array,
  int8: Uint8Array,
  images: readonly RgbImage[],
  threads?: number,
): Promise<ScoreAgreement> {
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
  };
  let reference: ort.InferenceSession | undefined;
  let quantized: ort.InferenceSession | undefined;
  disableOrtTelemetry();
  try {
    reference = await ort.InferenceSession.create(fp32, options);
    try {
      quantized = await ort.InferenceSession.create(int8, options);
    } catch (cause) {
      throw new UltrafaceError('E_MODEL_LOAD', 'onnxruntime could not load the int8 model', { cause });
    }
    let sum = 0;
    let count = 0;
    let max = 0;
    for (const image of images) {
      const input = new Float32Array(3 * image.width * image.height);
      toInputTensor(image, input);
      const feed = { input: new ort.Tensor('float32', input, [1, 3, image.height, image.width]) };
      const a = (await reference.run(feed)).scores;
      const b = (await quantized.run(feed)).scores;
      const classes = a.dims[2];
      const sa = a.data as Float32Array;
      const sb = b.data as Float32Array;
      for (let i = 0; i < sa.length; i++) {
        if (i % classes === 0) continue; // background
        const error = Math.abs(sa[i] - sb[i]);
        max = Math.max(max, error);
        if (sa[i] >= 0.1 || sb[i] >= 0.1) {
          sum += error;
          count++;
        }
      }
    }
    return { images: images.length, meanScoreError: count > 0 ? sum / count : 0, maxScoreError: max };
  } finally {
    await reference?.release();
    await quantized?.release();
  }
}
