import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { generatePriors, priorCount } from '../../src/core/priors.js';
import { INPUT_SIZES, INPUT_SIZE_NAMES, MIN_BOXES, networkSize } from '../../src/core/presets.js';
import { sharedPath } from '../helpers/shared.js';

interface PriorsJsonSize {
  count: number;
  count_per_level: number[];
  clamped_values: number;
  column_sums_float64: number[];
  first10: number[][];
  last10: number[][];
  [key: string]: unknown;
}
const golden = JSON.parse(readFileSync(sharedPath('reference/priors.json'), 'utf8')) as {
  sizes: Record<string, PriorsJsonSize>;
};

/** Values the float32 generator produced above 1 before the clamp (SPEC §4.2 "values clamped"). */
function countClamped(size: (typeof INPUT_SIZES)[keyof typeof INPUT_SIZES]): number {
  let clamped = 0;
  MIN_BOXES.forEach((boxes, level) => {
    const cells = size.featureWidths[level] * size.featureHeights[level];
    for (const m of boxes) {
      if (Math.fround(m / size.width) > 1) clamped += cells;
      if (Math.fround(m / size.height) > 1) clamped += cells;
    }
  });
  return clamped;
}

describe('generatePriors', () => {
  for (const name of INPUT_SIZE_NAMES) {
    const size = INPUT_SIZES[name];
    it(`${size.width}x${size.height} matches priors.json`, () => {
      const ref = golden.sizes[`${size.width}x${size.height}`];
      const priors = generatePriors(size);
      assert.equal(priorCount(size), ref.count);
      assert.equal(priors.length, ref.count * 4);
      assert.deepEqual(Array.from(priors.subarray(0, 40)), ref.first10.flat().map(Math.fround));
      assert.deepEqual(Array.from(priors.subarray(priors.length - 40)), ref.last10.flat().map(Math.fround));
      const sums = [0, 0, 0, 0];
      for (let i = 0; i < priors.length; i++) sums[i % 4] += priors[i];
      sums.forEach((sum, c) => {
        assert.ok(Math.abs(sum - ref.column_sums_float64[c]) < 1e-9, `column ${c}: ${sum}`);
      });
      assert.equal(countClamped(size), ref.clamped_values);
    });
  }
});

describe('networkSize', () => {
  it('reproduces the six upstream feature-map tables', () => {
    for (const name of INPUT_SIZE_NAMES) {
      const preset = INPUT_SIZES[name];
      const derived = networkSize(preset.width, preset.height);
      assert.deepEqual(derived.featureWidths, preset.featureWidths);
      assert.deepEqual(derived.featureHeights, preset.featureHeights);
    }
  });
  it('gives as many priors as the network has outputs for odd sizes', () => {
    assert.equal(priorCount(networkSize(416, 416)), 52 * 52 * 3 + 26 * 26 * 2 + 13 * 13 * 2 + 7 * 7 * 3);
    assert.deepEqual(networkSize(641, 359).featureWidths, [81, 41, 21, 11]);
  });
});
