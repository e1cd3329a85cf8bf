import * as ort from 'onnxruntime-node';

import type { Weights } from '../../../src/model/weights.js';
import type { CompiledTrainingGraph } from '../../../src/train/compile.js';
import { graphFeeds } from '../../../src/train/step-runner.js';

export async function trainingSession(onnx: Uint8Array, threads = 1): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnx, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
}

/** Feeds for a compiled graph (the trainer's own graphFeeds): the batch, and every parameter or running statistic. */
export function trainingFeeds(
  compiled: CompiledTrainingGraph,
  weights: Weights,
  batch: { readonly image: Float32Array; readonly labels: BigInt64Array; readonly gtLocations: Float32Array },
  n: number,
): Record<string, ort.Tensor> {
  const params = new Map<string, Float32Array>();
  for (const [name, tensor] of weights)
    if (tensor.data instanceof Float32Array) params.set(name, tensor.data);
  return graphFeeds(
    compiled.inputs,
    {
      size: n,
      images: batch.image,
      labels: Int32Array.from(batch.labels, Number),
      locations: batch.gtLocations,
    },
    params,
  );
}

export function scalar(out: ort.InferenceSession.OnnxValueMapType, name: string): number {
  return (out[name].data as Float32Array)[0];
}

export function floats(out: ort.InferenceSession.OnnxValueMapType, name: string): Float32Array {
  return out[name].data as Float32Array;
}
