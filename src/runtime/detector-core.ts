/**
 * The detector behind every runtime's `createFaceDetector`: option resolution, the resize mode, priors for
 * raw-regression models, batching, outputs → faces and the disposed-state checks. A runtime adapter (Node:
 * onnxruntime-node + sharp; browser: onnxruntime-web + canvas) supplies only `load` (image → network input)
 * and a `Backend` (tensor → outputs). Pure: no Node or DOM APIs (STYLE.md §1, §7).
 */
import { decodeBoxes } from '../core/boxes.js';
import {
  checkOptionsObject,
  POSTPROCESS_OPTION_KEYS,
  resolveInputSize,
  resolvePostprocessOptions,
  type PostprocessOptions,
  type ResolvedPostprocessOptions,
} from '../core/detect-options.js';
import { isUltrafaceError, UltrafaceError } from '../core/errors.js';
import type { NetworkInput, RgbImage } from '../core/image.js';
import { facesFromOutputs, type Detection } from '../core/postprocess.js';
import { toNetworkInput } from '../core/resize.js';
import { networkSize, type InputSizeName, type NetworkSize } from '../core/presets.js';
import { generatePriors } from '../core/priors.js';
import { describe, integerInRange, invalidOption } from '../core/validate.js';
import type { ResolvedModel } from './model-info.js';

/**
 * How images become network inputs. 'stretch' (default, upstream): resize to the model's input size without
 * keeping the aspect ratio. `{ longestSide }`: keep the aspect ratio, longest side scaled to this many pixels.
 * 'original': run at the image's own size. The last two need a model with free input height and width
 * (`ultraface export --raw --dynamic-size`).
 */
export type ResizeMode = 'stretch' | { readonly longestSide: number } | 'original';

/** Options every runtime's `createFaceDetector` takes besides `model`. */
export interface DetectorOptions extends PostprocessOptions {
  /** Network input size; must match a fixed-size model (default: the model's own). */
  readonly inputSize?: InputSizeName;
  /**
   * onnxruntime intra-op threads. Node: default 1, inference in its own thread beside sharp's decoding (see
   * `createFaceDetector`); browser: default the page's wasm thread count.
   */
  readonly threads?: number;
  /** Images with more pixels are refused before decoding (decompression bombs). Default 100 megapixels. */
  readonly maxPixels?: number;
  /** Images per inference call in `detectBatch` (models with a dynamic batch). Default 8. */
  readonly batchSize?: number;
  /** See `ResizeMode`. Default 'stretch'. */
  readonly resize?: ResizeMode;
}

export interface ResolvedDetectorOptions {
  readonly post: ResolvedPostprocessOptions;
  readonly inputSize: InputSizeName | undefined;
  readonly threads: number | undefined;
  readonly maxPixels: number;
  readonly batchSize: number;
  readonly resize: ResizeMode;
  /** The `model` option, unchecked: each runtime accepts its own kinds of source. */
  readonly model: unknown;
}

export interface DetectBatchOptions {
  /** Called as images finish, with (images done, images in all). */
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * Settle each image on its own: resolve to one {@link BatchItemResult} per image, in input order, instead of
   * rejecting the whole call when an image cannot be loaded (missing file, not an image, over `maxPixels`, …).
   * Default false.
   */
  readonly settle?: boolean;
}

/**
 * One image's outcome under `detectBatch(images, { settle: true })`: its faces, or the `UltrafaceError` that kept
 * it from being loaded. (Other failures, such as the inference session failing or a disposed detector, still
 * reject the call.)
 */
export type BatchItemResult =
  | { readonly faces: Detection[]; readonly error?: undefined }
  | { readonly faces?: undefined; readonly error: UltrafaceError };

/** Milliseconds spent in each stage of one `detect` call. */
export interface StageTimings {
  /** Image → network input (decode or draw, resize, normalisation). */
  readonly preprocessMs: number;
  /** session.run (a batch also copies its images' inputs together first). */
  readonly inferenceMs: number;
  /** Box decoding, threshold, NMS, scaling to pixels. */
  readonly postprocessMs: number;
}

/** Options of one `detect` call: its timings, and post-processing options that override the detector's for it. */
export interface DetectOptions extends PostprocessOptions {
  /** Receives the stage timings of this call. */
  readonly onTimings?: (timings: StageTimings) => void;
}

/** An image at network size, with its original (oriented) size in pixels, which boxes are scaled back to. */
export interface Preprocessed {
  /** [H, W, 3|4] uint8 at the network input size. */
  readonly image: RgbImage;
  readonly width: number;
  readonly height: number;
}

