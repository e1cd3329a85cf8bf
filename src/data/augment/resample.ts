/**
 * Step 5 of the augmentation (index.ts): **resize** of the (expanded, cropped, mirrored) window to the network size,
 * aspect not kept, then normalize. `resize: 'float'` (training, SPEC §6.3 step 6 / §6.7 last paragraph): OpenCV's
 * bilinear coefficient tables with float weights on float pixels — computed straight from the source image, so the
 * expanded canvas and the crop are never materialized ({@link resampleWindow}). `resize: 'uint8'` (validation,
 * SPEC §6.5; requires photometric off): the window as uint8 ({@link materializeWindow}), then the bit-exact OpenCV
 * fixed-point `resizeBilinear` — identical to inference input.
 */
import type { RgbImage } from '../../core/image.js';
import { IMAGE_MEAN, IMAGE_STD } from '../../core/presets.js';
import { linearAxisTable, RowPairCache } from '../../core/resize.js';
import type { Rect } from './geometry.js';
import { distortRow, type PixelRecipe } from './photometric.js';

/** 1 / 128: multiplying by a power of two is exact, so this equals upstream's division. */
const INV_STD = 1 / IMAGE_STD;

/** The image placed on the canvas: image pixel (i, j) is canvas pixel (left + i, top + j); elsewhere is fill. */
export interface Source {
  readonly image: RgbImage;
  readonly left: number;
  readonly top: number;
  /** What each image pixel goes through before the resize (the identity when photometric distortion is off). */
  readonly recipe: PixelRecipe;
}

/**
 * OpenCV `INTER_LINEAR` on float pixels (SPEC §6.7 last paragraph) of the canvas window `window` (mirrored when
 * asked) to outW x outH, without materializing the canvas, then `(v − 127) / 128` into planar [3, outH, outW].
 * The window is the resize's source image: columns clamp at its borders and rows are clamped when read, as in
 * OpenCV; canvas pixels outside the image read as `fill`. For an exact 2x reduction the weights are all 0.5, which
 * equals OpenCV's area averaging on integer-valued input.
 *
 * The photometric distortion happens on the fly, on the image pixels the resize reads (window ∩ image; of a
 * zoomed-out image, not every row and column): through the level table as they are read when there is no HSV step,
 * else a row at a time into a buffer. No distorted or expanded copy of the image is made.
 */
export function resampleWindow(
  source: Source,
  window: Rect,
  mirror: boolean,
  fill: number,
  outW: number,
  outH: number,
  out: Float32Array,
  offset: number,
): void {
  const { image, left, top, recipe } = source;
  const { data, channels: cn, width: W, height: H } = image;
  const columns = columnTable(window, mirror, left, image, outW);
  const rows = coefficients(window.height, outH, false);
  const rowLength = outW * 3;
  const fillRow = new Float32Array(rowLength);
  for (let dx = 0; dx < outW; dx++) {
    const v = fill * columns.w0[dx] + fill * columns.w1[dx];
    fillRow[3 * dx] = fillRow[3 * dx + 1] = fillRow[3 * dx + 2] = v;
  }
  const partlyFill = columns.inLo > 0 || columns.inHi < outW;
  const pixels = new Float64Array(cn * W); // distorted pixels of one image row
  let distorted = -1; // the image row `pixels` holds
  // Calls only module-level functions: V8 deoptimizes code that inlined a closure created anew on each call.
  const horizontal = (windowRow: number, t: Float32Array): void => {
    const sy = window.y + windowRow - top;
    if (sy < 0 || sy >= H) {
      t.set(fillRow);
      return;
    }
    const start = sy * W * cn;
    if (sy !== distorted) {
      // Without HSV, only the pixels of the edge columns go through the buffer; the others are read through the
      // levels as the resize reads them.
      distortRow(data, start, cn, recipe.hsv === null ? columns.edgeRead : columns.read, recipe, pixels);
      distorted = sy;
    }
    if (partlyFill) {
      t.set(fillRow);
      resampleEdge(pixels, columns, fill, t, 0, columns.inLo);
      resampleEdge(pixels, columns, fill, t, columns.inHi, outW);
    }
    if (recipe.hsv === null) resampleLevels(data, start, recipe, columns, t);
    else resamplePixels(pixels, columns, t);
  };
  const rowPair = new RowPairCache(new Float32Array(rowLength), new Float32Array(rowLength), horizontal);
  const plane = outW * outH;
  const last = window.height - 1;
  for (let dy = 0; dy < outH; dy++) {
    const sy = rows.index[dy];
    const r0 = Math.min(Math.max(sy, 0), last);
    const r1 = Math.min(Math.max(sy + 1, 0), last);
    rowPair.load(r0, r1);
    const r = offset + dy * outW;
    resampleColumn(rowPair.first, rowPair.second, rows, dy, out, r, r + plane, r + 2 * plane, outW);
  }
}

