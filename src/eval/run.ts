import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { UltrafaceError } from '../core/errors.js';
import type { Detection } from '../core/postprocess.js';
import { readVocDataset } from '../data/voc.js';
import { readWiderGroundTruth } from '../data/wider-mat.js';
import { readWiderSplitTxt, WIDER_ATTRIBUTES } from '../data/wider-txt.js';
import type { WiderGroundTruth } from '../data/wider-types.js';
import { convertWeightsToOnnx } from '../model/convert.js';
import { sniffWeightsFormat } from '../model/import/weights-file.js';
import { decodeOnnx, isQuantizedOnnx } from '../model/onnx/reader.js';
import { createFaceDetector, type FaceDetector } from '../runtime/node/detector.js';
import { readModelSource } from '../runtime/node/session.js';
import type { DecodeMode } from '../runtime/node/image.js';
import {
  formatPredictionFile,
  parsePredictionFile,
  writePredictionFiles,
  type WiderImageDetections,
} from './prediction-files.js';
import { needsDynamicModel, PROTOCOL_SPECS, type EvalProtocol } from './protocols.js';
import { evaluateVocAp, type VocApResult } from './voc-ap.js';
import { evaluateWider, widerImageKey, type WiderEvaluation } from './wider-protocol.js';

export interface EvalRunOptions {
  /** An ultraface ONNX model (path or bytes), or any weights file `ultraface import` reads. */
  readonly model: string | Uint8Array;
  readonly protocol?: EvalProtocol;
  readonly threads?: number;
  /** JPEG decoding (default: the detector's, `DEFAULT_DECODE_MODE`). */
  readonly decode?: DecodeMode;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface EvalTiming {
  readonly images: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
}

/**
 * A detector set up for a protocol. Aspect-keeping protocols need free input sizes, so the model's weights are
 * re-exported in memory as a raw, dynamic-size graph (lossless, BN folding included).
 */
async function protocolDetector(options: EvalRunOptions): Promise<FaceDetector> {
  const protocol = options.protocol ?? 'ulfd';
  const { bytes, source } = await readModelSource(options.model);
  if (needsDynamicModel(protocol) && isQuantized(bytes, source)) {
    throw new UltrafaceError(
      'E_INVALID_OPTION',
      `Expected a model that can run at any input size for protocol ${protocol} (it resizes each image to its ` +
        `own aspect ratio) but ${source} is an int8 model, fixed at the input size it was quantized at; ` +
        `evaluate it with protocol ulfd, or its fp32 original (rfb-320 for rfb-320-int8) with ${protocol}`,
    );
  }
  const model = needsDynamicModel(protocol)
    ? convertWeightsToOnnx(bytes, { postprocess: false, dynamicInputSize: true }, source).onnx
    : bytes;
  return createFaceDetector({
    model,
    ...PROTOCOL_SPECS[protocol].detector,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(options.decode === undefined ? {} : { decode: options.decode }),
  });
}

/** Whether model bytes are an int8 (quantized) ONNX model. */
function isQuantized(bytes: Uint8Array, source: string): boolean {
  return (
    bytes.length > 0 && sniffWeightsFormat(bytes) === 'onnx' && isQuantizedOnnx(decodeOnnx(bytes, source))
  );
}

async function timed<T>(work: () => Promise<T>, images: number): Promise<{ value: T; timing: EvalTiming }> {
  const start = performance.now();
  const value = await work();
  const seconds = (performance.now() - start) / 1000;
  return { value, timing: { images, seconds, imagesPerSecond: images / seconds } };
}

/** Pixel boxes of detections as the [K, 4] float32 array the prediction writer expects (SPEC §10.1). */
function toWiderDetections(event: string, name: string, faces: readonly Detection[]): WiderImageDetections {
  return {
    event,
    name,
    boxes: Float32Array.from(faces.flatMap((f) => [f.box.x1, f.box.y1, f.box.x2, f.box.y2])),
    scores: Float32Array.from(faces.map((f) => f.score)),
  };
}

export interface WiderRunOptions extends EvalRunOptions {
  /**
   * WIDER root: `<root>/WIDER_val/images/<event>/<name>.jpg`, and `<root>/eval_tools/ground_truth/*.mat` or,
   * without them, `<root>/wider_face_split/wider_face_val_bbx_gt.txt`.
   */
  readonly root: string;
  /** Override the images folder. */
  readonly imagesDir?: string;
  /** Override the ground-truth folder (the official `.mat` files). */
  readonly groundTruthDir?: string;
  /** Override the split txt used when there are no `.mat` files. */
  readonly splitTxt?: string;
  /** Write prediction files in the official layout here (`<dir>/<event>/<name>.txt`). */
  readonly predictionsDir?: string;
}

export interface WiderRunResult {
  readonly evaluation: WiderEvaluation;
  readonly timing: EvalTiming;
  /**
   * 'mat': the official easy/medium/hard lists. 'split-txt': only the split txt was there, which has no such
   * lists; every setting then counts all valid faces (the `invalid` flag 0), so the three APs are one "all" AP.
   */
  readonly groundTruth: 'mat' | 'split-txt';
}

/** The official `.mat` ground truth, or the split txt with every valid face counted (see `WiderRunResult`). */
async function loadWiderGroundTruth(
  options: WiderRunOptions,
): Promise<{ groundTruth: WiderGroundTruth; source: 'mat' | 'split-txt' }> {
  const matDir = options.groundTruthDir ?? join(options.root, 'eval_tools', 'ground_truth');
  const txt = options.splitTxt ?? join(options.root, 'wider_face_split', 'wider_face_val_bbx_gt.txt');
  if (options.splitTxt === undefined && existsSync(join(matDir, 'wider_face_val.mat'))) {
    return { groundTruth: await readWiderGroundTruth(matDir), source: 'mat' };
  }
  if (!existsSync(txt)) {
    throw new UltrafaceError(
      'E_FILE_NOT_FOUND',
      `No WIDER ground truth: expected ${join(matDir, 'wider_face_val.mat')} (and the easy/medium/hard .mat files) or ${txt}`,
    );
  }
  const invalid = WIDER_ATTRIBUTES.indexOf('invalid');
  const images = (await readWiderSplitTxt(txt)).map((image) => {
    const valid: number[] = [];
    for (let k = 0; k < image.boxes.length / 4; k++) {
      if (image.attributes[k * WIDER_ATTRIBUTES.length + invalid] === 0) valid.push(k);
    }
    const all = Uint32Array.from(valid);
    return {
      event: image.event,
      name: image.name,
      boxes: image.boxes,
      keep: { easy: all, medium: all, hard: all },
    };
  });
  return { groundTruth: { images }, source: 'split-txt' };
}

/**
 * Detects faces in every ground-truth image of a WIDER FACE set and scores them with the official protocol.
 * Predictions are scored exactly as written to the official files (integer boxes, 3-decimal scores).
 */
export async function runWiderEvaluation(options: WiderRunOptions): Promise<WiderRunResult> {
  const { groundTruth, source } = await loadWiderGroundTruth(options);
  const imagesDir = options.imagesDir ?? join(options.root, 'WIDER_val', 'images');
  await readdir(imagesDir).catch((cause: unknown) => {
    throw new UltrafaceError('E_FILE_NOT_FOUND', `No WIDER images folder at ${imagesDir}`, { cause });
  });
  const detector = await protocolDetector(options);
  try {
    const paths = groundTruth.images.map((image) => join(imagesDir, image.event, `${image.name}.jpg`));
    const { value: faces, timing } = await timed(
      () => detector.detectBatch(paths, options.onProgress ? { onProgress: options.onProgress } : {}),
      paths.length,
    );
    const detections = groundTruth.images.map((image, i) =>
      toWiderDetections(image.event, image.name, faces[i]),
    );
    if (options.predictionsDir !== undefined) await writePredictionFiles(options.predictionsDir, detections);
    const predictions = new Map(
      detections.map((d) => [
        widerImageKey(d.event, d.name),
        parsePredictionFile(formatPredictionFile(d), d.name),
      ]),
    );
    return { evaluation: evaluateWider(groundTruth, predictions), timing, groundTruth: source };
  } finally {
    await detector.dispose();
  }
}

export interface VocRunOptions extends EvalRunOptions {
  /** Pascal-VOC root (Annotations, ImageSets/Main, JPEGImages). */
  readonly root: string;
  /** Default `test`. */
  readonly split?: string;
}

export interface VocRunResult {
  readonly result: VocApResult;
  readonly timing: EvalTiming;
}

/** AP at IoU 0.5 (all-point) of the detector on a VOC split (notes/eval-conventions.md). */
export async function runVocEvaluation(options: VocRunOptions): Promise<VocRunResult> {
  const dataset = await readVocDataset(options.root, { split: options.split ?? 'test' });
  const detector = await protocolDetector(options);
  try {
    const { value: faces, timing } = await timed(
      () =>
        detector.detectBatch(
          dataset.images.map((image) => image.imagePath),
          options.onProgress ? { onProgress: options.onProgress } : {},
        ),
      dataset.images.length,
    );
    const images = dataset.images.map((image, i) => ({
      groundTruth: image.boxes,
      difficult: image.difficult,
      boxes: faces[i].flatMap((f) => [f.box.x1, f.box.y1, f.box.x2, f.box.y2]),
      scores: faces[i].map((f) => f.score),
    }));
    return { result: evaluateVocAp(images), timing };
  } finally {
    await detector.dispose();
  }
}
