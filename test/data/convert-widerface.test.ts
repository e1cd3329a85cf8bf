import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { isUltrafaceError } from '../../src/core/errors.js';
import { convertWiderToVoc, keptWiderBoxes } from '../../src/data/convert-widerface.js';
import { readRetinafaceLabels } from '../../src/data/retinaface-label.js';
import { readVocDataset } from '../../src/data/voc.js';
import { parseWiderSplitTxt } from '../../src/data/wider-txt.js';
import { sharedPath } from '../helpers/shared.js';

/** Real val images (their JPEGs are not here; we make stand-ins): one case each. */
const PICKED = [
  '0--Parade/0_Parade_Parade_0_917.jpg', // 3 faces, one 7x10 → dropped
  '1--Handshaking/1_Handshaking_Handshaking_1_35.jpg', // one large face
  '0--Parade/0_Parade_Parade_0_317.jpg', // 75 faces, one with a non-positive side
  '0--Parade/0_Parade_marchingband_1_465.jpg', // 126 faces, mostly under 10 px
  '0--Parade/0_Parade_Parade_0_275.jpg', // no faces (placeholder line) → image dropped
  '37--Soccer/37_Soccer_soccer_ball_37_926.jpg', // 3 faces, all small → image dropped
];

/** The blocks of a split txt (path, count, face lines) for the picked images, in file order. */
function filterSplitTxt(text: string, paths: readonly string[]): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length && lines[i].trim() !== '';) {
    const block = lines.slice(i, i + 2 + Math.max(1, Number(lines[i + 1])));
    if (paths.includes(block[0].trim())) out.push(...block);
    i += block.length;
  }
  return `${out.join('\n')}\n`;
}

