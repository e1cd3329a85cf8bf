/**
 * npm run bench:detect — the shipped default detector against the strongest ~300 KB peer, YuNet-n at 320x320
 * (bench/yunet.ts, its reference pre- and post-processing on the same onnxruntime-node and sharp), over upstream's
 * 24 test images. Targets (issue #19): `detect()` from a JPEG path and from decoded RGB ≤ 1.0x YuNet's time at 1
 * and 2 threads, model only ≤ 0.8x; 72 concurrent `detect()` calls ≥ 90 % of the bound (load + model) / 2.
 *
 * Each measurement runs in its own process (no shared JIT, allocator or thread pools), ultraface and YuNet
 * alternating, BENCH_ROUNDS rounds (default 5); per process: one warm-up pass, then BENCH_PASSES passes (default 3)
 * over the 24 images, the median per image, averaged over the images. The table shows the median over rounds.
 *
 * Rows: model only = `session.run` on a ready input tensor (each net's own size: 320x240 against 320x320); from RGB
 * = `detect()` on pixels already decoded (every pixel, as `cv2.imread`); from file = `detect()` on the JPEG path.
 * Concurrent: the default detector's load (decode + resize into the input) and inference alone, image by image
 * (`onTimings`), give the bound (load + model) / 2 for two cores; 72 `detect()` calls at once must come close.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as ort from 'onnxruntime-node';

import type { RgbImage } from '../src/core/image.js';
import { prepareModel } from '../src/runtime/model-info.js';
import { createFaceDetector, readDefaultModel } from '../src/runtime/node/detector.js';
import { preprocessToTensor } from '../src/runtime/node/image.js';
import { createSession } from '../src/runtime/node/session.js';
import { createYuNet, decodeFull } from './yunet.js';

const SHARED = new URL('../../shared/', import.meta.url).pathname;
const IMAGES = join(SHARED, 'reference/upstream/imgs');
const YUNET = join(SHARED, 'reference/peers/yunet_n_320_320.onnx');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PASSES = Number(process.env.BENCH_PASSES ?? 3);
const CONCURRENT = 72;

type Peer = 'ultraface' | 'yunet';
interface Single {
  readonly modelMs: number;
  readonly rgbMs: number;
  readonly fileMs: number;
}
interface Concurrent {
  readonly loadMs: number;
  readonly modelMs: number;
  readonly concurrentMs: number;
}

const files = readdirSync(IMAGES)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .map((f) => join(IMAGES, f));

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Per image: the median over passes after one warm-up pass; then the mean over images. */
async function perImage(fn: (i: number) => Promise<unknown>): Promise<number> {
  const samples: number[][] = files.map(() => []);
  for (let pass = 0; pass <= PASSES; pass++) {
    for (let i = 0; i < files.length; i++) {
      const ms = await time(() => fn(i));
      if (pass > 0) samples[i].push(ms);
    }
  }
  return mean(samples.map(median));
}

async function childSingle(peer: Peer, threads: number): Promise<Single> {
  const rgb: RgbImage[] = await Promise.all(files.map(decodeFull));
  if (peer === 'yunet') {
    const yunet = await createYuNet(YUNET, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    const inputs = rgb.map((image) => yunet.input(image));
    const result = {
      modelMs: await perImage((i) => yunet.run(inputs[i])),
      rgbMs: await perImage((i) => yunet.detect(rgb[i])),
      fileMs: await perImage((i) => yunet.detectFile(files[i])),
    };
    await yunet.release();
    return result;
  }
  const { bytes, source } = await readDefaultModel();
  const { model, runnable } = prepareModel(bytes, undefined, source);
  const session = await createSession(runnable, source, threads);
  const fit = (): typeof model.inputSize => model.inputSize;
  const inputs = await Promise.all(
    files.map((f) => preprocessToTensor(f, { fit, maxPixels: 1e8, decode: 'full' })),
  );
  const dims = [1, 3, model.inputSize.height, model.inputSize.width];
  const detector = await createFaceDetector({ threads });
  const result = {
    modelMs: await perImage((i) =>
      session.run({ [model.inputName]: new ort.Tensor('float32', inputs[i].tensor, dims) }),
    ),
    rgbMs: await perImage((i) => detector.detect(rgb[i])),
    fileMs: await perImage((i) => detector.detect(files[i])),
  };
  await Promise.all([session.release(), detector.dispose()]);
  return result;
}

async function childConcurrent(): Promise<Concurrent> {
  const detector = await createFaceDetector();
  const load: number[] = [];
  const model: number[] = [];
  for (let pass = 0; pass <= PASSES; pass++) {
    for (const file of files) {
      await detector.detect(file, {
        onTimings: (t) => {
          if (pass === 0) return;
          load.push(t.preprocessMs);
          model.push(t.inferenceMs);
        },
      });
    }
  }
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => detector.detect(files[i % files.length])));
  const concurrentMs = (performance.now() - start) / CONCURRENT;
  await detector.dispose();
  return { loadMs: mean(load), modelMs: mean(model), concurrentMs };
}

