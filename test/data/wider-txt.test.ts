import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { parseRetinafaceLabels, readRetinafaceLabels } from '../../src/data/retinaface-label.js';
import { readWiderGroundTruth } from '../../src/data/wider-mat.js';
import { parseWiderSplitTxt, readWiderSplitTxt, type WiderTxtImage } from '../../src/data/wider-txt.js';
import { sharedPath } from '../helpers/shared.js';

const faceCount = (images: readonly { boxes: Float64Array }[]): number =>
  images.reduce((n, image) => n + image.boxes.length / 4, 0);

function datasetError(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(isUltrafaceError(error, 'E_DATASET'), String(error));
    assert.match(error.message, pattern);
    return true;
  };
}

describe('readWiderSplitTxt', () => {
  it('reads wider_face_val_bbx_gt.txt', async () => {
    const images = await readWiderSplitTxt(
      sharedPath('data/widerface/wider_face_split/wider_face_val_bbx_gt.txt'),
    );
    assert.equal(images.length, 3226);
    assert.equal(faceCount(images), 39704); // the .mat's 39 708 minus 4 no-face placeholders
    assert.equal(images.filter((i) => i.boxes.length === 0).length, 4);
    const first = images[0];
    assert.deepEqual(
      [first.path, first.event, first.name],
      ['0--Parade/0_Parade_marchingband_1_465.jpg', '0--Parade', '0_Parade_marchingband_1_465'],
    );
    assert.deepEqual(Array.from(first.boxes.subarray(0, 4)), [345, 211, 4, 4]);
    assert.deepEqual(Array.from(first.attributes.subarray(0, 6)), [2, 0, 0, 0, 2, 0]);
  });

  it('reads wider_face_train_bbx_gt.txt and the fractional widerface-mini file', async () => {
    const train = await readWiderSplitTxt(
      sharedPath('data/widerface/wider_face_split/wider_face_train_bbx_gt.txt'),
    );
    assert.deepEqual([train.length, faceCount(train)], [12880, 159420]);
    const mini = await readWiderSplitTxt(
      sharedPath('data/widerface-mini/wider_face_split/wider_face_val_bbx_gt.txt'),
    );
    assert.deepEqual([mini.length, faceCount(mini)], [100, 2036]);
    assert.deepEqual(Array.from(mini[0].boxes.subarray(0, 4)), [30.1, 254.0, 3.2, 5.5]);
  });

  it('agrees with wider_face_val.mat on every box of all 3226 images', async () => {
    const txt = await readWiderSplitTxt(
      sharedPath('data/widerface/wider_face_split/wider_face_val_bbx_gt.txt'),
    );
    const gt = await readWiderGroundTruth(sharedPath('data/widerface/eval_tools/ground_truth'));
    const byPath = new Map<string, WiderTxtImage>(txt.map((i) => [`${i.event}/${i.name}`, i]));
    assert.equal(byPath.size, gt.images.length);
    let placeholders = 0;
    for (const image of gt.images) {
      const fromTxt = byPath.get(`${image.event}/${image.name}`);
      assert.ok(fromTxt, `${image.event}/${image.name} missing from the txt`);
      if (fromTxt.boxes.length === 0) {
        // The .mat keeps the txt's no-face placeholder as one [0 0 0 0] box that counts in no setting.
        placeholders++;
        assert.deepEqual(Array.from(image.boxes), [0, 0, 0, 0]);
        assert.deepEqual(
          [image.keep.easy.length, image.keep.medium.length, image.keep.hard.length],
          [0, 0, 0],
        );
      } else assert.deepEqual(fromTxt.boxes, image.boxes, `${image.event}/${image.name}`);
    }
    assert.equal(placeholders, 4);
  });

  it('reads both no-face conventions and skips blank lines', () => {
    const text = [
      'e/a.jpg',
      '1',
      '0 0 0 0 0 0 0 0 0 0',
      'e/b.jpg',
      '0',
      '0 0 0 0 0 0 0 0 0 0',
      '',
      'e/c.jpg',
      '0',
      'e/d.jpg',
      '2',
      '1 2 3 4 0 0 0 0 0 0',
      '',
      '5 6 -2 0 2 1 1 1 2 3',
      '',
    ].join('\r\n');
    const images = parseWiderSplitTxt(text, 't.txt');
    assert.deepEqual(
      images.map((i) => [i.name, i.boxes.length / 4]),
      [
        ['a', 0],
        ['b', 0],
        ['c', 0],
        ['d', 2],
      ],
    );
    assert.deepEqual(Array.from(images[3].boxes), [1, 2, 3, 4, 5, 6, -2, 0]);
    assert.deepEqual(Array.from(images[3].attributes.subarray(6)), [2, 1, 1, 1, 2, 3]);
  });

  it('rejects malformed lines naming file:line', () => {
    const bad: [string, RegExp][] = [
      ['e/a.jpg\n1\n1 2 3 4 0 0 0 0 0\n', /^t\.txt:3: expected 10 numbers/],
      ['e/a.jpg\n1\n1 2 3 x 0 0 0 0 0 0\n', /^t\.txt:3: expected numbers but found "x"/],
      ['e/a.jpg\n1\n1 2 3 4 0.5 0 0 0 0 0\n', /^t\.txt:3: labels must be integers/],
      ['e/a.jpg\nmany\n', /^t\.txt:2: expected a face count/],
      ['e/a.jpg\n3\n1 2 3 4 0 0 0 0 0 0\n', /^t\.txt:2: 3 faces announced, 1 lines left/],
      ['e/a.jpg\n', /^t\.txt:1: image path without a face count/],
      ['1 2 3 4\n', /^t\.txt:1: expected an image path/],
      ['e/a.jpg\n0\n1 2 3 4 0 0 0 0 0 0\n', /^t\.txt:3: face line after a count of 0/],
    ];
    for (const [text, pattern] of bad)
      assert.throws(() => parseWiderSplitTxt(text, 't.txt'), datasetError(pattern));
  });
});

