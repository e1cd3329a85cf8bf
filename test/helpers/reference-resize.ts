/**
 * SPEC §6.7 last paragraph (OpenCV INTER_LINEAR on float pixels) transcribed pixel by pixel on a materialized
 * image, then (v − 127) / 128 planar [3, height, width]: the oracle for the table-driven, canvas-free resampler.
 */
export function referenceFloatResize(
  src: {
    readonly data: ArrayLike<number>;
    readonly width: number;
    readonly height: number;
    readonly channels: number;
  },
  width: number,
  height: number,
): Float32Array {
  const f = Math.fround;
  const out = new Float32Array(3 * width * height);
  const px = (x: number, y: number, c: number): number => src.data[(y * src.width + x) * src.channels + c];
  const coef = (d: number, scale: number): [number, number] => {
    const v = f((d + 0.5) * scale - 0.5);
    const s = Math.floor(v);
    return [s, f(v - s)];
  };
  for (let dy = 0; dy < height; dy++) {
    const [sy, fy] = coef(dy, 1 / (height / src.height));
    const rows = [Math.min(Math.max(sy, 0), src.height - 1), Math.min(Math.max(sy + 1, 0), src.height - 1)];
    for (let dx = 0; dx < width; dx++) {
      let [sx, fx] = coef(dx, 1 / (width / src.width));
      if (sx < 0) [sx, fx] = [0, 0];
      if (sx >= src.width - 1) [sx, fx] = [src.width - 1, 0];
      const sx1 = Math.min(sx + 1, src.width - 1);
      for (let c = 0; c < 3; c++) {
        const t = rows.map((y) => f(px(sx, y, c) * f(1 - fx) + px(sx1, y, c) * fx));
        const v = f(t[0] * f(1 - fy) + t[1] * fy);
        out[c * width * height + dy * width + dx] = f(v - 127) / 128;
      }
    }
  }
  return out;
}
