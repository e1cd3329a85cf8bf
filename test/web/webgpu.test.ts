/**
 * The WebGPU backend, on Chromium's software WebGPU adapter (SwiftShader; no GPU here): used when asked for alone,
 * passed over for wasm when wasm comes next, and giving the Node faces. SwiftShader is slow (seconds per run), so
 * one image on slim-320.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import '../../demo/api.js';
import { iou } from '../../src/core/boxes.js';
import { createFaceDetector as createNodeDetector } from '../../src/runtime/node/detector.js';
import { imagePath } from '../helpers/vectors.js';
import { launchChromium, serveDemo, type Browser, type Site } from './helpers/browser.js';

describe('WebGPU on a software adapter', () => {
  let site: Site;
  let browser: Browser;

  before(async () => {
    site = await serveDemo([imagePath('9.jpg')]);
    browser = await launchChromium([
      '--enable-unsafe-webgpu',
      '--use-webgpu-adapter=swiftshader',
      '--enable-unsafe-swiftshader',
    ]);
  });
  after(async () => {
    await browser.close();
    await site.close();
  });

  it('runs slim-320 on WebGPU when asked for alone, with the Node faces', async () => {
    const { page, errors, blocked } = await browser.newPage(new URL(site.server.url).origin);
    await page.goto(`${site.server.url}?model=slim-320.onnx&ep=wasm`);
    await page.evaluate(() => window.ultrafaceDemo.settled());
    const result = await page.evaluate(async () => {
      const { createFaceDetector } = window.ultrafaceDemo.lib;
      const options = { model: '/models/slim-320.onnx', wasmPaths: '/ort/' };
      const preferred = await createFaceDetector(options); // webgpu, then wasm: the software adapter is passed over
      await preferred.dispose();
      const detector = await createFaceDetector({ ...options, executionProviders: ['webgpu'] });
      const image = new Image();
      image.src = '/images/9.jpg';
      await image.decode();
      const faces = await detector.detect(image);
      await detector.dispose();
      return { preferred: preferred.backend, backend: detector.backend, faces };
    });
    assert.equal(result.preferred.executionProvider, 'wasm');
    assert.match(result.preferred.fallbacks[0].reason, /software fallback/);
    assert.equal(result.backend.executionProvider, 'webgpu');
    assert.deepEqual(result.backend.fallbacks, []);

    const node = await createNodeDetector({ model: readFileSync(join(site.dir, 'models', 'slim-320.onnx')) });
    const expected = await node.detect(imagePath('9.jpg'));
    await node.dispose();
    assert.equal(result.faces.length, expected.length);
    for (const face of expected) {
      const best = result.faces.reduce((a, b) => (iou(b.box, face.box) > iou(a.box, face.box) ? b : a));
      assert.ok(iou(best.box, face.box) >= 0.9, `IoU ${iou(best.box, face.box)}`);
      assert.ok(Math.abs(best.score - face.score) <= 0.02, `|Δscore| ${Math.abs(best.score - face.score)}`);
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(blocked, []);
    await page.close();
  });
});
