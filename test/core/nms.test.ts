import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { iouAt } from '../../src/core/boxes.js';
import { resolvePostprocessOptions } from '../../src/core/detect-options.js';
import { isUltrafaceError } from '../../src/core/errors.js';
import { hardNms, softNms } from '../../src/core/nms.js';
import { facesFromOutputs } from '../../src/core/postprocess.js';

// Three boxes: 0 and 1 overlap heavily (IoU 0.68), 2 is apart.
const boxes = Float32Array.from([0, 0, 10, 10, 1, 1, 11, 11, 20, 20, 30, 30]);
const scores = Float32Array.from([0.8, 0.9, 0.7]);
const hard = { iouThreshold: 0.3, topK: -1, candidateSize: 200 };

describe('hardNms (SPEC §8.2)', () => {
  it('keeps the best of overlapping boxes, in descending score order', () => {
    assert.deepEqual(hardNms(boxes, scores, hard), [1, 2]);
  });
  it('honours topK and candidateSize', () => {
    assert.deepEqual(hardNms(boxes, scores, { ...hard, topK: 1 }), [1]);
    assert.deepEqual(hardNms(boxes, scores, { ...hard, candidateSize: 1 }), [1]);
  });
  it('suppresses only above the threshold (IoU ≤ threshold survives)', () => {
    const overlap = iouAt(boxes, 0, 1);
    assert.deepEqual(hardNms(boxes, scores, { ...hard, iouThreshold: overlap }), [1, 0, 2]);
    assert.deepEqual(hardNms(boxes, scores, { ...hard, iouThreshold: overlap - 1e-9 }), [1, 2]);
  });
  it('breaks score ties by the lower index and leaves its arguments alone', () => {
    const tied = Float32Array.from([0.5, 0.5, 0.5]);
    const before = Array.from(boxes);
    assert.deepEqual(hardNms(boxes, tied, hard), [0, 2]);
    assert.deepEqual(Array.from(boxes), before);
    assert.deepEqual(Array.from(tied), [0.5, 0.5, 0.5]);
  });
  it('picks no two boxes overlapping above the threshold, and misses no box that overlaps none', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 50 }),
            fc.integer({ min: 0, max: 50 }),
            fc.integer({ min: 1, max: 20 }),
            fc.float({ min: 0, max: 1, noNaN: true }),
          ),
          { maxLength: 40 },
        ),
        (rows) => {
          const b = Float32Array.from(rows.flatMap(([x, y, s]) => [x, y, x + s, y + s]));
          const sc = Float32Array.from(rows.map((r) => r[3]));
          const picked = hardNms(b, sc, hard);
          for (const i of picked) for (const j of picked) if (i !== j) assert.ok(iouAt(b, i, j) <= 0.3);
          for (let i = 0; i < rows.length; i++) {
            const alone = rows.every((_, j) => j === i || iouAt(b, i, j) <= 0.3);
            if (alone) assert.ok(picked.includes(i));
          }
        },
      ),
      { seed: 3 },
    );
  });
});

describe('softNms (SPEC §8.3)', () => {
  it('decays overlapping scores with exp(−iou² / sigma) instead of dropping them', () => {
    const result = softNms(boxes, scores, { scoreThreshold: 0.01, sigma: 0.5, topK: -1 });
    assert.deepEqual(result.indices, [1, 2, 0]);
    const overlap = iouAt(boxes, 0, 1);
    assert.ok(Math.abs(result.scores[2] - 0.8 * Math.exp(-(overlap * overlap) / 0.5)) < 1e-6);
    assert.ok(Math.abs(result.scores[0] - Math.fround(0.9)) < 1e-9);
  });
  it('drops boxes decayed to the threshold', () => {
    const result = softNms(boxes, scores, { scoreThreshold: 0.6, sigma: 0.5, topK: -1 });
    assert.deepEqual(result.indices, [1, 2]);
  });
});

describe('facesFromOutputs (SPEC §8.1)', () => {
  // Two priors' worth of outputs: [P, 2] scores and [P, 4] normalized corners.
  const outScores = Float32Array.from([0.3, 0.7, 0.05, 0.95, 0.2, 0.8]);
  const outBoxes = Float32Array.from([0.1, 0.1, 0.2, 0.2, 0.5, 0.5, 0.7, 0.9, 0.1, 0.1, 0.2, 0.21]);
  it('thresholds strictly, runs NMS and scales to pixels', () => {
    const faces = facesFromOutputs(
      outScores,
      outBoxes,
      2,
      200,
      100,
      resolvePostprocessOptions({ scoreThreshold: 0.7 }),
    );
    assert.equal(faces.length, 2);
    assert.deepEqual(faces[0].box, { x1: 100, y1: 50, x2: 140, y2: 90 });
    assert.ok(Math.abs(faces[0].score - 0.95) < 1e-6);
    assert.ok(Math.abs(faces[1].score - 0.8) < 1e-6); // prior 0 (0.7) is not > 0.7
  });
  it('rejects out-of-range options with the standard message', () => {
    assert.throws(
      () => resolvePostprocessOptions({ iouThreshold: -0.1 }),
      (e: unknown) =>
        isUltrafaceError(e, 'E_INVALID_OPTION') &&
        e.message === 'Expected a number between 0 and 1 for iouThreshold but received -0.1',
    );
    assert.throws(() => resolvePostprocessOptions({ nms: 'fast' as 'hard' }), /one of "hard", "soft"/);
    assert.throws(() => resolvePostprocessOptions({ candidateSize: 1.5 }), /integer/);
  });
});
