/**
 * Steps 2–4 of the augmentation (index.ts): the geometry, drawn before any pixel is touched, and the boxes moved
 * with it.
 *
 * 2. **Zoom-out** (SSD `Expand`; not in upstream): with probability p the image is placed at a random integer
 *    offset on a canvas `ratio` times larger (ratio uniform in [1, maxRatio]) filled with 127 (the mean, so the fill
 *    normalizes to ~0). Large-face photos then also teach the small priors.
 * 3. **Random crop that crops** (upstream's intended `RandomSampleCrop_v2`, generalized; upstream's never fires —
 *    B1): with probability p, up to `maxTrials` times: scale s ~ U(minScale, 1) of each canvas side, aspect change
 *    a ~ log-uniform in [1/maxAspectChange, maxAspectChange] (the crop is `s·√a` wide and `s/√a` high, clamped to
 *    the canvas), position uniform; integer rectangle. A trial is accepted when some face lies inside it for at
 *    least `minCoverage` of its area (1 = a whole face, as upstream intended) and some face centre lies strictly
 *    inside; faces whose centre is outside are dropped, the others clipped (SSD). Images without faces accept the
 *    first trial. If every trial fails, nothing is cropped. We chose this coverage rule over SSD's min-IoU sampling:
 *    a face is small relative to any crop, so IoU thresholds of 0.1–0.9 between face and crop would almost never
 *    be met except by crops that are themselves face-sized.
 * 4. **Mirror** with probability p (upstream: 0.5): `x1' = W − x2`, `x2' = W − x1`.
 *
 * Boxes are continuous pixel coordinates (pixel i spans [i, i+1)). Output boxes are clipped to the output image;
 * faces left with no area are dropped; faces smaller than `minFaceSize` network pixels on a side become ignore
 * regions (label IGNORE_LABEL: neither face nor background). Ignore regions pass through like faces.
 */
import { IGNORE_LABEL } from '../../core/matching.js';
import type { Random } from '../../core/random.js';
import type { AugmentOptions, CropOptions } from './options.js';

/** A rectangle of canvas pixels (integers). */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The geometry drawn for one image (steps 2–4). */
export interface GeometryPlan {
  /** Canvas size and where the image's top-left corner sits on it, in pixels; null without zoom-out. */
  readonly expand: {
    readonly width: number;
    readonly height: number;
    readonly left: number;
    readonly top: number;
  } | null;
  /** Crop rectangle on the canvas, in pixels (integers); null when not cropped. */
  readonly crop: Rect | null;
  readonly mirror: boolean;
  /** The window of the canvas that becomes the output: the crop, else the whole canvas. */
  readonly window: Rect;
  /** Where the image's top-left corner sits on the canvas (0, 0 without zoom-out). */
  readonly left: number;
  readonly top: number;
  /** [N, 4] the boxes on the canvas, in pixels (float64 while transforming). */
  readonly canvasBoxes: Float64Array;
}

/**
 * Draws zoom-out, crop and mirror, in that order, for a W x H image with `boxes` ([N, 4] pixels).
 */
export function drawGeometry(
  options: AugmentOptions,
  W: number,
  H: number,
  boxes: ArrayLike<number>,
  random: Random,
): GeometryPlan {
  const count = boxes.length / 4;
  let canvasW = W;
  let canvasH = H;
  let left = 0;
  let top = 0;
  let expandApplied: GeometryPlan['expand'] = null;
  if (options.expand !== null && random.chance(options.expand.probability)) {
    const ratio = random.uniform(1, options.expand.maxRatio);
    canvasW = Math.max(W, Math.floor(W * ratio));
    canvasH = Math.max(H, Math.floor(H * ratio));
    left = Math.floor(random.uniform(0, canvasW - W));
    top = Math.floor(random.uniform(0, canvasH - H));
    expandApplied = { width: canvasW, height: canvasH, left, top };
  }
  // Boxes on the canvas (float64 while transforming).
  const canvasBoxes = new Float64Array(4 * count);
  for (let i = 0; i < count; i++) {
    canvasBoxes[4 * i] = boxes[4 * i] + left;
    canvasBoxes[4 * i + 1] = boxes[4 * i + 1] + top;
    canvasBoxes[4 * i + 2] = boxes[4 * i + 2] + left;
    canvasBoxes[4 * i + 3] = boxes[4 * i + 3] + top;
  }
  let window: Rect = { x: 0, y: 0, width: canvasW, height: canvasH };
  let cropApplied: Rect | null = null;
  if (options.crop !== null && random.chance(options.crop.probability)) {
    cropApplied = sampleCrop(options.crop, canvasW, canvasH, canvasBoxes, random);
    if (cropApplied !== null) window = cropApplied;
  }
  const mirror = random.chance(options.mirrorProbability);
  return { expand: expandApplied, crop: cropApplied, mirror, window, left, top, canvasBoxes };
}

