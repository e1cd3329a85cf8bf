import { writeFile } from 'node:fs/promises';

import sharp from 'sharp';

/**
 * A Y4M video (I420, BT.601 limited range) of `images`, each scaled to width x height, one frame per image, for
 * Chromium's `--use-file-for-fake-video-capture` (which loops it).
 */
export async function writeY4m(
  path: string,
  images: readonly string[],
  options: { width: number; height: number; fps: number },
): Promise<void> {
  const { width, height, fps } = options;
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const frames: Buffer[] = [header];
  for (const image of images) {
    const rgb = await sharp(image).resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
    const y = Buffer.alloc(width * height);
    const u = Buffer.alloc((width / 2) * (height / 2));
    const v = Buffer.alloc((width / 2) * (height / 2));
    for (let i = 0; i < width * height; i++) {
      const [r, g, b] = [rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]];
      y[i] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
    }
    for (let row = 0; row < height / 2; row++) {
      for (let col = 0; col < width / 2; col++) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (const [dy, dx] of [
          [0, 0],
          [0, 1],
          [1, 0],
          [1, 1],
        ]) {
          const p = 3 * ((2 * row + dy) * width + 2 * col + dx);
          r += rgb[p] / 4;
          g += rgb[p + 1] / 4;
          b += rgb[p + 2] / 4;
        }
        const k = row * (width / 2) + col;
        u[k] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
        v[k] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
      }
    }
    frames.push(Buffer.from('FRAME\n'), y, u, v);
  }
  await writeFile(path, Buffer.concat(frames));
}
