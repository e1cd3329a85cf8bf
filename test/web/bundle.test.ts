/**
 * The `ultraface/web` entry bundles for the browser (esbuild, platform 'browser', no custom conditions: as any
 * app's bundler) with no Node built-in, no Node-only package and no copy of onnxruntime-web in it (its JavaScript
 * is loaded at run time from `wasmPaths`, beside the wasm), and stays small.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { bundleWebEntry, formatReport, NODE_ONLY } from '../../demo/web-bundle.js';

/** Everything an app ships for ultraface/web, minified + gzip (measured 11.4 kB). */
const OWN_GZIP_BUDGET = 13 * 1024;

describe('the ultraface/web bundle', () => {
  it('has no Node built-ins or Node-only packages, and fits its size budget', async (t) => {
    const report = await bundleWebEntry();
    t.diagnostic(formatReport(report).replaceAll('\n', '; '));
    const nodeOnly = report.inputs.filter(
      (path) => path.startsWith('node:') || NODE_ONLY.some((name) => path.includes(`node_modules/${name}/`)),
    );
    assert.deepEqual(nodeOnly, []);
    // Our modules: the shared core and runtime, nothing from the Node adapter, the CLI or the ONNX reader.
    const own = report.inputs.filter((path) => path.startsWith('src/'));
    assert.ok(
      own.every((path) => /^src\/(core|runtime\/(web\/)?[^/]+\.ts$|model\/onnx\/metadata\.ts$)/.test(path)),
      own.join(', '),
    );
    assert.ok(!own.some((path) => path.startsWith('src/runtime/node/')));
    assert.ok(report.own.gzipBytes < OWN_GZIP_BUDGET, `${report.own.gzipBytes} bytes gzip`);
  });

  it('ships no copy of onnxruntime-web, whichever bundler: it is loaded from wasmPaths (#12)', async () => {
    const report = await bundleWebEntry();
    const ort = report.inputs.filter((path) => path.includes('node_modules/onnxruntime-'));
    assert.deepEqual(ort, []);
    assert.deepEqual(
      report.runtime.map((f) => f.path),
      ['ort.wasm.min.mjs', 'ort.webgpu.min.mjs'],
    );
  });
});
