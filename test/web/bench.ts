/**
 * npm run bench:web — detection latency inside headless Chromium (onnxruntime-web, wasm backend) on the 24 upstream
 * test images, for RFB-320 and slim-320 at 1 thread and threaded, through the demo page. The images are decoded
 * once up front (the browser decodes off the main thread); each `detect()` then draws, resizes, runs and
 * post-processes. Medians of several passes; the first pass warms up. Compare with `npm run bench:detect` (Node).
 */
import { readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

import '../../demo/api.js';
import { sharedPath } from '../helpers/shared.js';
import { launchChromium, serveDemo } from './helpers/browser.js';

const PASSES = Number(process.env.BENCH_PASSES ?? 5);
const THREADED = Number(process.env.BENCH_THREADS ?? Math.min(4, cpus().length));
const IMAGES = sharedPath('reference/upstream/imgs');
const files = readdirSync(IMAGES).filter((f) => f.endsWith('.jpg'));

const site = await serveDemo(files.map((f) => join(IMAGES, f)));
const browser = await launchChromium();
const rows: string[][] = [['model', 'threads', 'resize', 'model ms', 'pre ms', 'post ms', 'detect() ms']];
try {
  for (const net of ['RFB', 'slim']) {
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
  await site.close();
}

const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
console.log(
  `\n${files.length} images, ${PASSES} passes, medians per image, headless Chromium; model = input tensor + ` +
    'session.run, pre = draw + resize, post = decode + NMS; detect() = all of it (JPEG decode excluded)',
);
