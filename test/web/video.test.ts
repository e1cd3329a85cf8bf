/**
 * The demo's webcam mode on Chromium's fake camera (a Y4M file of upstream test images, looped): frames are
 * processed and memory stays flat over 200 frames: the JS heap after GC, the renderers' private memory (wasm
 * memory, canvases, pixel buffers), and no VideoFrame left for the GC to close.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { CDPSession, Page } from 'playwright-core';

import '../../demo/api.js';
import { imagePath } from '../helpers/vectors.js';
import { launchChromium, rendererMemory, serveDemo, type Browser, type Site } from './helpers/browser.js';
import { writeY4m } from './helpers/video.js';

const FRAMES = 200;
const WARM_UP = 20;
/**
 * Bounds on growth over the 200 frames. Leaking one 640x480 RGBA frame, its 320x240 float input tensor or its
 * pixels per frame would add 60–240 MB; measured growth is under 1 MB.
 */
const MAX_HEAP_GROWTH = 2 * 2 ** 20;
/**
 * ArrayBuffers hold the frame in flight's pixels and tensors (measured 0.1–2.5 MB): whether one frame's worth is
 * alive at the first measurement depends on GC timing, so allow a few frames; keeping every frame's pixels grows
 * by hundreds of MB over the run.
 */
const MAX_BUFFER_GROWTH = 16 * 2 ** 20;
const MAX_PRIVATE_GROWTH = 24 * 2 ** 20;

interface Memory {
  readonly frames: number;
  /** After a full GC, bytes: the V8 heap in use, and the ArrayBuffer backing stores (pixels, tensors). */
  readonly heap: number;
  readonly buffers: number;
  /** Private resident memory of the renderer processes, bytes. */
  readonly anon: number;
  /** File-backed resident memory (camera frame mappings; reported, not bounded: see `rendererMemory`). */
  readonly file: number;
}

async function measure(page: Page, cdp: CDPSession, userDataDir: string): Promise<Memory> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize, backingStorageSize } = await cdp.send('Runtime.getHeapUsage');
  const frames = await page.evaluate(() => window.ultrafaceDemo.state.frames);
  return { frames, heap: usedSize, buffers: backingStorageSize, ...rendererMemory(userDataDir) };
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;

describe('webcam mode on a fake camera', () => {
  let site: Site;
  let browser: Browser;
  let videoDir: string;

  before(async () => {
    videoDir = await mkdtemp(join(tmpdir(), 'ultraface-video-'));
    const video = join(videoDir, 'faces.y4m');
    await writeY4m(video, ['9.jpg', '13.jpg', '3.jpg'].map(imagePath), { width: 640, height: 480, fps: 30 });
    site = await serveDemo();
    browser = await launchChromium([
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ]);
  });
  after(async () => {
    await browser.close();
    await site.close();
    await rm(videoDir, { recursive: true, force: true });
  });

  it(`processes ${FRAMES} frames with memory flat`, async (t) => {
    const { page, errors, blocked } = await browser.newPage(new URL(site.server.url).origin);
    const unclosed: string[] = [];
    page.on('console', (message) => {
      if (/garbage collected without being closed/i.test(message.text())) unclosed.push(message.text());
    });
    await page.goto(`${site.server.url}?model=RFB-320.onnx&ep=wasm`);
    await page.waitForFunction(() => typeof window.ultrafaceDemo === 'object');
    await page.evaluate(() => window.ultrafaceDemo.settled());
    const cdp = await page.context().newCDPSession(page);

    await page.click('#start');
    /** Waits for `frames` processed frames; fails when none arrives for 15 s (a stalled camera: unclosed frames). */
    const reach = async (frames: number): Promise<void> => {
      let last = -1;
      let lastChange = performance.now();
      for (;;) {
        const now = await page.evaluate(() => window.ultrafaceDemo.state);
        assert.equal(now.error, undefined);
        if (now.frames >= frames) return;
        if (now.frames !== last) [last, lastChange] = [now.frames, performance.now()];
        assert.ok(performance.now() - lastChange < 15_000, `frames stopped at ${now.frames}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await reach(WARM_UP);
    const start = await measure(page, cdp, browser.userDataDir);
    const startedAt = performance.now();
    await reach(start.frames + FRAMES);
    const seconds = (performance.now() - startedAt) / 1000;
    const end = await measure(page, cdp, browser.userDataDir);
    await page.click('#stop');
    await cdp.send('HeapProfiler.collectGarbage'); // an unclosed VideoFrame would be reported now
    const state = await page.evaluate(() => window.ultrafaceDemo.state);
    await page.close();

    t.diagnostic(
      `${end.frames - start.frames} frames in ${seconds.toFixed(1)} s (${((end.frames - start.frames) / seconds).toFixed(1)} fps); ` +
        `JS heap ${mb(start.heap)} → ${mb(end.heap)}, ArrayBuffers ${mb(start.buffers)} → ${mb(end.buffers)}, renderer private ${mb(start.anon)} → ${mb(end.anon)}, ` +
        `renderer file-backed ${mb(start.file)} → ${mb(end.file)}`,
    );
    assert.equal(state.error, undefined);
    assert.ok(
      state.framesWithFaces >= 0.95 * state.frames,
      `${state.framesWithFaces} of ${state.frames} frames with faces`,
    );
    assert.ok(end.heap - start.heap < MAX_HEAP_GROWTH, `JS heap grew ${mb(end.heap - start.heap)}`);
    assert.ok(
      end.buffers - start.buffers < MAX_BUFFER_GROWTH,
      `ArrayBuffers grew ${mb(end.buffers - start.buffers)}`,
    );
    assert.ok(
      end.anon - start.anon < MAX_PRIVATE_GROWTH,
      `renderer private memory grew ${mb(end.anon - start.anon)}`,
    );
    assert.deepEqual(unclosed, []);
    assert.deepEqual(errors, []);
    assert.deepEqual(blocked, []);
  });
});
