import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import sharp from 'sharp';

import { isUltrafaceError } from '../../src/core/errors.js';
import type { RgbImage } from '../../src/core/image.js';
import { drawDetections } from '../../src/runtime/node/draw.js';
import { sharedPath } from '../helpers/shared.js';

const GREY = 100;
const WIDTH = 200;
const HEIGHT = 150;
const image: RgbImage = {
  data: new Uint8Array(WIDTH * HEIGHT * 3).fill(GREY),
  width: WIDTH,
  height: HEIGHT,
  channels: 3,
};
const face = { box: { x1: 50.2, y1: 60, x2: 149.6, y2: 120.4 }, score: 0.987 };

async function readPixels(path: string): Promise<(x: number, y: number) => number[]> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return (x, y) => [
    ...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3),
  ];
}

async function rejection(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error) => isUltrafaceError(error) && error.code === code);
}

describe('drawDetections', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-draw-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const leftovers = (folder: string): string[] => readdirSync(folder).filter((name) => name.endsWith('.tmp'));

  it('draws each box edge in the box colour and leaves the inside alone (PNG)', async () => {
    const out = join(dir, 'boxes.png');
    await drawDetections(image, [face], out, { color: '#00ff00' });
    const meta = await sharp(out).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height, meta.channels], ['png', WIDTH, HEIGHT, 3]);
    const at = await readPixels(out);
    // Box snapped to pixels: x 50..150, y 60..120; a 2-pixel line covers x-1 and x at every edge.
    for (const [x, y] of [
      [50, 90], // left
      [149, 90], // right
      [100, 60], // top
      [100, 119], // bottom
    ]) {
      assert.deepEqual(at(x, y), [0, 255, 0], `edge pixel ${x},${y}`);
    }
    assert.deepEqual(at(100, 90), [GREY, GREY, GREY]); // inside
    assert.deepEqual(at(10, 10), [GREY, GREY, GREY]); // outside
    assert.deepEqual(leftovers(dir), []);
  });

  it('writes JPEG and WebP by extension, from a file path', async () => {
    const input = sharedPath('reference/upstream/imgs/13.jpg');
    for (const [name, format] of [
      ['a.jpg', 'jpeg'],
      ['b.JPEG', 'jpeg'],
      ['c.webp', 'webp'],
    ]) {
      await drawDetections(input, [face], join(dir, name), { showScores: false });
      const meta = await sharp(join(dir, name)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], [format, 450, 344]);
    }
  });

  it('replaces an existing file', async () => {
    const out = join(dir, 'again.png');
    await drawDetections(image, [], out);
    await drawDetections(image, [face], out, { color: '#0000ff', showScores: false });
    assert.deepEqual((await readPixels(out))(50, 90), [0, 0, 255]);
  });

  it('creates missing folders, and leaves nothing behind when the write fails', async () => {
    await drawDetections(image, [face], join(dir, 'new', 'folder', 'x.png'));
    assert.deepEqual(readdirSync(join(dir, 'new', 'folder')), ['x.png']);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a folder');
    await rejection(drawDetections(image, [face], join(file, 'x.png')), 'E_IO');
    // The rename fails (the target is a folder) after the temporary file was written: it must be removed.
    const blocked = join(dir, 'sub');
    mkdirSync(join(blocked, 'taken.png'), { recursive: true });
    await rejection(drawDetections(image, [face], join(blocked, 'taken.png')), 'E_IO');
    assert.deepEqual(readdirSync(blocked), ['taken.png']);
    assert.deepEqual(leftovers(dir), []);
  });

  it('rejects bad options and detections with coded errors', async () => {
    const out = join(dir, 'never.png');
    await rejection(drawDetections(image, [face], join(dir, 'x.bmp')), 'E_INVALID_OPTION');
    await rejection(drawDetections(image, [face], out, { color: 'red' }), 'E_INVALID_OPTION');
    await rejection(drawDetections(image, [face], out, { lineWidth: 0 }), 'E_INVALID_OPTION');
    await rejection(drawDetections(image, [face], out, { colour: '#000000' } as object), 'E_INVALID_OPTION');
    const noScore = { box: face.box } as unknown as typeof face;
    await rejection(drawDetections(image, [noScore], out), 'E_INVALID_INPUT');
    await rejection(
      drawDetections(image, [{ ...face, box: { ...face.box, x1: NaN } }], out),
      'E_INVALID_INPUT',
    );
    await rejection(drawDetections(join(dir, 'nope.png'), [face], out), 'E_FILE_NOT_FOUND');
    assert.deepEqual(
      readdirSync(dir).filter((name) => name.startsWith('never') || name.startsWith('x.')),
      [],
    );
  });
});
