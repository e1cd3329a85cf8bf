// Issue #16: detect() takes an ArrayBuffer and a file: URL as it takes bytes and paths, and a value of no accepted
// type gets a message that names the accepted types (it used to speak of ".data ... received undefined").
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';

import { isUltrafaceError } from '../../src/core/errors.js';
import { createFaceDetector, type FaceDetector } from '../../src/runtime/node/detector.js';
import { imagePath } from '../helpers/vectors.js';

const ACCEPTED =
  /^Expected a file path or file: URL, encoded bytes \(Uint8Array, Buffer or ArrayBuffer\) or raw pixels \{ data, width, height, channels \} for image but received /;

describe('detect() image inputs', () => {
  let detector: FaceDetector;
  before(async () => {
    detector = await createFaceDetector({ threads: 1 });
  });
  after(async () => {
    await detector.dispose();
  });

  it('takes an ArrayBuffer of encoded bytes and a file: URL, with the same faces as bytes and a path', async () => {
    const path = imagePath('1.jpg');
    const expected = await detector.detect(path);
    assert.ok(expected.length > 0);
    const bytes = readFileSync(path);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    assert.deepEqual(await detector.detect(buffer), await detector.detect(new Uint8Array(bytes)));
    assert.deepEqual(await detector.detect(pathToFileURL(path)), expected);
    const batch = await detector.detectBatch([pathToFileURL(path), buffer]);
    assert.equal(batch.length, 2);
  });

  it('refuses other URLs and values of no accepted type with E_INVALID_INPUT, naming what it takes', async () => {
    const refused = async (input: unknown, message: RegExp): Promise<void> => {
      await assert.rejects(detector.detect(input as string), (error: unknown) => {
        assert.ok(isUltrafaceError(error, 'E_INVALID_INPUT'), String(error));
        assert.match(error.message, message);
        return true;
      });
    };
    await refused(
      new URL('https://example.com/photo.jpg'),
      /^Expected a file: URL for image but received https:/,
    );
    await refused(42, ACCEPTED);
    await refused(new Map(), ACCEPTED);
    await refused(null, ACCEPTED);
  });
});