/** The network size for each image, by resize mode. */
export interface Fit {
  /** The size every image gets ('stretch'); undefined when it depends on the image. */
  readonly fixed: NetworkSize | undefined;
  /** The network size for an image of width x height pixels. */
  readonly size: (width: number, height: number) => NetworkSize;
}

/** An inference session, as the detector sees it. */
export interface Backend {
  /**
   * Runs the network on `input` ([N, 3, H, W] float32) and passes `scores` ([N, P, C]) and `boxes` ([N, P, 4])
   * to `consume` while they are valid; the backend releases its output tensors afterwards.
   */
  run<T>(
    input: Float32Array,
    dims: readonly [number, number, number, number],
    consume: (scores: Float32Array, boxes: Float32Array) => T,
  ): Promise<T>;
  release(): Promise<void>;
}

export interface FaceDetectorBase<Image> {
  /** The model's input size and box format, as resolved at load. */
  readonly model: ResolvedModel;
  detect(image: Image, options?: DetectOptions): Promise<Detection[]>;
  /**
   * Detects in many images; loading overlaps inference and batches share one run when the model allows. Faces
   * per image, in input order; rejects with the error of the first image (in input order) that cannot be loaded.
   * With `{ settle: true }`: one `{ faces }` or `{ error }` per image instead, so one bad image loses nothing else.
   */
  detectBatch(
    images: readonly Image[],
    options: DetectBatchOptions & { readonly settle: true },
  ): Promise<BatchItemResult[]>;
  detectBatch(
    images: readonly Image[],
    options?: DetectBatchOptions & { readonly settle?: false },
  ): Promise<Detection[][]>;
  detectBatch(
    images: readonly Image[],
    options?: DetectBatchOptions,
  ): Promise<Detection[][] | BatchItemResult[]>;
  /**
   * Detects in images the caller already brought to network size (all of one size), in one inference call when
   * the model has a dynamic batch: e.g. a server that decodes requests itself and batches them together.
   * `post[n]` overrides the detector's post-processing options for image n.
   * @throws UltrafaceError E_INVALID_INPUT (no images, mixed sizes, a size a fixed-size model cannot take),
   *   E_INVALID_OPTION (bad post-processing options)
   */
  detectPreprocessed(
    items: readonly Preprocessed[],
    post?: readonly (PostprocessOptions | undefined)[],
  ): Promise<Detection[][]>;
  /** Releases the inference session. The detector cannot be used afterwards. */
  dispose(): Promise<void>;
}

/** The option names every runtime accepts (each adds its own). */
export const DETECTOR_OPTION_KEYS: readonly string[] = [
  ...POSTPROCESS_OPTION_KEYS,
  'model',
  'inputSize',
  'threads',
  'maxPixels',
  'batchSize',
  'resize',
];

const DEFAULT_MAX_PIXELS = 100_000_000;
const DEFAULT_BATCH_SIZE = 8;
const PRIOR_CACHE_SIZE = 8;

function resolveResize(value: unknown): ResizeMode {
  if (value === undefined || value === 'stretch' || value === 'original') return value ?? 'stretch';
  if (typeof value === 'object' && value !== null && 'longestSide' in value) {
    return { longestSide: integerInRange('resize.longestSide', value.longestSide, 16, 4096) };
  }
  throw invalidOption('resize', "'stretch', 'original' or { longestSide: number }", value);
}

/**
 * Validates the options of `createFaceDetector` (STYLE.md §5) and fills in the defaults.
 * @param extraKeys the runtime's own option names
 * @throws UltrafaceError E_INVALID_OPTION
 */
export function resolveDetectorOptions(
  options: unknown,
  extraKeys: readonly string[] = [],
): ResolvedDetectorOptions {
  const opts = checkOptionsObject('createFaceDetector options', options, [
    ...DETECTOR_OPTION_KEYS,
    ...extraKeys,
  ]) as DetectorOptions & { readonly model?: unknown };
  const post = resolvePostprocessOptions(opts);
  return {
    post,
    inputSize: opts.inputSize === undefined ? undefined : resolveInputSize(opts.inputSize),
    threads: opts.threads === undefined ? undefined : integerInRange('threads', opts.threads, 1, 256),
    maxPixels: integerInRange('maxPixels', opts.maxPixels ?? DEFAULT_MAX_PIXELS, 1, 2 ** 32),
    batchSize: integerInRange('batchSize', opts.batchSize ?? DEFAULT_BATCH_SIZE, 1, 1024),
    resize: resolveResize(opts.resize),
    model: opts.model,
  };
}

