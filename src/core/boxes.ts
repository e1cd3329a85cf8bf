import { CENTER_VARIANCE, SIZE_VARIANCE } from './presets.js';

/** A box in normalized coordinates (0..1 of the image width and height), corner form. */
export interface NormalizedBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

/** A box in image pixels, corner form. Deliberately a distinct type from NormalizedBox (STYLE.md §8). */
export interface PixelBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  readonly __unit?: 'px';
}

const F_CENTER_VARIANCE = Math.fround(CENTER_VARIANCE);
const F_SIZE_VARIANCE = Math.fround(SIZE_VARIANCE);
const f = Math.fround;

/**
 * SSD decode (SPEC §5.1), in float32 and in the order upstream evaluates it, straight to corner form.
 * @param locations [P, 4] dx, dy, dw, dh (raw regression)
 * @param priors [P, 4] cx, cy, w, h, normalized
 * @returns [P, 4] x1, y1, x2, y2, normalized, not clipped
 */
export function decodeBoxes(locations: ArrayLike<number>, priors: Float32Array): Float32Array {
  const count = priors.length / 4;
  if (locations.length !== priors.length) {
    throw new RangeError(`decodeBoxes: ${locations.length / 4} locations for ${count} priors`);
  }
  const out = new Float32Array(priors.length);
  for (let p = 0; p < priors.length; p += 4) {
    const pw = priors[p + 2];
    const ph = priors[p + 3];
    const cx = f(f(f(locations[p] * F_CENTER_VARIANCE) * pw) + priors[p]);
    const cy = f(f(f(locations[p + 1] * F_CENTER_VARIANCE) * ph) + priors[p + 1]);
    const halfW = f(f(f(Math.exp(f(locations[p + 2] * F_SIZE_VARIANCE))) * pw) / 2);
    const halfH = f(f(f(Math.exp(f(locations[p + 3] * F_SIZE_VARIANCE))) * ph) / 2);
    out[p] = cx - halfW;
    out[p + 1] = cy - halfH;
    out[p + 2] = cx + halfW;
    out[p + 3] = cy + halfH;
  }
  return out;
}

/**
 * SSD encode (SPEC §5.1) of one corner-form box against one center-form prior.
 * @returns dx, dy, dw, dh
 */
export function encodeBox(
  box: NormalizedBox,
  prior: ArrayLike<number>,
  offset = 0,
): [number, number, number, number] {
  const [cx, cy, w, h] = cornerToCenter(box);
  const pcx = prior[offset];
  const pcy = prior[offset + 1];
  const pw = prior[offset + 2];
  const ph = prior[offset + 3];
  return [
    (cx - pcx) / pw / CENTER_VARIANCE,
    (cy - pcy) / ph / CENTER_VARIANCE,
    Math.log(w / pw) / SIZE_VARIANCE,
    Math.log(h / ph) / SIZE_VARIANCE,
  ];
}

export function cornerToCenter(box: NormalizedBox): [number, number, number, number] {
  return [(box.x1 + box.x2) / 2, (box.y1 + box.y2) / 2, box.x2 - box.x1, box.y2 - box.y1];
}

export function centerToCorner(cx: number, cy: number, w: number, h: number): NormalizedBox {
  return { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 };
}

/** Upstream's IoU (SPEC §5.2): continuous coordinates, eps 1e-5 always added to the union. */
export const IOU_EPS = 1e-5;

/** IoU of boxes i and j of a flat [K, 4] corner-form array (any unit). */
export function iouAt(boxes: ArrayLike<number>, i: number, j: number): number {
  const a = i * 4;
  const b = j * 4;
  const w = Math.max(Math.min(boxes[a + 2], boxes[b + 2]) - Math.max(boxes[a], boxes[b]), 0);
  const h = Math.max(Math.min(boxes[a + 3], boxes[b + 3]) - Math.max(boxes[a + 1], boxes[b + 1]), 0);
  const overlap = w * h;
  const areaA = Math.max(boxes[a + 2] - boxes[a], 0) * Math.max(boxes[a + 3] - boxes[a + 1], 0);
  const areaB = Math.max(boxes[b + 2] - boxes[b], 0) * Math.max(boxes[b + 3] - boxes[b + 1], 0);
  return overlap / (areaA + areaB - overlap + IOU_EPS);
}

/** IoU of two corner-form boxes (SPEC §5.2). */
export function iou(a: NormalizedBox | PixelBox, b: NormalizedBox | PixelBox): number {
  return iouAt([a.x1, a.y1, a.x2, a.y2, b.x1, b.y1, b.x2, b.y2], 0, 1);
}
