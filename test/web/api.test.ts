/**
 * The `ultraface/web` API on a page that bundles the library alone (as an app does) and starts with no detector,
 * so each test meets onnxruntime-web fresh: settings left out keep the page's, a failed start can be retried,
 * encoded images and URLs are detected (EXIF orientation applied, `maxPixels` checked before decoding), thresholds
 * change per call, and a cross-origin image without CORS gets an UltrafaceError that says what to do.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

import type { Page } from 'playwright-core';
import sharp from 'sharp';

import { iou } from '../../src/core/boxes.js';
import type { Detection } from '../../src/core/postprocess.js';
import { imagePath } from '../helpers/vectors.js';
import { launchChromium, LIB_PAGE, serveDemo, type Browser, type Site } from './helpers/browser.js';
import { exifRotatedJpeg, headerOnlyPng } from './helpers/images.js';

declare global {
  interface Window {
    ultraface: typeof import('../../src/runtime/web/index.js');
  }
}

const MODEL = '/models/slim-320.onnx';
/**
 * Another origin, on loopback, that serves images without CORS headers (but with CORP cross-origin, so that the
 * cross-origin isolated page may show them, as a CDN's may be).
 */
async function serveOtherOrigin(jpeg: Buffer): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'Content-Type': 'image/jpeg', 'Cross-Origin-Resource-Policy': 'cross-origin' });
    response.end(jpeg);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => {
          done();
        });
      }),
  };
}

function assertSameFaces(actual: readonly Detection[], expected: readonly Detection[], what: string): void {
  assert.equal(
    actual.length,
    expected.length,
    `${what}: ${actual.length} faces, expected ${expected.length}`,
  );
  for (const face of expected) {
    const best = Math.max(...actual.map((found) => iou(found.box, face.box)));
    assert.ok(best >= 0.9, `${what}: IoU ${best.toFixed(3)} < 0.9`);
  }
}

