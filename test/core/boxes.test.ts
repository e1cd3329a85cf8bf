import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { decodeBoxes, encodeBox, iou, IOU_EPS } from '../../src/core/boxes.js';
import { INPUT_SIZES } from '../../src/core/presets.js';
import { generatePriors } from '../../src/core/priors.js';

const priors = generatePriors(INPUT_SIZES[320]);
const priorCount = priors.length / 4;

describe('box coding (SPEC §5.1)', () => {
  it('decode(encode(box)) returns the box, for any box and prior', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: priorCount - 1 }),
        fc.double({ min: -0.5, max: 1.5, noNaN: true }),
        fc.double({ min: -0.5, max: 1.5, noNaN: true }),
        fc.double({ min: 0.002, max: 1.5, noNaN: true }),
        fc.double({ min: 0.002, max: 1.5, noNaN: true }),
        (p, x1, y1, w, h) => {
          const box = { x1, y1, x2: x1 + w, y2: y1 + h };
          const decoded = decodeBoxes(encodeBox(box, priors, p * 4), priors.subarray(p * 4, p * 4 + 4));
          const tolerance = 1e-5 * (1 + Math.max(w, h, Math.abs(x1), Math.abs(y1)));
          [box.x1, box.y1, box.x2, box.y2].forEach((v, k) => {
            assert.ok(Math.abs(decoded[k] - v) < tolerance, `coord ${k}: ${decoded[k]} vs ${v}`);
          });
        },
      ),
      { seed: 42, numRuns: 500 },
    );
  });

  it('zero regression decodes to the prior itself, in corner form', () => {
    const decoded = decodeBoxes(new Float32Array(priors.length), priors);
    for (const p of [0, 1234, priorCount - 1]) {
      const [cx, cy, w, h] = priors.subarray(p * 4, p * 4 + 4);
      assert.deepEqual(Array.from(decoded.subarray(p * 4, p * 4 + 4)), [
        Math.fround(cx - Math.fround(w / 2)),
        Math.fround(cy - Math.fround(h / 2)),
        Math.fround(cx + Math.fround(w / 2)),
        Math.fround(cy + Math.fround(h / 2)),
      ]);
    }
  });

  it('encodes with the 0.1 / 0.2 variances', () => {
    const prior = [0.5, 0.5, 0.2, 0.1];
    const [dx, dy, dw, dh] = encodeBox({ x1: 0.42, y1: 0.46, x2: 0.62, y2: 0.56 }, prior);
    assert.ok(Math.abs(dx - 1) < 1e-12); // centre 0.52: (0.02 / 0.2) / 0.1
    assert.ok(Math.abs(dy - 1) < 1e-12); // centre 0.51: (0.01 / 0.1) / 0.1
    assert.ok(Math.abs(dw) < 1e-12 && Math.abs(dh) < 1e-12);
  });
});

describe('iou (SPEC §5.2)', () => {
  it('adds eps to the union, so identical boxes score just under 1', () => {
    const box = { x1: 0, y1: 0, x2: 2, y2: 2 };
    assert.equal(iou(box, box), 4 / (4 + IOU_EPS));
  });
  it('is symmetric, within [0, 1), and 0 for disjoint boxes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 8, maxLength: 8 }),
        (v) => {
          const a = {
            x1: Math.min(v[0], v[1]),
            x2: Math.max(v[0], v[1]),
            y1: Math.min(v[2], v[3]),
            y2: Math.max(v[2], v[3]),
          };
          const b = {
            x1: Math.min(v[4], v[5]),
            x2: Math.max(v[4], v[5]),
            y1: Math.min(v[6], v[7]),
            y2: Math.max(v[6], v[7]),
          };
          const ab = iou(a, b);
          assert.equal(ab, iou(b, a));
          assert.ok(ab >= 0 && ab < 1);
        },
      ),
      { seed: 7 },
    );
    assert.equal(iou({ x1: 0, y1: 0, x2: 1, y2: 1 }, { x1: 2, y1: 2, x2: 3, y2: 3 }), 0);
  });
});
