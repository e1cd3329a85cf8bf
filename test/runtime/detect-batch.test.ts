import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { isUltrafaceError, UltrafaceError } from '../../src/core/errors.js';
import type { Detection } from '../../src/core/postprocess.js';
import { createFaceDetector, type FaceDetector } from '../../src/runtime/node/detector.js';
import { imagePath } from '../helpers/vectors.js';

describe('detectBatch: one bad input loses nothing else (#16)', () => {
  let dir: string;
  let detector: FaceDetector;
  let expected: Detection[];
  const good = imagePath('5.jpg');
  const garbage = new Uint8Array([1, 2, 3]); // E_IMAGE_DECODE, in sharp's threads
  const shortPixels = { data: new Uint8Array(3), width: 2, height: 2, channels: 3 as const }; // E_INVALID_INPUT, at once
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ultraface-batch-'));
    detector = await createFaceDetector(); // the shipped rfb-320: a dynamic batch, 8 images per run
    expected = await detector.detect(good);
  });
  after(async () => {
    await detector.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('settle: true gives { faces } or { error } per input, in input order', async () => {
    const missing = join(dir, 'nope.jpg');
    const results = await detector.detectBatch([good, missing, garbage, shortPixels, good], { settle: true });
    assert.equal(results.length, 5);
    assert.deepEqual(results[0], { faces: expected });
    assert.deepEqual(results[4], { faces: expected });
    const codes = results.slice(1, 4).map((r) => {
      assert.equal(r.faces, undefined);
      assert.ok(r.error instanceof UltrafaceError);
      return r.error.code;
    });
    assert.deepEqual(codes, ['E_FILE_NOT_FOUND', 'E_IMAGE_DECODE', 'E_INVALID_INPUT']);
    assert.match(results[1].error?.message ?? '', /nope\.jpg/);
  });

  it('settle: true over several runs (batchSize 2) keeps every good result and counts every image', async () => {
    const small = await createFaceDetector({ batchSize: 2 });
    try {
      const progress: number[] = [];
      const results = await small.detectBatch([garbage, good, good, garbage, good], {
        settle: true,
        onProgress: (done) => progress.push(done),
      });
      assert.deepEqual(
        results.map((r) => (r.faces ? r.faces.length : r.error.code)),
        ['E_IMAGE_DECODE', expected.length, expected.length, 'E_IMAGE_DECODE', expected.length],
      );
      assert.deepEqual(progress, [2, 4, 5]);
    } finally {
      await small.dispose();
    }
  });

  it('without settle, rejects with the error of the first failing input, not the first to fail', async () => {
    assert.ok(detector.model.dynamicBatch, 'the three images share one run');
    // shortPixels fails before garbage does (no decoding), but garbage comes first.
    await assert.rejects(detector.detectBatch([good, garbage, shortPixels]), (error) =>
      isUltrafaceError(error, 'E_IMAGE_DECODE'),
    );
    assert.deepEqual(await detector.detectBatch([good]), [expected]);
  });

  it('settle must be a boolean', async () => {
    await assert.rejects(
      detector.detectBatch([good], { settle: 'yes' } as unknown as { settle: true }),
      (error) =>
        isUltrafaceError(error, 'E_INVALID_OPTION') &&
        error.message === 'Expected a boolean for settle but received "yes"',
    );
  });
});
