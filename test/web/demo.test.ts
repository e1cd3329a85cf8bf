/**
 * ultraface/web in real (headless) Chromium, through the demo page: the faces it finds on upstream test images
 * match the Node detector's on the same model (IoU ≥ 0.9, |Δscore| ≤ 0.02), for every kind of browser image.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { Page } from 'playwright-core';

import type { DemoModel } from '../../demo/api.js';
import { iou } from '../../src/core/boxes.js';
import type { Detection } from '../../src/core/postprocess.js';
import {
  createFaceDetector as createNodeDetector,
  DEFAULT_MODEL_PATH,
} from '../../src/runtime/node/detector.js';
import { imagePath } from '../helpers/vectors.js';
import { launchChromium, serveDemo, type Browser, type Site } from './helpers/browser.js';

const IMAGES = ['1.jpg', '9.jpg', '13.jpg'];
const SCREENSHOT = new URL('../../.tmp/web/demo.png', import.meta.url).pathname;

/** Pairs each Node face with the browser face it overlaps most; counts must match. */
function assertSameFaces(web: readonly Detection[], node: readonly Detection[], what: string): void {
  assert.equal(
    web.length,
    node.length,
    `${what}: ${web.length} faces in the browser, ${node.length} in Node`,
  );
  for (const expected of node) {
    let best = { overlap: -1, score: 0 };
    for (const found of web) {
      const overlap = iou(found.box, expected.box);
      if (overlap > best.overlap) best = { overlap, score: found.score };
    }
    assert.ok(best.overlap >= 0.9, `${what}: IoU ${best.overlap.toFixed(3)} < 0.9`);
    assert.ok(
      Math.abs(best.score - expected.score) <= 0.02,
      `${what}: |Δscore| ${Math.abs(best.score - expected.score)}`,
    );
  }
}

async function nodeFaces(modelFile: string, images: readonly string[]): Promise<Detection[][]> {
  const detector = await createNodeDetector({ model: readFileSync(modelFile) });
  try {
    return await detector.detectBatch(images.map(imagePath));
  } finally {
    await detector.dispose();
  }
}

async function openDemo(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForFunction(() => typeof window.ultrafaceDemo === 'object');
  await page.evaluate(() => window.ultrafaceDemo.settled());
  const error = await page.evaluate(() => window.ultrafaceDemo.state.error);
  assert.equal(error, undefined);
}