/**
 * The network size per image under `resize` for `model`.
 * @throws UltrafaceError E_INVALID_OPTION for an aspect-keeping mode on a model with a fixed input size
 */
export function fitFor(resize: ResizeMode, model: ResolvedModel): Fit {
  if (resize !== 'stretch' && !model.dynamicSize) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `Expected a model with free input height and width for resize ${JSON.stringify(resize)}, but this model's ` +
        `input is fixed at ${model.inputSize.width}x${model.inputSize.height}; export one with ` +
        '`ultraface export --raw --dynamic-size`',
    );
  }
  if (resize === 'stretch') return { fixed: model.inputSize, size: () => model.inputSize };
  if (resize === 'original') return { fixed: undefined, size: (width, height) => networkSize(width, height) };
  return {
    fixed: undefined,
    size: (width, height) => {
      const scale = resize.longestSide / Math.max(width, height);
      return networkSize(Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale)));
    },
  };
}

/** Priors per network size (one size under 'stretch'), generated on first use; at most a few sizes kept. */
export function createPriorCache(): (size: NetworkSize) => Float32Array {
  const cache = new Map<string, Float32Array>();
  return (size) => {
    const key = `${size.width}x${size.height}`;
    let priors = cache.get(key);
    if (!priors) {
      if (cache.size >= PRIOR_CACHE_SIZE) cache.clear();
      priors = generatePriors(size);
      cache.set(key, priors);
    }
    return priors;
  };
}

/**
 * Network outputs of a batch → faces per image, in pixels of each original image (SPEC §8.1).
 * @param scores [N, P, C] softmax probabilities
 * @param boxes [N, P, 4] decoded corners, or raw regressions when `priors` is given
 * @param priors [P, 4] the priors of the network size, for raw-regression models
 */
export function detectionsFromOutputs(
  scores: Float32Array,
  boxes: Float32Array,
  items: readonly { readonly width: number; readonly height: number }[],
  numClasses: number,
  priors: Float32Array | undefined,
  post: ResolvedPostprocessOptions | readonly ResolvedPostprocessOptions[],
): Detection[][] {
  const count = boxes.length / 4 / items.length;
  return items.map((item, n) => {
    const imageScores = scores.subarray(n * count * numClasses, (n + 1) * count * numClasses);
    let imageBoxes = boxes.subarray(n * count * 4, (n + 1) * count * 4);
    if (priors) imageBoxes = decodeBoxes(imageBoxes, priors);
    const imagePost = 'scoreThreshold' in post ? post : post[n];
    return facesFromOutputs(imageScores, imageBoxes, numClasses, item.width, item.height, imagePost);
  });
}

/**
 * A face detector over a loaded model: the runtime gives how to load its images (at the sizes `fit` gives, from
 * `fitFor`, called before the session is created so that a refused option leaves nothing to release) and how to
 * run the network.
 */
