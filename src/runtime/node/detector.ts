import { isUltrafaceError, UltrafaceError } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import { invalidOption } from '../../core/validate.js';
import {
  createDetectorCore,
  fitFor,
  resolveDetectorOptions,
  type DetectorOptions,
  type FaceDetectorBase,
} from '../detector-core.js';
import { prepareModel } from '../model-info.js';
import { BUNDLED_MODELS, resolveModelSource } from './bundled-models.js';
import { decodeMode, preprocessToTensor, type DecodeMode } from './image.js';
import { startInferenceThread } from './inference-thread.js';
import { readModelBytes } from './session.js';

export type { BatchItemResult, DetectBatchOptions, ResizeMode } from '../detector-core.js';

/**
 * An image: a file path or `file:` URL, encoded bytes (`Uint8Array`, `Buffer` or `ArrayBuffer`; JPEG, PNG, WebP, …
 * — EXIF orientation applied) or raw RGB(A) pixels.
 */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer | RgbImage;

export interface FaceDetectorOptions extends DetectorOptions {
  /**
   * An ultraface ONNX model: a path, its bytes, a bundled model's name (`slim-320`; `BUNDLED_MODELS`), or
   * upstream's weights by name (`upstream:rfb-320`, `upstream:slim-640`, …), downloaded once into the cache
   * (`$ULTRAFACE_CACHE_DIR`, else `$XDG_CACHE_HOME/ultraface`, else `~/.cache/ultraface`) and converted there.
   * Default: the shipped model, `DEFAULT_MODEL_PATH`.
   */
  readonly model?: string | Uint8Array;
  /**
   * 'scaled' (default): JPEG images decode at 1/2, 1/4 or 1/8 scale when that leaves twice the network input.
   * 'full': every pixel decoded, reproducing upstream's (OpenCV's) network input bit for bit. See `DecodeMode`.
   */
  readonly decode?: DecodeMode;
}

export type FaceDetector = FaceDetectorBase<ImageInput>;

const NODE_OPTION_KEYS = ['decode'];

/**
 * onnxruntime intra-op threads when none are asked for. One: inference runs in the detector's own thread
 * (inference-thread.ts) while sharp decodes the next images on the others, so a second intra-op thread would
 * only take a core from decoding. Measured with 72 concurrent `detect()` calls on 2 cores (bench:detect): 1
 * thread reaches 94–97 % of the bound (load + model) / 2; 2 threads 76 % (with onnxruntime's default spinning:
 * idle intra-op threads spin, taking the decoder's core) or 98 % with spinning off, where the second thread no
 * longer makes one inference faster. `threads: 2` does make a lone call's inference faster (~1.6 against 2.6 ms
 * for RFB-320) when nothing else runs.
 */
const DEFAULT_THREADS = 1;

/**
 * The model used when none is given: RFB-320 trained by this project (fp32, BatchNorm folded, box decoding in the
 * graph), shipped in the package's `models/` folder with the others of `BUNDLED_MODELS` (see models/README.md).
 */
export const DEFAULT_MODEL_PATH = BUNDLED_MODELS['rfb-320'];

export const MISSING_MODEL_HINT =
  'Get a model with `npx ultraface import --upstream RFB-320 --out model.onnx` and pass ' +
  "{ model: 'model.onnx' } (CLI: --model model.onnx).";

/**
 * The bytes of the default model at `path`.
 * @throws UltrafaceError E_MODEL_MISSING when the file is not there (e.g. a clone that lost models/)
 */
export async function readDefaultModel(
  path = DEFAULT_MODEL_PATH,
): Promise<{ bytes: Uint8Array; source: string }> {
  try {
    return await readModelBytes(path);
  } catch (error) {
    if (!isUltrafaceError(error, 'E_FILE_NOT_FOUND')) throw error;
    throw new UltrafaceError(
      'E_MODEL_MISSING',
      `No model given and the default model ${path} is missing (it ships in the package's models/ folder). ` +
        MISSING_MODEL_HINT,
      { cause: error },
    );
  }
}

/**
 * Creates a detector over an ONNX model on onnxruntime-node; sharp decodes, the core resizes images straight into
 * the network input, and inference runs in a worker thread of its own (inference-thread.ts), so that the event
 * loop stays free and decoding overlaps inference. Without `model`, the shipped default (`DEFAULT_MODEL_PATH`) is
 * used. `dispose()` ends the thread; an idle detector does not keep the process alive.
 */
export async function createFaceDetector(options: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const opts = resolveDetectorOptions(options, NODE_OPTION_KEYS);
  const decode = decodeMode(options.decode);
  if (opts.model !== undefined && typeof opts.model !== 'string' && !(opts.model instanceof Uint8Array)) {
    throw invalidOption('model', 'a file path, a model name or the bytes of an ONNX model', opts.model);
  }
  const { bytes, source } =
    opts.model === undefined
      ? await readDefaultModel()
      : await readModelBytes(
          typeof opts.model === 'string' ? await resolveModelSource(opts.model) : opts.model,
        );
  const { model, runnable } = prepareModel(bytes, opts.inputSize, source);
  const fit = fitFor(opts.resize, model);
  const backend = await startInferenceThread({
    model: runnable,
    source,
    inputName: model.inputName,
    threads: opts.threads ?? DEFAULT_THREADS,
  });
  const { maxPixels } = opts;
  return createDetectorCore<ImageInput>({
    model,
    options: opts,
    fit,
    backend,
    load: (image, { size }) => preprocessToTensor(image, { fit: size, maxPixels, decode }),
  });
}
