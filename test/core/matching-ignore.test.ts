import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createPriorMatcher, IGNORE_LABEL } from '../../src/core/matching.js';

/**
 * Ignore regions in prior matching (issue #15): a constructed case on a 4 x 4 grid of priors 0.25 wide, so which
 * prior overlaps which box is plain from the coordinates.
 */
function gridPriors(): Float32Array {
  const priors: number[] = [];
  for (let y = 0; y < 4; y++)
    for (let x = 0; x < 4; x++) priors.push((x + 0.5) / 4, (y + 0.5) / 4, 0.25, 0.25);
  return Float32Array.from(priors);
}

describe('prior matching with ignore regions', () => {
  const matcher = createPriorMatcher(gridPriors(), { threshold: 0.35 });

  it('faces match as without the ignore regions; priors overlapping an ignore region become ignored', () => {
    const face = [0, 0, 0.25, 0.25]; // prior 0 exactly
    const ignore = [0.5, 0.5, 0.75, 0.75]; // prior 10 exactly
    const plain = matcher.match(face, [1]);
    const withIgnore = matcher.match([...face, ...ignore], [1, IGNORE_LABEL]);
    for (let p = 0; p < 16; p++) {
      const expected = p === 10 ? IGNORE_LABEL : plain.labels[p];
      assert.equal(withIgnore.labels[p], expected, `prior ${p}`);
    }
    assert.deepEqual(withIgnore.locations.subarray(0, 4), plain.locations.subarray(0, 4));
  });

  it('a face keeps a prior an ignore region also covers', () => {
    const box = [0.25, 0.25, 0.5, 0.5]; // prior 5
    const result = matcher.match([...box, ...box], [IGNORE_LABEL, 1]);
    assert.equal(result.labels[5], 1);
    assert.equal(result.labels.filter((l) => l === IGNORE_LABEL).length, 0);
  });

  it('an ignore region smaller than any prior still ignores its best prior', () => {
    const tiny = [0.3, 0.3, 0.31, 0.31]; // inside prior 5, IoU ≈ 0.0016
    const result = matcher.match([0.75, 0.75, 1, 1, ...tiny], [1, IGNORE_LABEL]);
    assert.equal(result.labels[5], IGNORE_LABEL);
    assert.equal(result.labels[15], 1);
    assert.equal(result.labels.filter((l) => l === IGNORE_LABEL).length, 1);
  });

  it('an image with only ignore regions has no positives, and the regions are ignored', () => {
    const result = matcher.match([0, 0, 0.25, 0.25], [IGNORE_LABEL]);
    assert.equal(result.labels[0], IGNORE_LABEL);
    assert.equal(result.labels.filter((l) => l > 0).length, 0);
  });
});
