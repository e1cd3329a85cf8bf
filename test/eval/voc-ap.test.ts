import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { isUltrafaceError } from '../../src/core/errors.js';
import { evaluateVocAp, numpySum, type VocImage } from '../../src/eval/voc-ap.js';

/** An image: gt and detections as [x1, y1, x2, y2] rows, detection scores. */
function img(
  gt: number[][],
  dets: [number, number, number, number, number][],
  difficult?: number[],
): VocImage {
  return {
    groundTruth: gt.flat(),
    boxes: dets.flatMap((d) => d.slice(0, 4)),
    scores: dets.map((d) => d[4]),
    ...(difficult ? { difficult } : {}),
  };
}

describe('numpySum (np.sum pairwise summation)', () => {
  it('equals plain summation below 8 values and differs from it where NumPy does', () => {
    assert.equal(numpySum([0.1, 0.2, 0.3]), 0.1 + 0.2 + 0.3);
    assert.equal(numpySum([]), 0);
    // 9 values: 8 accumulators, then ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7)), then the 9th
    const v = [1e16, 1, 1, 1, 1, 1, 1, 1, 1];
    assert.equal(numpySum(v), 1.0000000000000008e16); // np.sum(v); a plain loop gives 1e16
    // np.sum(np.full(1001, 0.1)) with NumPy 2.4 (a plain loop gives 100.09999999999859)
    const tenths = Array.from({ length: 1001 }, () => 0.1);
    assert.equal(numpySum(tenths), 100.10000000000002);
    assert.notEqual(
      tenths.reduce((a, b) => a + b, 0),
      100.10000000000002,
    );
  });
});

