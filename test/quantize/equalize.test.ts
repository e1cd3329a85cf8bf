import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import * as ort from 'onnxruntime-node';

import { INPUT_SIZES } from '../../src/core/presets.js';
import { convertWeightsToOnnx } from '../../src/model/convert.js';
import { onnx } from '../../src/model/onnx/proto.js';
import { decodeOnnx } from '../../src/model/onnx/reader.js';
import { collectStats, loadCalibrationImages } from '../../src/quantize/calibrate.js';
import { equalizeActivations } from '../../src/quantize/equalize.js';
import { planQuantization } from '../../src/quantize/qdq.js';
import type { TensorStats } from '../../src/quantize/ranges.js';
import { maxAbsDiff, syntheticInput } from '../helpers/onnx.js';
import { sharedPath } from '../helpers/shared.js';

const IMAGES = sharedPath('reference/upstream/imgs');
const files = readdirSync(IMAGES)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .slice(0, 4)
  .map((f) => join(IMAGES, f));

async function outputs(model: Uint8Array, input: ort.Tensor): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  try {
    const out = await session.run({ input });
    return [out.scores.data as Float32Array, out.boxes.data as Float32Array];
  } finally {
    await session.release();
  }
}

const spread = (stat: TensorStats): number => {
  const ranges = [...stat.channelMax!].map((hi, c) => Math.max(hi, -stat.channelMin![c]));
  return Math.max(...ranges) / Math.min(...ranges.filter((r) => r > 0));
};

describe('activation equalization (RFB, 128x96)', () => {
  it('leaves the network function unchanged and evens out channel ranges', async () => {
    const size = INPUT_SIZES[128];
    const fp32 = convertWeightsToOnnx(
      readFileSync(sharedPath('reference/upstream/models/pretrained/version-RFB-320.pth')),
      { postprocess: false, inputSize: 128 },
    ).onnx;
    const model = decodeOnnx(fp32);
    const plan = planQuantization(model);
    const images = await loadCalibrationImages(files, size);
    const stats = new Map<string, TensorStats>();
    await collectStats(model, plan.input, plan.activations, images, stats, { kind: 'minmax' });
    const before = spread(stats.get('base_net.0.2')!); // conv_bn output read by a depthwise conv

    const equalized = equalizeActivations(model, plan, stats);
    assert.ok(equalized.includes('base_net.0.2'));
    assert.ok(equalized.includes('base_net.1.2')); // depthwise output read by a pointwise conv
    assert.ok(!equalized.includes('base_net.7.cat')); // a Concat output: not between two convs
    // Read only by a depthwise conv: equalized fully (up to the scale clamp).
    const after = spread(stats.get('base_net.0.2')!);
    assert.ok(before > 3 && after < 1.01, `channel range spread ${before} → ${after}`);

    // Same function: the statistics were rescaled, the outputs are not.
    const input = syntheticInput(size.width, size.height);
    const [a, b] = [await outputs(fp32, input), await outputs(onnx.ModelProto.encode(model).finish(), input)];
    assert.ok(maxAbsDiff(a[0], b[0]) < 1e-4, `scores ${maxAbsDiff(a[0], b[0])}`);
    assert.ok(maxAbsDiff(a[1], b[1]) < 1e-3, `boxes ${maxAbsDiff(a[1], b[1])}`);

    // The rescaled statistics match the equalized model's activations.
    const again = new Map<string, TensorStats>();
    await collectStats(model, plan.input, ['base_net.0.2', 'base_net.1.2'], images, again, {
      kind: 'minmax',
    });
    for (const name of ['base_net.0.2', 'base_net.1.2']) {
      const expected = stats.get(name)!;
      const actual = again.get(name)!;
      assert.ok(Math.abs(actual.max - expected.max) <= 1e-4 * expected.max, `${name} max`);
    }
  });
});
