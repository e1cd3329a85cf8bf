/**
 * Where a model puts its boxes against a reference: for each reference face, the model's box that overlaps it most
 * (IoU ≥ 0.3, score ≥ 0.5), as mean width and height ratios, centre offsets in fractions of the reference box (+ is
 * right / down) and IoU. Two references: widerface-val-dev's ground truth (faces 10–40 px wide, not `invalid`), and
 * upstream RFB-320's faces under 20 px on upstream's imgs/25.jpg, which the group-photo yardstick matches at
 * IoU ≥ 0.5 (scripts/group-photos.ts): on a face 4 × 6 px at the input a small systematic offset costs the match.
 *
 *   node --import tsx scripts/box-offsets.ts model.onnx [model.onnx …]
 */
import { iou, type PixelBox } from '../src/core/boxes.js';
import { readWiderSplitTxt } from '../src/data/wider-txt.js';
import { createFaceDetector, type FaceDetector } from '../src/runtime/node/detector.js';

const SHARED = process.env.ULTRAFACE_SHARED ?? '../shared';
const VAL_DEV = `${SHARED}/data/widerface-val-dev`;
const GROUP_PHOTO = `${SHARED}/reference/upstream/imgs/25.jpg`;
const INVALID = 3; // index of `invalid` in WIDER_ATTRIBUTES

if (process.argv.length < 3) {
  console.error('usage: box-offsets.ts model.onnx [model.onnx …]');
  process.exit(2);
}

/** Running sums of one model against one reference. */
class Offsets {
  private readonly sums = [0, 0, 0, 0, 0];
  private count = 0;

  add(reference: PixelBox, boxes: readonly PixelBox[]): void {
    let best: PixelBox | undefined;
    let bestIou = 0.3;
    for (const box of boxes) {
      const overlap = iou(reference, box);
      if (overlap > bestIou) [best, bestIou] = [box, overlap];
    }
    if (!best) return;
    const w = reference.x2 - reference.x1;
    const h = reference.y2 - reference.y1;
    const values = [
      (best.x2 - best.x1) / w,
      (best.y2 - best.y1) / h,
      (best.x1 + best.x2 - reference.x1 - reference.x2) / 2 / w,
      (best.y1 + best.y2 - reference.y1 - reference.y2) / 2 / h,
      bestIou,
    ];
    values.forEach((v, i) => (this.sums[i] += v));
    this.count++;
  }

  summary(): string {
    const [w, h, dx, dy, overlap] = this.sums.map((s) => (s / this.count).toFixed(3));
    return `${this.count} faces: width ×${w}, height ×${h}, centre dx ${dx} dy ${dy}, IoU ${overlap}`;
  }
}

const boxesOf = async (detector: FaceDetector, path: string): Promise<PixelBox[]> =>
  (await detector.detect(path)).map((face) => face.box);

const valDev = await readWiderSplitTxt(`${VAL_DEV}/wider_face_split/wider_face_val_bbx_gt.txt`);
const upstream = await createFaceDetector({
  model: `${SHARED}/reference/upstream/models/onnx/version-RFB-320.onnx`,
});
const upstreamFaces = (await upstream.detect(GROUP_PHOTO))
  .map((face) => face.box)
  .filter((box) => box.x2 - box.x1 < 20);

for (const model of [
  ...process.argv.slice(2),
  `${SHARED}/reference/upstream/models/onnx/version-RFB-320.onnx`,
]) {
  const detector = await createFaceDetector({ model, scoreThreshold: 0.5 });
  const truth = new Offsets();
  for (const image of valDev) {
    const boxes = await boxesOf(detector, `${VAL_DEV}/WIDER_val/images/${image.path}`);
    for (let k = 0; k < image.boxes.length / 4; k++) {
      const [x, y, w, h] = image.boxes.subarray(4 * k, 4 * k + 4);
      if (w < 10 || w >= 40 || image.attributes[6 * k + INVALID]) continue;
      truth.add({ x1: x, y1: y, x2: x + w, y2: y + h }, boxes);
    }
  }
  const group = new Offsets();
  const boxes = await boxesOf(detector, GROUP_PHOTO);
  for (const face of upstreamFaces) group.add(face, boxes);
  console.log(
    `${model}\n  val-dev ground truth: ${truth.summary()}\n  upstream RFB-320 on 25.jpg: ${group.summary()}`,
  );
  await detector.dispose();
}
await upstream.dispose();
