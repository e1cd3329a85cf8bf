import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { countRecovered } from '../../src/eval/face-recall.js';

const face = (
  x1: number,
  y1: number,
  x2: number,
  y2: number,
): { box: { x1: number; y1: number; x2: number; y2: number } } => ({
  box: { x1, y1, x2, y2 },
});

describe('countRecovered', () => {
  it('matches one to one at IoU ≥ 0.5, each reference face taking its best unused overlap', () => {
    const reference = [face(0, 0, 10, 10), face(1, 0, 11, 10), face(50, 50, 60, 60)];
    // One found face overlaps both of the first two reference faces: it counts once.
    assert.equal(countRecovered(reference, [face(0, 0, 10, 10)]), 1);
    assert.equal(countRecovered(reference, [face(0, 0, 10, 10), face(1, 0, 11, 10)]), 2);
    // Shifted by half its width: IoU 50 / 150 = 1/3, under 0.5 (but over 0.3).
    assert.equal(countRecovered([face(0, 0, 10, 10)], [face(5, 0, 15, 10)]), 0);
    assert.equal(countRecovered([face(0, 0, 10, 10)], [face(5, 0, 15, 10)], 0.3), 1);
    assert.equal(countRecovered([], [face(0, 0, 1, 1)]), 0);
    assert.equal(countRecovered(reference, []), 0);
  });
});
