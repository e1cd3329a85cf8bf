/**
 * npm run demo — builds the demo into demo/dist and serves it on http://127.0.0.1:5173 (PORT and HOST change
 * that), cross-origin isolated so that wasm threads work. Ctrl-C stops it.
 */
import { fileURLToPath } from 'node:url';

import { buildDemo, sharedSamples } from './build.js';
import { startDemoServer } from './server.js';

const outDir = fileURLToPath(new URL('./dist/', import.meta.url));
const { models } = await buildDemo({ outDir });
if (models.length === 0) {
  process.stdout.write(
    'No models found. Add some with `npx ultraface import --upstream RFB-320 --out demo/dist/models/RFB-320.onnx` ' +
      '(then reload the page), or pick an .onnx file in the page.\n',
  );
}
const samples = sharedSamples();
const server = await startDemoServer({
  root: outDir,
  samples,
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 5173),
});
process.stdout.write(
  `ultraface demo: ${server.url} (models: ${models.map((m) => m.label).join(', ') || 'none'}; sample photos: ` +
    `${samples ? samples.files.join(', ') : 'none (../shared is not there)'})\n`,
);
