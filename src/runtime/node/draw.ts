import { extname } from 'node:path';

import sharp from 'sharp';

import { UltrafaceError } from '../../core/errors.js';
import type { RgbImage } from '../../core/image.js';
import { describe, integerInRange, invalidOption, knownKeys } from '../../core/validate.js';
import { writeFileAtomic } from './files.js';
import { loadImage } from './image.js';

/** A face to draw: corners in pixels of the image being annotated. */
export interface DrawableDetection {
  readonly box: { readonly x1: number; readonly y1: number; readonly x2: number; readonly y2: number };
  readonly score: number;
}

export interface DrawOptions {
  /** Box and label colour, `#rrggbb`. Default `#ff0000` (upstream draws red, `cv2.rectangle(…, (0, 0, 255), 2)`). */
  readonly color?: string;
  /** Box line width in pixels. Default 2 (upstream). */
  readonly lineWidth?: number;
  /** Write the score above each box. Default true. Text needs a font; boxes are drawn either way. */
  readonly showScores?: boolean;
  /** Refuse bigger inputs (decompression bombs). Default 100 megapixels. */
  readonly maxPixels?: number;
}

const DRAW_OPTION_KEYS = ['color', 'lineWidth', 'showScores', 'maxPixels'];
const FORMATS = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.webp': 'webp' } as const;

/**
 * Writes a copy of the image with boxes and scores drawn on it (an SVG overlay composited by sharp).
 * The format follows `outPath`'s extension (.jpg, .jpeg, .png, .webp). The file appears atomically
 * (`writeFileAtomic`); missing folders are created.
 *
 * @param input file path, encoded bytes or raw pixels (as `loadImage`; EXIF orientation applied)
 * @param detections boxes in pixels of that (oriented) image
 * @throws UltrafaceError E_INVALID_OPTION (bad options or extension), E_INVALID_INPUT (bad detections),
 *   E_IO (the file cannot be written), and the errors of `loadImage`
 */
export async function drawDetections(
  input: string | Uint8Array | RgbImage,
  detections: readonly DrawableDetection[],
  outPath: string,
  options: DrawOptions = {},
): Promise<void> {
  knownKeys('drawDetections options', options, DRAW_OPTION_KEYS);
  const color = options.color ?? '#ff0000';
  if (typeof color !== 'string' || !/^#[0-9a-f]{6}$/i.test(color))
    throw invalidOption('color', '"#rrggbb"', color);
  const lineWidth = integerInRange('lineWidth', options.lineWidth ?? 2, 1, 1000);
  const showScores = options.showScores ?? true;
  if (typeof showScores !== 'boolean') throw invalidOption('showScores', 'a boolean', showScores);
  const maxPixels = options.maxPixels ?? 100_000_000;
  if (typeof outPath !== 'string') throw invalidOption('outPath', 'a file path', outPath);
  const extension = extname(outPath).toLowerCase();
  if (!Object.hasOwn(FORMATS, extension)) {
    throw invalidOption('outPath', 'a file name ending in .jpg, .jpeg, .png or .webp', outPath);
  }
  const format = FORMATS[extension as keyof typeof FORMATS];
  assertDetections(detections);

  const image = await loadImage(input, { maxPixels });
  const overlay = overlaySvg(image.width, image.height, detections, { color, lineWidth, showScores });
  const pipeline = sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  })
    .composite([{ input: Buffer.from(overlay), top: 0, left: 0 }])
    .removeAlpha();
  const encoded = await (
    format === 'jpeg'
      ? pipeline.jpeg({ quality: 90 })
      : format === 'png'
        ? pipeline.png()
        : pipeline.webp({ quality: 90 })
  ).toBuffer();

  await writeFileAtomic(outPath, encoded);
}

function assertDetections(detections: unknown): asserts detections is readonly DrawableDetection[] {
  if (!Array.isArray(detections)) {
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      `Expected an array of detections but received ${describe(detections)}`,
    );
  }
  detections.forEach((d: unknown, i) => {
    const box = (d as { box?: Record<string, unknown> } | null)?.box;
    const values = [box?.x1, box?.y1, box?.x2, box?.y2, (d as { score?: unknown } | null)?.score];
    if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new UltrafaceError(
        'E_INVALID_INPUT',
        `Expected { box: { x1, y1, x2, y2 }, score } of finite numbers for detections[${i}] but received ${describe(d)}`,
      );
    }
  });
}

/**
 * The overlay, same size as the image: a rectangle per face (pixel-snapped, `crispEdges`, so edges are exactly the
 * box colour) and the score on a filled tab above it (inside the box when there is no room above).
 */
function overlaySvg(
  width: number,
  height: number,
  detections: readonly DrawableDetection[],
  style: { color: string; lineWidth: number; showScores: boolean },
): string {
  const fontSize = Math.max(10, Math.round(Math.min(width, height) / 40));
  const parts = detections.map(({ box, score }) => {
    const x = Math.round(Math.min(box.x1, box.x2));
    const y = Math.round(Math.min(box.y1, box.y2));
    const w = Math.round(Math.max(box.x1, box.x2)) - x;
    const h = Math.round(Math.max(box.y1, box.y2)) - y;
    let svg = `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${style.color}" stroke-width="${style.lineWidth}"/>`;
    if (style.showScores) {
      const label = score.toFixed(2);
      const tabHeight = fontSize + 4;
      const tabY = y - tabHeight >= 0 ? y - tabHeight : y;
      svg +=
        `<rect x="${x}" y="${tabY}" width="${Math.round(label.length * fontSize * 0.62) + 4}" height="${tabHeight}" fill="${style.color}"/>` +
        `<text x="${x + 2}" y="${tabY + fontSize}" font-family="sans-serif" font-size="${fontSize}" fill="#ffffff">${label}</text>`;
    }
    return svg;
  });
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" shape-rendering="crispEdges">` +
    `${parts.join('')}</svg>`
  );
}
