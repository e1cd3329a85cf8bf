/**
 * npm run bench:web — detection latency inside headless Chromium (onnxruntime-web, wasm backend) on the 24 upstream
 * test images, for RFB-320 and slim-320 at 1 thread and threaded, exact and canvas resize, through the demo page;
 * and, in the same run, the Node detector (onnxruntime-node) on the same images and models at the same threads.
 * The images are decoded once up front (the browser decodes off the main thread; Node is given the decoded RGB
 * pixels), so each `detect()` draws or reads, resizes, runs and post-processes. Medians of several passes; the
 * first pass warms up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

import sharp from 'sharp';

import '../../demo/api.js';
import type { RgbImage } from '../../src/core/image.js';
import type { StageTimings } from '../../src/runtime/detector-core.js';
import { createFaceDetector as createNodeDetector } from '../../src/runtime/node/detector.js';
import { sharedPath } from '../helpers/shared.js';
import { launchChromium, serveDemo } from './helpers/browser.js';

const PASSES = Number(process.env.BENCH_PASSES ?? 5);
const THREADED = Number(process.env.BENCH_THREADS ?? Math.min(4, cpus().length));
const IMAGES = sharedPath('reference/upstream/imgs');
const files = readdirSync(IMAGES).filter((f) => f.endsWith('.jpg'));
const NETS = ['RFB', 'slim'];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: string[][] = [
  ['runtime', 'model', 'threads', 'resize', 'model ms', 'pre ms', 'post ms', 'detect() ms'],
];

const site = await serveDemo(files.map((f) => join(IMAGES, f)));
const browser = await launchChromium();
try {
  for (const net of NETS) {
    for (const threads of [1, THREADED]) {
      for (const resample of ['exact', 'canvas']) {
        const { page, errors } = await browser.newPage(new URL(site.server.url).origin);
        await page.goto(
          `${site.server.url}?model=${net}-320.onnx&ep=wasm&threads=${threads}&resample=${resample}`,
        );
        const result = await page.evaluate(
          ({ urls, passes }) => window.ultrafaceDemo.benchmark(urls, passes),
          { urls: files.map((f) => `/images/${f}`), passes: PASSES },
        );
        const backend = await page.evaluate(() => window.ultrafaceDemo.state.backend);
        if (backend?.threads !== threads)
          throw new Error(`asked for ${threads} threads, got ${backend?.threads}`);
        if (errors.length > 0) throw new Error(errors.join('\n'));
        await page.close();
        rows.push([
          'browser',
          `${net}-320`,
          String(threads),
          resample,
          result.inferenceMs.toFixed(2),
          result.preprocessMs.toFixed(2),
          result.postprocessMs.toFixed(2),
          result.detectMs.toFixed(2),
        ]);
      }
    }
  }
} finally {
  await browser.close();
}

// Node, the same models (as the demo build made them) and images, decoded to RGB once.
const rgb: RgbImage[] = await Promise.all(
  files.map(async (f) => {
    const { data, info } = await sharp(join(IMAGES, f))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: 3 as const };
  }),
);
try {
  for (const net of NETS) {
    const model = readFileSync(join(site.dir, 'models', `${net}-320.onnx`));
    for (const threads of [1, THREADED]) {
      const detector = await createNodeDetector({ model, threads });
      const samples = {
        detect: [] as number[],
        pre: [] as number[],
        inf: [] as number[],
        post: [] as number[],
      };
      for (let pass = 0; pass <= PASSES; pass++) {
        for (const image of rgb) {
          let timings: StageTimings | undefined;
          const start = performance.now();
          await detector.detect(image, {
            onTimings: (t) => {
              timings = t;
            },
          });
          const total = performance.now() - start;
          if (pass > 0 && timings) {
            samples.detect.push(total);
            samples.pre.push(timings.preprocessMs);
            samples.inf.push(timings.inferenceMs);
            samples.post.push(timings.postprocessMs);
          }
        }
      }
      await detector.dispose();
      rows.push([
        'node',
        `${net}-320`,
        String(threads),
        'exact',
        median(samples.inf).toFixed(2),
        median(samples.pre).toFixed(2),
        median(samples.post).toFixed(2),
        median(samples.detect).toFixed(2),
      ]);
    }
  }
} finally {
  await site.close();
}

const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
console.log(
  `\n${files.length} images, ${PASSES} passes, medians per image; browser: headless Chromium, onnxruntime-web wasm; ` +
    'node: onnxruntime-node, CPU. model = input tensor + session.run, pre = draw/read + resize, post = decode + ' +
    'NMS; detect() = all of it (JPEG decode excluded)',
);
