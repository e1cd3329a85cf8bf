import * as ort from 'onnxruntime-node';

import { decodeBoxes } from '../../core/boxes.js';
import {
  checkOptionsObject,
  POSTPROCESS_OPTION_KEYS,
  resolveInputSize,
  resolvePostprocessOptions,
  type PostprocessOptions,
} from '../../core/detect-options.js';
import { UltrafaceError } from '../../core/errors.js';
import { toInputTensor, type RgbImage } from '../../core/image.js';
import { facesFromOutputs, type Detection } from '../../core/postprocess.js';
import type { InputSizeName } from '../../core/presets.js';
import { generatePriors } from '../../core/priors.js';
import { integerInRange, invalidOption } from '../../core/validate.js';
import type { ResolvedModel } from '../model-info.js';
import { preprocess } from './image.js';
import { loadSession } from './session.js';

/** An image: a file path, encoded bytes (JPEG, PNG, WebP, … — EXIF orientation applied) or raw RGB(A) pixels. */
export type ImageInput = string | Uint8Array | RgbImage;

export interface FaceDetectorOptions extends PostprocessOptions {
  /** Path to an ultraface ONNX model, or its bytes. */
  readonly model?: string | Uint8Array;
  /** Network input size; must match a fixed-size model (default: the model's own). */
  readonly inputSize?: InputSizeName;
  /** onnxruntime intra-op threads (default: onnxruntime's choice, one per core). */
  readonly threads?: number;
  /** Images with more pixels are refused before decoding (decompression bombs). Default 100 megapixels. */
  readonly maxPixels?: number;
  /** Images per inference call in `detectBatch` (models with a dynamic batch). Default 8. */
  readonly batchSize?: number;
}

export interface FaceDetector {
  /** The model's input size and box format, as resolved at load. */
  readonly model: ResolvedModel;
  detect(image: ImageInput): Promise<Detection[]>;
  /** Detects in many images; decoding overlaps inference and batches share one run when the model allows. */
  detectBatch(images: readonly ImageInput[]): Promise<Detection[][]>;
  /** Releases the onnxruntime session. The detector cannot be used afterwards. */
  dispose(): Promise<void>;
}

const OPTION_KEYS = [...POSTPROCESS_OPTION_KEYS, 'model', 'inputSize', 'threads', 'maxPixels', 'batchSize'];
const DEFAULT_MAX_PIXELS = 100_000_000;

export const MISSING_MODEL_HINT =
  'No model given. Get one with `npx ultraface import --upstream RFB-320 --out model.onnx` and pass ' +
  "{ model: 'model.onnx' } (CLI: --model model.onnx).";

/** Creates a detector over an ONNX model on onnxruntime-node; sharp decodes and the core resizes images. */
export async function createFaceDetector(options: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const opts = checkOptionsObject('createFaceDetector options', options, OPTION_KEYS) as FaceDetectorOptions;
  const post = resolvePostprocessOptions(opts);
  const inputSize = opts.inputSize === undefined ? undefined : resolveInputSize(opts.inputSize);
  const threads = opts.threads === undefined ? undefined : integerInRange('threads', opts.threads, 1, 256);
  const maxPixels = integerInRange('maxPixels', opts.maxPixels ?? DEFAULT_MAX_PIXELS, 1, 2 ** 32);
  const batchSize = integerInRange('batchSize', opts.batchSize ?? 8, 1, 1024);
  if (opts.model === undefined) throw new UltrafaceError('E_MODEL_MISSING', MISSING_MODEL_HINT);
  if (typeof opts.model !== 'string' && !(opts.model instanceof Uint8Array)) {
    throw invalidOption('model', 'a file path or the bytes of an ONNX model', opts.model);
  }

  const { session, model } = await loadSession(opts.model, {
    ...(inputSize === undefined ? {} : { inputSize }),
    ...(threads === undefined ? {} : { threads }),
  });
  const { width, height } = model.inputSize;
  const priors = model.boxes === 'raw' ? generatePriors(model.inputSize) : undefined;
  const perImage = 3 * width * height;
  let disposed = false;

  const checkLive = (): void => {
    if (disposed) throw new UltrafaceError('E_DISPOSED', 'This face detector was disposed');
  };
  const load = (image: ImageInput): ReturnType<typeof preprocess> =>
    preprocess(image, { width, height, maxPixels });

  /** One session.run over already pre-processed images. */
  async function infer(
    images: readonly { image: RgbImage; width: number; height: number }[],
  ): Promise<Detection[][]> {
    const input = new Float32Array(images.length * perImage); // [N, 3, H, W]
    images.forEach((item, n) => {
      toInputTensor(item.image, input, n * perImage);
    });
    const outputs = await session.run({
      [model.inputName]: new ort.Tensor('float32', input, [images.length, 3, height, width]),
    });
    const scores = outputs.scores.data as Float32Array; // [N, P, C]
    const boxes = outputs.boxes.data as Float32Array; // [N, P, 4]
    const count = boxes.length / 4 / images.length;
    return images.map((item, n) => {
      const imageScores = scores.subarray(n * count * model.numClasses, (n + 1) * count * model.numClasses);
      let imageBoxes = boxes.subarray(n * count * 4, (n + 1) * count * 4);
      if (priors) imageBoxes = decodeBoxes(imageBoxes, priors);
      return facesFromOutputs(imageScores, imageBoxes, model.numClasses, item.width, item.height, post);
    });
  }

  return {
    model,
    async detect(image) {
      checkLive();
      const loaded = await load(image);
      checkLive();
      return (await infer([loaded]))[0];
    },
    async detectBatch(images) {
      checkLive();
      if (!Array.isArray(images)) throw invalidOption('images', 'an array of images', images);
      const chunk = model.dynamicBatch ? batchSize : 1;
      const results: Detection[][] = [];
      // Decode the next chunk (sharp works on libuv's pool) while the current one runs in onnxruntime.
      let next = Promise.all(images.slice(0, chunk).map(load));
      for (let start = 0; start < images.length; start += chunk) {
        const loaded = await next;
        next = Promise.all(images.slice(start + chunk, start + 2 * chunk).map(load));
        next.catch(() => undefined); // handled when awaited next iteration; avoids an unhandled rejection meanwhile
        checkLive();
        results.push(...(await infer(loaded)));
      }
      return results;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
