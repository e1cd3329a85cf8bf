import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import sharp, { type Metadata } from 'sharp';

import { UltrafaceError } from '../../core/errors.js';
import { assertRgbImage, type NetworkInput, type RgbImage } from '../../core/image.js';
import { resizeBilinear, toNetworkInput } from '../../core/resize.js';
import { describe, integerInRange, invalidOption, knownKeys } from '../../core/validate.js';

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

/**
 * How JPEG images are decoded when the size they are going to is known. 'scaled': libjpeg decodes at 1/2, 1/4 or
 * 1/8 scale (in the DCT domain, ≈ the mean of each s x s block) when the reduced image still has twice that size
 * on both axes ({@link shrinkFactor}): photos of several megapixels decode 2–8x faster, and smaller images (all of
 * widerface-val-dev and faces-voc test, upstream's test images at 320x240) decode exactly as in 'full'.
 * 'full': every pixel is decoded, as upstream (OpenCV `imread`) does; with the OpenCV-exact resize this
 * reproduces upstream's network input bit for bit.
 */
export type DecodeMode = 'scaled' | 'full';

export const DECODE_MODES: readonly DecodeMode[] = ['scaled', 'full'];

/** The decode mode of the detector, `preprocess` and the CLI when none is given. */
export const DEFAULT_DECODE_MODE: DecodeMode = 'scaled';

export interface LoadImageOptions {
  /** Images with more pixels (width x height, read from the header) are refused before decoding. */
  readonly maxPixels: number;
  /** Final size the caller will resize to; with `decode: 'scaled'`, lets JPEG images decode at 1/2, 1/4 or 1/8. */
  readonly targetWidth?: number;
  readonly targetHeight?: number;
  /** Default {@link DEFAULT_DECODE_MODE}. */
  readonly decode?: DecodeMode;
}

/** The network input size for an oriented image of width x height pixels. */
export type FitSize = (width: number, height: number) => { readonly width: number; readonly height: number };

interface DecodeOptions {
  readonly maxPixels: number;
  /** The size the image will be resized to, given its oriented size; none: no reduced-scale decode. */
  readonly fit?: FitSize;
  readonly decode: DecodeMode;
}

interface Decoded {
  /** [H, W, 3] uint8 (RGB), or the caller's raw pixels as given. */
  readonly image: RgbImage;
  /** Size of the oriented image at full resolution (differs from `image` after a reduced-scale decode). */
  readonly width: number;
  readonly height: number;
  /** The size `fit` gave for it (the oriented image's own size without `fit`). */
  readonly target: { readonly width: number; readonly height: number };
}

const LOAD_OPTION_KEYS = ['maxPixels', 'targetWidth', 'targetHeight', 'decode'];
const MAX_SIDE = 1 << 24;

/**
 * Decodes an image to 8-bit RGB like OpenCV `imread(IMREAD_COLOR)` + BGR→RGB (SPEC §6.7 steps 1–2).
 *
 * - `string`: a file path (a FIFO or device such as `/dev/stdin` is read to its end first), or a `file:` URL;
 *   `Uint8Array`/`Buffer`/`ArrayBuffer`: encoded bytes of any format sharp reads (JPEG, PNG, WebP, GIF,
 *   TIFF, AVIF, …); an {@link RgbImage}: raw pixels, validated and returned as is.
 * - EXIF orientation is applied. Grey, CMYK, 16-bit and palette images become 8-bit RGB; alpha is dropped, not
 *   composited (as OpenCV does). Embedded ICC profiles are ignored, as OpenCV ignores them.
 * - With a target size and `decode: 'scaled'` (the default), JPEG images decode at 1/2, 1/4 or 1/8 when that
 *   leaves twice the target ({@link shrinkFactor}); otherwise at full size, bit-identical to OpenCV 4.6 +
 *   libjpeg-turbo (all 24 upstream test images).
 *
 * @returns [H, W, 3] uint8 (raw input: as given, 3 or 4 channels)
 * @throws UltrafaceError E_FILE_NOT_FOUND, E_IMAGE_DECODE, E_IMAGE_TOO_LARGE, E_INVALID_INPUT, E_INVALID_OPTION,
 *   E_IO (no temporary file for a scaled decode of encoded bytes)
 */
