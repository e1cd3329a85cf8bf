import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { IGNORE_LABEL } from '../../src/core/matching.js';
import { INPUT_SIZES } from '../../src/core/presets.js';
import { priorCount } from '../../src/core/priors.js';
import { ignoreSmallBackground, smallPriorCount } from '../../src/train/small-background.js';

describe('ignoreSmallBackground', () => {
  it('counts the first level: 40 x 30 cells x 3 boxes of the 4,420 priors at 320x240', () => {
    assert.equal(smallPriorCount(INPUT_SIZES[320]), 3600);
    assert.equal(priorCount(INPUT_SIZES[320]), 4420);
    assert.equal(smallPriorCount(INPUT_SIZES[640]), 80 * 60 * 3);
  });

  it('ignores background of the small priors in marked images only; faces and larger priors stay', () => {
    // Two images of 6 priors, the first 3 small: background, a face, an ignored prior, then the larger ones.
    const row = [0, 1, IGNORE_LABEL, 0, 1, 0];
    const labels = Int32Array.from([...row, ...row]);
    assert.equal(ignoreSmallBackground(labels, Uint8Array.from([1, 0]), 3), 1);
    assert.deepEqual(Array.from(labels), [IGNORE_LABEL, 1, IGNORE_LABEL, 0, 1, 0, ...row]);
    assert.equal(ignoreSmallBackground(labels, Uint8Array.from([0, 0]), 3), 0);
  });

  it('refuses labels that do not split into the images given', () => {
    assert.throws(
      () => ignoreSmallBackground(new Int32Array(7), new Uint8Array(2), 3),
      /7 labels for 2 images/,
    );
    assert.throws(
      () => ignoreSmallBackground(new Int32Array(4), new Uint8Array(2), 3),
      /ignoreSmallBackground/,
    );
  });
});
