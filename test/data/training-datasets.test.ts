import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { isUltrafaceError } from '../../src/core/errors.js';
import { IGNORE_LABEL } from '../../src/core/matching.js';
import {
  detectDatasetKind,
  loadTrainingDatasets,
  parseDatasetSpec,
  trainingSamplesFromWider,
  withWiderMinFace,
} from '../../src/data/training-datasets.js';
import { sharedPath } from '../helpers/shared.js';

/** A WIDER train root with two images: the face lines say which faces are learned and which are ignored. */
const BBX = [
  '0--Parade/0_Parade_a.jpg',
  '4',
  '10 10 20 24 0 0 0 0 0 0', // a face
  '40 10 8 12 0 0 0 0 0 0', // 8 px wide: under 10 → ignored
  '60 10 20 20 0 0 0 1 0 0', // invalid → ignored
  '80 10 0 20 0 0 0 0 0 0', // no area → dropped
  '0--Parade/0_Parade_b.jpg',
  '1',
  '5 5 6 6 0 0 0 0 0 0', // only a small face: nothing to learn → image left out
  '',
].join('\n');

describe('training datasets', () => {
  let root: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'ultraface-wider-train-'));
    mkdirSync(join(root, 'wider_face_split'));
    mkdirSync(join(root, 'WIDER_train', 'images', '0--Parade'), { recursive: true });
    writeFileSync(join(root, 'wider_face_split', 'wider_face_train_bbx_gt.txt'), BBX);
    for (const name of ['0_Parade_a', '0_Parade_b']) {
      await sharp({ create: { width: 100, height: 50, channels: 3, background: '#808080' } })
        .jpeg()
        .toFile(join(root, 'WIDER_train', 'images', '0--Parade', `${name}.jpg`));
    }
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('parses [voc:|wider:]PATH[:WEIGHT]', () => {
    assert.deepEqual(parseDatasetSpec('data/faces-voc'), { root: 'data/faces-voc' });
    assert.deepEqual(parseDatasetSpec('wider:../w1k:3'), { kind: 'wider', root: '../w1k', weight: 3 });
    assert.deepEqual(parseDatasetSpec('voc:C:/data/voc'), { kind: 'voc', root: 'C:/data/voc' });
    for (const bad of ['wider:', 'voc::2', 'x:0', 'x:1001']) {
      assert.throws(
        () => parseDatasetSpec(bad),
        (e: unknown) => isUltrafaceError(e) && e.code === 'E_INVALID_OPTION',
        bad,
      );
    }
  });

  it('reads a WIDER train root directly: invalid and small faces are ignore regions, no-area faces dropped', async () => {
    assert.equal(await detectDatasetKind(root), 'wider');
    assert.equal(await detectDatasetKind(sharedPath('data/faces-voc')), 'voc');
    const samples = await trainingSamplesFromWider(root);
    assert.equal(samples.length, 1);
    const [s] = samples;
    assert.equal(s.id, '0--Parade/0_Parade_a');
    assert.equal(s.image, join(root, 'WIDER_train', 'images', '0--Parade', '0_Parade_a.jpg'));
    assert.deepEqual(Array.from(s.boxes), [10, 10, 30, 34, 40, 10, 48, 22, 60, 10, 80, 30]);
    assert.deepEqual(Array.from(s.labels), [1, IGNORE_LABEL, IGNORE_LABEL]);
    const lower = await trainingSamplesFromWider(root, { minFaceSize: 5 });
    assert.deepEqual(Array.from(lower[0].labels), [1, 1, IGNORE_LABEL]);
    assert.equal(lower.length, 2);
    await assert.rejects(
      trainingSamplesFromWider(root, { minFaceSize: -1 }),
      (e: unknown) => isUltrafaceError(e) && e.code === 'E_INVALID_OPTION',
    );
  });

  it("takes WIDER's minimum face size per dataset (--wider-min-face)", async () => {
    const spec = withWiderMinFace(parseDatasetSpec(`wider:${root}:2`), 5);
    assert.deepEqual(spec, { kind: 'wider', root, weight: 2, minFaceSize: 5 });
    assert.equal(withWiderMinFace(spec, undefined), spec);
    const { samples, datasets } = await loadTrainingDatasets([spec], 'trainval');
    assert.deepEqual(Array.from(samples[0].labels), [1, 1, IGNORE_LABEL]);
    assert.deepEqual(
      datasets.map((d) => [d.weight, d.faces, d.ignored]),
      [[2, 3, 1]], // per distinct image: a has 2 faces and the invalid one, b its 6 px face
    );
  });

  it('mixes datasets with weights: each copy is a distinct sample with its own id and its dataset index', async () => {
    const { samples, datasets } = await loadTrainingDatasets(
      [
        { root, weight: 3 },
        { kind: 'voc', root: sharedPath('data/faces-voc') },
      ],
      'test',
    );
    const wider = samples.filter((s) => s.id.startsWith('0--Parade'));
    assert.deepEqual(
      wider.map((s) => s.id),
      ['0--Parade/0_Parade_a', '0--Parade/0_Parade_a#2', '0--Parade/0_Parade_a#3'],
    );
    assert.deepEqual(
      datasets.map((d) => [d.kind, d.weight, d.images, d.faces, d.ignored]),
      [
        ['wider', 3, 1, 1, 2],
        ['voc', 1, datasets[1].images, datasets[1].faces, datasets[1].ignored],
      ],
    );
    assert.equal(samples.length, 3 + datasets[1].images);
    assert.ok(datasets[1].images > 300);
    assert.deepEqual(
      samples.map((s) => s.dataset),
      samples.map((s) => (s.id.startsWith('0--Parade') ? 0 : 1)),
    );
  });

  it('a dataset with no face to learn is an E_DATASET error', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'ultraface-wider-empty-'));
    try {
      mkdirSync(join(empty, 'wider_face_split'));
      writeFileSync(
        join(empty, 'wider_face_split', 'wider_face_train_bbx_gt.txt'),
        '0--Parade/x.jpg\n1\n1 1 3 3 0 0 0 0 0 0\n',
      );
      await assert.rejects(
        loadTrainingDatasets([{ root: empty }], 'trainval'),
        (e: unknown) => isUltrafaceError(e) && e.code === 'E_DATASET' && e.message.includes(empty),
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