export async function loadImage(input: ImageSource, options: LoadImageOptions): Promise<RgbImage> {
  knownKeys('loadImage options', options, LOAD_OPTION_KEYS);
  const side = (name: string, value: number | undefined): number =>
    value === undefined ? 0 : integerInRange(name, value, 1, MAX_SIDE);
  const target = {
    width: side('targetWidth', options.targetWidth),
    height: side('targetHeight', options.targetHeight),
  };
  const fit = target.width === 0 && target.height === 0 ? undefined : () => target;
  const decoded = await decode(input, {
    maxPixels: options.maxPixels,
    fit,
    decode: decodeMode(options.decode),
  });
  return decoded.image;
}

/**
 * Load + {@link resizeBilinear} to the network size (SPEC §6.6): the network input as pixels and the size of the
 * original (oriented, full-resolution) image, which boxes are scaled back to.
 *
 * @returns image [height, width, 3] uint8; width/height of the original image in pixels
 */
export async function preprocess(
  input: ImageSource,
  options: {
    readonly width: number;
    readonly height: number;
    readonly maxPixels: number;
    readonly decode?: DecodeMode;
  },
): Promise<{ image: RgbImage; width: number; height: number }> {
  knownKeys('preprocess options', options, ['width', 'height', 'maxPixels', 'decode']);
  const size = {
    width: integerInRange('width', options.width, 1, MAX_SIDE),
    height: integerInRange('height', options.height, 1, MAX_SIDE),
  };
  const decoded = await decode(input, {
    maxPixels: options.maxPixels,
    fit: () => size,
    decode: decodeMode(options.decode),
  });
  return {
    image: resizeBilinear(decoded.image, size.width, size.height),
    width: decoded.width,
    height: decoded.height,
  };
}

/**
 * Load + resize straight into the network input (`resizeToInputTensor`, one pass): what `detect()` runs. `fit`
 * gives the network size from the oriented image size (fixed, or aspect-keeping protocols, SPEC §6.7).
 */
export async function preprocessToTensor(
  input: ImageSource,
  options: { readonly fit: FitSize; readonly maxPixels: number; readonly decode: DecodeMode },
): Promise<NetworkInput> {
  const decoded = await decode(input, options);
  return toNetworkInput(decoded.image, decoded.target, decoded);
}

/**
 * `value` checked as a {@link DecodeMode}; {@link DEFAULT_DECODE_MODE} when undefined.
 * @throws UltrafaceError E_INVALID_OPTION
 */
