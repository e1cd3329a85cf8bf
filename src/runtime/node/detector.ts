import { UltrafaceError } from '../../core/errors.js';
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
import { preprocess, preprocessToFit } from './image.js';
import { createSession, nodeBackend, readModelBytes } from './session.js';

export type { DetectBatchOptions, ResizeMode } from '../detector-core.js';

/** An image: a file path, encoded bytes (JPEG, PNG, WebP, … — EXIF orientation applied) or raw RGB(A) pixels. */
export type ImageInput = string | Uint8Array | RgbImage;

export interface FaceDetectorOptions extends DetectorOptions {
  /** Path to an ultraface ONNX model, or its bytes. */
  readonly model?: string | Uint8Array;
}

export type FaceDetector = FaceDetectorBase<ImageInput>;

export const MISSING_MODEL_HINT =
  'No model given. Get one with `npx ultraface import --upstream RFB-320 --out model.onnx` and pass ' +
  "{ model: 'model.onnx' } (CLI: --model model.onnx).";

/** Creates a detector over an ONNX model on onnxruntime-node; sharp decodes and the core resizes images. */
export async function createFaceDetector(options: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const opts = resolveDetectorOptions(options);
  if (opts.model === undefined) throw new UltrafaceError('E_MODEL_MISSING', MISSING_MODEL_HINT);
  if (typeof opts.model !== 'string' && !(opts.model instanceof Uint8Array)) {
    throw invalidOption('model', 'a file path or the bytes of an ONNX model', opts.model);
  }
  const { bytes, source } = await readModelBytes(opts.model);
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
