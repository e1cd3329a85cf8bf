/**
 * What the server accepts as an image: the content types of a raw body, and, from the bytes themselves, the
 * raster formats it decodes. Vector and document formats sharp could render (SVG, PDF) are refused: their cost is
 * not bounded by a header.
 */
import sharp, { type Metadata } from 'sharp';

import { UltrafaceError } from '../core/errors.js';
import { HttpFailure } from './errors.js';

/** Content types of a raw image body. `application/octet-stream`: the format is read from the bytes. */
export const IMAGE_MEDIA_TYPES: readonly string[] = [
  'image/jpeg',
  'image/png',
  'image/webp',
  'image/gif',
  'image/tiff',
  'image/avif',
  'application/octet-stream',
];

/** sharp's format names of the above (AVIF is read by the HEIF loader). */
const RASTER_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

/** Whether `type` (a part's or a body's content type) is one the server takes as an image. */
export function isImageMediaType(type: string | undefined): boolean {
  const essence = (type ?? '').split(';')[0].trim().toLowerCase();
  return IMAGE_MEDIA_TYPES.includes(essence);
}

/**
 * Reads the image header only (no pixels are allocated): refuses formats the server does not decode and images
 * over `maxPixels`, before any decoding (decompression bombs).
 * @throws HttpFailure 415 E_UNSUPPORTED_MEDIA_TYPE; UltrafaceError E_IMAGE_DECODE, E_IMAGE_TOO_LARGE
 */
export async function checkImageHeader(
  bytes: Uint8Array,
  maxPixels: number,
): Promise<{ format: string; width: number; height: number }> {
  if (bytes.length === 0) {
    throw new UltrafaceError('E_IMAGE_DECODE', 'Expected the bytes of an encoded image but received 0 bytes');
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new UltrafaceError(
      'E_IMAGE_DECODE',
      `Cannot read an image header in ${bytes.length} bytes: ${reason}`,
      {
        cause: error,
      },
    );
  }
  if (!RASTER_FORMATS.has(meta.format)) {
    throw new HttpFailure(
      415,
      'E_UNSUPPORTED_MEDIA_TYPE',
      `Expected a JPEG, PNG, WebP, GIF, TIFF or AVIF image but received ${meta.format}`,
    );
  }
  const { width, height } = meta;
  if (!(width > 0 && height > 0)) {
    throw new UltrafaceError('E_IMAGE_DECODE', `The ${meta.format} header gives no image size`);
  }
  if (width * height > maxPixels) {
    throw new UltrafaceError(
      'E_IMAGE_TOO_LARGE',
      `Expected an image of at most ${maxPixels} pixels but received ${width} x ${height} = ${width * height} pixels`,
    );
  }
  return { format: meta.format, width, height };
}
