/**
 * The `ultraface/web` entry as an app's bundler sees it (esbuild, minified, platform 'browser', no custom
 * conditions): its size, gzipped, and the modules it pulls in, so that a Node-only module or a copy of
 * onnxruntime-web in it is an error. onnxruntime-web's JavaScript is loaded at run time from `wasmPaths`; its
 * sizes are reported beside. `npm run build:web` prints the report.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { build, type Metafile } from 'esbuild';

import { RUNTIME_FILES } from '../src/runtime/web/session.js';

export const WEB_ENTRY = fileURLToPath(new URL('../src/runtime/web/index.ts', import.meta.url));

/** Packages that must never reach the browser bundle. */
export const NODE_ONLY = ['sharp', 'onnxruntime-node', 'protobufjs', 'onnx-proto', 'fflate', 'commander'];

export interface BundleFile {
  readonly path: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

export interface WebBundle {
  /** Everything an app's bundle gets for `ultraface/web` (one file: no chunks are split off). */
  readonly own: BundleFile;
  /** onnxruntime-web's JavaScript, served beside its wasm and loaded from `wasmPaths`: per execution provider. */
  readonly runtime: readonly BundleFile[];
  /** Every module in the bundle (paths relative to the repository). */
  readonly inputs: readonly string[];
}

const measure = (path: string, contents: Uint8Array): BundleFile => ({
  path,
  bytes: contents.length,
  gzipBytes: gzipSync(contents, { level: 9 }).length,
});

async function bundle(): Promise<{ file: BundleFile; metafile: Metafile }> {
  const result = await build({
    entryPoints: [WEB_ENTRY],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: 'out',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  });
  const js = result.outputFiles.filter((f) => f.path.endsWith('.js'));
  if (js.length !== 1) throw new Error(`Expected one bundle file but esbuild wrote ${js.length}`);
  return { file: measure('index.js', js[0].contents), metafile: result.metafile };
}

export async function bundleWebEntry(): Promise<WebBundle> {
  const { file, metafile } = await bundle();
  const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));
  const runtime = [RUNTIME_FILES.wasm[0], RUNTIME_FILES.webgpu[0]].map((name) =>
    measure(name, readFileSync(join(dist, name))),
  );
  return { own: file, runtime, inputs: Object.keys(metafile.inputs).sort() };
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} kB`;

export function formatReport(report: WebBundle): string {
  const lines = [
    `ultraface/web in an app's bundle: ${kb(report.own.bytes)} minified, ${kb(report.own.gzipBytes)} gzip`,
  ];
  for (const f of report.runtime) {
    lines.push(`  loaded from wasmPaths at run time: ${f.path} ${kb(f.bytes)}, ${kb(f.gzipBytes)} gzip`);
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await bundleWebEntry();
  const bad = report.inputs.filter(
    (p) =>
      p.startsWith('node:') ||
      [...NODE_ONLY, 'onnxruntime-web'].some((name) => p.includes(`node_modules/${name}/`)),
  );
  process.stdout.write(`${formatReport(report)}\n`);
  if (bad.length > 0) {
    process.stderr.write(`Node-only modules or onnxruntime-web in the web bundle: ${bad.join(', ')}\n`);
    process.exitCode = 1;
  }
}
