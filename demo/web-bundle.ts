/**
 * The `ultraface/web` entry as a browser bundle (esbuild, minified, platform 'browser'): its size, gzipped, and the
 * modules it pulls in, so that a Node-only module in it is an error. `npm run build:web` prints the report.
 */
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';

import { build, type Metafile } from 'esbuild';

export const WEB_ENTRY = fileURLToPath(new URL('../src/runtime/web/index.ts', import.meta.url));

/** Packages that must never reach the browser bundle. */
export const NODE_ONLY = ['sharp', 'onnxruntime-node', 'protobufjs', 'onnx-proto', 'fflate', 'commander'];

export interface BundleFile {
  readonly path: string;
  readonly bytes: number;
  readonly gzipBytes: number;
}

export interface WebBundle {
  /** Our code alone (onnxruntime-web left as an import). */
  readonly own: BundleFile;
  /** Our code with onnxruntime-web's JavaScript: the entry chunk, and the chunks loaded per execution provider. */
  readonly withOrt: readonly BundleFile[];
  /** Every module in either bundle (paths relative to the repository). */
  readonly inputs: readonly string[];
}

async function bundle(external: boolean): Promise<{ files: BundleFile[]; metafile: Metafile }> {
  const result = await build({
    entryPoints: [WEB_ENTRY],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    splitting: true,
    outdir: 'out',
    write: false,
    metafile: true,
    logLevel: 'silent',
    conditions: ['onnxruntime-web-use-extern-wasm'],
    external: external ? ['onnxruntime-web', 'onnxruntime-web/*'] : [],
    absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  });
  const files = result.outputFiles
    .filter((f) => f.path.endsWith('.js'))
    .map((f) => ({
      path: f.path.slice(f.path.lastIndexOf('/') + 1),
      bytes: f.contents.length,
      gzipBytes: gzipSync(f.contents, { level: 9 }).length,
    }));
  return { files, metafile: result.metafile };
}

export async function bundleWebEntry(): Promise<WebBundle> {
  const own = await bundle(true);
  const withOrt = await bundle(false);
  const inputs = new Set([...Object.keys(own.metafile.inputs), ...Object.keys(withOrt.metafile.inputs)]);
  return {
    own: own.files.find((f) => f.path === 'index.js')!,
    withOrt: withOrt.files,
    inputs: [...inputs].sort(),
  };
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} kB`;

export function formatReport(report: WebBundle): string {
  const lines = [
    `ultraface/web, own code: ${kb(report.own.bytes)} minified, ${kb(report.own.gzipBytes)} gzip`,
  ];
  for (const f of report.withOrt)
    lines.push(`  with onnxruntime-web: ${f.path} ${kb(f.bytes)}, ${kb(f.gzipBytes)} gzip`);
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const report = await bundleWebEntry();
  const bad = report.inputs.filter(
    (p) => p.startsWith('node:') || NODE_ONLY.some((name) => p.includes(`node_modules/${name}/`)),
  );
  process.stdout.write(`${formatReport(report)}\n`);
  if (bad.length > 0) {
    process.stderr.write(`Node-only modules in the web bundle: ${bad.join(', ')}\n`);
    process.exitCode = 1;
  }
}
