import * as ort from 'onnxruntime-node';

import { UltrafaceError } from '../../core/errors.js';
import type { InputSizeName } from '../../core/presets.js';
import { prepareModel, type ResolvedModel } from '../model-info.js';
import { detectorOnnx, readModelFile } from './model-file.js';
import { disableOrtTelemetry } from './telemetry.js';

export interface LoadedSession {
  readonly session: ort.InferenceSession;
  readonly model: ResolvedModel;
}

/**
 * The bytes of a model or weights file given as a path or as bytes, as they are, and a name for it in messages.
 * @throws UltrafaceError as `readModelFile`
 */
export async function readModelSource(
  model: string | Uint8Array,
): Promise<{ bytes: Uint8Array; source: string }> {
  if (typeof model !== 'string') return { bytes: model, source: 'the given model bytes' };
  return { bytes: await readModelFile(model), source: model };
}

/**
 * The ONNX bytes of a model given as a path or as bytes, and a name for it in messages: an ONNX model as it is, a
 * `.pth` weights file converted in memory as `ultraface import` would (`detectorOnnx`).
 * @throws UltrafaceError as `readModelFile`; E_WEIGHTS_FORMAT, E_WEIGHTS_MISMATCH for weights that do not convert
 */
export async function readModelBytes(
  model: string | Uint8Array,
): Promise<{ bytes: Uint8Array; source: string }> {
  const { bytes, source } = await readModelSource(model);
  return { bytes: detectorOnnx(bytes, source), source };
}

/**
 * An onnxruntime-node session over model bytes that `prepareModel` checked. onnxruntime's telemetry is turned off
 * first (`disableOrtTelemetry`; `ORT_DISABLE_TELEMETRY=0` keeps it on).
 */
export async function createSession(
  runnable: Uint8Array,
  source: string,
  threads: number | undefined,
): Promise<ort.InferenceSession> {
  disableOrtTelemetry();
  try {
    return await ort.InferenceSession.create(runnable, {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      ...(threads === undefined ? {} : { intraOpNumThreads: threads }),
      logSeverityLevel: 3, // upstream files carry unused BN counters; their removal is not worth a warning each
    });
  } catch (cause) {
    throw new UltrafaceError('E_MODEL_LOAD', `onnxruntime could not load ${source}`, { cause });
  }
}

/** Loads an ONNX detector into onnxruntime-node, after checking its interface. */
export async function loadSession(
  model: string | Uint8Array,
  options: { inputSize?: InputSizeName; threads?: number },
): Promise<LoadedSession> {
  const { bytes, source } = await readModelBytes(model);
  const prepared = prepareModel(bytes, options.inputSize, source);
  return { session: await createSession(prepared.runnable, source, options.threads), model: prepared.model };
}
