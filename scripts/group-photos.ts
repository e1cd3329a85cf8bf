/**
 * Faces found on upstream's group photos by a model, next to upstream RFB-320's (issue #15's group-photo yardstick:
 * ≥ 80 % of upstream's faces on each photo at the default threshold, matched at IoU ≥ 0.5;
 * test/runtime/default-model.test.ts runs it on the default).
 *
 *   node --import tsx scripts/group-photos.ts [model] [--threshold 0.7] [--iou 0.5] [--mirror] [--stable] [--explain]
 *
 * `--mirror` runs the model on the left-right mirrored photos (boxes mirrored back): with upstream RFB-320 itself
 * as the model it measures how far the yardstick's own faces move under a mirror (models/README.md, group photos).
 * `--stable` keeps only the reference faces upstream RFB-320 also finds on the mirrored photo (IoU ≥ `--iou`): the
 * yardstick without the faces whose box or score a mirror already changes.
 * `--explain` sorts the faces missed by what the model has there before NMS (every box it scores ≥ 0.05): a box
 * placed at `--iou` but scored under the threshold ("low score"), a box scored over the threshold but placed under
 * `--iou` ("misplaced"), or neither ("weak": at best a misplaced box under the threshold, or nothing).
 */
import { parseArgs } from 'node:util';

import sharp from 'sharp';

import { iou } from '../src/core/boxes.js';
import type { Detection } from '../src/core/postprocess.js';
import { countRecovered } from '../src/eval/face-recall.js';
import { createFaceDetector, type FaceDetector } from '../src/runtime/node/detector.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threshold: { type: 'string', default: '0.7' },
    iou: { type: 'string', default: '0.5' },
    mirror: { type: 'boolean', default: false },
    stable: { type: 'boolean', default: false },
    explain: { type: 'boolean', default: false },
  },
});
const threshold = Number(values.threshold);
const minIou = Number(values.iou);
if (positionals.length > 1 || !(threshold > 0 && threshold < 1) || !(minIou > 0 && minIou <= 1)) {
  console.error(
    'usage: group-photos.ts [model] [--threshold 0..1] [--iou 0..1] [--mirror] [--stable] [--explain]',
  );
  process.exit(2);
}

const SHARED = process.env.ULTRAFACE_SHARED ?? '../shared';
const model = positionals[0];
const upstream = await createFaceDetector({
  model: `${SHARED}/reference/upstream/models/onnx/version-RFB-320.onnx`,
});
const ours = await createFaceDetector({ ...(model ? { model } : {}), scoreThreshold: threshold });
// Every box the model scores ≥ 0.05, before NMS (nothing overlaps more than IoU 1) and without the candidate cut.
const allBoxes = values.explain
  ? await createFaceDetector({
      ...(model ? { model } : {}),
      scoreThreshold: 0.05,
      iouThreshold: 1,
      candidateSize: 100_000,
    })
  : undefined;

/** The model's faces on the mirrored photo, in the photo's own coordinates. */
async function detectMirrored(detector: FaceDetector, path: string): Promise<Detection[]> {
  const { data, info } = await sharp(path).flop().raw().toBuffer({ resolveWithObject: true });
  const image = {
    data: new Uint8Array(data),
    width: info.width,
    height: info.height,
    channels: info.channels as 3 | 4,
  };
  const faces = await detector.detect(image);
  return faces.map((face) => ({
    ...face,
    box: { ...face.box, x1: info.width - face.box.x2, x2: info.width - face.box.x1 },
  }));
}

/** Why the reference faces `found` does not recover are missed, by what `boxes` (all the model's boxes) hold. */
function explainMisses(
  reference: readonly Detection[],
  found: readonly Detection[],
  boxes: readonly Detection[],
): string {
  const counts = { 'low score': 0, misplaced: 0, weak: 0 };
  for (const face of reference) {
    if (found.some((f) => iou(face.box, f.box) >= minIou)) continue;
    const placed = boxes.filter((b) => iou(face.box, b.box) >= minIou);
    if (placed.length > 0) counts['low score']++;
    else if (boxes.some((b) => b.score >= threshold && iou(face.box, b.box) >= 0.3)) counts.misplaced++;
    else counts.weak++;
  }
  return Object.entries(counts)
    .map(([why, n]) => `${n} ${why}`)
    .join(', ');
}

/** The faces of `faces` that some face of `mirrored` (the same model on the mirrored photo) overlaps at `minIou`. */
function stableFaces(faces: readonly Detection[], mirrored: readonly Detection[]): Detection[] {
  return faces.filter((face) => mirrored.some((other) => iou(face.box, other.box) >= minIou));
}

for (const name of ['1.jpg', '8.jpg', '17.jpg', '25.jpg', '26.jpg', '27.jpg']) {
  const path = `${SHARED}/reference/upstream/imgs/${name}`;
  const upstreamFaces = await upstream.detect(path);
  const reference = values.stable
    ? stableFaces(upstreamFaces, await detectMirrored(upstream, path))
    : upstreamFaces;
  const found = values.mirror ? await detectMirrored(ours, path) : await ours.detect(path);
  const hits = countRecovered(reference, found, minIou);
  const why = allBoxes ? `; missed: ${explainMisses(reference, found, await allBoxes.detect(path))}` : '';
  console.log(
    `${name}: ${hits} of upstream's ${reference.length} (${((100 * hits) / reference.length).toFixed(0)} %), ours ${found.length}${why}`,
  );
}
await Promise.all([upstream.dispose(), ours.dispose(), allBoxes?.dispose()]);
