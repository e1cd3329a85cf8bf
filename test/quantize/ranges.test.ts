import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { activationParams, INPUT_PARAMS } from '../../src/quantize/qdq.js';
import {
  channelMeans,
  chooseRange,
  emptyStats,
  entropyThreshold,
  HISTOGRAM_BINS,
  percentileThreshold,
  updateHistogram,
  updateMinMax,
} from '../../src/quantize/ranges.js';

/** Deterministic standard-normal-ish values (sum of 12 uniforms from an LCG, minus 6). */
function normals(count: number, seed = 1): Float32Array {
  let state = seed;
  const uniform = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return Float32Array.from({ length: count }, () => {
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += uniform();
    return sum - 6;
  });
}

function statsOf(values: Float32Array, dims: number[]): ReturnType<typeof emptyStats> {
  const stats = emptyStats();
  updateMinMax(stats, values, dims);
  updateHistogram(stats, values);
  return stats;
}

describe('activation statistics', () => {
  it('min/max, per-channel min/max and means of [N, C, H, W]', () => {
    // N = 2, C = 2, H·W = 2: channel 0 holds 1, 2 | 5, 6 and channel 1 holds −1, 3 | 4, −8
    const stats = emptyStats();
    updateMinMax(stats, Float32Array.of(1, 2, -1, 3, 5, 6, 4, -8), [2, 2, 1, 2]);
    assert.equal(stats.min, -8);
    assert.equal(stats.max, 6);
    assert.deepEqual([...stats.channelMin!], [1, -8]);
    assert.deepEqual([...stats.channelMax!], [6, 4]);
    assert.deepEqual([...channelMeans(stats)], [3.5, -0.5]);
  });

  it('histograms leave exact zeros out (ReLU zeros are always representable)', () => {
    const stats = statsOf(Float32Array.of(0, 0, 0, 0, 1, 2), [1, 1, 1, 6]);
    const total = stats.histogram!.reduce((a, b) => a + b, 0);
    assert.equal(total, 2);
    assert.equal(stats.histogram![HISTOGRAM_BINS - 1], 1); // the maximum lands in the last bin
  });
});

describe('range choice', () => {
  it('minmax: the observed range, widened to contain 0', () => {
    const stats = emptyStats();
    updateMinMax(stats, Float32Array.of(0.5, 3), [1, 1, 1, 2]);
    assert.deepEqual(chooseRange(stats, 'minmax'), { min: 0, max: 3 });
    const negative = emptyStats();
    updateMinMax(negative, Float32Array.of(-2, -1), [1, 1, 1, 2]);
    assert.deepEqual(chooseRange(negative, 'minmax'), { min: -2, max: 0 });
  });

  it('percentile: the bin edge where the cumulative share reaches p', () => {
    const histogram = new Float64Array(10);
    histogram.fill(1); // 10 equal bins over [0, 10]
    assert.equal(percentileThreshold(histogram, 10, 100), 10);
    assert.equal(percentileThreshold(histogram, 10, 50), 5);
    assert.equal(percentileThreshold(histogram, 10, 41), 5);
  });

  it('percentile and entropy clip a far outlier and keep the bulk of a normal distribution', () => {
    const values = normals(200_000);
    values[0] = 60; // one outlier at 60σ
    const stats = statsOf(values, [1, 1, 1, values.length]);
    for (const method of ['percentile', 'entropy'] as const) {
      const range = chooseRange(stats, method);
      assert.ok(range.max < 10 && range.max > 3, `${method}: max ${range.max}`);
      assert.ok(range.min > -10 && range.min < -3, `${method}: min ${range.min}`);
    }
    assert.deepEqual(chooseRange(stats, 'minmax').max, 60);
  });

  it('non-negative tensors keep 0 as their lower bound', () => {
    const values = normals(50_000).map(Math.abs);
    const range = chooseRange(statsOf(values, [1, 1, 1, values.length]), 'entropy');
    assert.equal(range.min, 0);
    assert.ok(range.max > 2, `entropy max ${range.max}`);
  });

  it('entropy keeps the whole range when it needs no more levels than it has', () => {
    const histogram = new Float64Array(2048);
    histogram.fill(1, 0, 100); // 100 used bins < 255 levels
    assert.equal(entropyThreshold(histogram, 2048, 255), 100);
  });
});

describe('uint8 activation parameters', () => {
  it('map min to 0, max to 255 and 0 to an exact zero point', () => {
    const { scale, zeroPoint } = activationParams({ min: -1, max: 3 });
    assert.equal(scale, Math.fround(4 / 255));
    assert.equal(zeroPoint, Math.round(1 / scale));
    assert.deepEqual(activationParams({ min: 0, max: 0 }), { scale: 1, zeroPoint: 0 });
  });

  it('the graph input grid is the preprocessing itself: (u8 − 127) / 128 exactly', () => {
    for (const u8 of [0, 1, 126, 127, 128, 255]) {
      const x = (u8 - 127) / 128;
      const q = Math.round(x / INPUT_PARAMS.scale) + INPUT_PARAMS.zeroPoint;
      assert.equal(q, u8);
      assert.equal((q - INPUT_PARAMS.zeroPoint) * INPUT_PARAMS.scale, x);
    }
  });
});
