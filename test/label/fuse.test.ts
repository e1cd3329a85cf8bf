import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { weightedBoxFusion } from '../../src/label/fuse.js';

const box = (x1: number, y1: number, x2: number, y2: number) => ({ x1, y1, x2, y2 });

describe('weighted box fusion', () => {
  it('fuses overlapping boxes of different runs into their score-weighted mean', () => {
    const fused = weightedBoxFusion([
      [{ box: box(0, 0, 10, 10), score: 0.9 }],
      [{ box: box(1, 1, 11, 11), score: 0.3 }],
    ]);
    assert.equal(fused.length, 1);
    const [f] = fused;
    assert.equal(f.members, 2);
    // Σ s·box / Σ s: (0.9·0 + 0.3·1) / 1.2 = 0.25
    const expected = [0.25, 0.25, 10.25, 10.25];
    [f.box.x1, f.box.y1, f.box.x2, f.box.y2].forEach((v, k) => {
      assert.ok(Math.abs(v - expected[k]) < 1e-12);
    });
    assert.ok(Math.abs(f.score - 0.6) < 1e-12); // mean of 0.9 and 0.3, seen by 2 of 2 runs
  });

  it('a face seen by one run of three scores a third of its mean', () => {
    const fused = weightedBoxFusion([[{ box: box(0, 0, 10, 10), score: 0.9 }], [], []]);
    assert.ok(Math.abs(fused[0].score - 0.3) < 1e-12);
  });

  it('boxes below the IoU threshold stay apart; output is sorted by score', () => {
    const fused = weightedBoxFusion(
      [
        [
          { box: box(0, 0, 10, 10), score: 0.5 },
          { box: box(20, 20, 30, 30), score: 0.8 },
        ],
      ],
      { iouThreshold: 0.55 },
    );
    assert.deepEqual(
      fused.map((f) => [f.box.x1, f.score]),
      [
        [20, 0.8],
        [0, 0.5],
      ],
    );
    assert.deepEqual(weightedBoxFusion([]), []);
  });
});
