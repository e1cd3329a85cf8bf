import { readFile } from 'node:fs/promises';

import * as ort from 'onnxruntime-node';

import { UltrafaceError } from '../../core/errors.js';
import type { InputSizeName } from '../../core/presets.js';
import { decodeOnnx, inspectOnnx, stripInitializerInputs } from '../../model/onnx/reader.js';
import { resolveModel, type ResolvedModel } from '../model-info.js';

export interface LoadedSession {
  readonly session: ort.InferenceSession;
  readonly model: ResolvedModel;
}

async function readModelBytes(model: string | Uint8Array): Promise<{ bytes: Uint8Array; source: string }> {
  if (typeof model !== 'string') return { bytes: model, source: 'the given model bytes' };
  try {
    return { bytes: await readFile(model), source: model };
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'E_FILE_NOT_FOUND' : 'E_MODEL_LOAD';
    throw new UltrafaceError(code, `Cannot read the model file ${model}`, { cause });
  }
}

/** Loads an ONNX detector into onnxruntime-node, after checking its interface. */
export async function loadSession(
  model: string | Uint8Array,
  options: { inputSize?: InputSizeName; threads?: number },
): Promise<LoadedSession> {
  const { bytes, source } = await readModelBytes(model);
  const proto = decodeOnnx(bytes, source);
  const info = inspectOnnx(proto);
  const resolved = resolveModel(info, options.inputSize, source);
  // Old exporters list weights as graph inputs, which stops onnxruntime folding them (~2x slower).
  const runnable = info.initializerInputs > 0 ? stripInitializerInputs(proto) : bytes;
  try {
    const session = await ort.InferenceSession.create(runnable, {
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      ...(options.threads === undefined ? {} : { intraOpNumThreads: options.threads }),
      logSeverityLevel: 3, // upstream files carry unused BN counters; their removal is not worth a warning each
    });
    return { session, model: resolved };
  } catch (cause) {
    throw new UltrafaceError('E_MODEL_LOAD', `onnxruntime could not load ${source}`, { cause });
  }
}