/**
 * The boxes of a plan on an outW x outH output: centres kept inside a crop, clipped to the window, mirrored,
 * normalized (float32 values); faces under `minFaceSize` output pixels on a side become IGNORE_LABEL.
 * @returns [M, 4] normalized boxes and [M] labels of the survivors, in input order
 */
export function transformBoxes(
  plan: GeometryPlan,
  labels: ArrayLike<number>,
  minFaceSize: number,
  outW: number,
  outH: number,
): { boxes: number[]; labels: number[] } {
  const { window, canvasBoxes, crop, mirror } = plan;
  const count = labels.length;
  const keptBoxes: number[] = [];
  const keptLabels: number[] = [];
  const wx1 = window.x + window.width;
  const wy1 = window.y + window.height;
  for (let i = 0; i < count; i++) {
    let [x1, y1, x2, y2] = canvasBoxes.subarray(4 * i, 4 * i + 4);
    if (crop !== null) {
      const cx = (x1 + x2) / 2;
      const cy = (y1 + y2) / 2;
      if (!(cx > window.x && cx < wx1 && cy > window.y && cy < wy1)) continue;
    }
    x1 = Math.max(x1, window.x) - window.x;
    y1 = Math.max(y1, window.y) - window.y;
    x2 = Math.min(x2, wx1) - window.x;
    y2 = Math.min(y2, wy1) - window.y;
    if (mirror) [x1, x2] = [window.width - x2, window.width - x1];
    const nx1 = Math.fround(x1 / window.width);
    const ny1 = Math.fround(y1 / window.height);
    const nx2 = Math.fround(x2 / window.width);
    const ny2 = Math.fround(y2 / window.height);
    if (!(nx2 > nx1 && ny2 > ny1)) continue;
    // a face too small to learn stays as an ignore region (core/matching.ts), not as background
    const small = (nx2 - nx1) * outW < minFaceSize || (ny2 - ny1) * outH < minFaceSize;
    keptBoxes.push(nx1, ny1, nx2, ny2);
    keptLabels.push(small ? IGNORE_LABEL : labels[i]);
  }
  return { boxes: keptBoxes, labels: keptLabels };
}

/** Step 3 of the module comment. @returns the accepted rectangle, or null when every trial failed */
function sampleCrop(
  o: CropOptions,
  canvasW: number,
  canvasH: number,
  boxes: Float64Array,
  random: Random,
): Rect | null {
  const count = boxes.length / 4;
  const logAspect = Math.log(o.maxAspectChange);
  for (let trial = 0; trial < o.maxTrials; trial++) {
    const scale = random.uniform(o.minScale, 1);
    const aspect = Math.sqrt(Math.exp(random.uniform(-logAspect, logAspect)));
    const w = Math.min(canvasW, scale * aspect * canvasW);
    const h = Math.min(canvasH, (scale / aspect) * canvasH);
    const l = random.uniform(0, canvasW - w);
    const t = random.uniform(0, canvasH - h);
    const x = Math.floor(l);
    const y = Math.floor(t);
    const rect = {
      x,
      y,
      width: Math.max(1, Math.min(canvasW, Math.floor(l + w)) - x),
      height: Math.max(1, Math.min(canvasH, Math.floor(t + h)) - y),
    };
    if (count === 0) return rect;
    const rx1 = rect.x + rect.width;
    const ry1 = rect.y + rect.height;
    let covered = false;
    let centred = false;
    for (let i = 0; i < count; i++) {
      const [x1, y1, x2, y2] = boxes.subarray(4 * i, 4 * i + 4);
      const area = Math.max(x2 - x1, 0) * Math.max(y2 - y1, 0);
      const inter =
        Math.max(Math.min(x2, rx1) - Math.max(x1, rect.x), 0) *
        Math.max(Math.min(y2, ry1) - Math.max(y1, rect.y), 0);
      if (area > 0 && inter >= o.minCoverage * area) covered = true;
      const cx = (x1 + x2) / 2;
      const cy = (y1 + y2) / 2;
      if (cx > rect.x && cx < rx1 && cy > rect.y && cy < ry1) centred = true;
    }
    if (covered && centred) return rect;
  }
  return null;
}
