import { UltrafaceError } from '../../core/errors.js';
import { describe, invalidOption, oneOf } from '../../core/validate.js';
import {
  createDetectorCore,
  fitFor,
  resolveDetectorOptions,
  type DetectorOptions,
  type FaceDetectorBase,
} from '../detector-core.js';
import { prepareModel } from '../model-info.js';
import { createImageLoader, RESAMPLINGS, type Resampling, type WebImageInput } from './image.js';
import {
  createWebSession,
  EXECUTION_PROVIDERS,
  pageSettings,
  type BackendInfo,
  type ExecutionProviderName,
} from './session.js';

export interface FaceDetectorOptions extends DetectorOptions {
  /** The URL of an ultraface ONNX model (fetched), or its bytes. */
  readonly model?: string | URL | Uint8Array | ArrayBuffer;
  /**
   * Execution providers to try, in order; the first that works here is used, and why the others were passed over
   * is in `detector.backend.fallbacks`. Default ['webgpu', 'wasm']: WebGPU on a hardware adapter, else wasm.
   */
  readonly executionProviders?: readonly ExecutionProviderName[];
  /**
   * The URL folder that serves onnxruntime-web's runtime: `ort.wasm.min.mjs`, `ort-wasm-simd-threaded.mjs` and
   * `.wasm` (and for WebGPU `ort.webgpu.min.mjs`, `ort-wasm-simd-threaded.asyncify.mjs` and `.wasm`), copied from
   * `node_modules/onnxruntime-web/dist`; onnxruntime-web's JavaScript is loaded from there, not bundled. Needed by
   * the page's first detector; later ones leave it out (or give the same). Like `threads`, read once per page:
   * left out, both mean "as the first detector set them".
   */
  readonly wasmPaths?: string | URL;
  /**
   * How images the page draws are scaled to network size. 'exact' (default): read at full size and scaled by the
   * OpenCV-exact resize Node uses (the same faces as Node). 'canvas': scaled by the canvas, only the small image is
   * read back; faster on big images and video, pixels a few levels off OpenCV's. `ImageData` and raw pixels are
   * always scaled exactly.
   */
  readonly resampling?: Resampling;
}

export interface FaceDetector extends FaceDetectorBase<WebImageInput> {
  /** The execution provider in use, its threads, and why earlier ones in `executionProviders` were not used. */
  readonly backend: BackendInfo;
}

export const MISSING_MODEL_HINT =
  'No model given (in the browser there is no default). Serve the model the package ships, ' +
  'node_modules/ultraface/models/ultraface-rfb-320.onnx, with your page and pass ' +
  "{ model: '/models/ultraface-rfb-320.onnx' } (or the file's bytes); or make one with " +
  '`npx ultraface import --upstream RFB-320 --out RFB-320.onnx`.';

const WEB_OPTION_KEYS = ['executionProviders', 'wasmPaths', 'resampling'];

async function fetchModel(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    throw new UltrafaceError('E_MODEL_LOAD', `Cannot fetch the model ${url}`, { cause });
  }
  if (!response.ok) {
    throw new UltrafaceError(
      response.status === 404 ? 'E_FILE_NOT_FOUND' : 'E_MODEL_LOAD',
      `Cannot fetch the model ${url}: HTTP ${response.status} ${response.statusText}`,
    );
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function readModel(model: unknown): Promise<{ bytes: Uint8Array; source: string }> {
  if (model instanceof Uint8Array) return { bytes: model, source: 'the given model bytes' };
  if (model instanceof ArrayBuffer) return { bytes: new Uint8Array(model), source: 'the given model bytes' };
  if (typeof model === 'string' || model instanceof URL) {
    const url = String(model);
    return { bytes: await fetchModel(url), source: url };
  }
  throw invalidOption('model', 'a URL or the bytes of an ONNX model (Uint8Array or ArrayBuffer)', model);
}

function resolveProviders(value: unknown): readonly ExecutionProviderName[] {
  if (value === undefined) return EXECUTION_PROVIDERS;
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidOption('executionProviders', "a non-empty array of 'webgpu' and 'wasm'", value);
  }
  return value.map((ep) => oneOf<ExecutionProviderName>('executionProviders[]', ep, EXECUTION_PROVIDERS));
}

function resolveWasmPaths(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' || value instanceof URL) {
    // Absolute, so that '/ort/' and 'http://host/ort/' are the same setting.
    const url = new URL(String(value), globalThis.location.href).href;
    return url.endsWith('/') ? url : `${url}/`;
  }
  throw new UltrafaceError(
    'E_INVALID_OPTION',
    `Expected a URL folder for wasmPaths but received ${describe(value)}`,
  );
}

/**
 * Creates a detector over an ONNX model on onnxruntime-web (WebGPU or wasm). The same options, checks and results
 * as the Node `createFaceDetector`; images are browser images, encoded images or URLs (see `WebImageInput`),
 * scaled on a canvas. Post-processing options can change per call: `detect(image, { scoreThreshold })`.
 */
export async function createFaceDetector(options: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const opts = resolveDetectorOptions(options, WEB_OPTION_KEYS);
  const providers = resolveProviders(options.executionProviders);
  const wasmPaths = resolveWasmPaths(options.wasmPaths);
  const resampling = oneOf<Resampling>('resampling', options.resampling ?? 'exact', RESAMPLINGS);
  if (opts.model === undefined) throw new UltrafaceError('E_MODEL_MISSING', MISSING_MODEL_HINT);
  const wasm = pageSettings({ threads: opts.threads, wasmPaths });
  const { bytes, source } = await readModel(opts.model);
  const { model, runnable } = prepareModel(bytes, opts.inputSize, source);
  const fit = fitFor(opts.resize, model);
  const session = await createWebSession(runnable, model.inputName, source, providers, wasm);
  const core = createDetectorCore<WebImageInput>({
    model,
    options: opts,
    fit,
    backend: session.backend,
    load: createImageLoader(opts.maxPixels, resampling),
  });
  return Object.assign(core, { backend: session.info });
}