export function createDetectorCore<Image>(settings: {
  readonly model: ResolvedModel;
  readonly options: ResolvedDetectorOptions;
  readonly fit: Fit;
  readonly backend: Backend;
  readonly load: (image: Image, fit: Fit) => Promise<NetworkInput>;
}): FaceDetectorBase<Image> {
  const { model, options, backend, fit } = settings;
  const load = (image: Image): Promise<NetworkInput> => settings.load(image, fit);
  const priorsFor = createPriorCache();
  const now = (): number => performance.now();
  let disposed = false;

  const checkLive = (): void => {
    if (disposed) throw new UltrafaceError('E_DISPOSED', 'This face detector was disposed');
  };

  /** One session.run over network inputs that share one size. */
  async function infer(
    images: readonly NetworkInput[],
    timings?: { inference: number; postprocess: number },
    post: ResolvedPostprocessOptions | readonly ResolvedPostprocessOptions[] = options.post,
  ): Promise<Detection[][]> {
    const start = now();
    const { inputWidth: width, inputHeight: height } = images[0];
    let input = images[0].tensor; // [N, 3, H, W]: one image's tensor as it is, a batch's copied together
    if (images.length > 1) {
      input = new Float32Array(images.length * input.length);
      images.forEach((item, n) => {
        input.set(item.tensor, n * item.tensor.length);
      });
    }
    let ran = 0;
    const priors = model.boxes === 'raw' ? priorsFor(networkSize(width, height)) : undefined;
    const result = await backend.run(input, [images.length, 3, height, width], (scores, boxes) => {
      ran = now();
      return detectionsFromOutputs(scores, boxes, images, model.numClasses, priors, post);
    });
    if (timings) {
      timings.inference = ran - start;
      timings.postprocess = now() - ran;
    }
    return result;
  }

  async function detectBatch(
    images: readonly Image[],
    batchOptions: DetectBatchOptions = {},
  ): Promise<Detection[][] | BatchItemResult[]> {
    checkLive();
    if (!Array.isArray(images)) throw invalidOption('images', 'an array of images', images);
    const settle: unknown = batchOptions.settle ?? false;
    if (typeof settle !== 'boolean') throw invalidOption('settle', 'a boolean', settle);
    // Images of different network sizes cannot share a batch: batch only under 'stretch'.
    const chunk = model.dynamicBatch && options.resize === 'stretch' ? options.batchSize : 1;
    // allSettled: every image's outcome is kept, whichever fails first in time.
    const loadChunk = (start: number): Promise<PromiseSettledResult<NetworkInput>[]> =>
      Promise.allSettled(images.slice(start, start + chunk).map(async (image: Image) => load(image)));
    const results: BatchItemResult[] = [];
    // Load the next chunk (decoding works on other threads in Node) while the current one runs.
    let next = loadChunk(0);
    for (let start = 0; start < images.length; start += chunk) {
      const settled = await next;
      next = loadChunk(start + chunk);
      checkLive();
      for (const item of settled) {
        // Without settle, the first image that failed (in input order) rejects the call; with it, only what no
        // image can cause (a bug, not an UltrafaceError) does.
        if (item.status === 'rejected' && (!settle || !isUltrafaceError(item.reason))) throw item.reason;
      }
      const loaded = settled.flatMap((item) => (item.status === 'fulfilled' ? [item.value] : []));
      const faces = loaded.length > 0 ? await infer(loaded) : [];
      let n = 0;
      for (const item of settled) {
        results.push(
          item.status === 'fulfilled' ? { faces: faces[n++] } : { error: item.reason as UltrafaceError },
        );
      }
      batchOptions.onProgress?.(results.length, images.length);
    }
    return settle ? results : results.map((result) => result.faces!);
  }

  return {
    model,
    async detect(image, detectOptions = {}) {
      checkLive();
      // A call's own thresholds (validated here, before any work), else the detector's.
      const overrides = Object.fromEntries(
        POSTPROCESS_OPTION_KEYS.flatMap((key) =>
          detectOptions[key] === undefined ? [] : [[key, detectOptions[key]]],
        ),
      );
      const post =
        Object.keys(overrides).length === 0
          ? options.post
          : resolvePostprocessOptions({ ...options.post, ...overrides });
      const start = now();
      const loaded = await load(image);
      checkLive();
      const preprocessMs = now() - start;
      const timings = { inference: 0, postprocess: 0 };
      const [faces] = await infer([loaded], timings, post);
      detectOptions.onTimings?.({
        preprocessMs,
        inferenceMs: timings.inference,
        postprocessMs: timings.postprocess,
      });
      return faces;
    },
    detectBatch: detectBatch as FaceDetectorBase<Image>['detectBatch'],
    async detectPreprocessed(items, post) {
      checkLive();
      const list: unknown = items; // checked as unknown: Array.isArray would widen items to any[]
      if (!Array.isArray(list) || items.length === 0) {
        throw new UltrafaceError(
          'E_INVALID_INPUT',
          `Expected a non-empty array of preprocessed images but received ${describe(items)}`,
        );
      }
      const { width, height } = items[0].image;
      const wrong = items.find((item) => item.image.width !== width || item.image.height !== height);
      const size = model.dynamicSize ? undefined : model.inputSize;
      if (wrong || (size && (size.width !== width || size.height !== height))) {
        const { width: w, height: h } = (wrong ?? items[0]).image;
        throw new UltrafaceError(
          'E_INVALID_INPUT',
          `Expected preprocessed images all of ${size ? `the model's size ${size.width}x${size.height}` : `one size (${width}x${height})`} but received one of ${w}x${h}`,
        );
      }
      const posts = items.map((_, n) => {
        const override = post?.[n];
        return override === undefined
          ? options.post
          : resolvePostprocessOptions({ ...options.post, ...override });
      });
      const inputs = items.map((item) => toNetworkInput(item.image, item.image, item)); // at network size: a copy
      const chunk = model.dynamicBatch ? items.length : 1;
      const results: Detection[][] = [];
      for (let start = 0; start < items.length; start += chunk) {
        const end = start + chunk;
        results.push(...(await infer(inputs.slice(start, end), undefined, posts.slice(start, end))));
      }
      return results;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await backend.release();
    },
  };
}