describe('readRetinafaceLabels', () => {
  it("reads upstream's val label.txt (SPEC §6.2: 3222 images, 39704 face lines)", async () => {
    const images = await readRetinafaceLabels(
      sharedPath('reference/upstream/data/retinaface_labels/val/label.txt'),
    );
    assert.deepEqual([images.length, faceCount(images)], [3222, 39704]);
    assert.deepEqual([images[0].event, images[0].name], ['0--Parade', '0_Parade_marchingband_1_465']);
    assert.deepEqual(Array.from(images[0].boxes.subarray(0, 4)), [345, 211, 4, 4]);
    assert.equal(images[0].landmarks, null);
    // Same boxes as the split txt, minus its 4 no-face images.
    const txt = await readWiderSplitTxt(
      sharedPath('data/widerface/wider_face_split/wider_face_val_bbx_gt.txt'),
    );
    const withFaces = txt.filter((i) => i.boxes.length > 0);
    assert.deepEqual(
      images.map((i) => [i.path, Array.from(i.boxes)]),
      withFaces.map((i) => [i.path, Array.from(i.boxes)]),
    );
  });

  it('reads the 20-column train layout (landmarks, flags, blur)', () => {
    const text = [
      '# 0--Parade/0_Parade_marchingband_1_849.jpg',
      '449 330 122 149 488.906 373.643 0.0 542.089 376.442 0.0 515.031 412.83 0.0 485.174 425.893 0.0 538.357 431.491 0.0 0.82',
      '361 98 263 339 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0 -1.0',
      '# 0--Parade/empty.jpg 1024 768',
    ].join('\n');
    const [image, empty] = parseRetinafaceLabels(text, 'label.txt');
    assert.deepEqual(Array.from(image.boxes), [449, 330, 122, 149, 361, 98, 263, 339]);
    const { landmarks, blur } = image;
    assert.ok(landmarks && blur);
    assert.equal(landmarks.length, 30);
    assert.deepEqual(Array.from(landmarks.subarray(0, 3)), [488.906, 373.643, 0]);
    assert.equal(landmarks[15], -1);
    assert.deepEqual(Array.from(blur), [0.82, -1]);
    assert.deepEqual([empty.name, empty.boxes.length, empty.landmarks?.length], ['empty', 0, 0]);
  });

  it('rejects malformed lines naming file:line', () => {
    const bad: [string, RegExp][] = [
      ['1 2 3 4\n', /^l\.txt:1: face line before the first/],
      ['# a/b.jpg\n1 2 3\n', /^l\.txt:2: expected 4 \(or 20 in every line\) numbers, found 3/],
      [
        '# a/b.jpg\n1 2 3 4\n\n# a/c.jpg\n1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n',
        /^l\.txt:5: expected 4/,
      ],
      ['# a/b.jpg\n1 2 3 NaN\n', /^l\.txt:2: expected numbers but found "NaN"/],
      ['#\n', /^l\.txt:1: expected "# <image path>\.jpg"/],
    ];
    for (const [text, pattern] of bad)
      assert.throws(() => parseRetinafaceLabels(text, 'l.txt'), datasetError(pattern));
  });
});
