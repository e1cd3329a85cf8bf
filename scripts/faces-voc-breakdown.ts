/**
 * Where a model loses AP50 on a faces-voc split (test unless `--split`; the model card's "what limits accuracy"):
 * recall by face size in network pixels, at IoU 0.5 and 0.3, AP50 by face size, and AP50 per photo source with the
 * median IoU and mean box offsets of matched faces (for faces of 16 px and more, and for those under 16 px).
 * Detections as in the AP50 protocol (notes/eval-conventions.md).
 *
 *   node --import tsx scripts/faces-voc-breakdown.ts <model.onnx> [--root ../shared/data/faces-voc] [--split test]
 *
 * Sources are told apart by the first four letters of the image id (cymq, ilc2, kagg, macw, rf_f).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import type { Detection } from '../src/core/postprocess.js';
import { readVocDataset, type VocImage } from '../src/data/voc.js';
import { PROTOCOL_SPECS } from '../src/eval/protocols.js';
import { evaluateVocAp } from '../src/eval/voc-ap.js';
import { createFaceDetector } from '../src/runtime/node/detector.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    root: { type: 'string', default: new URL('../../shared/data/faces-voc', import.meta.url).pathname },
    split: { type: 'string', default: 'test' },
  },
});
if (positionals.length !== 1) {
  console.error('usage: faces-voc-breakdown.ts <model.onnx> [--root <faces-voc>] [--split test]');
  process.exit(2);
}

type Box = readonly [number, number, number, number];

const dataset = await readVocDataset(values.root, { split: values.split });
const spec = PROTOCOL_SPECS.ulfd.detector;
const detector = await createFaceDetector({ model: readFileSync(positionals[0]), ...spec });
const faces = await detector.detectBatch(dataset.images.map((image) => image.imagePath));
await detector.dispose();
const [netWidth, netHeight] = [320, 240];

const iou = (a: Box, b: Box): number => {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
};
const boxOf = (d: Detection): Box => [d.box.x1, d.box.y1, d.box.x2, d.box.y2];
const truths = (image: VocImage): Box[] =>
  Array.from({ length: image.boxes.length / 4 }, (_, g) => [
    image.boxes[4 * g],
    image.boxes[4 * g + 1],
    image.boxes[4 * g + 2],
    image.boxes[4 * g + 3],
  ]);
/** √(w·h) of a ground-truth box once the image is resized to the network input. */
const netSize = (image: VocImage, b: Box): number =>
  Math.sqrt((((b[2] - b[0]) * netWidth) / image.width) * (((b[3] - b[1]) * netHeight) / image.height));
const bestIou = (b: Box, detections: readonly Detection[], minScore = 0): number =>
  Math.max(0, ...detections.filter((d) => d.score >= minScore).map((d) => iou(b, boxOf(d))));

// Recall by size
const edges = [0, 8, 12, 16, 24, 32, 48, 64, Infinity];
const buckets = edges.slice(1).map(() => ({ faces: 0, at05: 0, at05score05: 0, at03: 0 }));
dataset.images.forEach((image, k) => {
  for (const b of truths(image)) {
    const size = netSize(image, b);
    const bucket = buckets[edges.findIndex((e, i) => size >= e && size < edges[i + 1])];
    bucket.faces++;
    const best = bestIou(b, faces[k]);
    if (best >= 0.5) bucket.at05++;
    if (best >= 0.3) bucket.at03++;
    if (bestIou(b, faces[k], 0.5) >= 0.5) bucket.at05score05++;
  }
});
const total = buckets.reduce((sum, b) => sum + b.faces, 0);
console.log(`recall by face size (√(w·h) in pixels at ${netWidth}x${netHeight}), ${total} faces`);
console.log('size        faces  share  IoU≥0.5  IoU≥0.5,score≥0.5  IoU≥0.3');
buckets.forEach((b, i) => {
  const label = `${edges[i]}-${edges[i + 1] === Infinity ? '' : edges[i + 1]}`;
  const r = (n: number): string => (n / b.faces).toFixed(3);
  console.log(
    `${label.padEnd(10)} ${String(b.faces).padStart(6)} ${(b.faces / total).toFixed(3).padStart(6)} ` +
      `${r(b.at05).padStart(8)} ${r(b.at05score05).padStart(18)} ${r(b.at03).padStart(8)}`,
  );
});

