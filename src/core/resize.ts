import { assertRgbImage, inputValue, toInputTensor, type NetworkInput, type RgbImage } from './image.js';
import { integerInRange } from './validate.js';

/** OpenCV's fixed-point interpolation weights: 11 fractional bits (`INTER_RESIZE_COEF_BITS`). */
const COEF_SCALE = 2048;
/** OpenCV's vertical SIMD loop runs 8 int16 lanes at a time; the last `(W·3) mod 8` bytes of a row are scalar. */
const SIMD_LANES = 8;

/** Receives output row `dy` of a resize: [width·3] RGB uint8, valid only during the call. */
type RowWriter = (dy: number, row: Uint8Array) => void;

/**
 * Resizes 8-bit RGB to `width x height` exactly like OpenCV 4.6 `cv2.resize(src, (width, height),
 * interpolation=INTER_LINEAR)` on uint8 (SPEC §6.7 step 3), bit for bit. Aspect ratio is not kept.
 *
 * @param image [H, W, 3 or 4] uint8 (alpha ignored)
 * @returns [height, width, 3] uint8, a new buffer (the input is never modified nor aliased)
 */
export function resizeBilinear(image: RgbImage, width: number, height: number): RgbImage {
  checkResize(image, width, height);
  const out = new Uint8Array(width * height * 3);
  const rowLength = width * 3;
  if (isPlainLinear(image, width, height)) {
    bilinearToRgb(image, width, height, out);
  } else {
    specialRows(image, width, height, (dy, row) => {
      out.set(row, dy * rowLength);
    });
  }
  return { data: out, width, height, channels: 3 };
}

/**
 * {@link resizeBilinear} and {@link toInputTensor} in one pass (SPEC §6.7 steps 3–4): each output value is written
 * straight into the planar network input as `(u8 − 127) / 128`; no image at network size is built.
 * Bit-identical to `toInputTensor(resizeBilinear(image, width, height), out, offset)`.
 *
 * @param image [H, W, 3 or 4] uint8 (alpha ignored)
 * @param out receives [3, height, width] float32 starting at `offset` (one batch item of [N, 3, H, W])
 */
export function resizeToInputTensor(
  image: RgbImage,
  width: number,
  height: number,
  out: Float32Array,
  offset = 0,
): void {
  checkResize(image, width, height);
  const plane = width * height;
  if (!Number.isInteger(offset) || offset < 0 || offset + 3 * plane > out.length) {
    throw new RangeError(
      `resizeToInputTensor: [3, ${height}, ${width}] at ${offset} does not fit ${out.length}`,
    );
  }
  if (width === image.width && height === image.height) {
    toInputTensor(image, out, offset);
  } else if (isPlainLinear(image, width, height)) {
    bilinearToTensor(image, width, height, out, offset);
  } else {
    specialRows(image, width, height, (dy, row) => {
      for (let x = 0, p = 0, r = offset + dy * width; x < width; x++, p += 3, r++) {
        out[r] = inputValue(row[p]);
        out[r + plane] = inputValue(row[p + 1]);
        out[r + 2 * plane] = inputValue(row[p + 2]);
      }
    });
  }
}

/**
 * `image` as a new network input of `size` (one-pass {@link resizeToInputTensor}), for an original image of
 * `original`'s size, which boxes are scaled back to.
 */
export function toNetworkInput(
  image: RgbImage,
  size: { readonly width: number; readonly height: number },
  original: { readonly width: number; readonly height: number },
): NetworkInput {
  const tensor = new Float32Array(3 * size.width * size.height);
  resizeToInputTensor(image, size.width, size.height, tensor);
  return {
    tensor,
    inputWidth: size.width,
    inputHeight: size.height,
    width: original.width,
    height: original.height,
  };
}

function checkResize(image: RgbImage, width: number, height: number): void {
  assertRgbImage(image, 'image');
  integerInRange('width', width, 1, 1 << 24);
  integerInRange('height', height, 1, 1 << 24);
}

/** False for the two sizes where OpenCV leaves INTER_LINEAR: the same size (a copy) and exactly half (INTER_AREA). */
function isPlainLinear(image: RgbImage, width: number, height: number): boolean {
  const same = width === image.width && height === image.height;
  return !same && !(image.width === 2 * width && image.height === 2 * height);
}

