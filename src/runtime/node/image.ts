import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import sharp, { type Metadata } from 'sharp';

import { UltrafaceError } from '../../core/errors.js';
import { assertRgbImage, type RgbImage } from '../../core/image.js';
import { resizeBilinear } from '../../core/resize.js';
import { describe, integerInRange, knownKeys } from '../../core/validate.js';

/**
 * File extensions of the image formats the loader reads (what folders of images are searched for). Not `.bmp`:
 * sharp's prebuilt libvips has no BMP loader.
 */
export const IMAGE_FILE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.tif',
  '.tiff',
  '.gif',
  '.avif',
]);

/**
 * An image the Node loader reads: a file path or `file:` URL, encoded bytes (`Uint8Array`, `Buffer` or
 * `ArrayBuffer`), or raw pixels ({@link RgbImage}).
 */
export type ImageSource = string | URL | Uint8Array | ArrayBuffer | RgbImage;

export interface LoadImageOptions {
  /** Images with more pixels (width x height, read from the header) are refused before decoding. */
  readonly maxPixels: number;
  /** Final size the caller will resize to; lets big JPEG files decode at 1/2, 1/4 or 1/8 scale. */
  readonly targetWidth?: number;
  readonly targetHeight?: number;
}

interface Decoded {
  /** [H, W, 3] uint8 (RGB), or the caller's raw pixels as given. */
  readonly image: RgbImage;
  /** Size of the oriented image at full resolution (differs from `image` after a reduced-scale decode). */
  readonly width: number;
  readonly height: number;
}

const LOAD_OPTION_KEYS = ['maxPixels', 'targetWidth', 'targetHeight'];
const MAX_SIDE = 1 << 24;

/**
 * Decodes an image to 8-bit RGB like OpenCV `imread(IMREAD_COLOR)` + BGR→RGB (SPEC §6.7 steps 1–2).
 *
 * - `string`: a file path (a FIFO or device such as `/dev/stdin` is read to its end first), or a `file:` URL;
 *   `Uint8Array`/`Buffer`/`ArrayBuffer`: encoded bytes of any format sharp reads (JPEG, PNG, WebP, GIF,
 *   TIFF, AVIF, …); an {@link RgbImage}: raw pixels, validated and returned as is.
 * - EXIF orientation is applied. Grey, CMYK, 16-bit and palette images become 8-bit RGB; alpha is dropped, not
 *   composited (as OpenCV does). Embedded ICC profiles are ignored, as OpenCV ignores them.
 * - JPEG files whose scaled decode still leaves 2x the target size are decoded at 1/2, 1/4 or 1/8 (see
 *   {@link shrinkFactor}); everything else (all 24 upstream test images at 320x240 and 640x480) decodes at full size,
 *   bit-identical to OpenCV 4.6 + libjpeg-turbo.
 *
 * @returns [H, W, 3] uint8 (raw input: as given, 3 or 4 channels)
 * @throws UltrafaceError E_FILE_NOT_FOUND, E_IMAGE_DECODE, E_IMAGE_TOO_LARGE, E_INVALID_INPUT, E_INVALID_OPTION
 */
export async function loadImage(input: ImageSource, options: LoadImageOptions): Promise<RgbImage> {
  return (await decode(input, options)).image;
}

/**
 * Load + {@link resizeBilinear} to the network size (SPEC §6.6): the network input and the size of the original
 * (oriented, full-resolution) image, which boxes are scaled back to.
 *
 * @returns image [height, width, 3] uint8; width/height of the original image in pixels
 */
export async function preprocess(
  input: ImageSource,
  options: { readonly width: number; readonly height: number; readonly maxPixels: number },
): Promise<{ image: RgbImage; width: number; height: number }> {
  knownKeys('preprocess options', options, ['width', 'height', 'maxPixels']);
  const decoded = await decode(input, {
    maxPixels: options.maxPixels,
    targetWidth: options.width,
    targetHeight: options.height,
  });
  return {
    image: resizeBilinear(decoded.image, options.width, options.height),
    width: decoded.width,
    height: decoded.height,
  };
}