// AP50 by size: the faces of other sizes count as difficult (a detection on one is neither right nor wrong), so
// each figure is the AP of one size band with every false positive on background still in it.
const apEdges = [0, 16, 32, 64, Infinity];
console.log('\nAP50 by face size (other sizes as difficult)');
console.log(
  apEdges
    .slice(1)
    .map((hi, i) => {
      const lo = apEdges[i];
      const { ap } = evaluateVocAp(
        dataset.images.map((image, k) => ({
          groundTruth: image.boxes,
          difficult: truths(image).map((b, g) => {
            const size = netSize(image, b);
            return image.difficult[g] || size < lo || size >= hi ? 1 : 0;
          }),
          boxes: faces[k].flatMap((d) => [...boxOf(d)]),
          scores: faces[k].map((d) => d.score),
        })),
      );
      return `${lo}-${hi === Infinity ? '' : hi}: ${ap.toFixed(3)}`;
    })
    .join('  '),
);

// Per source, for faces of 16 px and more (AP50 over all of the source's faces) and for those under 16 px (AP50 of
// those alone, the others as difficult)
const sourceOf = (image: VocImage): string => image.id.slice(0, 4);
for (const small of [false, true]) {
  const inBand = (image: VocImage, b: Box): boolean => netSize(image, b) < 16 === small;
  console.log(
    small
      ? '\nper source, faces under 16 px (AP50 of those alone; matched and offsets as above)'
      : '\nper source (faces ≥ 16 px matched at IoU ≥ 0.3 and score ≥ 0.3; offsets / box size, + = right/down)',
  );
  console.log('source images faces  AP50  matched  median IoU  IoU<0.5   dx1    dy1    dx2    dy2');
  for (const source of [...new Set(dataset.images.map(sourceOf))].sort()) {
    const indices = dataset.images.flatMap((image, k) => (sourceOf(image) === source ? [k] : []));
    const { ap } = evaluateVocAp(
      indices.map((k) => {
        const image = dataset.images[k];
        return {
          groundTruth: image.boxes,
          difficult: small
            ? truths(image).map((b, g) => (image.difficult[g] || !inBand(image, b) ? 1 : 0))
            : image.difficult,
          boxes: faces[k].flatMap((d) => [...boxOf(d)]),
          scores: faces[k].map((d) => d.score),
        };
      }),
    );
    const ious: number[] = [];
    const offsets = [0, 0, 0, 0];
    let count = 0;
    for (const k of indices) {
      const image = dataset.images[k];
      for (const b of truths(image)) {
        if (small && !inBand(image, b)) continue;
        count++;
        if (!inBand(image, b)) continue;
        let best: Box | undefined;
        let bestValue = 0.3;
        for (const d of faces[k]) {
          const value = iou(b, boxOf(d));
          if (d.score >= 0.3 && value > bestValue) [best, bestValue] = [boxOf(d), value];
        }
        if (!best) continue;
        ious.push(bestValue);
        const [w, h] = [b[2] - b[0], b[3] - b[1]];
        [w, h, w, h].forEach((scale, c) => (offsets[c] += (best[c] - b[c]) / scale));
      }
    }
    ious.sort((a, b) => a - b);
    const f = (x: number, width = 6): string => x.toFixed(3).padStart(width);
    console.log(
      `${source.padEnd(6)} ${String(indices.length).padStart(6)} ${String(count).padStart(5)} ${f(ap)} ` +
        `${String(ious.length).padStart(8)} ${f(ious[ious.length >> 1] ?? NaN, 11)} ` +
        `${f(ious.filter((v) => v < 0.5).length / ious.length, 8)} ${offsets.map((o) => f(o / ious.length)).join(' ')}`,
    );
  }
}
