import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';

import { isUltrafaceError } from '../../src/core/errors.js';
import {
  formatPredictionFile,
  formatScore,
  parsePredictionFile,
  readPredictionDir,
  writePredictionFile,
  writePredictionFiles,
  type WiderImageDetections,
} from '../../src/eval/prediction-files.js';
import { evaluateWider } from '../../src/eval/wider-protocol.js';

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ultraface-pred-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('formatScore (Python "%.03f")', () => {
  it('rounds like Python, ties to even', () => {
    // Python: '%.03f' % x for each x
    const cases: [number, string][] = [
      [0.0625, '0.062'], // exact tie: toFixed would give 0.063
      [0.5625, '0.562'],
      [0.9375, '0.938'],
      [0.1875, '0.188'],
      [-0.0625, '-0.062'],
      [1.0005, '1.000'], // not a tie: 1.0005 is stored slightly below
      [0.0005, '0.001'],
      [1, '1.000'],
      [0, '0.000'],
      [-0, '-0.000'],
      [0.00025, '0.000'],
      [0.99951171875, '1.000'],
    ];
    for (const [x, text] of cases) assert.equal(formatScore(x), text, String(x));
  });
});

describe('formatPredictionFile (SPEC §10.1)', () => {
  it('writes name, count and floor/ceil boxes by descending score, score capped at 1', () => {
    const text = formatPredictionFile({
      event: '0--Parade',
      name: '0_Parade_1',
      boxes: [10.7, 20.2, 30.1, 40.9, -3.5, -1.2, 5.5, 6, 1, 2, 3, 4],
      scores: [0.5, 1.2, 0.5],
    });
    assert.equal(text, '0_Parade_1\n3\n-4 -2 9 8 1.000\n10 20 20 21 0.500\n1 2 2 2 0.500\n');
  });

  it('computes widths in float32 for a Float32Array, like the torch tensors upstream', () => {
    // x1 = 0.3f, x2 = 100.3f: the float64 difference is 100.000003…, which float32 rounds to 100 exactly
    const x1 = Math.fround(0.3);
    const x2 = Math.fround(100.3);
    const line = (boxes: ArrayLike<number>) =>
      formatPredictionFile({ event: 'e', name: 'n', boxes, scores: [0.5] }).split('\n')[2];
    assert.equal(line(Float32Array.from([x1, 0, x2, 1])), '0 0 100 1 0.500');
    assert.equal(line([x1, 0, x2, 1]), '0 0 101 1 0.500');
  });

  it('rejects names with path separators and mismatched shapes', () => {
    const base = { boxes: [0, 0, 1, 1], scores: [1] };
    assert.throws(
      () => formatPredictionFile({ ...base, event: '../x', name: 'n' }),
      (e: unknown) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
    assert.throws(
      () => formatPredictionFile({ ...base, event: 'e', name: 'a/b' }),
      (e: unknown) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
    assert.throws(
      () => formatPredictionFile({ event: 'e', name: 'n', boxes: [0, 0, 1], scores: [1] }),
      (e: unknown) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
    assert.throws(
      () => formatPredictionFile({ event: 'e', name: 'n', boxes: [0, 0, 1, 1], scores: [Infinity] }),
      (e: unknown) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
  });
});

describe('parsePredictionFile', () => {
  it('accepts trailing spaces, CRLF, empty lines and extra fields', () => {
    const boxes = parsePredictionFile(
      'img\r\n2 \r\n1 2 3 4 0.5  \r\n\r\n-5 6 7 8 0.25 extra\r\n\r\n',
      'f.txt',
    );
    assert.deepEqual(Array.from(boxes), [1, 2, 3, 4, 0.5, -5, 6, 7, 8, 0.25]);
    assert.deepEqual(Array.from(parsePredictionFile('img\n0\n', 'f.txt')), []);
  });

  it('names file and line of malformed content (E_DATASET)', () => {
    const bad: [string, RegExp][] = [
      ['', /f\.txt:1: Expected the image name/],
      ['img', /f\.txt:2: Expected the number of boxes/],
      ['img\nx\n', /f\.txt:2: Expected the number of boxes but received "x"/],
      ['img\n1\n1 2 3 4\n', /f\.txt:3: Expected 5 fields/],
      ['img\n1\n1 2 3 4 abc\n', /f\.txt:3: Expected a decimal number but received "abc"/],
      ['img\n2\n\n1 2 3 0x4 0.5\n', /f\.txt:4: Expected a decimal number but received "0x4"/],
      ['img\n1\n1 2 3 4 nan\n', /f\.txt:3: /],
      ['img\n2\n1 2 3 4 0.5\n', /f\.txt:2: Expected a count equal to the 1 box lines but received 2/],
    ];
    for (const [text, message] of bad) {
      assert.throws(
        () => parsePredictionFile(text, 'f.txt'),
        (e: unknown) => isUltrafaceError(e, 'E_DATASET') && message.test(e.message),
        JSON.stringify(text),
      );
    }
  });
});

describe('prediction folders', () => {
  it('writes atomically into <dir>/<event>/<name>.txt and reads back by file stem', async () => {
    const dir = join(root, 'layout');
    const path = await writePredictionFile(dir, {
      event: '0--Parade',
      name: '0_Parade_1',
      boxes: [1, 2, 11, 12],
      scores: [0.9],
    });
    assert.equal(path, join(dir, '0--Parade', '0_Parade_1.txt'));
    assert.equal(await readFile(path, 'utf8'), '0_Parade_1\n1\n1 2 10 10 0.900\n');
    assert.deepEqual(await readdir(join(dir, '0--Parade')), ['0_Parade_1.txt']); // no temporary file left
    // overwrite in place
    await writePredictionFile(dir, { event: '0--Parade', name: '0_Parade_1', boxes: [], scores: [] });
    assert.equal(await readFile(path, 'utf8'), '0_Parade_1\n0\n');
    // stray files are skipped; the key is the stem, not line 1 (the official reader's rstrip('.jpg') would turn
    // 'a_jpg' into 'a_')
    await writeFile(join(dir, '0--Parade', 'notes.md'), 'x');
    await writeFile(join(dir, 'README'), 'x');
    await mkdir(join(dir, '1--Handshaking'));
    await writeFile(join(dir, '1--Handshaking', 'a_jpg.txt'), 'something/else.jpg\n1\n0 0 5 5 0.1\n');
    const read = await readPredictionDir(dir);
    assert.deepEqual([...read.keys()], ['0--Parade/0_Parade_1', '1--Handshaking/a_jpg']);
  });

  it('reports a missing folder as E_FILE_NOT_FOUND and a bad file with its path', async () => {
    await assert.rejects(readPredictionDir(join(root, 'nope')), (e: unknown) =>
      isUltrafaceError(e, 'E_FILE_NOT_FOUND'),
    );
    const dir = join(root, 'bad');
    await mkdir(join(dir, 'e'), { recursive: true });
    await writeFile(join(dir, 'e', 'x.txt'), 'x\n1\n1 2 3\n');
    await assert.rejects(
      readPredictionDir(dir),
      (e: unknown) => isUltrafaceError(e, 'E_DATASET') && e.message.includes(`${join(dir, 'e', 'x.txt')}:3:`),
    );
  });

  it('property: write → read gives the rounded boxes, sorted by score, and the same evaluation', async () => {
    const coordinate = fc.double({ min: -100, max: 2000, noNaN: true });
    const detection = fc.tuple(
      coordinate,
      coordinate,
      fc.double({ min: 0, max: 300, noNaN: true }),
      fc.double({ min: 0, max: 300, noNaN: true }),
      fc.double({ min: 0, max: 1.5, noNaN: true }),
    );
    const imageArb = fc.array(detection, { maxLength: 8 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(imageArb, { minLength: 1, maxLength: 4 }), async (images) => {
        const dir = join(root, `round-trip-${run++}`);
        const detections: WiderImageDetections[] = images.map((dets, i) => ({
          event: `${i % 2}--Event`,
          name: `img_${i}`,
          boxes: dets.flatMap(([x, y, w, h]) => [x, y, x + w, y + h]),
          scores: dets.map((d) => d[4]),
        }));
        assert.equal(await writePredictionFiles(dir, detections), images.length);
        const read = await readPredictionDir(dir);
        assert.equal(read.size, images.length);
        detections.forEach((det, i) => {
          const rows = read.get(`${det.event}/${det.name}`);
          assert.ok(rows);
          const order = images[i].map((_, k) => k).sort((a, b) => det.scores[b] - det.scores[a] || a - b);
          order.forEach((k, row) => {
            const [x1, y1, x2, y2] = [0, 1, 2, 3].map((c) => det.boxes[4 * k + c]);
            assert.deepEqual(Array.from(rows.subarray(row * 5, row * 5 + 4)), [
              Math.floor(x1) + 0, // + 0: −0 reads back as 0
              Math.floor(y1) + 0,
              Math.ceil(x2 - x1) + 0,
              Math.ceil(y2 - y1) + 0,
            ]);
            const score = Math.min(det.scores[k], 1);
            assert.ok(Math.abs(rows[row * 5 + 4] - score) <= 0.0005 + 1e-12);
            if (row > 0) assert.ok(rows[row * 5 + 4] <= rows[row * 5 - 1]); // non-increasing on disk
          });
        });
        // evaluating the folder equals evaluating the same numbers in memory
        const gt = {
          images: detections.map((d) => ({
            event: d.event,
            name: d.name,
            boxes: Float64Array.from([0, 0, 50, 50, 100, 100, 40, 40]),
            keep: { easy: Uint32Array.of(0), medium: Uint32Array.of(0, 1), hard: Uint32Array.of(0, 1) },
          })),
        };
        const inMemory = new Map(
          detections.map((d) => {
            const lines = formatPredictionFile(d).trim().split('\n').slice(2);
            return [
              `${d.event}/${d.name}`,
              Float64Array.from(lines.flatMap((l) => l.split(' ').map(Number))),
            ];
          }),
        );
        const a = evaluateWider(gt, read);
        const b = evaluateWider(gt, inMemory);
        assert.deepEqual([a.easy.ap, a.medium.ap, a.hard.ap], [b.easy.ap, b.medium.ap, b.hard.ap]);
        await rm(dir, { recursive: true });
      }),
      { numRuns: 40, seed: 40 },
    );
  });
});
