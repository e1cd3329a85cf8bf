import * as ort from 'onnxruntime-node';

import { decodeOnnx, stripInitializerInputs } from '../../src/model/onnx/reader.js';

/** SPEC §13 synthetic input: x[c][y][x] = (((7c + 13y + 17x) mod 256) − 127) / 128, [1, 3, H, W]. */
export function syntheticInput(width: number, height: number): ort.Tensor {
  const x = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let i = 0; i < width; i++)
        x[(c * height + y) * width + i] = (((7 * c + 13 * y + 17 * i) % 256) - 127) / 128;
    }
  }
  return new ort.Tensor('float32', x, [1, 3, height, width]);
}

export async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  // Upstream files list their weights as inputs; strip them as the runtime does.
  return ort.InferenceSession.create(stripInitializerInputs(decodeOnnx(bytes)), { logSeverityLevel: 3 });
}

export async function run(
  s: ort.InferenceSession,
  input: ort.Tensor,
): Promise<{ scores: Float32Array; boxes: Float32Array }> {
  const out = await s.run({ input });
  return { scores: out.scores.data as Float32Array, boxes: out.boxes.data as Float32Array };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
