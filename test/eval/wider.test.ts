import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { isUltrafaceError } from '../../src/core/errors.js';
import type { WiderGroundTruth, WiderImageGroundTruth, WiderSetting } from '../../src/data/wider-types.js';
import { allPointAp } from '../../src/eval/voc-ap.js';
import {
  evaluateWider,
  normalizeWiderScores,
  widerImageKey,
  type WiderPredictions,
} from '../../src/eval/wider-protocol.js';

type Keep = Partial<Record<WiderSetting, number[]>>;

/** A gt image; boxes are [x, y, w, h] rows; `keep` lists 0-based indices per setting (default: all boxes). */
function image(event: string, name: string, boxes: number[][], keep: Keep = {}): WiderImageGroundTruth {
  const all = boxes.map((_, i) => i);
  return {
    event,
    name,
    boxes: Float64Array.from(boxes.flat()),
    keep: {
      easy: Uint32Array.from(keep.easy ?? all),
      medium: Uint32Array.from(keep.medium ?? all),
      hard: Uint32Array.from(keep.hard ?? all),
    },
  };
}

/** Predictions: key → [x, y, w, h, score] rows. */
function preds(entries: Record<string, number[][]>): WiderPredictions {
  return new Map(Object.entries(entries).map(([key, rows]) => [key, Float64Array.from(rows.flat())]));
}

const SETTINGS = ['easy', 'medium', 'hard'] as const;
const FAR = [900, 900, 10, 10]; // a box far from every face (a false positive)

