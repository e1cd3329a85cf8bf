/**
 * Builds the demo into a static folder: the page, its bundle (esbuild), onnxruntime-web's wasm runtime files and
 * the models, so that everything is served from one origin and nothing comes from a CDN.
 *
 *   <outDir>/index.html, main.js (+ chunks)
 *   <outDir>/ort/ort.{wasm,webgpu}.min.mjs, ort-wasm-simd-threaded{,.asyncify}.{mjs,wasm}
 *                                          (from node_modules/onnxruntime-web/dist: ultraface/web loads them)
 *   <outDir>/models/*.onnx, models.json    (the package's own models, and upstream's made from ../shared when it
 *                                           is there)
 */
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

import { convertWeightsToOnnx } from '../src/model/convert.js';
import { BUNDLED_MODELS, type BundledModelName } from '../src/runtime/node/bundled-models.js';
import { RUNTIME_FILES } from '../src/runtime/web/session.js';
import type { DemoModel } from './api.js';
import type { DemoSamples } from './server.js';

const DEMO_DIR = dirname(fileURLToPath(import.meta.url));
const SHARED_MODELS = join(DEMO_DIR, '../../shared/reference/upstream/models/onnx');
const SHARED_IMAGES = join(DEMO_DIR, '../../shared/reference/upstream/imgs');
/** Upstream's test photos the page offers as samples (the first is shown on opening): groups of clear faces. */
const SAMPLE_FILES = ['9.jpg', '21.jpg', '3.jpg'];

/** The sample photos, served from ../shared by the demo server (never copied); undefined when it is not there. */
export function sharedSamples(): DemoSamples | undefined {
  const files = SAMPLE_FILES.filter((file) => existsSync(join(SHARED_IMAGES, file)));
  return files.length > 0 ? { dir: SHARED_IMAGES, files } : undefined;
}

/**
 * onnxruntime-web's runtime files, which ultraface/web loads from `wasmPaths` (its JavaScript included: it is not
 * bundled): the plain wasm build, and the WebGPU (asyncify) build loaded on demand.
 */
export const ORT_FILES = [...RUNTIME_FILES.wasm, ...RUNTIME_FILES.webgpu];

export interface BuildDemoOptions {
  readonly outDir: string;
  /** Minify the bundle (default true). */
  readonly minify?: boolean;
}

function ortDist(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
}

interface MadeModel {
  readonly file: string;
  readonly label: string;
  readonly bytes: Uint8Array;
}

/** The package's own models (models/), first in the menu; the default, RFB-320, is what the page opens with. */
const DEMO_BUNDLED: readonly BundledModelName[] = ['rfb-320', 'slim-320', 'rfb-640', 'rfb-320-int8'];

function bundledModels(): MadeModel[] {
  return DEMO_BUNDLED.map((name) => ({
    file: basename(BUNDLED_MODELS[name]),
    label: `ultraface ${name}${name === 'rfb-320' ? ' (default)' : ''}`,
    bytes: readFileSync(BUNDLED_MODELS[name]),
  }));
}

/**
 * The upstream RFB and slim weights (from ../shared) as ultraface models: fixed 320x240 with boxes decoded in the
 * graph (what `ultraface import` gives), and free-size raw models for the input-size control.
 */
function sharedModels(): MadeModel[] {
  if (!existsSync(SHARED_MODELS)) return [];
  return (['RFB', 'slim'] as const).flatMap((net) => {
    const source = readFileSync(join(SHARED_MODELS, `version-${net}-320.onnx`));
    return [
      { file: `${net}-320.onnx`, label: `upstream ${net}-320`, bytes: convertWeightsToOnnx(source).onnx },
      {
        file: `${net}-any.onnx`,
        label: `upstream ${net} (any input size)`,
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
  });
  await copyFile(join(DEMO_DIR, 'index.html'), join(outDir, 'index.html'));
  const dist = ortDist();
  await Promise.all(ORT_FILES.map((f) => copyFile(join(dist, f), join(outDir, 'ort', f))));

  const made = [...bundledModels(), ...sharedModels()];
  for (const model of made) await writeFile(join(models, model.file), model.bytes);
  // Made models in their order, then whatever else is in models/ (a user's own), by name.
  const others = (await readdir(models))
    .filter((f) => f.endsWith('.onnx') && !made.some((m) => m.file === f))
    .sort()
    .map((file) => ({ file, label: file.replace(/\.onnx$/, '') }));
  const list: DemoModel[] = [...made.map(({ file, label }) => ({ file, label })), ...others];
  await writeFile(join(outDir, 'models.json'), JSON.stringify(list, null, 2));
  return { models: list };
}
