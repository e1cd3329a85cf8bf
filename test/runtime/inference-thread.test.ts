/** The Node detector's inference thread (src/runtime/node/inference-thread.ts). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { isUltrafaceError } from '../../src/core/errors.js';
import { createFaceDetector } from '../../src/runtime/node/detector.js';
import { loadImage } from '../../src/runtime/node/image.js';
import { imagePath, referenceImages } from '../helpers/vectors.js';

const names = Object.keys(referenceImages);

describe('inference in its own thread', () => {
  it('72 concurrent detect() calls give what 72 calls one after another give', async () => {
    const detector = await createFaceDetector();
    try {
      const inputs = Array.from({ length: 72 }, (_, i) => imagePath(names[i % names.length]));
      const sequential = [];
      for (const input of inputs) sequential.push(await detector.detect(input));
      const concurrent = await Promise.all(inputs.map((input) => detector.detect(input)));
      assert.deepEqual(concurrent, sequential);
      assert.ok(sequential.some((faces) => faces.length > 0));
    } finally {
      await detector.dispose();
    }
  });

  it('keeps the event loop free while the network runs', async () => {
    const detector = await createFaceDetector();
    try {
      // Decoded pixels: no decoding to wait for, so the only waits of detect() are for inference.
      const image = await loadImage(imagePath('25.jpg'), { maxPixels: 1e8 });
      await detector.detect(image); // warm
      // Count event-loop turns while 8 inferences run: on the main thread each run would hold the loop for its
      // whole length (onnxruntime-node runs synchronously), leaving a few turns per call at most.
      let turns = 0;
      let counting = true;
      const tick = (): void => {
        turns++;
        if (counting) setImmediate(tick);
      };
      setImmediate(tick);
      let inference = 0;
      for (let i = 0; i < 8; i++) {
        await detector.detect(image, { onTimings: (t) => (inference += t.inferenceMs) });
      }
      counting = false;
      assert.ok(turns > 100, `${turns} event-loop turns during ${inference.toFixed(0)} ms of inference`);
    } finally {
      await detector.dispose();
    }
  });

  it('does not keep the process alive when idle, without dispose()', async () => {
    const script = `
      import { createFaceDetector } from ${JSON.stringify(new URL('../../src/runtime/node/detector.ts', import.meta.url).href)};
      const detector = await createFaceDetector();
      const faces = await detector.detect(${JSON.stringify(imagePath('1.jpg'))});
      console.log(faces.length);
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 60_000, cwd: fileURLToPath(new URL('../..', import.meta.url)) },
    );
    assert.ok(Number(stdout.trim()) > 0, stdout);
  });

  it('rejects calls in flight with E_DISPOSED when the detector is disposed', async () => {
    const detector = await createFaceDetector();
    const calls = Promise.allSettled(Array.from({ length: 8 }, () => detector.detect(imagePath('25.jpg'))));
    await detector.dispose();
    for (const result of await calls) {
      assert.equal(result.status, 'rejected');
      assert.ok(isUltrafaceError(result.reason, 'E_DISPOSED'), String(result.reason));
    }
  });
});
