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
import { preprocess, preprocessToFit } from './image.js';
import { createSession, nodeBackend, readModelBytes } from './session.js';

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
}

export type FaceDetector = FaceDetectorBase<ImageInput>;

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
 * Creates a detector over an ONNX model on onnxruntime-node; sharp decodes and the core resizes images. Without
 * `model`, the shipped default (`DEFAULT_MODEL_PATH`) is used.
 */
export async function createFaceDetector(options: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const opts = resolveDetectorOptions(options);
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
  const session = await createSession(runnable, source, opts.threads);
  const { maxPixels } = opts;
  return createDetectorCore<ImageInput>({
    model,
    options: opts,
    fit,
    backend: nodeBackend(session, model.inputName),
    // A fixed size lets big JPEG files decode at a reduced scale (shrink-on-load); see `preprocess`.
    load: (image, { fixed, size }) =>
      fixed
        ? preprocess(image, { width: fixed.width, height: fixed.height, maxPixels })
        : preprocessToFit(image, { fit: size, maxPixels }),
  });
}