describe('ultraface/web API', () => {
  let site: Site;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let blocked: string[];
  let other: Awaited<ReturnType<typeof serveOtherOrigin>>;

  before(async () => {
    site = await serveDemo([imagePath('9.jpg')]);
    other = await serveOtherOrigin(readFileSync(imagePath('9.jpg')));
    browser = await launchChromium();
    ({ page, errors, blocked } = await browser.newPage(new URL(site.server.url).origin));
    await page.route(`${other.origin}/**`, (route) => route.continue()); // loopback: allowed past the block
  });
  after(async () => {
    await browser.close();
    await site.close();
    await other.close();
    assert.deepEqual(errors, [], 'page errors');
    assert.deepEqual(blocked, [], 'requests to other origins');
  });

  /** A fresh page: onnxruntime-web not started, no detector. */
  async function openLib(): Promise<void> {
    await page.goto(`${site.server.url}${LIB_PAGE}`);
    await page.waitForFunction(() => typeof window.ultraface === 'object');
  }

  it('a later detector that leaves threads and wasmPaths out keeps those of the first (#7)', async () => {
    await openLib();
    const outcome = await page.evaluate(async (model) => {
      const { createFaceDetector } = window.ultraface;
      const code = (e: unknown): string => `${(e as { code?: string }).code}: ${(e as Error).message}`;
      const first = await createFaceDetector({
        model,
        executionProviders: ['wasm'],
        wasmPaths: '/ort/',
        threads: 1,
      });
      const second = await createFaceDetector({ model, executionProviders: ['wasm'] }).then(
        (d) => d,
        (e: unknown) => code(e),
      );
      const same = await createFaceDetector({ model, wasmPaths: '/ort/', threads: 1 }).then(
        (d) => d.backend.threads,
        code,
      );
      const other = await createFaceDetector({ model, threads: 2 }).then(() => 'accepted', code);
      const result = {
        second: typeof second === 'string' ? second : second.backend.threads,
        same,
        other,
      };
      await first.dispose();
      if (typeof second !== 'string') await second.dispose();
      return result;
    }, MODEL);
    assert.equal(outcome.second, 1);
    assert.equal(outcome.same, 1);
    assert.match(outcome.other, /^E_INVALID_OPTION: .*threads 1.*reload the page/);
  });

  it('a start that failed for want of wasmPaths, or at a wrong one, can be retried with the right one (#8)', async () => {
    await openLib();
    const outcome = await page.evaluate(async (model) => {
      const { createFaceDetector } = window.ultraface;
      const code = (e: unknown): string => `${(e as { code?: string }).code}: ${(e as Error).message}`;
      const options = { model, executionProviders: ['wasm' as const] };
      const without = await createFaceDetector(options).then(() => 'accepted', code);
      const wrong = await createFaceDetector({ ...options, wasmPaths: '/nope/' }).then(
        () => 'accepted',
        code,
      );
      const right = await createFaceDetector({ ...options, wasmPaths: '/ort/' }).then(async (detector) => {
        const faces = await detector.detect(
          await createImageBitmap(await (await fetch('/images/9.jpg')).blob()),
        );
        await detector.dispose();
        return faces.length;
      }, code);
      return { without, wrong, right };
    }, MODEL);
    assert.equal(typeof outcome.right, 'number', String(outcome.right));
    assert.ok((outcome.right as number) > 0);
    assert.match(outcome.without, /^E_INVALID_OPTION: Expected wasmPaths/);
    assert.match(outcome.wrong, /^E_MODEL_LOAD: .*\/nope\/ort\.wasm\.min\.mjs: HTTP 404/);
  });

  it('detects in Blobs, Files, bytes and URLs, EXIF orientation applied, maxPixels checked before decoding (#9)', async () => {
    const rotated = await exifRotatedJpeg(imagePath('9.jpg'));
    const stored = await sharp(rotated).metadata();
    assert.deepEqual([stored.width, stored.height, stored.orientation], [768, 1024, 6]);
    const bomb = headerOnlyPng(12000, 9000);
    await openLib();
    const outcome = await page.evaluate(
      async ({ model, rotated, bomb }) => {
        const { createFaceDetector, decodeImage } = window.ultraface;
        const code = (e: unknown): string => `${(e as { code?: string }).code}: ${(e as Error).message}`;
        const detector = await createFaceDetector({
          model,
          wasmPaths: '/ort/',
          executionProviders: ['wasm'],
        });
        const image = new Image();
        image.src = '/images/9.jpg';
        await image.decode();
        const blob = await (await fetch('/images/9.jpg')).blob();
        const bytes = new Uint8Array(await blob.arrayBuffer());
        const inputs = {
          blob,
          file: new File([blob], '9.jpg', { type: 'image/jpeg' }),
          bytes,
          arrayBuffer: bytes.buffer,
          path: '/images/9.jpg',
          url: new URL('/images/9.jpg', location.href),
        };
        const faces: Record<string, Detection[]> = { image: await detector.detect(image) };
        for (const [kind, input] of Object.entries(inputs)) faces[kind] = await detector.detect(input);
        faces.batch = (await detector.detectBatch([blob, '/images/9.jpg']))[1];
        const exif = new Blob([new Uint8Array(rotated)], { type: 'image/jpeg' });
        faces.exif = await detector.detect(exif);
        const bitmap = await decodeImage(exif);
        const decoded = [bitmap.width, bitmap.height];
        bitmap.close();
        const refused = {
          bomb: await detector.detect(new Blob([new Uint8Array(bomb)])).then(() => 'accepted', code),
          bombDecode: await decodeImage(new Uint8Array(bomb)).then(() => 'accepted', code),
          small: await (
            await createFaceDetector({ model, maxPixels: 1000 })
          )
            .detect(blob)
            .then(() => 'accepted', code),
          text: await detector.detect(new TextEncoder().encode('not an image')).then(() => 'accepted', code),
          missing: await detector.detect('/images/none.jpg').then(() => 'accepted', code),
        };
        await detector.dispose();
        return { faces, decoded, refused };
      },
      { model: MODEL, rotated: [...rotated], bomb: [...bomb] },
    );
    for (const [kind, faces] of Object.entries(outcome.faces)) {
      if (kind === 'exif') assertSameFaces(faces, outcome.faces.image, kind);
      else assert.deepEqual(faces, outcome.faces.image, kind); // the same decoder: the same pixels
    }
    assert.ok(outcome.faces.image.length > 0);
    assert.deepEqual(outcome.decoded, [1024, 768]);
    assert.equal(
      outcome.refused.bomb,
      'E_IMAGE_TOO_LARGE: Expected an image of at most 100000000 pixels but received 12000 x 9000 = 108000000 pixels',
    );
    assert.match(outcome.refused.bombDecode, /^E_IMAGE_TOO_LARGE: /);
    assert.match(outcome.refused.small, /^E_IMAGE_TOO_LARGE: .*at most 1000 pixels .* 1024 x 768/);
    assert.match(outcome.refused.text, /^E_IMAGE_DECODE: Cannot decode the given bytes/);
    assert.match(outcome.refused.missing, /^E_FILE_NOT_FOUND: .*HTTP 404/);
  });

  it('takes post-processing options per call, without changing the detector (#10)', async () => {
    await openLib();
    const outcome = await page.evaluate(async (model) => {
      const { createFaceDetector } = window.ultraface;
      const code = (e: unknown): string => `${(e as { code?: string }).code}: ${(e as Error).message}`;
      const detector = await createFaceDetector({ model, wasmPaths: '/ort/' });
      const bitmap = await createImageBitmap(await (await fetch('/images/9.jpg')).blob());
      const base = await detector.detect(bitmap);
      const strict = await detector.detect(bitmap, { scoreThreshold: 0.9985 });
      const loose = await detector.detect(bitmap, { scoreThreshold: 0.1, iouThreshold: 0.5 });
      const again = await detector.detect(bitmap, { scoreThreshold: undefined });
      const bad = await detector.detect(bitmap, { scoreThreshold: 1.5 }).then(() => 'accepted', code);
      bitmap.close();
      await detector.dispose();
      return { base, strict, loose, again, bad };
    }, MODEL);
    assert.deepEqual(
      outcome.strict,
      outcome.base.filter((face) => face.score > 0.9985),
    );
    assert.ok(outcome.strict.length < outcome.base.length && outcome.loose.length > outcome.base.length);
    assert.deepEqual(outcome.again, outcome.base);
    assert.equal(
      outcome.bad,
      'E_INVALID_OPTION: Expected a number between 0 and 1 for scoreThreshold but received 1.5',
    );
  });

  it('explains a cross-origin image without CORS with an UltrafaceError, and reads the next image (#11)', async () => {
    await openLib();
    const outcome = await page.evaluate(
      async ({ model, other }) => {
        const { createFaceDetector, isUltrafaceError } = window.ultraface;
        const code = (e: unknown): string =>
          `${isUltrafaceError(e) ? e.code : `not an UltrafaceError (${(e as Error).name})`}: ${(e as Error).message}`;
        const detector = await createFaceDetector({ model, wasmPaths: '/ort/' });
        const image = new Image();
        image.src = `${other}/face.jpg`; // no crossOrigin: the image shows, its pixels are not the page's to read
        await image.decode();
        const element = await detector.detect(image).then(() => 'accepted', code);
        const url = await detector.detect(`${other}/face.jpg`).then(() => 'accepted', code);
        const same = new Image();
        same.src = '/images/9.jpg';
        await same.decode();
        const next = await detector.detect(same);
        await detector.dispose();
        return { element, url, next: next.length };
      },
      { model: MODEL, other: other.origin },
    );
    assert.match(outcome.element, /^E_INVALID_INPUT: /);
    assert.match(outcome.element, /crossOrigin="anonymous"/);
    assert.match(outcome.element, /CORS/);
    assert.ok(outcome.element.includes(`${other.origin}/face.jpg`), outcome.element);
    assert.match(outcome.url, /^E_INVALID_INPUT: .*CORS/);
    assert.ok(outcome.next > 0);
  });
});