describe('ultraface/web in headless Chromium', () => {
  let site: Site;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let blocked: string[];

  before(async () => {
    site = await serveDemo(IMAGES.map(imagePath));
    browser = await launchChromium();
    ({ page, errors, blocked } = await browser.newPage(new URL(site.server.url).origin));
  });
  after(async () => {
    await browser.close();
    await site.close();
    assert.deepEqual(errors, [], 'page errors');
    assert.deepEqual(blocked, [], 'requests to other origins');
  });

  for (const net of ['RFB', 'slim'] as const) {
    it(`the demo finds the Node faces on three picked images (${net}-320, wasm)`, async () => {
      const model = `${net}-320.onnx`;
      await openDemo(page, `${site.server.url}?model=${model}`);
      const state = await page.evaluate(() => window.ultrafaceDemo.state);
      assert.equal(state.backend?.executionProvider, 'wasm');
      const expected = await nodeFaces(join(site.dir, 'models', model), IMAGES);
      for (const [i, name] of IMAGES.entries()) {
        const runs = await page.evaluate(() => window.ultrafaceDemo.state.imageRuns);
        await page.setInputFiles('#image-file', imagePath(name));
        await page.waitForFunction((before) => window.ultrafaceDemo.state.imageRuns > before, runs);
        const faces = await page.evaluate(() => window.ultrafaceDemo.state.faces);
        assertSameFaces(faces, expected[i], `${model} ${name}`);
      }
      const shown = await page.textContent('#n-faces');
      assert.equal(shown, String(expected[IMAGES.length - 1].length));
      const png = await page.screenshot();
      assert.ok(png.length > 20_000 && png.subarray(1, 4).toString() === 'PNG');
      mkdirSync(join(SCREENSHOT, '..'), { recursive: true });
      writeFileSync(SCREENSHOT.replace('.png', `-${net}.png`), png);
    });
  }

  it('lists the package models first and opens with the default, ultraface-rfb-320', async () => {
    const list = JSON.parse(readFileSync(join(site.dir, 'models.json'), 'utf8')) as DemoModel[];
    assert.deepEqual(
      list.slice(0, 4).map((m) => m.file),
      [
        'ultraface-rfb-320.onnx',
        'ultraface-slim-320.onnx',
        'ultraface-rfb-640.onnx',
        'ultraface-rfb-320-int8.onnx',
      ],
    );
    await openDemo(page, `${site.server.url}?ep=wasm`);
    assert.equal(await page.evaluate(() => window.ultrafaceDemo.state.model), 'ultraface-rfb-320.onnx');
    const [expected] = await nodeFaces(DEFAULT_MODEL_PATH, ['9.jpg']);
    const runs = await page.evaluate(() => window.ultrafaceDemo.state.imageRuns);
    await page.setInputFiles('#image-file', imagePath('9.jpg'));
    await page.waitForFunction((before) => window.ultrafaceDemo.state.imageRuns > before, runs);
    assertSameFaces(await page.evaluate(() => window.ultrafaceDemo.state.faces), expected, 'default 9.jpg');
  });

  it('takes images, canvases, bitmaps, ImageData, VideoFrames and raw pixels alike, both resamplings', async () => {
    await openDemo(page, `${site.server.url}?model=RFB-320.onnx&ep=wasm`);
    const [expected] = await nodeFaces(join(site.dir, 'models', 'RFB-320.onnx'), ['9.jpg']);
    const results = await page.evaluate(async () => {
      const { createFaceDetector } = window.ultrafaceDemo.lib;
      const image = new Image();
      image.src = '/images/9.jpg';
      await image.decode();
      const bitmap = await createImageBitmap(image);
      const canvas = document.createElement('canvas');
      canvas.width = image.naturalWidth;
      canvas.height = image.naturalHeight;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const offscreen = new OffscreenCanvas(canvas.width, canvas.height);
      offscreen.getContext('2d')!.drawImage(bitmap, 0, 0);
      const data = context.getImageData(0, 0, canvas.width, canvas.height);
      const frame = new VideoFrame(bitmap, { timestamp: 0 });
      const raw = { data: data.data, width: data.width, height: data.height, channels: 4 as const };
      const kinds = { image, canvas, offscreen, bitmap, data, frame, raw };
      const out: Record<string, Detection[]> = {};
      for (const resampling of ['exact', 'canvas'] as const) {
        const detector = await createFaceDetector({
          model: '/models/RFB-320.onnx',
          executionProviders: ['wasm'],
          wasmPaths: '/ort/',
          resampling,
        });
        for (const [kind, input] of Object.entries(kinds))
          out[`${resampling} ${kind}`] = await detector.detect(input);
        out[`${resampling} batch`] = (await detector.detectBatch([bitmap, frame]))[1];
        await detector.dispose();
      }
      frame.close();
      bitmap.close();
      const detector = await createFaceDetector({ model: '/models/RFB-320.onnx', wasmPaths: '/ort/' });
      const closed = await detector.detect(frame).then(
        () => 'accepted',
        (e: unknown) => (e as { code?: string }).code,
      );
      await detector.dispose();
      return { out, closed };
    });
    assert.equal(Object.keys(results.out).length, 16);
    for (const [kind, faces] of Object.entries(results.out)) assertSameFaces(faces, expected, kind);
    // The exact resampling sees the same pixels from every kind of image.
    for (const kind of ['image', 'canvas', 'offscreen', 'bitmap', 'frame', 'raw', 'batch']) {
      assert.deepEqual(results.out[`exact ${kind}`], results.out['exact data'], kind);
    }
    assert.equal(results.closed, 'E_INVALID_INPUT');
  });

  it('falls back from WebGPU with a reason, checks options as Node does, refuses work after dispose', async () => {
    const outcome = await page.evaluate(async () => {
      const { createFaceDetector } = window.ultrafaceDemo.lib;
      const code = (e: unknown): string => `${(e as { code?: string }).code}: ${(e as Error).message}`;
      const auto = await createFaceDetector({ model: '/models/slim-320.onnx', wasmPaths: '/ort/' });
      const backend = auto.backend;
      await auto.dispose();
      const disposed = await auto.detect(new ImageData(8, 8)).then(() => 'accepted', code);
      const gpuOnly = await createFaceDetector({
        model: '/models/slim-320.onnx',
        executionProviders: ['webgpu'],
      }).then(() => 'accepted', code);
      const badOption = await createFaceDetector({
        model: '/models/slim-320.onnx',
        scoreThreshold: 1.5,
      }).then(() => 'accepted', code);
      const missing = await createFaceDetector({ model: '/models/none.onnx' }).then(() => 'accepted', code);
      const notOnnx = await createFaceDetector({ model: new Uint8Array([1, 2, 3, 4, 5]) }).then(
        () => 'accepted',
        code,
      );
      const otherThreads = await createFaceDetector({
        model: '/models/slim-320.onnx',
        wasmPaths: '/ort/',
        threads: 7, // onnxruntime-web's default is at most 4
      }).then(() => 'accepted', code);
      return { backend, disposed, gpuOnly, badOption, missing, notOnnx, otherThreads };
    });
    assert.equal(outcome.backend.executionProvider, 'wasm');
    assert.deepEqual(
      outcome.backend.fallbacks.map((f) => f.executionProvider),
      ['webgpu'],
    );
    assert.match(outcome.backend.fallbacks[0].reason, /adapter/);
    assert.match(outcome.disposed, /^E_DISPOSED/);
    assert.match(outcome.gpuOnly, /^E_MODEL_LOAD: .*webgpu: no WebGPU adapter/);
    assert.equal(
      outcome.badOption,
      'E_INVALID_OPTION: Expected a number between 0 and 1 for scoreThreshold but received 1.5',
    );
    assert.match(outcome.missing, /^E_FILE_NOT_FOUND: .*HTTP 404/);
    assert.match(outcome.notOnnx, /^E_MODEL_LOAD: Expected an ONNX model/);
    assert.match(outcome.otherThreads, /^E_INVALID_OPTION: .*reload the page/);
  });
});