function spawnChild(args: readonly string[]): unknown {
  const out = execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

function parent(): void {
  const single = new Map<string, Single[]>();
  const concurrent: Concurrent[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const threads of [1, 2]) {
      // Alternate who goes first, so that drifts in machine speed hit both alike.
      const order: Peer[] = round % 2 === 0 ? ['ultraface', 'yunet'] : ['yunet', 'ultraface'];
      for (const peer of order) {
        const key = `${peer} ${threads}`;
        single.set(key, [
          ...(single.get(key) ?? []),
          spawnChild(['--child', peer, String(threads)]) as Single,
        ]);
      }
    }
    concurrent.push(spawnChild(['--concurrent']) as Concurrent);
    process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
  }
  const rows: string[][] = [['ms per image', 'threads', 'ultraface', 'YuNet-n 320', 'ultraface / YuNet']];
  const labels: [keyof Single, string][] = [
    ['modelMs', 'model only'],
    ['rgbMs', 'detect() from RGB'],
    ['fileMs', 'detect() from JPEG path'],
  ];
  for (const [field, label] of labels) {
    for (const threads of [1, 2]) {
      const ours = median(single.get(`ultraface ${threads}`)!.map((r) => r[field]));
      const theirs = median(single.get(`yunet ${threads}`)!.map((r) => r[field]));
      rows.push([
        label,
        String(threads),
        ours.toFixed(2),
        theirs.toFixed(2),
        `${(ours / theirs).toFixed(2)}x`,
      ]);
    }
  }
  print(rows);
  const c = {
    load: median(concurrent.map((r) => r.loadMs)),
    model: median(concurrent.map((r) => r.modelMs)),
    concurrent: median(concurrent.map((r) => r.concurrentMs)),
  };
  const bound = (c.load + c.model) / 2;
  console.log(
    `\n${CONCURRENT} concurrent detect() (default options): ${c.concurrent.toFixed(2)} ms per image; alone: load ` +
      `${c.load.toFixed(2)} + model ${c.model.toFixed(2)} ms → bound (load + model) / 2 = ${bound.toFixed(2)} ms; ` +
      `${((100 * bound) / c.concurrent).toFixed(0)} % of the bound`,
  );
  console.log(
    `\n${files.length} images; ${ROUNDS} rounds, each measurement in its own process, ultraface and YuNet ` +
      `alternating; per process ${PASSES} passes after a warm-up, the median per image, mean over images; medians over rounds`,
  );
}

function print(table: string[][]): void {
  const widths = table[0].map((_, c) => Math.max(...table.map((r) => r[c].length)));
  for (const row of table) console.log(row.map((cell, c) => cell.padStart(widths[c])).join('  '));
}

const [flag, peer, threads] = process.argv.slice(2);
if (flag === '--child') console.log(JSON.stringify(await childSingle(peer as Peer, Number(threads))));
else if (flag === '--concurrent') console.log(JSON.stringify(await childConcurrent()));
else parent();