/** The same images from RetinaFace's label.txt. */
function filterLabelTxt(text: string, paths: readonly string[]): string {
  const blocks = text.split(/^(?=# )/m);
  return blocks.filter((b) => paths.includes(b.slice(2).split(/\s/)[0])).join('');
}

describe('keptWiderBoxes', () => {
  it("gives SPEC §6.2's counts on upstream's val label.txt: 28 589 faces kept in 3 219 images", async () => {
    const images = await readRetinafaceLabels(
      sharedPath('reference/upstream/data/retinaface_labels/val/label.txt'),
    );
    const kept = images.map((image) => keptWiderBoxes(image.boxes).length);
    assert.equal(
      kept.reduce((a, b) => a + b, 0),
      28589,
    );
    assert.equal(kept.filter((n) => n > 0).length, 3219);
  });
});

describe('convertWiderToVoc', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ultraface-convert-'));
  const imagesDir = join(tmp, 'images');
  const splitTxt = join(tmp, 'wider_face_val_bbx_gt.txt');
  const labelTxt = join(tmp, 'val', 'label.txt');
  const outDir = join(tmp, 'voc');
  const text = readFileSync(sharedPath('data/widerface/wider_face_split/wider_face_val_bbx_gt.txt'), 'utf8');
  const subset = filterSplitTxt(text, PICKED);
  const annotated = parseWiderSplitTxt(subset, 'subset');

  before(async () => {
    mkdirSync(dirname(labelTxt), { recursive: true });
    writeFileSync(splitTxt, subset);
    const labels = readFileSync(
      sharedPath('reference/upstream/data/retinaface_labels/val/label.txt'),
      'utf8',
    );
    writeFileSync(labelTxt, filterLabelTxt(labels, PICKED));
    for (const [i, path] of PICKED.entries()) {
      mkdirSync(dirname(join(imagesDir, path)), { recursive: true });
      const background = { r: 40 * i, g: 100, b: 200 - 30 * i };
      await sharp({ create: { width: 96 + i, height: 64, channels: 3, background } })
        .jpeg()
        .toFile(join(imagesDir, path));
    }
  });
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('writes VOC annotations with coordinates + 1, dropping small faces and faceless images', async () => {
    assert.equal(annotated.length, PICKED.length);
    const progress: [number, number][] = [];
    const result = await convertWiderToVoc({
      imagesDir,
      annotations: splitTxt,
      outDir,
      onProgress: (d, t) => progress.push([d, t]),
    });
    assert.deepEqual(result.split, 'test');
    assert.deepEqual(progress.at(-1), [6, 6]);
    const ids = readFileSync(join(outDir, 'ImageSets/Main/test.txt'), 'utf8').trim().split('\n');
    assert.deepEqual(ids, [
      '0--Parade_0_Parade_marchingband_1_465',
      '0--Parade_0_Parade_Parade_0_917',
      '0--Parade_0_Parade_Parade_0_317',
      '1--Handshaking_1_Handshaking_Handshaking_1_35',
    ]);
    assert.deepEqual([result.images, result.droppedImages], [4, 2]);
    assert.equal(result.faces + result.droppedFaces, 126 + 75 + 3 + 1 + 3);

    // 440 141 193 258 → xmin 441, ymin 142, xmax 440 + 193 + 1, ymax 141 + 258 + 1
    const xml = readFileSync(
      join(outDir, 'Annotations/1--Handshaking_1_Handshaking_Handshaking_1_35.xml'),
      'utf8',
    );
    assert.match(xml, /<xmin>441<\/xmin>\s*<ymin>142<\/ymin>\s*<xmax>634<\/xmax>\s*<ymax>400<\/ymax>/);
    assert.match(xml, /<width>97<\/width><height>64<\/height><depth>3<\/depth>/);
    // 650 122 28 37 and 134 251 20 27 kept, 151 238 7 10 dropped
    const parade = readFileSync(join(outDir, 'Annotations/0--Parade_0_Parade_Parade_0_917.xml'), 'utf8');
    assert.deepEqual(
      [...parade.matchAll(/<xmin>(\d+)<\/xmin>/g)].map((m) => Number(m[1])),
      [651, 135],
    );
    // JPEGs are copied byte for byte.
    const copied = readFileSync(join(outDir, 'JPEGImages/0--Parade_0_Parade_Parade_0_917.jpg'));
    assert.ok(copied.equals(readFileSync(join(imagesDir, PICKED[0]))));
    assert.deepEqual(readdirSync(tmp).sort(), ['images', 'val', 'voc', 'wider_face_val_bbx_gt.txt']); // no tmp-* left
  });

  it('round-trips through readVocDataset: exactly the kept WIDER boxes, as [x, y, x + w, y + h]', async () => {
    const { images } = await readVocDataset(outDir, { split: 'test' });
    const expected = new Map<string, number[]>();
    for (const image of annotated) {
      const boxes: number[] = [];
      for (let i = 0; i < image.boxes.length; i += 4) {
        const [x, y, w, h] = image.boxes.subarray(i, i + 4);
        if (w >= 10 && h >= 10) boxes.push(x, y, x + w, y + h); // integer boxes: truncation changes nothing
      }
      if (boxes.length > 0) expected.set(`${image.event}_${image.name}`, boxes);
    }
    assert.equal(images.length, expected.size);
    for (const image of images) assert.deepEqual(Array.from(image.boxes), expected.get(image.id), image.id);
    assert.equal(images.find((i) => i.id.endsWith('_1_35'))?.width, 97);
  });

  it('gives the same dataset from RetinaFace label.txt', async () => {
    const fromLabels = join(tmp, 'voc-labels');
    const result = await convertWiderToVoc({ imagesDir, annotations: labelTxt, outDir: fromLabels });
    assert.equal(result.split, 'test');
    for (const dir of ['Annotations', 'ImageSets/Main']) {
      for (const file of readdirSync(join(outDir, dir))) {
        assert.equal(
          readFileSync(join(fromLabels, dir, file), 'utf8'),
          readFileSync(join(outDir, dir, file), 'utf8'),
          file,
        );
      }
    }
    rmSync(fromLabels, { recursive: true });
  });

  it('applies minSize to truncated sizes (B21)', async () => {
    const frac = join(tmp, 'frac.txt');
    writeFileSync(
      frac,
      `${PICKED[1]}\n3\n1.7 2.2 9.9 30 0 0 0 0 0 0\n5.5 6.5 10.9 10.2 0 0 0 0 0 0\n0 0 0.9 50 0 0 0 0 0 0\n`,
    );
    const out = join(tmp, 'voc-frac');
    const result = await convertWiderToVoc({
      imagesDir,
      annotations: frac,
      outDir: out,
      split: 'val',
      minSize: 10,
    });
    assert.deepEqual([result.faces, result.droppedFaces], [1, 2]);
    const { images } = await readVocDataset(out, { split: 'val' });
    assert.deepEqual(Array.from(images[0].boxes), [5, 6, 15, 16]);
    const all = await convertWiderToVoc({
      imagesDir,
      annotations: frac,
      outDir: out,
      split: 'val',
      minSize: 0,
      overwrite: true,
    });
    assert.deepEqual([all.faces, all.droppedFaces], [2, 1]); // w 0.9 truncates to 0: dropped whatever minSize
    rmSync(out, { recursive: true });
  });

  it('refuses a non-empty outDir unless overwrite, and leaves nothing behind on failure', async () => {
    const invalid = (e: unknown): boolean => isUltrafaceError(e, 'E_INVALID_OPTION');
    await assert.rejects(convertWiderToVoc({ imagesDir, annotations: splitTxt, outDir }), invalid);
    await assert.rejects(
      convertWiderToVoc({ imagesDir, annotations: splitTxt, outDir, minSize: -1, overwrite: true }),
      invalid,
    );
    await assert.rejects(
      convertWiderToVoc({ imagesDir, annotations: join(tmp, 'x.txt'), outDir: join(tmp, 'o') }),
      invalid,
    ); // no split in the name
    const missing = join(tmp, 'missing.txt');
    writeFileSync(missing, subset.replace('0_Parade_Parade_0_917', '0_Parade_Parade_0_000'));
    const failed = join(tmp, 'failed');
    await assert.rejects(
      convertWiderToVoc({ imagesDir, annotations: missing, outDir: failed, split: 'test' }),
      (e: unknown) =>
        isUltrafaceError(e, 'E_DATASET') &&
        /0_Parade_Parade_0_000\.jpg: cannot read the image/.test(e.message),
    );
    assert.ok(!existsSync(failed));
    assert.ok(!readdirSync(tmp).some((name) => name.includes('.tmp-')));
    const before = readFileSync(join(outDir, 'ImageSets/Main/test.txt'), 'utf8');
    await convertWiderToVoc({ imagesDir, annotations: splitTxt, outDir, overwrite: true });
    assert.equal(readFileSync(join(outDir, 'ImageSets/Main/test.txt'), 'utf8'), before);
    assert.ok(!readdirSync(tmp).some((name) => name.includes('.old-')));
  });
});
