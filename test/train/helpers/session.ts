import * as ort from 'onnxruntime-node';

import type { Weights } from '../../../src/model/weights.js';
import type { CompiledTrainingGraph } from '../../../src/train/compile.js';

export async function trainingSession(onnx: Uint8Array, threads = 1): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(onnx, {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
  });
}

/** Feeds for a compiled graph: the batch, and every parameter (or running statistic) input from `weights`. */
export function trainingFeeds(
  compiled: CompiledTrainingGraph,
  weights: Weights,
  batch: { readonly image: Float32Array; readonly labels: BigInt64Array; readonly gtLocations: Float32Array },
  n: number,
): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of compiled.inputs) {
    const shape = input.shape.map((d) => (typeof d === 'number' ? d : n));
    switch (input.role) {
      case 'image':
        feeds[input.name] = new ort.Tensor('float32', batch.image, shape);
        break;
      case 'labels':
        feeds[input.name] = new ort.Tensor('int64', batch.labels, shape);
        break;
      case 'gt_locations':
        feeds[input.name] = new ort.Tensor('float32', batch.gtLocations, shape);
        break;
      default: {
        const tensor = weights.get(input.name);
        if (!(tensor?.data instanceof Float32Array)) throw new Error(`no float weights for ${input.name}`);
        feeds[input.name] = new ort.Tensor('float32', tensor.data, shape);
      }
    }
  }
  return feeds;
}

export function scalar(out: ort.InferenceSession.OnnxValueMapType, name: string): number {
  return (out[name].data as Float32Array)[0];
}

export function floats(out: ort.InferenceSession.OnnxValueMapType, name: string): Float32Array {
  return out[name].data as Float32Array;
}
