/**
 * The `ultraface/web` entry bundles for the browser (esbuild, platform 'browser') with no Node built-in and no
 * Node-only package in it, and stays small.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { bundleWebEntry, formatReport, NODE_ONLY } from '../../demo/web-bundle.js';

/** Our own code, minified + gzip (measured 8.9 kB); onnxruntime-web's JavaScript comes on top. */
const OWN_GZIP_BUDGET = 12 * 1024;

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
});
