import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { readVocDataset } from '../../src/data/voc.js';
import { vocAnnotationXml } from '../../src/data/voc-writer.js';
import { labelDataset } from '../../src/label/label.js';
import { sharedPath } from '../helpers/shared.js';

/**
 * Teacher labelling on a constructed case: upstream photo 9.jpg (8 faces, all found by upstream's RFB-320 at
 * score 1.00) annotated with one face only. The teacher must add the other faces and keep the human box as is.
 */
const TEACHER = sharedPath('reference/upstream/models/pretrained/version-RFB-320.pth');
const HUMAN = [569, 318, 707, 474]; // one of the 8 faces, as upstream's RFB-320 boxes it

describe('ultraface label', () => {
  let dir: string;
  let root: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-label-'));
    root = join(dir, 'voc');
    for (const sub of ['Annotations', 'JPEGImages', 'ImageSets/Main'])
      mkdirSync(join(root, sub), { recursive: true });
    copyFileSync(sharedPath('reference/upstream/imgs/9.jpg'), join(root, 'JPEGImages', 'crowd_9.jpg'));
    writeFileSync(
      join(root, 'Annotations', 'crowd_9.xml'),
      vocAnnotationXml({
        filename: 'crowd_9.jpg',
        width: 1024,
        height: 683,
        depth: 3,
        objects: [{ box: HUMAN }],
      }),
    );
    writeFileSync(join(root, 'ImageSets', 'Main', 'trainval.txt'), 'crowd_9\n');
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds the faces the humans left out, keeps the human box, and resumes instead of redoing work', async () => {
    const { width, height } = (await readVocDataset(root)).images[0];
    assert.deepEqual([width, height], [1024, 683], 'fixture size matches the photo');
    const out = join(dir, 'labelled');
    const options = { dataset: { root }, teachers: [TEACHER], outDir: out };
    const summary = await labelDataset({ ...options, sizes: [320, 640] });
    assert.equal(summary.humanFaces, 1);
    assert.ok(summary.addedFaces >= 6 && summary.addedFaces <= 8, `added ${summary.addedFaces}`);
    assert.deepEqual(Object.keys(summary.bySource), ['crowd']);
    const labelled = (await readVocDataset(out, { keepDifficult: true })).images[0];
    assert.deepEqual(Array.from(labelled.boxes.subarray(0, 4)), HUMAN);
    assert.equal(labelled.labels.length, 1 + summary.addedFaces + summary.addedIgnored);
    const record = JSON.parse(readFileSync(join(out, 'labeling.json'), 'utf8')) as { teachers: string[] };
    assert.deepEqual(record.teachers, [TEACHER]);

    await assert.rejects(
      labelDataset({ ...options, sizes: [320] }),
      (e: unknown) =>
        isUltrafaceError(e) && e.code === 'E_INVALID_OPTION' && e.message.includes('--overwrite'),
    );
    // an interrupted run's finished images are not redone: fake one by leaving a .partial with its counts
    const again = join(dir, 'again');
    mkdirSync(join(`${again}.partial`, '.counts'), { recursive: true });
    const counts = { images: 1, humanFaces: 1, humanIgnored: 0, addedFaces: 42, addedIgnored: 0 };
    writeFileSync(join(`${again}.partial`, '.counts', 'crowd_9.json'), JSON.stringify(counts));
    const resumed = await labelDataset({ ...options, sizes: [320], outDir: again });
    assert.equal(resumed.resumed, 1);
    assert.equal(resumed.addedFaces, 42);
    assert.equal(resumed.promoted, 0); // counts from before `promoted` existed
  });

  it('promoteIgnored: a human ignore region the teacher is sure of becomes a face; otherwise it stays', async () => {
    const ignoredRoot = join(dir, 'ignored');
    for (const sub of ['Annotations', 'JPEGImages', 'ImageSets/Main'])
      mkdirSync(join(ignoredRoot, sub), { recursive: true });
    copyFileSync(join(root, 'JPEGImages', 'crowd_9.jpg'), join(ignoredRoot, 'JPEGImages', 'crowd_9.jpg'));
    writeFileSync(
      join(ignoredRoot, 'Annotations', 'crowd_9.xml'),
      vocAnnotationXml({
        filename: 'crowd_9.jpg',
        width: 1024,
        height: 683,
        depth: 3,
        objects: [{ box: HUMAN, difficult: true }, { box: [0, 0, 30, 30] }], // the reader wants one face
      }),
    );
    writeFileSync(join(ignoredRoot, 'ImageSets', 'Main', 'trainval.txt'), 'crowd_9\n');
    const options = { dataset: { root: ignoredRoot }, teachers: [TEACHER], sizes: [640] as const };
    const kept = await labelDataset({ ...options, outDir: join(dir, 'kept') });
    const promoted = await labelDataset({ ...options, outDir: join(dir, 'promoted'), promoteIgnored: true });
    assert.deepEqual([kept.humanFaces, kept.humanIgnored, kept.promoted], [1, 1, 0]);
    assert.deepEqual([promoted.humanFaces, promoted.humanIgnored, promoted.promoted], [1, 1, 1]);
    assert.equal(promoted.addedFaces, kept.addedFaces);
    const difficult = async (out: string): Promise<boolean> => {
      const image = (await readVocDataset(out, { keepDifficult: true })).images[0];
      assert.deepEqual(Array.from(image.boxes.subarray(0, 4)), HUMAN);
      return image.difficult[0] === 1;
    };
    assert.equal(await difficult(join(dir, 'kept')), true);
    assert.equal(await difficult(join(dir, 'promoted')), false);
  });
});
