import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { decodeBoxes } from '../../src/core/boxes.js';
import { isUltrafaceError } from '../../src/core/errors.js';
import { createPriorMatcher, DEFAULT_MATCH_THRESHOLD, matchPriors } from '../../src/core/matching.js';
import { INPUT_SIZES, type InputSizeName } from '../../src/core/presets.js';
import { generatePriors } from '../../src/core/priors.js';

interface FixtureCase {
  name: string;
  inputSize: InputSizeName;
  threshold: number;
  priorCount: number;
  boxes: number[][];
  labels: number[];
  bestPriorPerTarget: number[];
  ties: Record<string, number>;
  positives: [number, number][];
  checked: number[];
  locations: number[][];
}

const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/matching/match-priors.json', import.meta.url), 'utf8'),
) as { cases: FixtureCase[] };

describe('prior matching (SPEC §5.3) against upstream box_utils in PyTorch', () => {
  for (const c of fixture.cases) {
    it(`${c.name}: identical labels, locations within 1e-5 (relative above 1)`, () => {
      const priors = generatePriors(INPUT_SIZES[c.inputSize]);
      assert.equal(priors.length / 4, c.priorCount);
      const { labels, locations } = matchPriors(c.boxes.flat(), c.labels, priors, { threshold: c.threshold });

      const expected = new Int32Array(c.priorCount);
      for (const [p, label] of c.positives) expected[p] = label;
      assert.deepEqual(labels, expected);

      let worst = 0;
      c.checked.forEach((p, k) => {
        for (let j = 0; j < 4; j++) {
          const want = c.locations[k][j];
          const error = Math.abs(locations[4 * p + j] - want) / Math.max(1, Math.abs(want));
          worst = Math.max(worst, error);
          assert.ok(error <= 1e-5, `prior ${p} coord ${j}: ${locations[4 * p + j]} vs ${want}`);
        }
      });
      assert.ok(worst <= 1e-5);
    });
  }

  it('the fixture exercises ties, shared best priors and forced positives', () => {
    const sum = (key: string): number => fixture.cases.reduce((s, c) => s + (c.ties[key] ?? 0), 0);
    assert.ok(sum('targetsWithTiedBestPrior') > 0);
    assert.ok(sum('priorsWithTiedBestTarget') > 0);
    assert.ok(sum('sharedBestPriors') > 0);
    assert.ok(sum('forcedBelowThreshold') > 0);
    assert.ok(
      fixture.cases.some((c) => c.inputSize === 128) && fixture.cases.some((c) => c.inputSize === 320),
    );
  });
});

describe('createPriorMatcher', () => {
  const priors = generatePriors(INPUT_SIZES[320]);
  const P = priors.length / 4;

  it('defaults to threshold 0.35', () => {
    assert.equal(DEFAULT_MATCH_THRESHOLD, 0.35);
    assert.equal(createPriorMatcher(priors).threshold, 0.35);
  });

  it('an image without faces is all background with zero locations', () => {
    const { labels, locations } = createPriorMatcher(priors).match([], []);
    assert.ok(labels.every((v) => v === 0));
    assert.ok(locations.every((v) => v === 0));
  });

  it('writes into caller-provided subarrays (one item of a batch) and reuses its scratch safely', () => {
    const matcher = createPriorMatcher(priors);
    const batchLabels = new Int32Array(2 * P).fill(-7);
    const batchLocations = new Float32Array(2 * P * 4).fill(-7);
    const boxes = [0.1, 0.1, 0.3, 0.4, 0.5, 0.5, 0.6, 0.62];
    const out = { labels: batchLabels.subarray(P), locations: batchLocations.subarray(4 * P) };
    assert.equal(matcher.match(boxes, [1, 1], out), out);
    const alone = matcher.match(boxes, [1, 1]);
    assert.deepEqual(batchLabels.subarray(P), alone.labels);
    assert.deepEqual(batchLocations.subarray(4 * P), alone.locations);
    assert.ok(batchLabels.subarray(0, P).every((v) => v === -7));
    // A second image through the same matcher is independent of the first.
    const other = matcher.match([0.7, 0.2, 0.9, 0.5], [1]);
    assert.deepEqual(other, matchPriors([0.7, 0.2, 0.9, 0.5], [1], priors));
  });

  it('rejects mismatched shapes with E_INVALID_INPUT', () => {
    const matcher = createPriorMatcher(priors);
    assert.throws(
      () => matcher.match([0, 0, 1], [1]),
      (e) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
    assert.throws(
      () => matcher.match([0, 0, 1, 1], [1], { labels: new Int32Array(3), locations: new Float32Array(12) }),
      (e) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
    assert.throws(
      () => createPriorMatcher(new Float32Array(6)),
      (e) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
    assert.throws(
      () => createPriorMatcher(priors, { threshold: 1.5 }),
      (e) => isUltrafaceError(e, 'E_INVALID_OPTION'),
    );
  });

  it('every face owns a positive prior, positives decode back to their face, labels come from the faces', () => {
    const box = fc
      .record({
        x: fc.double({ min: -0.05, max: 0.95, noNaN: true }),
        y: fc.double({ min: -0.05, max: 0.95, noNaN: true }),
        w: fc.double({ min: 0.004, max: 0.9, noNaN: true }),
        h: fc.double({ min: 0.004, max: 0.9, noNaN: true }),
      })
      .map(({ x, y, w, h }) => [x, y, x + w, y + h].map(Math.fround));
    fc.assert(
      fc.property(fc.array(box, { minLength: 1, maxLength: 12 }), (faces) => {
        const labels = faces.map((_, t) => 1 + t); // distinct labels identify the owner of each prior
        const result = createPriorMatcher(priors).match(faces.flat(), labels);
        const decoded = decodeBoxes(result.locations, priors);
        let positives = 0;
        for (let p = 0; p < P; p++) {
          const label = result.labels[p];
          if (label === 0) continue;
          positives++;
          const face = faces[label - 1];
          for (let j = 0; j < 4; j++) {
            assert.ok(Math.abs(decoded[4 * p + j] - face[j]) < 1e-5, `prior ${p}`);
          }
        }
        // Each face is positive somewhere unless a later face took its only (best) prior.
        assert.ok(positives >= new Set(faces.map((f) => f.join())).size - faces.length + 1);
      }),
      { seed: 7, numRuns: 60 },
    );
  });
});