/** The same-size copy and the exact 2x reduction, one output row at a time. */
function specialRows(image: RgbImage, width: number, height: number, write: RowWriter): void {
  if (width === image.width && height === image.height) copyRows(image, write);
  else halveArea(image, width, height, write);
}

function copyRows(image: RgbImage, write: RowWriter): void {
  const { data, channels, width, height } = image;
  const rowLength = width * 3;
  const row = new Uint8Array(rowLength);
  for (let y = 0, s = 0; y < height; y++) {
    for (let d = 0; d < rowLength; s += channels, d += 3) {
      row[d] = data[s];
      row[d + 1] = data[s + 1];
      row[d + 2] = data[s + 2];
    }
    write(y, row);
  }
}

/** OpenCV `resizeAreaFast` for scale 2: each output is `(a + b + c + d + 2) >> 2` over its 2x2 block. */
function halveArea(image: RgbImage, width: number, height: number, write: RowWriter): void {
  const { data, channels: cn } = image;
  const stride = image.width * cn;
  const row = new Uint8Array(width * 3);
  for (let dy = 0; dy < height; dy++) {
    let s0 = 2 * dy * stride; // top-left of the 2x2 block
    for (let dx = 0, d = 0; dx < width; dx++, s0 += 2 * cn) {
      const s1 = s0 + stride;
      for (let c = 0; c < 3; c++) {
        row[d++] = (data[s0 + c] + data[s0 + cn + c] + data[s1 + c] + data[s1 + cn + c] + 2) >> 2;
      }
    }
    write(dy, row);
  }
}