/**
 * The vertical pass of {@link resampleWindow} for output row `dy`: rows `t0`, `t1` of the horizontal pass blended
 * with the row weights, normalized, into planar output at offsets `r`, `g`, `b`.
 */
function resampleColumn(
  t0: Float32Array,
  t1: Float32Array,
  rows: { readonly w0: Float32Array; readonly w1: Float32Array },
  dy: number,
  out: Float32Array,
  r: number,
  g: number,
  b: number,
  outW: number,
): void {
  const f = Math.fround;
  // Read once, here (see hsvDistort, photometric.ts); the imported IMAGE_MEAN would otherwise be re-read and
  // checked per pixel.
  const mean = IMAGE_MEAN;
  const scale = INV_STD;
  const w0 = rows.w0[dy];
  const w1 = rows.w1[dy];
  for (let dx = 0, x = 0; dx < outW; dx++, x += 3) {
    out[r + dx] = f(f(t0[x] * w0 + t1[x] * w1) - mean) * scale;
    out[g + dx] = f(f(t0[x + 1] * w0 + t1[x + 1] * w1) - mean) * scale;
    out[b + dx] = f(f(t0[x + 2] * w0 + t1[x + 2] * w1) - mean) * scale;
  }
}

/** The horizontal half of {@link resampleWindow}'s resize: per output column, its two source pixels and weights. */
interface ColumnTable {
  /** Element offsets cn · x of the two source pixels within an image row, or −1 where the canvas is fill. */
  readonly col0: Int32Array;
  readonly col1: Int32Array;
  /** Their weights (float32 values). */
  readonly w0: Float64Array;
  readonly w1: Float64Array;
  /**
   * Output columns [inLo, inHi) read two adjacent image pixels, the second at `step` = ±cn elements from the first
   * (source columns are monotonic, so this is one run); the others read fill, or clamp at the window's edge.
   */
  readonly inLo: number;
  readonly inHi: number;
  readonly step: number;
  /** The image columns read, as runs [from, to) in pairs, ascending. */
  readonly read: Int32Array;
  /** Those read by output columns outside [inLo, inHi). */
  readonly edgeRead: Int32Array;
}

function columnTable(
  window: Rect,
  mirror: boolean,
  left: number,
  image: RgbImage,
  outW: number,
): ColumnTable {
  const { index, w0, w1 } = coefficients(window.width, outW, true);
  const { width: W, channels: cn } = image;
  const col0 = new Int32Array(outW);
  const col1 = new Int32Array(outW);
  const imageColumn = (c: number): number => {
    const x = window.x + (mirror ? window.width - 1 - c : c) - left;
    return x >= 0 && x < W ? x : -1;
  };
  for (let dx = 0; dx < outW; dx++) {
    col0[dx] = imageColumn(index[dx]);
    col1[dx] = imageColumn(Math.min(index[dx] + 1, window.width - 1));
  }
  let inLo = 0;
  while (inLo < outW && (col0[inLo] < 0 || col1[inLo] < 0)) inLo++;
  const dir = mirror ? -1 : 1;
  let inHi = inLo;
  while (inHi < outW && col0[inHi] >= 0 && col1[inHi] >= 0 && col1[inHi] === col0[inHi] + dir) inHi++;
  // The image columns read by the output columns `dx` picks, as runs.
  const runsOf = (picks: (dx: number) => boolean): Int32Array => {
    const isRead = new Uint8Array(W + 1);
    for (let dx = 0; dx < outW; dx++) {
      if (!picks(dx)) continue;
      if (col0[dx] >= 0) isRead[col0[dx]] = 1;
      if (col1[dx] >= 0) isRead[col1[dx]] = 1;
    }
    const runs: number[] = [];
    for (let x = 0; x < W; x++) {
      if (isRead[x] === 1 && (x === 0 || isRead[x - 1] === 0)) runs.push(x);
      if (isRead[x] === 1 && isRead[x + 1] === 0) runs.push(x + 1);
    }
    return Int32Array.from(runs);
  };
  const read = runsOf(() => true);
  const edgeRead = runsOf((dx) => dx < inLo || dx >= inHi);
  for (let dx = 0; dx < outW; dx++) {
    if (col0[dx] >= 0) col0[dx] *= cn;
    if (col1[dx] >= 0) col1[dx] *= cn;
  }
  return {
    col0,
    col1,
    w0: Float64Array.from(w0),
    w1: Float64Array.from(w1),
    inLo,
    inHi,
    step: dir * cn,
    read,
    edgeRead,
  };
}