/**
 * Like `preprocess`, for sizes that depend on the image (aspect-keeping protocols): decodes at full size, asks
 * `fit` for the network size given the oriented image size, and resizes to it (SPEC §6.7).
 */
export async function preprocessToFit(
  input: ImageSource,
  options: {
    readonly fit: (width: number, height: number) => { readonly width: number; readonly height: number };
    readonly maxPixels: number;
  },
): Promise<{ image: RgbImage; width: number; height: number }> {
  const decoded = await decode(input, { maxPixels: options.maxPixels });
  const target = options.fit(decoded.width, decoded.height);
  return {
    image: resizeBilinear(decoded.image, target.width, target.height),
    width: decoded.width,
    height: decoded.height,
  };
}

/** What the caller passed, as one of the three forms the decoder reads (`ImageSource`, checked). */
function normalizeInput(input: unknown): string | Uint8Array | RgbImage {
  if (typeof input === 'string' || input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (input instanceof URL) {
    if (input.protocol !== 'file:') {
      throw new UltrafaceError(
        'E_INVALID_INPUT',
        `Expected a file: URL for image but received ${input.href}; fetch other URLs and pass their bytes`,
      );
    }
    try {
      return fileURLToPath(input);
    } catch (cause) {
      throw new UltrafaceError(
        'E_INVALID_INPUT',
        `Expected a local file: URL for image but received ${input.href}: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  if (typeof input === 'object' && input !== null && 'data' in input) return input as RgbImage; // checked below
  throw new UltrafaceError(
    'E_INVALID_INPUT',
    'Expected a file path or file: URL, encoded bytes (Uint8Array, Buffer or ArrayBuffer) or raw pixels ' +
      `{ data, width, height, channels } for image but received ${describe(input)}`,
  );
}

async function decode(given: ImageSource, options: LoadImageOptions): Promise<Decoded> {
  knownKeys('loadImage options', options, LOAD_OPTION_KEYS);
  const maxPixels = integerInRange('maxPixels', options.maxPixels, 1, Number.MAX_SAFE_INTEGER);
  const target = {
    width:
      options.targetWidth === undefined ? 0 : integerInRange('targetWidth', options.targetWidth, 1, MAX_SIDE),
    height:
      options.targetHeight === undefined
        ? 0
        : integerInRange('targetHeight', options.targetHeight, 1, MAX_SIDE),
  };
  const input = normalizeInput(given);

  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    assertRgbImage(input, 'image');
    checkPixels(input.width, input.height, maxPixels);
    return { image: input, width: input.width, height: input.height };
  }
  const what = typeof input === 'string' ? input : `${input.length} bytes`;
  // libvips opens a path more than once (header, then pixels): a FIFO or device is read into memory first.
  const encoded =
    typeof input === 'string' && !(await isRegularFile(input)) ? await readStream(input) : input;
  if (typeof encoded !== 'string' && encoded.length === 0) {
    throw new UltrafaceError(
      'E_IMAGE_DECODE',
      `Expected the bytes of an encoded image but received 0 bytes${typeof input === 'string' ? ` from ${input}` : ''}`,
    );
  }

  // Header only: no pixels are allocated, so a decompression bomb is refused here, before any decoding.
  const meta = await sharpCall(what, () => sharp(encoded, { limitInputPixels: false }).metadata());
  checkPixels(meta.width, meta.height, maxPixels);
  const oriented = meta.autoOrient; // size after the EXIF rotation

  const shrink = typeof encoded === 'string' ? shrinkFactor(meta, oriented, target) : 1;
  // libvips reads loader options from a `[...]` filename suffix; `shrink` is libjpeg's DCT-domain scaled decode.
  // sharp has no other way to stop there: resize() to exactly W/s x H/s lowers its shrink-on-load factor (to avoid
  // "libjpeg rounding errors") and finishes with a lanczos3 reduce, so 45–93 % of bytes differ (measured, 0.35.5).
  // Encoded bytes have no file name, so they always decode at full size.
  const source = shrink > 1 ? `${encoded as string}[shrink=${shrink}]` : encoded;
  const { data, info } = await sharpCall(what, () =>
    // failOn 'error': data libjpeg recovers from with a warning decodes (as in OpenCV); truncated files are refused.
    sharp(source, { limitInputPixels: maxPixels, autoOrient: true, ignoreIcc: true, failOn: 'error' })
      .toColourspace('srgb') // grey, CMYK, 16-bit, palette → 8-bit sRGB
      .removeAlpha() // IMREAD_COLOR drops alpha without compositing
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  if (info.channels !== 3) {
    throw new UltrafaceError(
      'E_IMAGE_DECODE',
      `Expected 3 channels after decoding ${what} but got ${info.channels}`,
    );
  }
  const image: RgbImage = {
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    channels: 3,
  };
  return { image, width: oriented.width, height: oriented.height };
}

/**
 * JPEG shrink-on-load: the largest s in {8, 4, 2} for which libjpeg's 1/s decode (libvips rounds its size down:
 * floor(W/s) x floor(H/s)) still has at least twice the target size on each constrained axis, so our bilinear
 * resize does the rest with at least a 2x reduction; 1 when none qualifies, when no target is given, or for other
 * formats. Reduced decodes are fast but are not OpenCV's pixels; images that small never qualify.
 */
export function shrinkFactor(
  meta: Pick<Metadata, 'format'>,
  oriented: { readonly width: number; readonly height: number },
  target: { readonly width: number; readonly height: number },
): 1 | 2 | 4 | 8 {
  if (meta.format !== 'jpeg' || (target.width === 0 && target.height === 0)) return 1;
  for (const s of [8, 4, 2] as const) {
    if (
      Math.floor(oriented.width / s) >= 2 * target.width &&
      Math.floor(oriented.height / s) >= 2 * target.height
    ) {
      return s;
    }
  }
  return 1;
}

/** True for a regular file, false for a FIFO, socket or device (`/dev/stdin`, `<(…)`). */
async function isRegularFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) {
      throw new UltrafaceError('E_INVALID_INPUT', `Expected an image file but received a directory: ${path}`);
    }
    return info.isFile();
  } catch (error) {
    throw fileError(path, error);
  }
}

async function readStream(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw fileError(path, error);
  }
}

function fileError(path: string, error: unknown): UltrafaceError {
  if (error instanceof UltrafaceError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new UltrafaceError('E_FILE_NOT_FOUND', `Image file not found: ${path}`, { cause: error });
  }
  return new UltrafaceError('E_IMAGE_DECODE', `Cannot read image file ${path}`, { cause: error });
}

function checkPixels(width: number, height: number, maxPixels: number): void {
  if (width * height > maxPixels) {
    throw new UltrafaceError(
      'E_IMAGE_TOO_LARGE',
      `Expected an image of at most ${maxPixels} pixels but received ${width} x ${height} = ${width * height} pixels`,
    );
  }
}

/** Runs a sharp call; its failures (sharp throws plain Errors, some synchronously) become coded errors. */
async function sharpCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const message = error instanceof Error ? oneLine(error.message) : describe(error);
    if (message.includes('pixel limit')) {
      throw new UltrafaceError('E_IMAGE_TOO_LARGE', `Image ${what} is over the pixel limit: ${message}`, {
        cause: error,
      });
    }
    throw new UltrafaceError('E_IMAGE_DECODE', `Cannot decode image ${what}: ${message}`, { cause: error });
  }
}

/**
 * sharp's message on one line: libvips reports every error of the call, one per line, and heifload adds a
 * "<file>: bad seek to N" line per probe before libheif's own reason (a HEIC file gave 5 such lines).
 */
function oneLine(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/: bad seek to \d+$/.test(line));
  return lines.length === 0 ? message.trim() : lines.join('; ');
}