describe('evaluateVocAp (notes/eval-conventions.md)', () => {
  it('gives AP 1 for perfect detections', () => {
    const r = evaluateVocAp([
      img(
        [
          [0, 0, 10, 10],
          [20, 20, 30, 40],
        ],
        [
          [0, 0, 10, 10, 0.9],
          [20, 20, 30, 40, 0.8],
        ],
      ),
      img([[5, 5, 9, 9]], [[5, 5, 9, 9, 0.1]]),
    ]);
    assert.equal(r.ap, 1);
    assert.deepEqual([r.truePositives, r.falsePositives, r.groundTruthCount], [3, 0, 3]);
  });

  it('matches a hand-computed AP', () => {
    // 3 faces in 2 images; detections by score: TP (0.9), FP (0.8), TP (0.7), duplicate FP (0.6).
    // P = 1, 1/2, 2/3, 1/2; R = 1/3, 1/3, 2/3, 2/3. Envelope: 1, 2/3, 2/3, 1/2.
    // AP = 1/3 · 1 + 1/3 · 2/3 = 5/9 (the third face is never found).
    const r = evaluateVocAp([
      img(
        [
          [0, 0, 10, 10],
          [50, 50, 60, 60],
        ],
        [
          [0, 0, 10, 10, 0.9],
          [100, 100, 110, 110, 0.8],
          [0, 0, 10, 11, 0.6],
        ],
      ),
      img([[0, 0, 20, 20]], [[1, 1, 20, 20, 0.7]]),
    ]);
    assert.deepEqual(Array.from(r.precision), [1, 0.5, 2 / 3, 0.5]);
    assert.deepEqual(Array.from(r.recall), [1 / 3, 1 / 3, 2 / 3, 2 / 3]);
    assert.deepEqual(Array.from(r.scores), [0.9, 0.8, 0.7, 0.6]);
    assert.ok(Math.abs(r.ap - 5 / 9) < 1e-15);
  });

  it('uses continuous IoU (no +1) and accepts IoU exactly 0.5', () => {
    // [0,0,10,10] vs [0,0,10,20]: 100 / 200 = 0.5 exactly; with the +1 convention it would be 121/231 ≈ 0.52
    const half = evaluateVocAp([img([[0, 0, 10, 20]], [[0, 0, 10, 10, 1]])]);
    assert.equal(half.truePositives, 1);
    // [0,0,10,10] vs [0,0,10,21]: 100/210 < 0.5 — a miss here, a match (121/242 = 0.5) with +1
    const below = evaluateVocAp([img([[0, 0, 10, 21]], [[0, 0, 10, 10, 1]])]);
    assert.equal(below.truePositives, 0);
    assert.equal(below.ap, 0);
  });

  it('makes a detection whose best box is already matched a false positive (no fallback to the next box)', () => {
    // the second detection overlaps gt 0 best (already matched) and gt 1 with IoU ≥ 0.5
    const r = evaluateVocAp([
      img(
        [
          [0, 0, 10, 10],
          [2, 0, 12, 10],
        ],
        [
          [0, 0, 10, 10, 0.9],
          [1, 0, 11, 10, 0.8],
        ],
      ),
    ]);
    assert.deepEqual([r.truePositives, r.falsePositives], [1, 1]);
  });

  it('orders equal scores by input order (image, then detection) — deterministic tie rule', () => {
    const miss = img([], [[0, 0, 10, 10, 0.5]]); // a false positive
    const hit = img([[0, 0, 10, 10]], [[0, 0, 10, 10, 0.5]]); // a true positive
    assert.equal(evaluateVocAp([miss, hit]).ap, 0.5); // FP first: P = 0, 1/2 at R = 0, 1
    assert.equal(evaluateVocAp([hit, miss]).ap, 1); // TP first: P = 1 at R = 1
  });

  it('ignores detections on difficult boxes and leaves difficult boxes out of the recall', () => {
    const r = evaluateVocAp([
      img(
        [
          [0, 0, 10, 10],
          [50, 50, 60, 60],
        ],
        [
          [50, 50, 60, 60, 0.9],
          [0, 0, 10, 10, 0.8],
        ],
        [0, 1],
      ),
    ]);
    assert.deepEqual([r.groundTruthCount, r.ignoredCount, r.truePositives, r.falsePositives], [1, 1, 1, 0]);
    assert.equal(r.ap, 1);
  });

  it('handles empty images and empty splits', () => {
    assert.equal(evaluateVocAp([img([[0, 0, 10, 10]], [])]).ap, 0); // no detection
    assert.equal(evaluateVocAp([]).ap, 0); // nothing at all: mrec = [0, 1], mpre = [0, 0]
    const noGt = evaluateVocAp([img([], [[0, 0, 10, 10, 0.5]])]);
    assert.equal(noGt.falsePositives, 1);
    assert.ok(Number.isNaN(noGt.ap)); // recall 0/0, as NumPy
  });

  it('rejects malformed input', () => {
    assert.throws(
      () => evaluateVocAp([{ groundTruth: [0, 0, 1], boxes: [], scores: [] }]),
      (e: unknown) => isUltrafaceError(e, 'E_DATASET'),
    );
    assert.throws(
      () => evaluateVocAp([{ groundTruth: [], boxes: [0, 0, 1, 1], scores: [] }]),
      (e: unknown) => isUltrafaceError(e, 'E_DATASET'),
    );
    assert.throws(
      () => evaluateVocAp([img([], [[0, 0, 1, 1, NaN]])]),
      (e: unknown) => isUltrafaceError(e, 'E_DATASET'),
    );
    assert.throws(
      () => evaluateVocAp([], { iouThreshold: 2 }),
      (e: unknown) => isUltrafaceError(e, 'E_INVALID_OPTION'),
    );
  });

  it('property: the ground truth as detections gives AP 1 (with any scores and difficult flags)', () => {
    const box = fc
      .tuple(
        fc.double({ min: -50, max: 500, noNaN: true }),
        fc.double({ min: -50, max: 500, noNaN: true }),
        fc.double({ min: 1, max: 100, noNaN: true }),
        fc.double({ min: 1, max: 100, noNaN: true }),
      )
      .map(([x, y, w, h]) => [x, y, x + w, y + h]);
    const image = fc
      .uniqueArray(fc.tuple(box, fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), {
        maxLength: 6,
        selector: ([b]) => b.join(),
      })
      .map((rows) => ({
        groundTruth: rows.flatMap(([b]) => b),
        boxes: rows.flatMap(([b]) => b),
        scores: rows.map(([, s]) => s),
        difficult: rows.map(([, , d]) => (d ? 1 : 0)),
      }));
    fc.assert(
      fc.property(
        fc.array(image, { maxLength: 6 }).filter((images) => images.some((im) => im.difficult.includes(0))),
        (images) => {
          const r = evaluateVocAp(images);
          assert.ok(Math.abs(r.ap - 1) < 1e-12, String(r.ap));
          assert.equal(r.falsePositives, 0);
        },
      ),
      { numRuns: 200, seed: 200 },
    );
  });
});