export function decodeMode(value: unknown): DecodeMode {
  if (value === undefined) return DEFAULT_DECODE_MODE;
  if (value === 'scaled' || value === 'full') return value;
  throw invalidOption('decode', "'scaled' or 'full'", value);
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

async function decode(given: ImageSource, options: DecodeOptions): Promise<Decoded> {
  const maxPixels = integerInRange('maxPixels', options.maxPixels, 1, Number.MAX_SAFE_INTEGER);
  const input = normalizeInput(given);

  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    assertRgbImage(input, 'image');
    checkPixels(input.width, input.height, maxPixels);
    const { width, height } = input;
    return { image: input, width, height, target: options.fit?.(width, height) ?? { width, height } };
  }
  const what = typeof input === 'string' ? input : `${input.length} bytes`;
  // A file is read into memory first: libvips then parses the header and decodes from one buffer (0.6 ms faster on
  // upstream's test images than opening the path twice), and FIFOs and devices (`/dev/stdin`) read like files.
  const encoded = typeof input === 'string' ? await readImageFile(input) : input;
  if (encoded.length === 0) {
    throw new UltrafaceError(
      'E_IMAGE_DECODE',
      `Expected the bytes of an encoded image but received 0 bytes${typeof input === 'string' ? ` from ${input}` : ''}`,
    );
  }

  // Header only: no pixels are allocated, so a decompression bomb is refused here, before any decoding.
  const meta = await sharpCall(what, () => sharp(encoded, { limitInputPixels: false }).metadata());
  checkPixels(meta.width, meta.height, maxPixels);
  const oriented = meta.autoOrient; // size after the EXIF rotation
  const target = options.fit?.(oriented.width, oriented.height) ?? oriented;
  const shrink = options.decode === 'scaled' && options.fit ? shrinkFactor(meta, oriented, target) : 1;

  const pixels = async (source: string | Uint8Array): Promise<RgbImage> => {
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
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.length),
      width: info.width,
      height: info.height,
      channels: 3,
    };
  };
  // libvips reads loader options from a `[...]` filename suffix; `shrink` is libjpeg's DCT-domain scaled decode.
  // sharp has no other way to stop there: resize() to exactly W/s x H/s lowers its shrink-on-load factor (to avoid
  // "libjpeg rounding errors") and finishes with a lanczos3 reduce, so 45–93 % of bytes differ (measured, 0.35.5).
  // Bytes with no file behind them (given as bytes, or read from a FIFO) go through a private temporary file: 3.5
  // ms against 4.9 ms for a full decode of a 1024 x 675 photo (25.jpg), write and removal included.
  let image: RgbImage;
  if (shrink === 1) image = await pixels(encoded);
  else if (typeof input === 'string' && (await isRegularFile(input))) {
    image = await pixels(`${input}[shrink=${shrink}]`);
  } else image = await withTemporaryFile(encoded, (path) => pixels(`${path}[shrink=${shrink}]`));
  return { image, width: oriented.width, height: oriented.height, target };
}

/** Runs `use` on a private temporary copy of `bytes` (in a fresh 0700 folder), removed afterwards whatever happens. */
async function withTemporaryFile<T>(bytes: Uint8Array, use: (path: string) => Promise<T>): Promise<T> {
  let dir: string;
  try {
    dir = await mkdtemp(join(tmpdir(), 'ultraface-decode-'));
  } catch (cause) {
    throw new UltrafaceError('E_IO', `Cannot create a temporary folder in ${tmpdir()} to decode an image`, {
      cause,
    });
  }
  try {
    const path = join(dir, 'image.jpg');
    try {
      await writeFile(path, bytes);
    } catch (cause) {
      throw new UltrafaceError('E_IO', `Cannot write a temporary copy of an image to ${path}`, { cause });
    }
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * JPEG shrink-on-load: the largest s in {8, 4, 2} for which libjpeg's 1/s decode (libvips rounds its size down:
 * floor(W/s) x floor(H/s)) still has at least twice the target size on each constrained axis, so the bilinear
 * resize after it still reduces at least 2x; 1 when none qualifies, when no target is given, or for other formats.
 * Why 2x: decoding down to just the target size (1x) made the DCT-domain average the whole reduction, and cost
 * 0.010 AP on widerface-val-dev medium and hard (0.653 / 0.346 against 0.663 / 0.355, the default RFB-320 of the time).
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

/** True for a regular file (which libvips can open by name), false for a FIFO, a device or a vanished path. */
async function isRegularFile(path: string): Promise<boolean> {
  return stat(path).then(
    (info) => info.isFile(),
    () => false,
  );
}

/** The bytes of an image file (or FIFO, or device), read to its end. */
async function readImageFile(path: string): Promise<Uint8Array> {
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
  if (code === 'EISDIR') {
    return new UltrafaceError('E_INVALID_INPUT', `Expected an image file but received a directory: ${path}`, {
      cause: error,
    });
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
