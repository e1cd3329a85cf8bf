import { assertRgbImage, type RgbImage } from './image.js';
import { integerInRange } from './validate.js';

/** OpenCV's fixed-point interpolation weights: 11 fractional bits (`INTER_RESIZE_COEF_BITS`). */
const COEF_SCALE = 2048;
/** OpenCV's vertical SIMD loop runs 8 int16 lanes at a time; the last `(W·3) mod 8` bytes of a row are scalar. */
const SIMD_LANES = 8;

/**
 * Resizes 8-bit RGB to `width x height` exactly like OpenCV 4.6 `cv2.resize(src, (width, height),
 * interpolation=INTER_LINEAR)` on uint8 (SPEC §6.7 step 3), bit for bit. Aspect ratio is not kept.
 *
 * @param image [H, W, 3 or 4] uint8 (alpha ignored)
 * @returns [height, width, 3] uint8, a new buffer (the input is never modified nor aliased)
 */
export function resizeBilinear(image: RgbImage, width: number, height: number): RgbImage {
  assertRgbImage(image, 'image');
  integerInRange('width', width, 1, 1 << 24);
  integerInRange('height', height, 1, 1 << 24);
  const out = new Uint8Array(width * height * 3);
  if (width === image.width && height === image.height) {
    copyRgb(image, out); // OpenCV: same size → plain copy
  } else if (image.width === 2 * width && image.height === 2 * height) {
    halveArea(image, out, width, height); // OpenCV switches INTER_LINEAR to INTER_AREA for exactly 2x
  } else {
    bilinear(image, out, width, height);
  }
  return { data: out, width, height, channels: 3 };
}

function copyRgb(image: RgbImage, out: Uint8Array): void {
  const { data, channels } = image;
  if (channels === 3) {
    out.set(data);
    return;
  }
  for (let s = 0, d = 0; d < out.length; s += channels, d += 3) {
    out[d] = data[s];
    out[d + 1] = data[s + 1];
    out[d + 2] = data[s + 2];
  }
}

/** OpenCV `resizeAreaFast` for scale 2: each output is `(a + b + c + d + 2) >> 2` over its 2x2 block. */
function halveArea(image: RgbImage, out: Uint8Array, width: number, height: number): void {
  const { data, channels: cn } = image;
  const stride = image.width * cn;
  let d = 0;
  for (let dy = 0; dy < height; dy++) {
    let s0 = 2 * dy * stride; // top-left of the 2x2 block
    for (let dx = 0; dx < width; dx++, s0 += 2 * cn) {
      const s1 = s0 + stride;
      for (let c = 0; c < 3; c++) {
        out[d++] = (data[s0 + c] + data[s0 + cn + c] + data[s1 + c] + data[s1 + cn + c] + 2) >> 2;
      }
    }
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
 * Fixed-point separable bilinear (OpenCV `resizeGeneric_` with `HResizeLinear` + `VResizeLinear`, 8U).
 * Horizontal pass in exact int32 into row buffers T [width·3], cached across output rows sharing a source row;
 * vertical pass with the SIMD formula OpenCV executes on x86-64/NEON, scalar formula for the row tail.
 */
function bilinear(image: RgbImage, out: Uint8Array, width: number, height: number): void {
  const { data, channels: cn } = image;
  const srcW = image.width;
  const srcH = image.height;
  const cols = axisTable(srcW, width, true);
  const rows = axisTable(srcH, height, false);

  // Per output column: byte offsets of the two source pixels within a row. At the right border the weight of the
  // second pixel is 0, so pointing it at the same pixel reproduces OpenCV's single-tap `S(x0)·2048`.
  const x0 = new Int32Array(width);
  const x1 = new Int32Array(width);
  for (let dx = 0; dx < width; dx++) {
    const s = cols.index[dx];
    x0[dx] = s * cn;
    x1[dx] = Math.min(s + 1, srcW - 1) * cn;
  }

  const rowLength = width * 3;
  const simdEnd = rowLength - (rowLength % SIMD_LANES);

  const { w0: alpha0, w1: alpha1 } = cols;
  const horizontal = (row: number, t: Int32Array): void => {
    const base = row * srcW * cn;
    for (let dx = 0, o = 0; dx < width; dx++, o += 3) {
      const p0 = base + x0[dx];
      const p1 = base + x1[dx];
      const a0 = alpha0[dx];
      const a1 = alpha1[dx];
      t[o] = data[p0] * a0 + data[p1] * a1;
      t[o + 1] = data[p0 + 1] * a0 + data[p1 + 1] * a1;
      t[o + 2] = data[p0 + 2] * a0 + data[p1 + 2] * a1;
    }
  };

  const rowPair = new RowPairCache(new Int32Array(rowLength), new Int32Array(rowLength), horizontal);
  for (let dy = 0; dy < height; dy++) {
    const sy = rows.index[dy];
    const r0 = Math.min(Math.max(sy, 0), srcH - 1);
    const r1 = Math.min(Math.max(sy + 1, 0), srcH - 1);
    rowPair.load(r0, r1);

    const b0 = rows.w0[dy];
    const b1 = rows.w1[dy];
    const o = dy * rowLength;
    // SIMD (`VResizeLinearVec_32s8u`): int16 high-half products of T >> 4, then a rounding shift by 2.
    // T ≤ 255·2048 and b0 + b1 = 2048 keep every value in 0..255 (no clamp needed).
    const t0 = rowPair.first;
    const t1 = rowPair.second;
    for (let x = 0; x < simdEnd; x++) {
      out[o + x] = ((((t0[x] >> 4) * b0) >> 16) + (((t1[x] >> 4) * b1) >> 16) + 2) >> 2;
    }
    // Scalar tail (`FixedPtCast<int, uchar, 22>`): the textbook rounding.
    for (let x = simdEnd; x < rowLength; x++) {
      out[o + x] = (t0[x] * b0 + t1[x] * b1 + (1 << 21)) >> 22;
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
