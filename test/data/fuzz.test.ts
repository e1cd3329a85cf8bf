/**
 * Malformed input of every kind must end in an E_DATASET error (or, where the damage leaves a valid file, a
 * value) — never another exception, a crash or a hang. Fixed seeds keep the runs reproducible.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import fc from 'fast-check';

import { isUltrafaceError } from '../../src/core/errors.js';
import { readMat } from '../../src/data/mat.js';
import { parseRetinafaceLabels } from '../../src/data/retinaface-label.js';
import { parseVocAnnotation } from '../../src/data/voc.js';
import { readWiderGroundTruth } from '../../src/data/wider-mat.js';
import { parseWiderSplitTxt } from '../../src/data/wider-txt.js';
import { sharedPath } from '../helpers/shared.js';
import { MatWriter, widerMatFiles } from './mat-writer.js';

const SEED = 20240611;

/** Runs `fn`; an E_DATASET error is fine (returned), anything else thrown fails the test. */
function datasetErrorOrValue(fn: () => unknown): Error | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (!isUltrafaceError(error, 'E_DATASET')) throw error;
    return error;
  }
}

/** A mutation of a text: replace, delete, duplicate or cut one line, or overwrite one character. */
const lineEdit = fc.record({
  kind: fc.constantFrom('replace', 'delete', 'duplicate', 'cut', 'char'),
  at: fc.nat(),
  text: fc.string({ maxLength: 30, unit: fc.constantFrom(...'0123456789 -.e#/abc\t\n'.split('')) }),
});

function editLines(
  text: string,
  { kind, at, text: insert }: { kind: string; at: number; text: string },
): string {
  const lines = text.split('\n');
  const i = at % lines.length;
  if (kind === 'replace') lines[i] = insert;
  else if (kind === 'delete') lines.splice(i, 1);
  else if (kind === 'duplicate') lines.splice(i, 0, lines[i]);
  else if (kind === 'cut') return text.slice(0, at % text.length);
  else return `${text.slice(0, at % text.length)}${insert.slice(0, 1)}${text.slice((at % text.length) + 1)}`;
  return lines.join('\n');
}

describe('fuzz: MAT reader', () => {
  const mini = readFileSync(sharedPath('data/widerface-mini/eval_tools/ground_truth/wider_hard_val.mat'));
  const synthetic = widerMatFiles([
    {
      name: '0--Parade',
      images: [
        {
          name: 'a',
          boxes: [
            [1, 2, 3, 4],
            [5, 6, 7, 8],
          ],
          keep: [1, 2],
        },
      ],
    },
    { name: '1--Handshaking', images: [{ name: 'b', boxes: [], keep: [] }] },
  ])['wider_easy_val.mat']; // compressed

  it('truncated at every offset of a compressed file and at many of an uncompressed one', () => {
    for (let n = 0; n < synthetic.length; n++) datasetErrorOrValue(() => readMat(synthetic.subarray(0, n)));
    const cuts = [
      ...Array.from({ length: 1200 }, (_, i) => i),
      ...Array.from({ length: 400 }, (_, i) => Math.floor((i * mini.length) / 400)),
    ];
    let errors = 0;
    for (const n of cuts) if (datasetErrorOrValue(() => readMat(mini.subarray(0, n))) !== undefined) errors++;
    assert.ok(errors > cuts.length * 0.9, `${errors} errors`);
  });

  it('official wider_face_val.mat truncated at 25 offsets', () => {
    const official = readFileSync(sharedPath('data/widerface/eval_tools/ground_truth/wider_face_val.mat'));
    for (let i = 0; i < 25; i++) {
      const n = Math.floor(((i + 0.5) * official.length) / 25);
      assert.ok(datasetErrorOrValue(() => readMat(official.subarray(0, n))));
    }
  });

  it('random bytes, with and without a valid header', () => {
    const header = mini.subarray(0, 128);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, withHeader) => {
        const file = withHeader ? Buffer.concat([header, bytes]) : bytes;
        datasetErrorOrValue(() => readMat(file));
      }),
      { numRuns: 400, seed: SEED },
    );
  });

  it('random byte overwrites in uncompressed and compressed files', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (edits, compressed) => {
          const file = Uint8Array.from(compressed ? synthetic : mini.subarray(0, 20_000));
          for (const [at, value] of edits) file[128 + (at % (file.length - 128))] = value;
          datasetErrorOrValue(() => readMat(file));
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });
});