/**
 * The horizontal pass of {@link resampleWindow} over output columns [inLo, inHi), from distorted pixels. The second
 * pixel and weight are derived (`p0 + step`, float32(1 − w1), as {@link coefficients}) rather than loaded: each
 * typed-array read costs V8 several checks.
 */
function resamplePixels(pixels: Float64Array, table: ColumnTable, t: Float32Array): void {
  const { col0, w1, inLo, inHi } = table;
  const step = table.step | 0;
  for (let dx = inLo, o = 3 * inLo; dx < inHi; dx++, o += 3) {
    const a1 = w1[dx];
    const a0 = Math.fround(1 - a1);
    const p0 = col0[dx];
    const p1 = p0 + step;
    t[o] = pixels[p0] * a0 + pixels[p1] * a1;
    t[o + 1] = pixels[p0 + 1] * a0 + pixels[p1 + 1] * a1;
    t[o + 2] = pixels[p0 + 2] * a0 + pixels[p1 + 2] * a1;
  }
}

/** {@link resamplePixels} reading the image row at `start` through the recipe's levels and channel swap (no HSV). */
function resampleLevels(
  data: RgbImage['data'],
  start: number,
  recipe: PixelRecipe,
  table: ColumnTable,
  t: Float32Array,
): void {
  const { col0, w1, inLo, inHi } = table;
  const { levels } = recipe;
  const [c0, c1, c2] = recipe.channels;
  const rowStart = start | 0; // read once (see hsvDistort in photometric.ts)
  const step = table.step | 0;
  for (let dx = inLo, o = 3 * inLo; dx < inHi; dx++, o += 3) {
    const a1 = w1[dx];
    const a0 = Math.fround(1 - a1);
    const p0 = rowStart + col0[dx];
    const p1 = p0 + step;
    t[o] = levels[data[p0 + c0]] * a0 + levels[data[p1 + c0]] * a1;
    t[o + 1] = levels[data[p0 + c1]] * a0 + levels[data[p1 + c1]] * a1;
    t[o + 2] = levels[data[p0 + c2]] * a0 + levels[data[p1 + c2]] * a1;
  }
}

/** Output columns [from, to) of the horizontal pass outside the inner run: fill, or a clamped second pixel. */
function resampleEdge(
  pixels: Float64Array,
  table: ColumnTable,
  fill: number,
  t: Float32Array,
  from: number,
  to: number,
): void {
  const { col0, col1, w0, w1 } = table;
  const level = fill | 0; // read once (see hsvDistort in photometric.ts); fill is an integer level
  for (let dx = from, o = 3 * from; dx < to; dx++, o += 3) {
    const p0 = col0[dx];
    const p1 = col1[dx];
    if (p0 < 0 && p1 < 0) continue; // all fill: the caller wrote the fill row
    for (let ch = 0; ch < 3; ch++) {
      t[o + ch] = (p0 < 0 ? level : pixels[p0 + ch]) * w0[dx] + (p1 < 0 ? level : pixels[p1 + ch]) * w1[dx];
    }
  }
}

/** OpenCV's linear coefficient table for one axis with float weights `(float32(1 − f), f)` (SPEC §6.7). */
function coefficients(
  src: number,
  dst: number,
  clamp: boolean,
): { index: Int32Array; w0: Float32Array; w1: Float32Array } {
  const { index, fraction } = linearAxisTable(src, dst, clamp);
  return { index, w0: fraction.map((f) => 1 - f), w1: fraction };
}

/** The canvas window as a uint8 image (for the fixed-point resize): fill, the image pasted, mirrored if asked. */
export function materializeWindow(
  image: RgbImage,
  left: number,
  top: number,
  window: Rect,
  mirror: boolean,
  fill: number,
): RgbImage {
  const { data, channels: cn, width: W, height: H } = image;
  const out = new Uint8Array(window.width * window.height * 3).fill(fill);
  for (let y = 0; y < window.height; y++) {
    const sy = window.y + y - top;
    if (sy < 0 || sy >= H) continue;
    for (let x = 0; x < window.width; x++) {
      const sx = window.x + (mirror ? window.width - 1 - x : x) - left;
      if (sx < 0 || sx >= W) continue;
      const s = (sy * W + sx) * cn;
      const d = (y * window.width + x) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { data: out, width: window.width, height: window.height, channels: 3 };
}
