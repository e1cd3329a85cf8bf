/**
 * Builds the demo into a static folder: the page, its bundle (esbuild), onnxruntime-web's wasm runtime files and
 * the models, so that everything is served from one origin and nothing comes from a CDN.
 *
 *   <outDir>/index.html, main.js (+ chunks)
 *   <outDir>/ort/ort-wasm-simd-threaded{,.asyncify}.{mjs,wasm}   (from node_modules/onnxruntime-web/dist)
 *   <outDir>/models/*.onnx, models.json                           (made from ../shared when it is there)
 */
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

import { convertWeightsToOnnx } from '../src/model/convert.js';
import type { DemoModel } from './api.js';

const DEMO_DIR = dirname(fileURLToPath(import.meta.url));
const SHARED_MODELS = join(DEMO_DIR, '../../shared/reference/upstream/models/onnx');

/** onnxruntime-web's runtime files: the plain wasm build, and the WebGPU (asyncify) build loaded on demand. */
export const ORT_FILES = [
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.asyncify.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm',
];

export interface BuildDemoOptions {
  readonly outDir: string;
  /** Minify the bundle (default true). */
  readonly minify?: boolean;
}

function ortDist(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

/**
 * The upstream RFB and slim weights (from ../shared) as ultraface models: fixed 320x240 with boxes decoded in the
 * graph (what `ultraface import` gives), and free-size raw models for the input-size control.
 */
function sharedModels(): { file: string; label: string; bytes: Uint8Array }[] {
  if (!existsSync(SHARED_MODELS)) return [];
  return (['RFB', 'slim'] as const).flatMap((net) => {
    const source = readFileSync(join(SHARED_MODELS, `version-${net}-320.onnx`));
    return [
      { file: `${net}-320.onnx`, label: `${net}-320`, bytes: convertWeightsToOnnx(source).onnx },
      {
        file: `${net}-any.onnx`,
        label: `${net} (any input size)`,
        bytes: convertWeightsToOnnx(source, { postprocess: false, dynamicInputSize: true }).onnx,
      },
    ];
  });
}

export async function buildDemo(options: BuildDemoOptions): Promise<{ models: DemoModel[] }> {
  const { outDir } = options;
  const models = join(outDir, 'models');
  // Keep models/ (users may drop their own .onnx files there); rebuild everything else.
  if (existsSync(outDir)) {
    for (const entry of await readdir(outDir)) {
      if (entry !== 'models') await rm(join(outDir, entry), { recursive: true, force: true });
    }
  }
  await mkdir(join(outDir, 'ort'), { recursive: true });
  await mkdir(models, { recursive: true });

  await build({
    entryPoints: [join(DEMO_DIR, 'main.ts')],
    bundle: true,
    minify: options.minify ?? true,
    sourcemap: 'linked',
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    splitting: true,
    outdir: outDir,
    logLevel: 'warning',
    // The build of onnxruntime-web that loads its .mjs/.wasm from `wasmPaths` instead of inlining them.
    conditions: ['onnxruntime-web-use-extern-wasm'],
  });
  await copyFile(join(DEMO_DIR, 'index.html'), join(outDir, 'index.html'));
  const dist = ortDist();
  await Promise.all(ORT_FILES.map((f) => copyFile(join(dist, f), join(outDir, 'ort', f))));

  const made = sharedModels();
  for (const model of made) await writeFile(join(models, model.file), model.bytes);
  const labels = new Map(made.map((m) => [m.file, m.label]));
  const list: DemoModel[] = (await readdir(models))
    .filter((f) => f.endsWith('.onnx'))
    .sort()
    .map((file) => ({ file, label: labels.get(file) ?? file.replace(/\.onnx$/, '') }));
  await writeFile(join(outDir, 'models.json'), JSON.stringify(list, null, 2));
  return { models: list };
}
