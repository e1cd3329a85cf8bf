/**
 * Faces found on upstream's group photos by a model, next to upstream RFB-320's (issue #15's group-photo yardstick:
 * ≥ 80 % of upstream's faces on each photo at the default threshold; test/runtime/default-model.test.ts runs it on
 * the default): `node --import tsx scripts/group-photos.ts [model] [threshold]`.
 */
import { countRecovered } from '../src/eval/face-recall.js';
import { createFaceDetector } from '../src/runtime/node/detector.js';

const SHARED = process.env.ULTRAFACE_SHARED ?? '../shared';
const model = process.argv[2];
const threshold = Number(process.argv[3] ?? 0.7);
const upstream = await createFaceDetector({
  model: `${SHARED}/reference/upstream/models/onnx/version-RFB-320.onnx`,
});
const ours = await createFaceDetector({ ...(model ? { model } : {}), scoreThreshold: threshold });
for (const name of ['1.jpg', '8.jpg', '17.jpg', '25.jpg', '26.jpg', '27.jpg']) {
  const path = `${SHARED}/reference/upstream/imgs/${name}`;
  const reference = await upstream.detect(path);
  const found = await ours.detect(path);
  const hits = countRecovered(reference, found);
  console.log(
    `${name}: ${hits} of upstream's ${reference.length} (${((100 * hits) / reference.length).toFixed(0)} %), ours ${found.length}`,
  );
}
await Promise.all([upstream.dispose(), ours.dispose()]);
