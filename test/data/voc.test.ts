import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { parseVocAnnotation, readVocDataset } from '../../src/data/voc.js';
import { sharedPath } from '../helpers/shared.js';

const CLASSES = ['BACKGROUND', 'face'];

function datasetError(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(isUltrafaceError(error, 'E_DATASET'), String(error));
    assert.match(error.message, pattern);
    return true;
  };
}

function object(name: string, box: readonly (number | string)[], difficult?: string): string {
  const [xmin, ymin, xmax, ymax] = box;
  const flag = difficult === undefined ? '' : `<difficult>${difficult}</difficult>`;
  return `<object><name>${name}</name>${flag}<bndbox><xmin>${xmin}</xmin><ymin>${ymin}</ymin><xmax>${xmax}</xmax><ymax>${ymax}</ymax></bndbox></object>`;
}

function annotation(...objects: string[]): string {
  return `<?xml version="1.0"?>\n<annotation>\n<size><width>640</width><height>480</height><depth>3</depth></size>\n${objects.join('\n')}\n</annotation>\n`;
}

describe('readVocDataset', () => {
  it('reads faces-voc: trainval 3940 images / 11227 faces, test 343 / 945', async () => {
    const root = sharedPath('data/faces-voc');
    let progress = 0;
    const trainval = await readVocDataset(root, { onProgress: (done) => (progress = done) });
    const test = await readVocDataset(root, { split: 'test' });
    const faces = (images: typeof test.images): number => images.reduce((n, i) => n + i.labels.length, 0);
    assert.deepEqual([trainval.images.length, faces(trainval.images), progress], [3940, 11227, 3940]);
    assert.deepEqual([test.images.length, faces(test.images)], [343, 945]);
    assert.equal(trainval.images.filter((i) => i.labels.length === 0).length, 123); // photos without faces
    assert.deepEqual(trainval.classes, CLASSES);
    // cymqqqq_mask_1.xml: 640x361, one face at xmin 298, ymin 66, xmax 332, ymax 104 (1-based).
    const one =
      trainval.images.find((i) => i.id === 'cymqqqq_mask_1') ??
      test.images.find((i) => i.id === 'cymqqqq_mask_1');
    assert.ok(one);
    assert.deepEqual([one.width, one.height, Array.from(one.boxes)], [640, 361, [297, 65, 331, 103]]);
    assert.match(one.imagePath, /JPEGImages[/\\]cymqqqq_mask_1\.jpg$/);
  });

  describe('on a synthetic folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'ultraface-voc-'));
    after(() => {
      rmSync(root, { recursive: true, force: true });
    });
    for (const dir of ['Annotations', 'ImageSets/Main', 'JPEGImages'])
      mkdirSync(join(root, dir), { recursive: true });
    const add = (id: string, xml: string, image = true): void => {
      writeFileSync(join(root, 'Annotations', `${id}.xml`), xml);
      if (image) writeFileSync(join(root, 'JPEGImages', `${id}.jpg`), 'not decoded here');
    };
    const split = (name: string, ids: string[]): void => {
      writeFileSync(join(root, 'ImageSets', 'Main', `${name}.txt`), `${ids.join('\n')}\n\n`);
    };
    add(
      'a',
      annotation(
        object(' Face ', [11, 21, 31.5, 41]),
        object('face', [1, 1, 5, 5], '1'),
        object('cat', [1, 1, 2, 2]),
        object('face', [2, 2, 9, 9], ''),
      ),
    );
    add('empty', annotation());

    it('subtracts 1 (SPEC §6.1), skips unknown classes and difficult objects unless asked', async () => {
      split('mine', ['a', 'empty']);
      const { images } = await readVocDataset(root, { split: 'mine' });
      assert.deepEqual(
        images.map((i) => i.id),
        ['a', 'empty'],
      );
      assert.deepEqual(Array.from(images[0].boxes), [10, 20, 30.5, 40, 1, 1, 8, 8]);
      assert.deepEqual(Array.from(images[0].labels), [1, 1]);
      assert.equal(images[1].boxes.length, 0);
      const all = await readVocDataset(root, { split: 'mine', keepDifficult: true });
      assert.deepEqual(Array.from(all.images[0].difficult), [0, 1, 0]);
      assert.deepEqual(Array.from(all.images[0].boxes.subarray(4, 8)), [0, 0, 4, 4]);
    });

    it('reads classes from labels.txt', async () => {
      writeFileSync(join(root, 'labels.txt'), 'cat,\n face\n');
      try {
        const ds = await readVocDataset(root, { split: 'mine' });
        assert.deepEqual(ds.classes, ['BACKGROUND', 'cat', 'face']);
        assert.deepEqual(Array.from(ds.images[0].labels), [2, 1, 2]); // face, cat, face
      } finally {
        rmSync(join(root, 'labels.txt'));
      }
    });

    it('rejects missing files, bad numbers and empty boxes naming the file', async () => {
      const cases: [string, string | null, RegExp][] = [
        ['nolist', null, /ImageSets[/\\]Main[/\\]nolist\.txt: cannot read the file \(ENOENT\)/],
        ['missing', null, /Annotations[/\\]missing\.xml: cannot read the file/],
        [
          'noimage',
          annotation(),
          /JPEGImages[/\\]noimage\.jpg: image listed in .*noimage-split\.txt is missing/,
        ],
        ['nan', annotation(object('face', [1, 'x', 3, 4])), /nan\.xml: <ymin> is "x", not a number/],
        [
          'flat',
          annotation(object('face', [5, 1, 5, 4])),
          /flat\.xml: object 1: empty box xmin\.\.xmax 5\.\.5/,
        ],
        [
          'nosize',
          '<annotation><folder>f</folder></annotation>',
          /nosize\.xml: <width> is null, not a number/,
        ],
        [
          'cut',
          annotation(object('face', [1, 2, 3, 4])).slice(0, 150),
          /cut\.xml: invalid XML: <annotation> <object>.* not closed/,
        ],
        [
          'crossed',
          '<annotation><size></annotation></size>',
          /crossed\.xml:1: invalid XML: unexpected <\/annotation>/,
        ],
      ];
      for (const [id, xml, pattern] of cases) {
        if (xml !== null) add(id, xml, id !== 'noimage');
        if (id !== 'nolist') split(`${id}-split`, [id]);
        await assert.rejects(
          readVocDataset(root, { split: id === 'nolist' ? 'nolist' : `${id}-split` }),
          datasetError(pattern),
          id,
        );
      }
      await assert.rejects(readVocDataset(root, { split: '../x' }), (e: unknown) =>
        isUltrafaceError(e, 'E_INVALID_OPTION'),
      );
    });
  });
});

describe('parseVocAnnotation', () => {
  it('reads size and repeated or single objects', () => {
    const single = parseVocAnnotation(annotation(object('face', [2, 3, 4, 5])), 'x.xml', CLASSES);
    assert.deepEqual(single, {
      width: 640,
      height: 480,
      objects: [{ box: [1, 2, 3, 4], label: 1, difficult: false }],
    });
    assert.equal(
      parseVocAnnotation(
        annotation(object('face', [2, 3, 4, 5]), object('face', [2, 3, 4, 5])),
        'x.xml',
        CLASSES,
      ).objects.length,
      2,
    );
  });
});
