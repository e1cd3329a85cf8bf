/** `detector.detectPreprocessed`, the detector-core entry the server batches through. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { createFaceDetector, type FaceDetector } from '../../src/runtime/node/detector.js';
import { preprocess } from '../../src/runtime/node/image.js';
import { imageBytes } from './helpers.js';

describe('detectPreprocessed', () => {
  let detector: FaceDetector;
  before(async () => {
    detector = await createFaceDetector();
  });
  after(async () => {
    await detector.dispose();
  });
  const load = (name: string, width = 320, height = 240) =>
    preprocess(imageBytes(name), { width, height, maxPixels: 1e8 });

  it('runs several images in one call, each with its own post-processing options', async () => {
    const names = ['1.jpg', '26.jpg', '13.jpg'];
    const items = await Promise.all(names.map((name) => load(name)));
    const posts = [undefined, { scoreThreshold: 0.95, topK: 2 }, { iouThreshold: 0.1 }];
    const batched = await detector.detectPreprocessed(items, posts);
    for (const [i, name] of names.entries()) {
      const single = await createFaceDetector(posts[i] ?? {});
      try {
        const expected = await single.detect(imageBytes(name));
        assert.equal(batched[i].length, expected.length);
        batched[i].forEach((face, k) => {
          assert.ok(Math.abs(face.box.x1 - expected[k].box.x1) < 0.01);
          assert.ok(Math.abs(face.score - expected[k].score) < 1e-5);
        });
      } finally {
        await single.dispose();
      }
    }
  });

  it('refuses no images, mixed sizes, a size the fixed model cannot take, and bad options', async () => {
    const a = await load('13.jpg');
    const b = await load('13.jpg', 640, 480);
    const code = (c: string) => (e: unknown) => isUltrafaceError(e) && e.code === c;
    await assert.rejects(detector.detectPreprocessed([]), code('E_INVALID_INPUT'));
    await assert.rejects(detector.detectPreprocessed([a, b]), code('E_INVALID_INPUT'));
    await assert.rejects(detector.detectPreprocessed([b]), code('E_INVALID_INPUT'));
    await assert.rejects(detector.detectPreprocessed([a], [{ scoreThreshold: 2 }]), code('E_INVALID_OPTION'));
    const gone = await createFaceDetector();
    await gone.dispose();
    await assert.rejects(gone.detectPreprocessed([a]), code('E_DISPOSED'));
  });
});
