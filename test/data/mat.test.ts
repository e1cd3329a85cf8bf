import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { readMat, type MatValue } from '../../src/data/mat.js';
import { readWiderGroundTruth } from '../../src/data/wider-mat.js';
import { WIDER_SETTINGS, type WiderGroundTruth } from '../../src/data/wider-types.js';
import { sharedPath } from '../helpers/shared.js';
import { MI, MX, MatWriter, concat, widerMatFiles } from './mat-writer.js';

const w = new MatWriter();

function only(bytes: Uint8Array): MatValue {
  const vars = [...readMat(bytes).values()];
  assert.equal(vars.length, 1);
  return vars[0];
}

function datasetError(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(isUltrafaceError(error, 'E_DATASET'), String(error));
    assert.match(error.message, pattern);
    return true;
  };
}

function totals(gt: WiderGroundTruth): { boxes: number; easy: number; medium: number; hard: number } {
  const sum = { boxes: 0, easy: 0, medium: 0, hard: 0 };
  for (const image of gt.images) {
    sum.boxes += image.boxes.length / 4;
    for (const setting of WIDER_SETTINGS) sum[setting] += image.keep[setting].length;
  }
  return sum;
}

describe('readMat', () => {
  it('reads numeric classes from every data type, column-major, as float64', () => {
    const cases: [number, number, number[]][] = [
      [MX.DOUBLE, MI.DOUBLE, [1.5, -2, 1e300]],
      [MX.SINGLE, MI.SINGLE, [0.5, -3]],
      [MX.DOUBLE, MI.UINT8, [0, 255, 7]], // MATLAB stores integer-valued doubles compactly
      [MX.INT8, MI.INT8, [-128, 127]],
      [MX.INT16, MI.INT16, [-32768, 5]],
      [MX.UINT16, MI.UINT16, [65535, 1]],
      [MX.INT32, MI.INT32, [-(2 ** 31), 2 ** 31 - 1]],
      [MX.UINT32, MI.UINT32, [2 ** 32 - 1]],
      [MX.INT64, MI.INT64, [-(2 ** 53) + 1, 42]],
      [MX.UINT64, MI.UINT64, [2 ** 53 - 1]],
    ];
    for (const [cls, type, values] of cases) {
      const value = only(w.file([w.numeric('x', [1, values.length], values, cls, type)]));
      assert.equal(value.kind, 'numeric');
      assert.deepEqual(Array.from(value.data), values);
      assert.deepEqual(value.dims, [1, values.length]);
      assert.equal(value.name, 'x');
    }
  });

  it('reads small elements, logical flags, empty matrices and column-major order', () => {
    const logical = only(
      w.file([w.matrix(MX.UINT8, [1, 2], 'ok', [w.element(MI.UINT8, Uint8Array.of(1, 0), true)], 0x200)]),
    );
    assert.ok(logical.kind === 'numeric' && logical.logical && logical.class === 'uint8');
    const m = only(w.file([w.numeric('m', [2, 3], [1, 2, 3, 4, 5, 6])]));
    assert.ok(m.kind === 'numeric');
    assert.deepEqual(m.dims, [2, 3]);
    assert.equal(m.data[2], 3); // row 0, column 1
    const empty = only(
      w.file([w.cell('c', [1, 2], [w.element(MI.MATRIX, new Uint8Array(0)), w.numeric('', [0, 0], [])])]),
    );
    assert.ok(empty.kind === 'cell');
    assert.deepEqual(
      empty.cells.map((c) => c.kind === 'numeric' && c.data.length),
      [0, 0],
    );
  });

  it('reads char data in UTF-16, UTF-8 and 8-bit encodings', () => {
    for (const [text, type] of [
      ['0--Parade', MI.UTF16],
      ['héllo wörld', MI.UTF8],
      ['abc', MI.UINT8],
      ['', MI.UTF16],
    ] as const) {
      const value = only(w.file([w.char('s', text, type)]));
      assert.ok(value.kind === 'char');
      assert.equal(value.text, text);
    }
  });

  it('reads nested cells, structs, several variables, compression and big-endian files', () => {
    for (const writer of [new MatWriter(true), new MatWriter(false)]) {
      const cell = writer.cell(
        'c',
        [2, 1],
        [writer.char('', 'a'), writer.cell('', [1, 1], [writer.numeric('', [1, 1], [7])])],
      );
      const struct = writer.struct(
        's',
        [1, 2],
        ['id', 'label'],
        [
          writer.numeric('', [1, 1], [1]),
          writer.char('', 'one'),
          writer.numeric('', [1, 1], [2]),
          writer.char('', 'two'),
        ],
      );
      const vars = readMat(
        writer.file([writer.compressed(cell), struct, writer.compressed(writer.numeric('n', [1, 1], [3]))]),
      );
      assert.deepEqual([...vars.keys()], ['c', 's', 'n']);
      const c = vars.get('c');
      assert.ok(c?.kind === 'cell' && c.cells[0].kind === 'char' && c.cells[1].kind === 'cell');
      const inner = c.cells[1].cells[0];
      assert.ok(inner.kind === 'numeric' && inner.data[0] === 7);
      const s = vars.get('s');
      assert.ok(s?.kind === 'struct');
      assert.deepEqual(s.fields, ['id', 'label']);
      const label = s.elements[1].get('label');
      assert.ok(label?.kind === 'char' && label.text === 'two');
    }
  });

  it('rejects what it does not support with a clear E_DATASET error', () => {
    const complex = w.matrix(
      MX.DOUBLE,
      [1, 1],
      'z',
      [w.element(MI.DOUBLE, w.numbers(MI.DOUBLE, [1])), w.element(MI.DOUBLE, w.numbers(MI.DOUBLE, [2]))],
      0x800,
    );
    assert.throws(() => readMat(w.file([complex])), datasetError(/complex arrays are not supported \(z\)/));
    assert.throws(
      () => readMat(w.file([w.matrix(MX.SPARSE, [2, 2], 'sp', [])])),
      datasetError(/unsupported MATLAB class sparse/),
    );
    assert.throws(() => readMat(w.file([], 0x0200)), datasetError(/version 0x200 \(v7.3 files are HDF5/));
    assert.throws(
      () => readMat(new Uint8Array(200), { source: 'x.mat' }),
      datasetError(/^x\.mat: not a MAT v5 file/),
    );
    assert.throws(
      () => readMat(w.file([w.numeric('big', [1, 1], [2 ** 60], MX.INT64, MI.INT64)])),
      datasetError(/too large/),
    );
    assert.throws(
      () => readMat(w.file([w.numeric('n', [2, 2], [1, 2, 3])])),
      datasetError(/3 values for dimensions 2×2/),
    );
  });

  it('caps nesting depth and inflated size', () => {
    let nested = w.numeric('', [1, 1], [1]);
    for (let i = 0; i < 40; i++) nested = w.cell('', [1, 1], [nested]);
    assert.throws(() => readMat(w.file([nested])), datasetError(/nested deeper than 32/));
    assert.equal(readMat(w.file([nested]), { maxDepth: 50 }).size, 1);
    const bomb = w.file([w.compressed(w.numeric('zeros', [1, 2 ** 18], new Array<number>(2 ** 18).fill(0)))]);
    assert.ok(bomb.length < 20_000);
    assert.throws(() => readMat(bomb, { maxInflatedBytes: 2 ** 20 }), datasetError(/cannot inflate/));
  });

  it('names the file and the byte of a truncation', () => {
    const bytes = w.file([w.numeric('x', [1, 4], [1, 2, 3, 4])]);
    assert.throws(
      () => readMat(bytes.subarray(0, bytes.length - 8), { source: 'gt.mat' }),
      datasetError(/^gt\.mat: element of \d+ bytes but only \d+ left \(byte 128\)$/),
    );
    const compressed = w.file([w.compressed(concat([w.numeric('x', [1, 1], [1])]))]);
    compressed[compressed.length - 1] ^= 0xff; // breaks the adler-32 check
    assert.throws(() => readMat(compressed), datasetError(/cannot inflate compressed element/));
  });

  it('reads a real MATLAB file: wider_face_val.mat', () => {
    const vars = readMat(
      readFileSync(sharedPath('data/widerface/eval_tools/ground_truth/wider_face_val.mat')),
    );
    const names = ['blur_label_list', 'event_list', 'expression_label_list', 'face_bbx_list', 'file_list'];
    for (const name of names) assert.ok(vars.has(name), name);
    const events = vars.get('event_list');
    assert.ok(events?.kind === 'cell');
    assert.deepEqual(events.dims, [61, 1]);
    assert.ok(events.cells[0].kind === 'char' && events.cells[0].text === '0--Parade');
  });
});

describe('readWiderGroundTruth', () => {
  it('reads the official val ground truth (SPEC §10.2 totals)', async () => {
    const gt = await readWiderGroundTruth(sharedPath('data/widerface/eval_tools/ground_truth'));
    assert.equal(gt.images.length, 3226);
    assert.equal(new Set(gt.images.map((i) => i.event)).size, 61);
    assert.deepEqual(totals(gt), { boxes: 39708, easy: 7211, medium: 13319, hard: 31958 });
    assert.equal(Math.max(...gt.images.map((i) => i.boxes.length / 4)), 709);
    const first = gt.images[0];
    assert.equal(first.event, '0--Parade');
    assert.equal(first.name, '0_Parade_marchingband_1_465');
    assert.deepEqual(Array.from(first.boxes.subarray(0, 8)), [345, 211, 4, 4, 331, 126, 3, 3]);
    for (const image of gt.images) {
      const k = image.boxes.length / 4;
      for (const s of WIDER_SETTINGS) assert.ok(image.keep[s].every((i) => i < k));
    }
  });

  it('reads widerface-mini (fractional boxes, scipy-written uncompressed files)', async () => {
    const gt = await readWiderGroundTruth(sharedPath('data/widerface-mini/eval_tools/ground_truth'));
    assert.equal(gt.images.length, 100);
    assert.deepEqual(totals(gt), { boxes: 2036, easy: 271, medium: 612, hard: 1722 });
    assert.equal(gt.images[0].name, '0_Parade_Parade_0_814');
    assert.equal(gt.images[0].boxes[0], 30.0625);
    assert.ok(!Number.isInteger(gt.images[0].boxes[1]));
  });

  describe('on synthetic files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ultraface-wider-mat-'));
    after(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    const events = [
      {
        name: '0--Parade',
        images: [
          {
            name: 'a',
            boxes: [
              [1, 2, 3, 4],
              [5, 6, 7, 8],
            ],
            keep: [2],
          },
          { name: 'b', boxes: [], keep: [] },
        ],
      },
      { name: '1--Handshaking', images: [{ name: 'c', boxes: [[9, 9, 9, 9]], keep: [1] }] },
    ];
    const write = (files: Record<string, Uint8Array>): string => {
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
      return dir;
    };

    it('converts keep lists to 0-based and boxes to rows', async () => {
      const gt = await readWiderGroundTruth(write(widerMatFiles(events)));
      assert.deepEqual(
        gt.images.map((i) => `${i.event}/${i.name}`),
        ['0--Parade/a', '0--Parade/b', '1--Handshaking/c'],
      );
      assert.deepEqual(Array.from(gt.images[0].boxes), [1, 2, 3, 4, 5, 6, 7, 8]);
      assert.deepEqual(Array.from(gt.images[0].keep.hard), [1]);
      assert.equal(gt.images[1].boxes.length, 0);
    });

    it('rejects wrong types, bad indices and missing files naming the file', async () => {
      const m = new MatWriter();
      await assert.rejects(
        readWiderGroundTruth(
          write(widerMatFiles(events, { event_list: m.numeric('event_list', [1, 1], [3]) })),
        ),
        datasetError(/wider_face_val\.mat: event_list: expected a cell array, found double 1×1/),
      );
      await assert.rejects(
        readWiderGroundTruth(
          write(
            widerMatFiles(events, {
              face_bbx_list: m.cell('face_bbx_list', [2, 1], [m.char('', 'x'), m.char('', 'y')]),
            }),
          ),
        ),
        datasetError(/face_bbx_list\{1\}: expected a cell array, found char/),
      );
      await assert.rejects(
        readWiderGroundTruth(
          write(widerMatFiles([{ name: 'e', images: [{ name: 'a', boxes: [[1, 1, 1, 1]], keep: [2] }] }])),
        ),
        datasetError(/wider_easy_val\.mat: gt_list\{1\}\{1\}: index 2 is not a box number 1\.\.1/),
      );
      rmSync(join(dir, 'wider_hard_val.mat'));
      await assert.rejects(
        readWiderGroundTruth(dir),
        datasetError(/wider_hard_val\.mat: cannot read the file \(ENOENT\)/),
      );
    });
  });
});