/** `cvRound` of a float: round half to even (SSE `cvtss2si`). */
function rint(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * One axis of OpenCV's linear coefficient table (`cv::resize`, `INTER_LINEAR`): source index `s` and float32
 * fraction `f = float32((d + 0.5)·scale − 0.5) − floor(...)`, scale = 1 / (dst / src) in double. Columns clamp
 * `s`/`f` at the borders; rows do not (their source rows are clamped when read), hence `clampIndex`. Shared by the
 * uint8 resize here (fixed-point weights) and training's float resize (float weights `1 − f`, `f`).
 */
export function linearAxisTable(
  src: number,
  dst: number,
  clampIndex: boolean,
): { index: Int32Array; fraction: Float32Array } {
  const scale = 1 / (dst / src);
  const index = new Int32Array(dst);
  const fraction = new Float32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = Math.fround((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = Math.fround(f - s);
    if (clampIndex && s < 0) {
      s = 0;
      f = 0;
    }
    if (clampIndex && s >= src - 1) {
      s = src - 1;
      f = 0;
    }
    index[d] = s;
    fraction[d] = f;
  }
  return { index, fraction };
}

/** The fixed-point weights `rint(float32(1 − f)·2048)`, `rint(f·2048)` of one axis. */
function axisTable(
  src: number,
  dst: number,
  clampIndex: boolean,
): { index: Int32Array; w0: Int32Array; w1: Int32Array } {
  const { index, fraction } = linearAxisTable(src, dst, clampIndex);
  const w0 = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    w0[d] = rint(Math.fround(1 - fraction[d]) * COEF_SCALE);
    w1[d] = rint(fraction[d] * COEF_SCALE);
  }
  return { index, w0, w1 };
}

/**
 * The tables of OpenCV's fixed-point bilinear (`resizeGeneric_` with `HResizeLinear` + `VResizeLinear`, 8U) for
 * one resize: per output column the byte offsets of its two source pixels within a row and their weights, per
 * output row the byte offsets of its two source rows and their weights.
 */
interface LinearPlan {
  readonly x0: Int32Array;
  readonly x1: Int32Array;
  readonly a0: Int32Array;
  readonly a1: Int32Array;
  readonly row0: Int32Array;
  readonly row1: Int32Array;
  readonly b0: Int32Array;
  readonly b1: Int32Array;
  /** Output pixels whose three bytes all lie in the vertical pass's SIMD part of a row (see `SIMD_LANES`). */
  readonly simdPixels: number;
}

function linearPlan(image: RgbImage, width: number, height: number): LinearPlan {
  const { channels: cn, width: srcW, height: srcH } = image;
  const cols = axisTable(srcW, width, true);
  const rows = axisTable(srcH, height, false);
  // At the right border the weight of the second pixel is 0, so pointing it at the same pixel reproduces OpenCV's
  // single-tap `S(x0)·2048`. Rows are not clamped in the table, only when read.
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  for (let dx = 0; dx < width; dx++) {
    const s = cols.index[dx];
    x0[dx] = s * cn;
    x1[dx] = Math.min(s + 1, srcW - 1) * cn;
  }
  const row0 = new Int32Array(height);
  const row1 = new Int32Array(height);
  for (let dy = 0; dy < height; dy++) {
    const sy = rows.index[dy];
    row0[dy] = Math.min(Math.max(sy, 0), srcH - 1) * srcW * cn;
    row1[dy] = Math.min(Math.max(sy + 1, 0), srcH - 1) * srcW * cn;
  }
  const rowLength = width * 3;
  const simdEnd = rowLength - (rowLength % SIMD_LANES);
  return {
    x0,
    x1,
    a0: cols.w0,
    a1: cols.w1,
    row0,
    row1,
    b0: rows.w0,
    b1: rows.w1,
    simdPixels: Math.floor(simdEnd / 3),
  };
}

/**
 * OpenCV's vertical blend of two horizontal results `t0`, `t1` (each `S0·a0 + S1·a1` ≤ 255·2048) with row weights
 * `b0 + b1 = 2048`. SIMD lanes (`VResizeLinearVec_32s8u`): int16 high-half products of T >> 4, then a rounding
 * shift by 2. Every value stays in 0..255 and every product fits in int32, so Math.imul is exact.
 */
function blendSimd(t0: number, t1: number, b0: number, b1: number): number {
  return ((Math.imul(t0 >> 4, b0) >> 16) + (Math.imul(t1 >> 4, b1) >> 16) + 2) >> 2;
}

/** The scalar row tail (`FixedPtCast<int, uchar, 22>`): the textbook rounding. */
function blendScalar(t0: number, t1: number, b0: number, b1: number): number {
  return (Math.imul(t0, b0) + Math.imul(t1, b1) + (1 << 21)) >> 22;
}

/**
 * Output byte `c` of pixel (dx, dy) by the general rule, SIMD or scalar blend by the byte's place in the row: for
 * the last pixels of a row, past `simdPixels`.
 */
function tailValue(
  data: Uint8Array | Uint8ClampedArray,
  plan: LinearPlan,
  width: number,
  dx: number,
  dy: number,
  c: number,
): number {
  const p0 = plan.x0[dx] + c;
  const p1 = plan.x1[dx] + c;
  const a0 = plan.a0[dx];
  const a1 = plan.a1[dx];
  const t0 = data[plan.row0[dy] + p0] * a0 + data[plan.row0[dy] + p1] * a1;
  const t1 = data[plan.row1[dy] + p0] * a0 + data[plan.row1[dy] + p1] * a1;
  const rowLength = width * 3;
  const simd = 3 * dx + c < rowLength - (rowLength % SIMD_LANES);
  return simd ? blendSimd(t0, t1, plan.b0[dy], plan.b1[dy]) : blendScalar(t0, t1, plan.b0[dy], plan.b1[dy]);
}

/**
 * The bilinear resize into interleaved RGB [height, width, 3]. Both horizontal passes of an output value are
 * computed where it is written (no row buffers): per value 4 taps, as a direct bilinear has.
 */
function bilinearToRgb(image: RgbImage, width: number, height: number, out: Uint8Array): void {
  const { data } = image;
  const plan = linearPlan(image, width, height);
  const { x0, x1, a0: wa0, a1: wa1, simdPixels } = plan;
  for (let dy = 0; dy < height; dy++) {
    const r0 = plan.row0[dy];
    const r1 = plan.row1[dy];
    const b0 = plan.b0[dy];
    const b1 = plan.b1[dy];
    let o = dy * width * 3;
    for (let dx = 0; dx < simdPixels; dx++, o += 3) {
      const a0 = wa0[dx];
      const a1 = wa1[dx];
      const p00 = r0 + x0[dx];
      const p01 = r0 + x1[dx];
      const p10 = r1 + x0[dx];
      const p11 = r1 + x1[dx];
      out[o] = blendSimd(
        Math.imul(data[p00], a0) + Math.imul(data[p01], a1),
        Math.imul(data[p10], a0) + Math.imul(data[p11], a1),
        b0,
        b1,
      );
      out[o + 1] = blendSimd(
        Math.imul(data[p00 + 1], a0) + Math.imul(data[p01 + 1], a1),
        Math.imul(data[p10 + 1], a0) + Math.imul(data[p11 + 1], a1),
        b0,
        b1,
      );
      out[o + 2] = blendSimd(
        Math.imul(data[p00 + 2], a0) + Math.imul(data[p01 + 2], a1),
        Math.imul(data[p10 + 2], a0) + Math.imul(data[p11 + 2], a1),
        b0,
        b1,
      );
    }
    for (let dx = simdPixels; dx < width; dx++, o += 3) {
      for (let c = 0; c < 3; c++) out[o + c] = tailValue(data, plan, width, dx, dy, c);
    }
  }
}

/**
 * {@link bilinearToRgb} writing each value straight into the planar network input [3, height, width] at `offset`,
 * as `(u8 − 127) / 128`. The two loops are kept apart (not one loop behind a store callback) because this is the hot
 * path of every `detect()`: 1.2 ms for a 1024x675 photo to 320x240, against 1.6 ms through a row buffer and 2.9 ms
 * for the earlier separable resize followed by `toInputTensor` (measured side by side, one thread).
 */
function bilinearToTensor(
  image: RgbImage,
  width: number,
  height: number,
  out: Float32Array,
  offset: number,
): void {
  const { data } = image;
  const plan = linearPlan(image, width, height);
  const { x0, x1, a0: wa0, a1: wa1, simdPixels } = plan;
  const plane = width * height;
  for (let dy = 0; dy < height; dy++) {
    const r0 = plan.row0[dy];
    const r1 = plan.row1[dy];
    const b0 = plan.b0[dy];
    const b1 = plan.b1[dy];
    let o = offset + dy * width;
    for (let dx = 0; dx < simdPixels; dx++, o++) {
      const a0 = wa0[dx];
      const a1 = wa1[dx];
      const p00 = r0 + x0[dx];
      const p01 = r0 + x1[dx];
      const p10 = r1 + x0[dx];
      const p11 = r1 + x1[dx];
      out[o] = inputValue(
        blendSimd(
          Math.imul(data[p00], a0) + Math.imul(data[p01], a1),
          Math.imul(data[p10], a0) + Math.imul(data[p11], a1),
          b0,
          b1,
        ),
      );
      out[o + plane] = inputValue(
        blendSimd(
          Math.imul(data[p00 + 1], a0) + Math.imul(data[p01 + 1], a1),
          Math.imul(data[p10 + 1], a0) + Math.imul(data[p11 + 1], a1),
          b0,
          b1,
        ),
      );
      out[o + 2 * plane] = inputValue(
        blendSimd(
          Math.imul(data[p00 + 2], a0) + Math.imul(data[p01 + 2], a1),
          Math.imul(data[p10 + 2], a0) + Math.imul(data[p11 + 2], a1),
          b0,
          b1,
        ),
      );
    }
    for (let dx = simdPixels; dx < width; dx++, o++) {
      for (let c = 0; c < 3; c++) out[o + c * plane] = inputValue(tailValue(data, plan, width, dx, dy, c));
    }
  }
}

/**
 * The two horizontally resampled source rows that a separable bilinear resize's vertical pass blends into one
 * output row, cached across output rows. Output rows visit source rows in increasing order, so at most the previous
 * second row is reused as the first.
 */
export class RowPairCache<Row extends Int32Array | Float32Array> {
  private firstRow = -1;
  private secondRow = -1;

  /** Two row buffers of the pass's length; `horizontal(row, into)` fills one with the pass over a source row. */
  constructor(
    private firstBuffer: Row,
    private secondBuffer: Row,
    private readonly horizontal: (row: number, into: Row) => void,
  ) {}

  /** The horizontal pass over source row `r0` of the last {@link load}. */
  get first(): Row {
    return this.firstBuffer;
  }

  /** The horizontal pass over source row `r1` of the last {@link load}. */
  get second(): Row {
    return this.secondBuffer;
  }

  /** Makes {@link first} hold source row `r0` and {@link second} row `r1`, computing only rows not cached. */
  load(r0: number, r1: number): void {
    if (this.firstRow !== r0) {
      if (this.secondRow === r0) {
        [this.firstBuffer, this.secondBuffer] = [this.secondBuffer, this.firstBuffer];
        this.firstRow = r0;
        this.secondRow = -1;
      } else {
        this.horizontal(r0, this.firstBuffer);
        this.firstRow = r0;
      }
    }
    if (this.secondRow !== r1) {
      this.horizontal(r1, this.secondBuffer);
      this.secondRow = r1;
    }
  }
}
