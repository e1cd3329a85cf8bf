/** What the demo page exposes as `window.ultrafaceDemo`, for tests and the console. */
import type { BackendInfo, createFaceDetector, Detection, StageTimings } from '../src/runtime/web/index.js';

/** One entry of models.json, which the page lists in its model menu. */
export interface DemoModel {
  readonly file: string;
  readonly label: string;
}

/** What an error on the page is about; each kind clears when that thing next works. */
export type ErrorKind = 'model' | 'image' | 'camera';

/** What the page is doing. */
export interface DemoState {
  /** A detector is loaded for the current settings. */
  ready: boolean;
  model: string | undefined;
  backend: BackendInfo | undefined;
  inputSize: number | undefined;
  /** Detectors created (threshold changes create none: they are per-call options). */
  loads: number;
  /** The photo on screen (a file name, or "sample photo 9.jpg"); undefined when none is. */
  imageName: string | undefined;
  /** Detections run on photos. */
  imageRuns: number;
  /** Video frames processed, and those with at least one face. */
  frames: number;
  framesWithFaces: number;
  /** The faces of the last image or frame. */
  faces: readonly Detection[];
  timings: StageTimings | undefined;
  /** The whole `detect()` call of the last image or frame, ms. */
  detectMs: number | undefined;
  /** The error shown, if any, and what it is about. */
  error: string | undefined;
  errorKind: ErrorKind | undefined;
}

export interface BenchResult {
  /** Medians per image, in ms: the whole `detect()` call and its stages. */
  readonly detectMs: number;
  readonly preprocessMs: number;
  readonly inferenceMs: number;
  readonly postprocessMs: number;
  readonly runs: number;
}

export interface DemoApi {
  readonly state: DemoState;
  /** The library as the page bundled it. */
  readonly lib: { readonly createFaceDetector: typeof createFaceDetector };
  /** Resolves once the current settings are applied (a detector is ready, or loading failed). */
  settled(): Promise<void>;
  /** Medians of `passes` passes of `detect()` over the images (decoded once, up front; one warm-up pass first). */
  benchmark(urls: readonly string[], passes: number): Promise<BenchResult>;
}

declare global {
  interface Window {
    ultrafaceDemo: DemoApi;
  }
}