describe('fuzz: WIDER ground truth with wrong types', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ultraface-fuzz-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const w = new MatWriter();
  type Tree = { num: number[] } | { text: string } | { cells: Tree[] };
  const { tree } = fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small' },
      fc.record({ num: fc.array(fc.integer({ min: -3, max: 300 }), { maxLength: 6 }) }),
      fc.record({ text: fc.string({ maxLength: 8 }) }),
      fc.record({ cells: fc.array(tie('tree'), { maxLength: 3 }) }),
    ),
  }));
  const encode = (t: Tree, name = ''): Uint8Array =>
    'num' in t
      ? w.numeric(name, [t.num.length, 1], t.num)
      : 'text' in t
        ? w.char(name, t.text)
        : w.cell(
            name,
            [t.cells.length, 1],
            t.cells.map((c) => encode(c)),
          );
  const events = [{ name: 'e', images: [{ name: 'a', boxes: [[1, 2, 3, 4]], keep: [1] }] }];

  it('any value in place of event_list, file_list, face_bbx_list or gt_list', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('event_list', 'file_list', 'face_bbx_list', 'gt_list'),
        tree,
        async (name, t) => {
          for (const [file, bytes] of Object.entries(widerMatFiles(events, { [name]: encode(t, name) }))) {
            writeFileSync(join(dir, file), bytes);
          }
          try {
            await readWiderGroundTruth(dir);
          } catch (error) {
            if (!isUltrafaceError(error, 'E_DATASET')) throw error;
          }
        },
      ),
      { numRuns: 60, seed: SEED },
    );
  });
});

describe('fuzz: text and XML readers', () => {
  const val = readFileSync(sharedPath('data/widerface/wider_face_split/wider_face_val_bbx_gt.txt'), 'utf8');
  const widerTxt = val.slice(0, val.indexOf('0--Parade/0_Parade_Parade_0_478.jpg')); // whole records, ends with a no-face image
  const labels = readFileSync(sharedPath('reference/upstream/data/retinaface_labels/val/label.txt'), 'utf8');
  const labelTxt = labels.slice(0, labels.indexOf('# 0--Parade/0_Parade_Parade_0_829.jpg'));
  const xml = readFileSync(
    sharedPath('data/faces-voc/Annotations/cymqqqq_mask_01CHINAAIR-1-articleLarge.xml'),
    'utf8',
  );
  const classes = ['BACKGROUND', 'face'];

  it('the unedited samples parse', () => {
    assert.ok(parseWiderSplitTxt(widerTxt, 't.txt').length > 10);
    assert.ok(parseRetinafaceLabels(labelTxt, 'l.txt').length > 3);
    assert.equal(parseVocAnnotation(xml, 'a.xml', classes).objects.length, 4);
  });

  it('WIDER split txt and RetinaFace label.txt with corrupted lines: errors name file:line', () => {
    fc.assert(
      fc.property(lineEdit, (edit) => {
        const wider = datasetErrorOrValue(() => parseWiderSplitTxt(editLines(widerTxt, edit), 't.txt'));
        if (wider) assert.match(wider.message, /^t\.txt:\d+: /);
        const label = datasetErrorOrValue(() => parseRetinafaceLabels(editLines(labelTxt, edit), 'l.txt'));
        if (label) assert.match(label.message, /^l\.txt:\d+: /);
      }),
      { numRuns: 300, seed: SEED },
    );
  });

  it('VOC XML truncated at every offset and with corrupted characters', () => {
    for (let n = 0; n < xml.trimEnd().length; n++) {
      assert.ok(
        datasetErrorOrValue(() => parseVocAnnotation(xml.slice(0, n), 'a.xml', classes)),
        `cut at ${n}`,
      );
    }
    fc.assert(
      fc.property(
        lineEdit,
        fc.string({ maxLength: 3, unit: fc.constantFrom(...'<>/&x1- '.split('')) }),
        (edit, insert) => {
          datasetErrorOrValue(() =>
            parseVocAnnotation(editLines(xml, { ...edit, text: insert }), 'a.xml', classes),
          );
        },
      ),
      { numRuns: 300, seed: SEED },
    );
  });
});
