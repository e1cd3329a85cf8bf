/**
 * The demo page as a person uses it (issue #18): errors clear when the next photo works and are blamed on what
 * failed; a refused photo leaves nothing of the previous one on screen; the result fits a phone; the webcam
 * counter counts the frame shown; a change of threads keeps the photo; the first screen says what to do and shows
 * a sample result; drop and paste work; thresholds re-detect without fetching the model again. Screenshots of the
 * first screen (desktop and phone) go to /tmp for a look.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { Page } from 'playwright-core';

import '../../demo/api.js';
import { imagePath } from '../helpers/vectors.js';
import { launchChromium, serveDemo, type Browser, type Site } from './helpers/browser.js';
import { blackPng } from './helpers/images.js';
import { writeY4m } from './helpers/video.js';

const SCREENSHOTS = {
  desktop: '/tmp/ultraface-first-screen-desktop.png',
  phone: '/tmp/ultraface-first-screen-phone.png',
};
const DESKTOP = { width: 1100, height: 720 };
const PHONE = { width: 390, height: 844 };
/** Waits that fail a test on today's code (the thing never happens) rather than hang it. */
const WAIT = { timeout: 20_000 };

describe('the demo page', () => {
  let site: Site;
  let browser: Browser;
  let dir: string;
  let files: { text: string; big: string };
  const pages: { errors: string[]; blocked: string[] }[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ultraface-demo-ui-'));
    files = { text: join(dir, 'notes.txt'), big: join(dir, 'big.png') };
    await writeFile(files.text, 'not a photo\n');
    await writeFile(files.big, blackPng(12000, 9000)); // 108 MP: over the default maxPixels (100 MP)
    const video = join(dir, 'faces.y4m');
    await writeY4m(video, ['9.jpg', '13.jpg'].map(imagePath), { width: 320, height: 240, fps: 15 });
    site = await serveDemo(['9.jpg', '13.jpg', '1.jpg'].map(imagePath));
    browser = await launchChromium([
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
    ]);
  });
  after(async () => {
    await browser.close();
    await site.close();
    await rm(dir, { recursive: true, force: true });
    for (const { errors, blocked } of pages) {
      assert.deepEqual(errors, [], 'page errors');
      assert.deepEqual(blocked, [], 'requests to other origins');
    }
  });

  async function newPage(): Promise<Page> {
    const opened = await browser.newPage(new URL(site.server.url).origin);
    pages.push(opened);
    return opened.page;
  }

  async function open(page: Page, query = '?ep=wasm&model=slim-320.onnx'): Promise<void> {
    await page.goto(`${site.server.url}${query}`);
    await page.waitForFunction(() => typeof window.ultrafaceDemo === 'object');
    await page.evaluate(() => window.ultrafaceDemo.settled());
  }

  const runs = (page: Page): Promise<number> => page.evaluate(() => window.ultrafaceDemo.state.imageRuns);

  /** Picks a photo that works, and waits for its faces. */
  async function pick(page: Page, path: string): Promise<void> {
    const before = await runs(page);
    await page.setInputFiles('#image-file', path);
    await page.waitForFunction((n) => window.ultrafaceDemo.state.imageRuns > n, before, WAIT);
  }

  /** Picks a file the page must refuse (with no error shown before), and waits for the error. */
  async function pickBad(page: Page, path: string): Promise<string> {
    await page.setInputFiles('#image-file', path);
    await page.waitForFunction(() => window.ultrafaceDemo.state.error !== undefined, undefined, WAIT);
    return (await page.evaluate(() => window.ultrafaceDemo.state.error))!;
  }

  async function setSlider(page: Page, id: string, value: number): Promise<void> {
    const before = await runs(page);
    await page.evaluate(
      ({ id, value }) => {
        const input = document.getElementById(id) as HTMLInputElement;
        input.value = String(value);
        input.dispatchEvent(new Event('input', { bubbles: true }));
        input.dispatchEvent(new Event('change', { bubbles: true }));
      },
      { id, value },
    );
    await page.evaluate(() => window.ultrafaceDemo.settled());
    if (await page.evaluate(() => window.ultrafaceDemo.state.imageName !== undefined)) {
      await page.waitForFunction((n) => window.ultrafaceDemo.state.imageRuns > n, before, WAIT);
    }
  }

  it('clears a photo error when the next photo works (#1)', async () => {
    const page = await newPage();
    await open(page);
    const error = await pickBad(page, files.text);
    assert.equal(await page.getAttribute('#status', 'data-error'), '');
    await pick(page, imagePath('9.jpg'));
    const state = await page.evaluate(() => window.ultrafaceDemo.state);
    assert.equal(state.error, undefined);
    assert.equal(await page.getAttribute('#status', 'data-error'), null);
    assert.ok(state.faces.length > 0);
    assert.match(error, /^Cannot use notes\.txt: Cannot decode/);
  });

  it('leaves nothing of the previous photo beside the error of a refused one (#2)', async () => {
    const page = await newPage();
    await open(page);
    await pick(page, imagePath('9.jpg'));
    const error = await pickBad(page, files.big);
    const state = await page.evaluate(() => window.ultrafaceDemo.state);
    assert.deepEqual(state.faces, []);
    assert.ok(await page.isHidden('#view'), 'the previous photo is still drawn');
    assert.equal(await page.textContent('#n-faces'), '–');
    assert.equal(state.imageName, undefined);
    assert.equal(await page.textContent('#caption'), '');
    assert.match(error, /big\.png: Expected an image of at most 100000000 pixels but received 12000 x 9000/);
  });

  it('blames a refused photo on the photo, not the model, and does not keep it (#3)', async () => {
    const page = await newPage();
    await open(page);
    await pick(page, imagePath('9.jpg'));
    await pickBad(page, files.big);
    await setSlider(page, 'score', 0.5);
    await new Promise((resolve) => setTimeout(resolve, 300));
    let state = await page.evaluate(() => window.ultrafaceDemo.state);
    assert.doesNotMatch(state.error ?? '', /Could not load/);
    assert.equal(state.errorKind, 'image');
    await pick(page, imagePath('9.jpg'));
    const loads = await page.evaluate(() => window.ultrafaceDemo.state.loads);
    await setSlider(page, 'score', 0.99);
    state = await page.evaluate(() => window.ultrafaceDemo.state);
    assert.equal(state.error, undefined);
    assert.ok(state.faces.every((face) => face.score > 0.99));
    assert.equal(state.loads, loads, 'a threshold made a new detector');
  });

  it('fits the result to a 390 px wide phone screen (#4)', async () => {
    const page = await newPage();
    await page.setViewportSize(PHONE);
    await open(page);
    await pick(page, imagePath('9.jpg'));
    const view = (await page.locator('#view').boundingBox())!;
    const stats = (await page.locator('#stats').boundingBox())!;
    assert.ok(view.width >= 340, `the photo is ${view.width} px wide`);
    assert.ok(stats.y >= view.y + view.height - 1, 'the numbers are beside the photo, not below it');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
  });

  it('counts the webcam frame it shows (#5)', async () => {
    const page = await newPage();
    await open(page);
    await page.click('#start');
    await page.waitForFunction(() => window.ultrafaceDemo.state.frames >= 5, undefined, WAIT);
    await page.click('#stop');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const [shown, frames] = await page.evaluate(() => [
      document.getElementById('n-frames')!.textContent,
      window.ultrafaceDemo.state.frames,
    ]);
    assert.equal(shown, String(frames));
  });

  it('keeps the photo across the reload that a change of threads needs (#5)', async () => {
    const page = await newPage();
    await open(page);
    await pick(page, imagePath('13.jpg'));
    const before = await page.evaluate(() => window.ultrafaceDemo.state.faces);
    await Promise.all([page.waitForEvent('load'), page.selectOption('#threads', '1')]);
    await page.waitForFunction(() => typeof window.ultrafaceDemo === 'object');
    await page.evaluate(() => window.ultrafaceDemo.settled());
    await page.waitForFunction(() => window.ultrafaceDemo.state.imageRuns > 0, undefined, WAIT);
    const state = await page.evaluate(() => window.ultrafaceDemo.state);
    assert.equal(state.backend?.threads, 1);
    assert.equal(state.imageName, '13.jpg');
    assert.deepEqual(state.faces, before);
  });

  it('shows what to do and a sample result on the first screen, on a desktop and a phone (#6)', async (t) => {
    const page = await newPage();
    for (const [name, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      await open(page, '');
      await page.waitForFunction(() => window.ultrafaceDemo.state.imageRuns > 0, undefined, WAIT);
      const state = await page.evaluate(() => window.ultrafaceDemo.state);
      assert.equal(state.error, undefined);
      assert.equal(state.imageName, 'sample photo 9.jpg');
      assert.equal(state.model, 'ultraface-rfb-320.onnx');
      assert.ok(state.faces.length >= 5, `${state.faces.length} faces on the sample`);
      const intro = (await page.textContent('#intro')) ?? '';
      assert.match(intro, /Drop a photo/);
      assert.match(intro, /paste/);
      assert.match(
        (await page.textContent('#caption')) ?? '',
        /faces in sample photo 9\.jpg · detect\(\) [\d.]+ ms/,
      );
      assert.match((await page.textContent('#t-detect')) ?? '', /^[\d.]+ ms$/);
      // The photo picker comes first, on the first screen; the model picker is told apart from it.
      const pickBox = (await page.locator('#pick').boundingBox())!;
      const settings = (await page.locator('#settings').boundingBox())!;
      const photo = (await page.locator('#view').boundingBox())!;
      assert.ok(pickBox.y + pickBox.height <= viewport.height && pickBox.y < settings.y);
      assert.ok(photo.y < viewport.height * 0.6, `${name}: the result starts at ${photo.y} px`);
      assert.match((await page.textContent('#pick')) ?? '', /Choose a photo/);
      assert.match(
        (await page.locator('#model-file').locator('xpath=..').textContent()) ?? '',
        /Own model \(\.onnx\)/,
      );
      await page.screenshot({ path: SCREENSHOTS[name] });
      t.diagnostic(`${name} first screen: ${SCREENSHOTS[name]}`);
    }
  });

  it('takes a dropped photo and a pasted one (#6)', async () => {
    const page = await newPage();
    await open(page);
    for (const [event, file] of [
      ['drop', '13.jpg'],
      ['paste', '1.jpg'],
    ] as const) {
      const before = await runs(page);
      await page.evaluate(
        async ({ event, file }) => {
          const blob = await (await fetch(`/images/${file}`)).blob();
          const data = new DataTransfer();
          data.items.add(new File([blob], file, { type: 'image/jpeg' }));
          document.body.dispatchEvent(
            event === 'drop'
              ? new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true })
              : new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
          );
        },
        { event, file },
      );
      await page.waitForFunction((n) => window.ultrafaceDemo.state.imageRuns > n, before, WAIT);
      const state = await page.evaluate(() => window.ultrafaceDemo.state);
      assert.equal(state.imageName, file, event);
      assert.ok(state.faces.length > 0, event);
    }
  });

  it('re-detects when a threshold moves, without fetching the model again (#10)', async () => {
    const page = await newPage();
    const fetched: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/models/')) fetched.push(request.url());
    });
    await open(page);
    await pick(page, imagePath('9.jpg'));
    const counts: number[] = [];
    for (const score of [0.05, 0.5, 0.99]) {
      await setSlider(page, 'score', score);
      counts.push(await page.evaluate(() => window.ultrafaceDemo.state.faces.length));
    }
    await page.selectOption('#resampling', 'canvas'); // a new detector, from the bytes already fetched
    await page.evaluate(() => window.ultrafaceDemo.settled());
    assert.deepEqual(
      fetched.map((url) => new URL(url).pathname),
      ['/models/slim-320.onnx'],
    );
    const state = await page.evaluate(() => window.ultrafaceDemo.state);
    assert.equal(state.loads, 2);
    assert.ok(counts[0] > counts[2], `faces at score 0.05, 0.5, 0.99: ${counts.join(', ')}`);
    assert.equal(state.error, undefined);
  });
});