describe('evaluateWider (SPEC §10.3)', () => {
  it('gives AP 1 for perfect predictions', () => {
    const gt = {
      images: [
        image('e', 'a', [
          [0, 0, 10, 10],
          [20, 0, 10, 12],
        ]),
        image('e', 'b', [[5, 5, 40, 40]]),
      ],
    };
    const result = evaluateWider(
      gt,
      preds({
        'e/a': [
          [0, 0, 10, 10, 0.9],
          [20, 0, 10, 12, 0.8],
        ],
        'e/b': [[5, 5, 40, 40, 0.7]],
      }),
    );
    for (const setting of SETTINGS) {
      const r = result[setting];
      assert.equal(r.ap, 1);
      assert.equal(r.faceCount, 3);
      assert.ok(r.precision.every((p) => p === 1));
      assert.equal(r.recall[999], 1);
    }
  });

  it('matches a hand-computed AP of 2/3', () => {
    // faces F1, F2; predictions in score order: a false positive (1.0), F1 (0.6543), F2 (0.0).
    // Normalisation is the identity (min 0, max 1). F1 passes thresholds ≤ 0.6543, i.e. t ≥ 345; F2 only t = 999.
    //   t 0..344: 1 proposal, 0 tp → P 0,   R 0
    //   t 345..998: 2 proposals, 1 tp → P 1/2, R 1/2
    //   t 999: 3 proposals, 2 tp → P 2/3, R 1
    // Envelope 2/3 everywhere, so AP = 1/2 · 2/3 + 1/2 · 2/3 = 2/3.
    const gt = {
      images: [
        image('e', 'n', [
          [0, 0, 10, 10],
          [50, 50, 10, 10],
        ]),
      ],
    };
    const r = evaluateWider(
      gt,
      preds({
        'e/n': [
          [...FAR, 1],
          [0, 0, 10, 10, 0.6543],
          [50, 50, 10, 10, 0],
        ],
      }),
    ).hard;
    assert.deepEqual([r.proposals[344], r.truePositives[344], r.precision[344], r.recall[344]], [1, 0, 0, 0]);
    assert.deepEqual(
      [r.proposals[345], r.truePositives[345], r.precision[345], r.recall[345]],
      [2, 1, 0.5, 0.5],
    );
    assert.deepEqual([r.proposals[999], r.truePositives[999], r.recall[999]], [3, 2, 1]);
    assert.equal(r.precision[999], 2 / 3);
    assert.equal(r.ap, 0.6666666666666666); // the NumPy transcription of evaluation.py gives the same double
  });

  it('reproduces evaluation.py on a mixed fixture (golden values from a NumPy transcription)', () => {
    // fractional boxes, a face ignored in easy, a duplicate, an unsorted file, an image without gt
    const gt: WiderGroundTruth = {
      images: [
        image(
          '0--Parade',
          '0_a',
          [
            [10, 10, 20, 24],
            [40.5, 12, 18, 20],
            [80, 80, 6, 7],
          ],
          {
            easy: [0],
            medium: [0, 1],
          },
        ),
        image('0--Parade', '0_b', [
          [5, 5, 30, 30],
          [100, 40, 12, 12],
        ]),
        image(
          '1--Handshaking',
          '1_c',
          [
            [0, 0, 50, 60],
            [60, 0, 40, 50],
          ],
          { easy: [], medium: [1] },
        ),
        image('1--Handshaking', '1_d', []),
      ],
    };
    const p = preds({
      '0--Parade/0_a': [
        [11, 10, 19, 25, 0.93],
        [40, 13, 18, 19, 0.81],
        [11, 11, 19, 24, 0.8],
        [79, 80, 7, 8, 0.35],
        [200, 200, 10, 10, 0.3],
      ],
      '0--Parade/0_b': [
        [6, 4, 29, 31, 0.99],
        [101, 41, 10, 12, 0.12],
        [300, 5, 20, 20, 0.05],
      ],
      '1--Handshaking/1_c': [
        [62, 1, 38, 50, 0.4],
        [0, 1, 49, 58, 0.7],
        [20, 20, 50, 50, 0.5],
      ],
      '1--Handshaking/1_d': [[1, 1, 9, 9, 0.95]],
    });
    const result = evaluateWider(gt, p);
    assert.deepEqual(result.scoreRange, { min: 0.05, max: 0.99 });
    const expected = {
      easy: { ap: 0.8333333333333333, faces: 3, last: [7, 3], first: [1, 1] },
      medium: { ap: 0.885, faces: 5, last: [9, 5], first: [1, 1] },
      hard: { ap: 0.8738095238095238, faces: 7, last: [11, 7], first: [1, 1] },
    };
    for (const setting of SETTINGS) {
      const r = result[setting];
      const e = expected[setting];
      assert.equal(r.ap, e.ap, setting);
      assert.equal(r.faceCount, e.faces);
      assert.deepEqual([r.proposals[999], r.truePositives[999]], e.last);
      assert.deepEqual([r.proposals[0], r.truePositives[0]], e.first);
    }
    // the input is not modified
    assert.equal(p.get('0--Parade/0_a')?.[4], 0.93);
  });

  it('lets a detection on an ignored face neither help nor hurt', () => {
    // face A counts everywhere, face B only in hard. Scores 1 and 0 anchor the normalisation in both runs.
    const gt = {
      images: [
        image(
          'e',
          'n',
          [
            [0, 0, 20, 20],
            [100, 0, 20, 20],
          ],
          { easy: [0], medium: [0] },
        ),
      ],
    };
    const withB = evaluateWider(
      gt,
      preds({
        'e/n': [
          [0, 0, 20, 20, 1],
          [100, 0, 20, 20, 0.5],
          [...FAR, 0],
        ],
      }),
    );
    const withoutB = evaluateWider(
      gt,
      preds({
        'e/n': [
          [0, 0, 20, 20, 1],
          [...FAR, 0],
        ],
      }),
    );
    assert.deepEqual(withB.easy.proposals, withoutB.easy.proposals);
    assert.deepEqual(withB.easy.truePositives, withoutB.easy.truePositives);
    assert.equal(withB.easy.ap, withoutB.easy.ap);
    assert.equal(withB.easy.proposals[998], 1); // B's detection is not a proposal
    assert.ok(withB.hard.ap > withoutB.hard.ap); // in hard, B counts
  });

  it('counts a second detection of the same face as a false positive', () => {
    const gt = { images: [image('e', 'n', [[0, 0, 20, 20]])] };
    const r = evaluateWider(
      gt,
      preds({
        'e/n': [
          [0, 0, 20, 20, 1],
          [1, 0, 20, 20, 0],
        ],
      }),
    ).easy;
    assert.deepEqual([r.proposals[998], r.truePositives[998]], [1, 1]);
    assert.deepEqual([r.proposals[999], r.truePositives[999], r.precision[999]], [2, 1, 0.5]);
    assert.equal(r.ap, 1); // the envelope keeps precision 1 up to recall 1
  });

  it('matches the first gt on equal IoU (argmax), even when that face is ignored', () => {
    // two identical faces, the first ignored in easy: the detection goes to the first and is excluded
    const gt = {
      images: [
        image(
          'e',
          'n',
          [
            [0, 0, 20, 20],
            [0, 0, 20, 20],
          ],
          { easy: [1] },
        ),
      ],
    };
    const result = evaluateWider(
      gt,
      preds({
        'e/n': [
          [0, 0, 20, 20, 0.9],
          [...FAR, 0.1],
        ],
      }),
    );
    assert.deepEqual([result.easy.proposals[999], result.easy.truePositives[999]], [1, 0]);
    assert.deepEqual([result.hard.proposals[999], result.hard.truePositives[999]], [2, 1]);
  });

  it('counts the faces of images with no predictions and ignores predictions on images with no faces', () => {
    const gt = {
      images: [
        image('e', 'faces', [
          [0, 0, 10, 10],
          [20, 20, 10, 10],
        ]),
        image('e', 'nothing', [[0, 0, 10, 10]]),
        image('e', 'nogt', []),
      ],
    };
    const r = evaluateWider(
      gt,
      preds({
        'e/faces': [
          [0, 0, 10, 10, 1],
          [20, 20, 10, 10, 0],
        ],
        'e/nothing': [],
        'e/nogt': [[...FAR, 0.5]],
      }),
    ).easy;
    assert.equal(r.faceCount, 3);
    assert.equal(r.recall[999], 2 / 3);
    assert.equal(r.proposals[999], 2); // the detection on 'nogt' is no false positive (official behaviour)
  });

  it('uses predictions in file order without sorting them (official behaviour)', () => {
    const gt = {
      images: [
        image('e', 'n', [
          [0, 0, 10, 10],
          [50, 50, 10, 10],
        ]),
      ],
    };
    const sorted = evaluateWider(
      gt,
      preds({
        'e/n': [
          [0, 0, 10, 10, 1],
          [50, 50, 10, 10, 0],
        ],
      }),
    ).easy;
    const unsorted = evaluateWider(
      gt,
      preds({
        'e/n': [
          [50, 50, 10, 10, 0],
          [0, 0, 10, 10, 1],
        ],
      }),
    ).easy;
    assert.equal(sorted.recall[0], 0.5);
    // r = last index with score ≥ threshold; in the unsorted file that is index 1, so the prefix holds both
    assert.equal(unsorted.recall[0], 1);
  });

  it('gives the same AP when scores are ties, whatever their order (equal scores pass together)', () => {
    const gt = {
      images: [
        image('e', 'n', [
          [0, 0, 10, 10],
          [50, 50, 10, 10],
        ]),
      ],
    };
    const rows = [
      [0, 0, 10, 10, 0.5],
      [...FAR, 0.5],
      [50, 50, 10, 10, 0.5],
      [...FAR, 0.1],
    ];
    const a = evaluateWider(gt, preds({ 'e/n': rows })).easy;
    const b = evaluateWider(gt, preds({ 'e/n': [rows[1], rows[2], rows[0], rows[3]] })).easy;
    assert.deepEqual(a.precision, b.precision);
    assert.equal(a.ap, b.ap);
    assert.equal(a.precision[0], 2 / 3);
  });

  describe('score normalisation (step 2)', () => {
    it('maps min → 0 and max → 1 over the whole prediction set, starting from max 0 and min 1', () => {
      const n = normalizeWiderScores(preds({ 'e/a': [[0, 0, 1, 1, 0.6]], 'e/b': [[0, 0, 1, 1, 0.3]] }));
      assert.deepEqual([n.min, n.max], [0.3, 0.6]);
      assert.equal(n.predictions.get('e/a')?.[4], 1);
      assert.equal(n.predictions.get('e/b')?.[4], 0);
      // scores in (0, 1) cannot stretch past the starting bounds: one score 0.5 → min 0.5, max 0.5 → NaN
      const single = normalizeWiderScores(preds({ 'e/a': [[0, 0, 1, 1, 0.5]] }));
      assert.deepEqual([single.min, single.max], [0.5, 0.5]);
      assert.ok(Number.isNaN(single.predictions.get('e/a')?.[4]));
      // negative raw scores: max stays 0
      const negative = normalizeWiderScores(preds({ 'e/a': [[0, 0, 1, 1, -1]] }));
      assert.deepEqual([negative.min, negative.max], [-1, 0]);
      assert.equal(negative.predictions.get('e/a')?.[4], 0);
    });

    it('lets an image outside the ground truth change the curve through the normalisation', () => {
      const gt = {
        images: [
          image('e', 'n', [
            [0, 0, 10, 10],
            [50, 50, 10, 10],
          ]),
        ],
      };
      const base = {
        'e/n': [
          [0, 0, 10, 10, 0.9],
          [50, 50, 10, 10, 0.4],
        ],
      };
      const a = evaluateWider(gt, preds(base));
      const b = evaluateWider(gt, preds({ ...base, 'other/x': [[0, 0, 1, 1, 0.1]] }));
      assert.deepEqual(a.scoreRange, { min: 0.4, max: 0.9 });
      assert.deepEqual(b.scoreRange, { min: 0.1, max: 0.9 });
      assert.notDeepEqual(a.easy.recall, b.easy.recall);
    });

    it('turns every score into NaN when all scores are equal, which gives AP 0 (official behaviour)', () => {
      // e.g. the ground truth fed back with score 1: max = min = 1, (1 − 1)/0 = NaN passes no threshold
      const gt = {
        images: [
          image('e', 'n', [
            [0, 0, 10, 10],
            [50, 50, 10, 10],
          ]),
        ],
      };
      const r = evaluateWider(
        gt,
        preds({
          'e/n': [
            [0, 0, 10, 10, 1],
            [50, 50, 10, 10, 1],
          ],
        }),
      );
      for (const setting of SETTINGS) {
        assert.equal(r[setting].ap, 0);
        assert.ok(r[setting].precision.every(Number.isNaN));
        assert.ok(r[setting].recall.every((x) => x === 0));
      }
    });
  });

  describe('NaN as NumPy yields it', () => {
    it('has NaN precision (0/0) where every passing detection is on an ignored face, without changing AP', () => {
      const gt = {
        images: [
          image(
            'e',
            'n',
            [
              [0, 0, 20, 20],
              [100, 0, 20, 20],
            ],
            { easy: [0] },
          ),
        ],
      };
      const r = evaluateWider(
        gt,
        preds({
          'e/n': [
            [100, 0, 20, 20, 1],
            [0, 0, 20, 20, 0.5],
            [...FAR, 0],
          ],
        }),
      ).easy;
      assert.ok(Number.isNaN(r.precision[0]));
      assert.equal(r.recall[0], 0);
      assert.equal(r.precision[998], 1);
      assert.equal(r.ap, 1);
    });

    it('gives AP NaN for a setting without faces (recall 0/0)', () => {
      const gt = { images: [image('e', 'n', [[0, 0, 20, 20]], { easy: [] })] };
      const r = evaluateWider(
        gt,
        preds({
          'e/n': [
            [0, 0, 20, 20, 1],
            [...FAR, 0],
          ],
        }),
      );
      assert.equal(r.easy.faceCount, 0);
      assert.ok(Number.isNaN(r.easy.ap));
      assert.equal(r.hard.ap, 1);
    });

    it('propagates NaN through the precision envelope to the left (np.maximum)', () => {
      assert.equal(allPointAp([0, 0.5], [NaN, 1]), 0.5); // the NaN sits where recall does not change
      assert.ok(Number.isNaN(allPointAp([0.5, 0.5], [NaN, 1]))); // here it is reached
      assert.ok(Number.isNaN(allPointAp([NaN], [1])));
    });
  });

  describe('missing predictions and bad input', () => {
    const gt = { images: [image('e', 'a', [[0, 0, 10, 10]]), image('e', 'b', [[0, 0, 10, 10]])] };

    it("throws E_DATASET naming the missing images by default (the official tool's KeyError)", () => {
      assert.throws(
        () => evaluateWider(gt, preds({ 'e/a': [[0, 0, 10, 10, 1]] })),
        (error: unknown) => isUltrafaceError(error, 'E_DATASET') && /1 image\(s\): e\/b/.test(error.message),
      );
    });

    it("treats missing images as empty with missing: 'empty'", () => {
      const r = evaluateWider(
        gt,
        preds({
          'e/a': [
            [0, 0, 10, 10, 1],
            [...FAR, 0],
          ],
        }),
        { missing: 'empty' },
      );
      assert.deepEqual(r.missingImages, [widerImageKey('e', 'b')]);
      assert.equal(r.easy.faceCount, 2);
      assert.equal(r.easy.ap, 0.5);
    });

    it('rejects bad options and malformed data', () => {
      const ok = preds({ 'e/a': [], 'e/b': [] });
      assert.throws(
        () => evaluateWider(gt, ok, { missing: 'skip' as 'empty' }),
        (e: unknown) => isUltrafaceError(e, 'E_INVALID_OPTION'),
      );
      assert.throws(
        () => evaluateWider(gt, ok, { misssing: 'empty' } as object),
        (e: unknown) => isUltrafaceError(e, 'E_INVALID_OPTION'),
      );
      assert.throws(
        () => evaluateWider(gt, preds({ 'e/a': [[0, 0, 1, 1]], 'e/b': [] })),
        (e: unknown) => isUltrafaceError(e, 'E_DATASET') && /length 5·K for e\/a/.test(e.message),
      );
      assert.throws(
        () => evaluateWider(gt, preds({ 'e/a': [[0, 0, 1, 1, NaN]], 'e/b': [] })),
        (e: unknown) => isUltrafaceError(e, 'E_DATASET'),
      );
      const badKeep = { images: [image('e', 'a', [[0, 0, 10, 10]], { hard: [3] })] };
      assert.throws(
        () => evaluateWider(badKeep, preds({ 'e/a': [] })),
        (e: unknown) => isUltrafaceError(e, 'E_DATASET') && /hard keep indices below 1/.test(e.message),
      );
    });
  });

  it('property: the ground truth fed back with distinct scores scores AP 1 on every setting', () => {
    const box = fc.tuple(
      fc.integer({ min: 0, max: 400 }),
      fc.integer({ min: 0, max: 400 }),
      fc.oneof(fc.integer({ min: 0, max: 80 }), fc.double({ min: 0, max: 80, noNaN: true })),
      fc.integer({ min: 0, max: 80 }),
    );
    const gtImage = fc.uniqueArray(box, { maxLength: 8, selector: (b) => b.join() }).chain((boxes) =>
      fc
        .record({
          easy: fc.subarray(boxes.map((_, i) => i)),
          medium: fc.subarray(boxes.map((_, i) => i)),
          hard: fc.subarray(boxes.map((_, i) => i)),
        })
        .map((keep) => ({ boxes, keep })),
    );
    const arbitrary = fc
      .array(gtImage, { minLength: 1, maxLength: 5 })
      .filter((images) => {
        const total = images.reduce((n, im) => n + im.boxes.length, 0);
        return total >= 2 && SETTINGS.every((s) => images.some((im) => im.keep[s].length > 0));
      })
      .chain((images) => {
        // distinct scores k/(n − 1) in a random order: min 0 and max 1, so no two normalised scores are equal
        const n = images.reduce((sum, im) => sum + im.boxes.length, 0);
        const ranks = Array.from({ length: n }, (_, i) => i);
        return fc
          .shuffledSubarray(ranks, { minLength: n, maxLength: n })
          .map((order) => ({ images, order, n }));
      });
    fc.assert(
      fc.property(arbitrary, ({ images, order, n }) => {
        const gt = { images: images.map((im, i) => image('ev', `img_${i}`, im.boxes, im.keep)) };
        let next = 0;
        const entries: Record<string, number[][]> = {};
        images.forEach((im, i) => {
          const rows = im.boxes.map((b) => [...b, order[next++] / (n - 1)]);
          entries[`ev/img_${i}`] = rows.sort((a, b) => b[4] - a[4]); // score order, as the writer guarantees
        });
        const result = evaluateWider(gt, preds(entries));
        for (const setting of SETTINGS) {
          assert.ok(Math.abs(result[setting].ap - 1) < 1e-12, `${setting}: ${result[setting].ap}`);
          assert.equal(result[setting].recall[999], 1);
        }
      }),
      { numRuns: 200, seed: 200 },
    );
  });
});
