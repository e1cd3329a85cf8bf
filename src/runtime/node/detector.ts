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
import { networkSize, type InputSizeName, type NetworkSize } from '../../core/presets.js';
import { generatePriors } from '../../core/priors.js';
import { integerInRange, invalidOption } from '../../core/validate.js';
import type { ResolvedModel } from '../model-info.js';
import { preprocess, preprocessToFit } from './image.js';
import { loadSession } from './session.js';

/** An image: a file path, encoded bytes (JPEG, PNG, WebP, … — EXIF orientation applied) or raw RGB(A) pixels. */
export type ImageInput = string | Uint8Array | RgbImage;

/**
 * How images become network inputs. 'stretch' (default, upstream): resize to the model's input size without
 * keeping the aspect ratio. `{ longestSide }`: keep the aspect ratio, longest side scaled to this many pixels.
 * 'original': run at the image's own size. The last two need a model with free input height and width
 * (`ultraface export --raw --dynamic-size`).
 */
export type ResizeMode = 'stretch' | { readonly longestSide: number } | 'original';

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
  /** See `ResizeMode`. Default 'stretch'. */
  readonly resize?: ResizeMode;
}

export interface DetectBatchOptions {
  /** Called as images finish, with (images done, images in all). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** A decoded image at network size, with its original (oriented) size in pixels. */
interface Preprocessed {
  readonly image: RgbImage;
  readonly width: number;
  readonly height: number;
}

export interface FaceDetector {
  /** The model's input size and box format, as resolved at load. */
  readonly model: ResolvedModel;
  detect(image: ImageInput): Promise<Detection[]>;
  /** Detects in many images; decoding overlaps inference and batches share one run when the model allows. */
  detectBatch(images: readonly ImageInput[], options?: DetectBatchOptions): Promise<Detection[][]>;
  /** Releases the onnxruntime session. The detector cannot be used afterwards. */
  dispose(): Promise<void>;
}

const OPTION_KEYS = [
  ...POSTPROCESS_OPTION_KEYS,
  'model',
  'inputSize',
  'threads',
  'maxPixels',
  'batchSize',
  'resize',
];
const PRIOR_CACHE_SIZE = 8;

function resolveResize(value: unknown): ResizeMode {
  if (value === undefined || value === 'stretch' || value === 'original') return value ?? 'stretch';
  if (typeof value === 'object' && value !== null && 'longestSide' in value) {
    return { longestSide: integerInRange('resize.longestSide', value.longestSide, 16, 4096) };
  }
  throw invalidOption('resize', "'stretch', 'original' or { longestSide: number }", value);
}
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
  const resize = resolveResize(opts.resize);
  if (opts.model === undefined) throw new UltrafaceError('E_MODEL_MISSING', MISSING_MODEL_HINT);
  if (typeof opts.model !== 'string' && !(opts.model instanceof Uint8Array)) {
    throw invalidOption('model', 'a file path or the bytes of an ONNX model', opts.model);
  }

  const { session, model } = await loadSession(opts.model, {
    ...(inputSize === undefined ? {} : { inputSize }),
    ...(threads === undefined ? {} : { threads }),
  });
  if (resize !== 'stretch' && !model.dynamicSize) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `Expected a model with free input height and width for resize ${JSON.stringify(resize)}, but this model's ` +
        `input is fixed at ${model.inputSize.width}x${model.inputSize.height}; export one with ` +
        '`ultraface export --raw --dynamic-size`',
    );
  }
  let disposed = false;

  const checkLive = (): void => {
    if (disposed) throw new UltrafaceError('E_DISPOSED', 'This face detector was disposed');
  };

  /** The network size for an image of `width` x `height` pixels under the resize mode. */
  const fit = (width: number, height: number): NetworkSize => {
    if (resize === 'stretch') return model.inputSize;
    if (resize === 'original') return networkSize(width, height);
    const scale = resize.longestSide / Math.max(width, height);
    return networkSize(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)));
  };
  const load = (image: ImageInput): Promise<Preprocessed> =>
    resize === 'stretch'
      ? preprocess(image, { width: model.inputSize.width, height: model.inputSize.height, maxPixels })
      : preprocessToFit(image, { fit, maxPixels });

  // Priors per network size, for raw-regression models (one size under 'stretch').
  const priorCache = new Map<string, Float32Array>();
  const priorsFor = (size: NetworkSize): Float32Array => {
    const key = `${size.width}x${size.height}`;
    let priors = priorCache.get(key);
    if (!priors) {
      if (priorCache.size >= PRIOR_CACHE_SIZE) priorCache.clear();
      priors = generatePriors(size);
      priorCache.set(key, priors);
    }
    return priors;
  };

  /** One session.run over pre-processed images that share one network size. */
  async function infer(images: readonly Preprocessed[]): Promise<Detection[][]> {
    const { width, height } = images[0].image;
    const perImage = 3 * width * height;
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
    const priors = model.boxes === 'raw' ? priorsFor(networkSize(width, height)) : undefined;
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
    async detectBatch(images, options = {}) {
      checkLive();
      if (!Array.isArray(images)) throw invalidOption('images', 'an array of images', images);
      // Images of different network sizes cannot share a batch: batch only under 'stretch'.
      const chunk = model.dynamicBatch && resize === 'stretch' ? batchSize : 1;
      const results: Detection[][] = [];
      // Decode the next chunk (sharp works on libuv's pool) while the current one runs in onnxruntime.
      let next = Promise.all(images.slice(0, chunk).map(load));
      for (let start = 0; start < images.length; start += chunk) {
        const loaded = await next;
        next = Promise.all(images.slice(start + chunk, start + 2 * chunk).map(load));
        next.catch(() => undefined); // handled when awaited next iteration; avoids an unhandled rejection meanwhile
        checkLive();
        results.push(...(await infer(loaded)));
        options.onProgress?.(results.length, images.length);
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
