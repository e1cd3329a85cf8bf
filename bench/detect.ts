/**
 * npm run bench:detect — detection latency over the 24 upstream test images, measured side by side in one run:
 * model only (session.run on a ready tensor), decode only (file → resized RGB), and end to end (detect()).
 * Target (issue 2): end-to-end ≤ 1.3 × (model + decode). Medians of several passes; machines here are noisy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import * as ort from 'onnxruntime-node';

import { toInputTensor } from '../src/core/image.js';
import { convertWeightsToOnnx } from '../src/model/convert.js';
import { createFaceDetector } from '../src/runtime/node/detector.js';
import { preprocess } from '../src/runtime/node/image.js';
import { loadSession } from '../src/runtime/node/session.js';

const SHARED = new URL('../../shared/', import.meta.url).pathname;
const IMAGES = join(SHARED, 'reference/upstream/imgs');
const PASSES = Number(process.env.BENCH_PASSES ?? 5);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const files = readdirSync(IMAGES)
  .filter((f) => f.endsWith('.jpg'))
  .map((f) => join(IMAGES, f));

const rows: string[][] = [
  ['model', 'threads', 'model ms', 'decode ms', 'detect() ms', 'detect / (model + decode)'],
];
for (const net of ['RFB', 'slim'] as const) {
  const model = convertWeightsToOnnx(
    readFileSync(join(SHARED, `reference/upstream/models/onnx/version-${net}-320.onnx`)),
  ).onnx;
  for (const threads of [1, 2]) {
    const { session } = await loadSession(model, { threads });
    const detector = await createFaceDetector({ model, threads });
    const decoded = await Promise.all(
      files.map((f) => preprocess(f, { width: 320, height: 240, maxPixels: 1e8 })),
    );
    const tensors = decoded.map(({ image }) => {
      const data = new Float32Array(3 * 240 * 320);
      toInputTensor(image, data, 0);
      return new ort.Tensor('float32', data, [1, 3, 240, 320]);
    });
    const modelMs: number[] = [];
    const decodeMs: number[] = [];
    const detectMs: number[] = [];
    for (let pass = 0; pass <= PASSES; pass++) {
      // Interleave the three measurements image by image so drifts in machine speed hit them alike.
      for (const [i, file] of files.entries()) {
        const m = await time(() => session.run({ input: tensors[i] }));
        const d = await time(() => preprocess(file, { width: 320, height: 240, maxPixels: 1e8 }));
        const e = await time(() => detector.detect(file));
        if (pass > 0) {
          modelMs.push(m);
          decodeMs.push(d);
          detectMs.push(e);
        }
      }
    }
    const [m, d, e] = [median(modelMs), median(decodeMs), median(detectMs)];
    rows.push([
      `${net}-320`,
      String(threads),
      m.toFixed(2),
      d.toFixed(2),
      e.toFixed(2),
      `${(e / (m + d)).toFixed(2)}x`,
    ]);
    await session.release();
    await detector.dispose();
  }
}

const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
console.log(
  `\n${files.length} images, ${PASSES} passes, medians per image; detect() = decode + resize + model + NMS`,
);
