import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  correctBias,
  quantizeConv,
  quantizeWeights,
  roundHalfEven,
  type ConvShape,
} from '../../src/quantize/weights.js';

/** Deterministic weights in [−1, 1) with a few large ones, [M, C, k, k]. */
function weights(shape: readonly number[], seed = 7): Float32Array {
  let state = seed;
  const count = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: count }, (_, i) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const u = (state / 2 ** 31) * 2 - 1;
    return i % 17 === 0 ? 4 * u : u * 0.3;
  });
}

const POINTWISE: ConvShape = { shape: [8, 6, 1, 1], groups: 1 };
const FULL_3X3: ConvShape = { shape: [4, 3, 3, 3], groups: 1 };
const DEPTHWISE: ConvShape = { shape: [6, 1, 3, 3], groups: 6 };

describe('weight quantization', () => {
  it('rounds half to even like ONNX QuantizeLinear', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
  });

  it('per channel: every weight within half a step of its channel scale', () => {
    for (const conv of [POINTWISE, FULL_3X3, DEPTHWISE]) {
      const w = weights(conv.shape);
      for (const range of ['pairwise', 'reduced', 'full'] as const) {
        const q = quantizeWeights(w, conv, { perChannel: true, range });
        assert.equal(q.scales.length, conv.shape[0]);
        const per = w.length / conv.shape[0];
        for (let i = 0; i < w.length; i++) {
          const s = q.scales[Math.floor(i / per)];
          assert.ok(Math.abs(q.values[i] * s - w[i]) <= s / 2 + 1e-7, `${range} weight ${i}`);
        }
      }
    }
  });

  it("'reduced' stays within ±63, 'full' within ±127", () => {
    const w = weights(POINTWISE.shape);
    const reduced = quantizeWeights(w, POINTWISE, { perChannel: true, range: 'reduced' });
    assert.equal(Math.max(...reduced.values.map(Math.abs)), 63);
    const full = quantizeWeights(w, POINTWISE, { perChannel: true, range: 'full' });
    assert.equal(Math.max(...full.values.map(Math.abs)), 127);
  });

  it("'pairwise' keeps |q[2j]| + |q[2j+1]| ≤ 128 in the GEMM reduction order (k·C + c), so 255·pair < 2¹⁵", () => {
    for (const conv of [POINTWISE, FULL_3X3]) {
      const [outs, channels] = conv.shape;
      const w = weights(conv.shape, 3);
      const q = quantizeWeights(w, conv, { perChannel: true, range: 'pairwise' });
      const perOut = w.length / outs;
      const kernel = perOut / channels;
      for (let o = 0; o < outs; o++) {
        const at = (r: number): number =>
          r < perOut
            ? Math.abs(q.values[o * perOut + (r % channels) * kernel + Math.floor(r / channels)])
            : 0;
        for (let r = 0; r < perOut; r += 2) {
          assert.ok(at(r) + at(r + 1) <= 128, `channel ${o} pair ${r}: ${at(r)} + ${at(r + 1)}`);
          assert.ok(255 * (at(r) + at(r + 1)) <= 32767);
        }
      }
      // Finer than 7 bits: the largest |q| per channel exceeds 63 somewhere.
      assert.ok(Math.max(...q.values.map(Math.abs)) > 63);
    }
  });

  it("depthwise convs get the full ±127 under 'pairwise' (their kernel does not pair products)", () => {
    const q = quantizeWeights(weights(DEPTHWISE.shape), DEPTHWISE, { perChannel: true, range: 'pairwise' });
    for (let c = 0; c < 6; c++) {
      assert.equal(Math.max(...q.values.subarray(c * 9, (c + 1) * 9).map(Math.abs)), 127);
    }
  });

  it('per tensor: one scale', () => {
    const q = quantizeWeights(weights(POINTWISE.shape), POINTWISE, { perChannel: false, range: 'full' });
    assert.equal(q.scales.length, 1);
  });

  it('an all-zero channel quantizes to zeros with a positive scale', () => {
    const w = weights(POINTWISE.shape);
    w.fill(0, 0, 6);
    const q = quantizeWeights(w, POINTWISE, { perChannel: true, range: 'pairwise' });
    assert.ok(q.scales[0] > 0);
    assert.deepEqual([...q.values.subarray(0, 6)], [0, 0, 0, 0, 0, 0]);
  });
});

describe('bias quantization', () => {
  it('int32 with scale s_in · s_w[c]', () => {
    const w = weights(POINTWISE.shape);
    const bias = Float32Array.from({ length: 8 }, (_, c) => c * 0.25 - 1);
    const q = quantizeConv(w, bias, 0.05, POINTWISE, { perChannel: true, range: 'pairwise' });
    for (let c = 0; c < 8; c++) {
      const s = Math.fround(0.05 * q.weights.scales[c]);
      assert.ok(Math.abs(q.bias[c] * s - bias[c]) <= s / 2 + 1e-9);
    }
    assert.equal(q.adjustedChannels, 0);
  });

  it('a dead channel (tiny weights, large bias) gets a larger weight scale so its bias fits int32', () => {
    const w = weights(POINTWISE.shape);
    for (let i = 0; i < 6; i++) w[i] = 1e-12;
    const bias = new Float32Array(8).fill(0.1);
    bias[0] = 5;
    const q = quantizeConv(w, bias, 1e-3, POINTWISE, { perChannel: true, range: 'pairwise' });
    assert.equal(q.adjustedChannels, 1);
    const s = Math.fround(1e-3 * q.weights.scales[0]);
    assert.ok(Math.abs(q.bias[0]) < 2 ** 31 - 1);
    assert.ok(Math.abs(q.bias[0] * s - 5) < 1e-3);
  });

  it('bias correction: with inputs at their means, the quantized conv gives the float output exactly', () => {
    for (const conv of [POINTWISE, FULL_3X3, DEPTHWISE]) {
      const w = weights(conv.shape, 11);
      const [outs] = conv.shape;
      const inputs = conv.groups * conv.shape[1];
      const means = Float64Array.from({ length: inputs }, (_, c) => 0.5 + 0.1 * c);
      const bias = Float32Array.from({ length: outs }, (_, o) => 0.01 * o);
      const quantized = quantizeWeights(w, conv, { perChannel: true, range: 'reduced' });
      const corrected = correctBias(w, quantized, bias, means, conv.groups);
      // y_o for a constant input x_c = mean_c (no padding): Σ w · x + b
      const perOut = w.length / outs;
      const kernel = perOut / conv.shape[1];
      for (let o = 0; o < outs; o++) {
        const first = Math.floor(o / (outs / conv.groups)) * conv.shape[1];
        let exact = bias[o];
        let rounded = corrected[o];
        for (let i = 0; i < perOut; i++) {
          const x = means[first + Math.floor(i / kernel)];
          exact += w[o * perOut + i] * x;
          rounded += quantized.values[o * perOut + i] * quantized.scales[o] * x;
        }
        assert.ok(Math.abs(rounded - exact) < 1e-5, `channel ${o}: ${rounded} vs ${exact}`);
      }
    }
  });
});
