/**
 * Browser images → the network input (SPEC §6.7 steps 1–4). Two ways to scale what the page draws:
 *
 * - 'exact' (default): the image is read at full size from a canvas and scaled by the core's OpenCV-exact
 *   bilinear resize, the one-pass resize-and-normalise Node uses, so the network sees the pixels it sees in Node (the browser's JPEG decoder
 *   and sharp's give the same pixels on the upstream test images).
 * - 'canvas': the canvas scales it (bilinear, `imageSmoothingQuality: 'low'`) and only the network-size pixels are
 *   read back: less work for big images and video, pixels a few levels away from OpenCV's (measured on the
 *   upstream images: mean |Δ| 0.3–0.6, max 13; faces IoU ≥ 0.97, |Δscore| up to 0.03).
 *
 * Pixels already in memory (`ImageData`, `RgbImage`) always take the exact resize. Encoded images (a `Blob` or
 * `File`, bytes, a URL) are decoded by `decodeImage`.
 */
import { UltrafaceError } from '../../core/errors.js';
import { assertRgbImage, type NetworkInput, type RgbImage } from '../../core/image.js';
import { toNetworkInput } from '../../core/resize.js';
import { describe } from '../../core/validate.js';
import { resolveDetectorOptions, type Fit } from '../detector-core.js';
import { imageSizeFromHeader, type HeaderSize } from './image-header.js';

/**
 * An encoded image: a `Blob` or `File`, its bytes, or the URL of one (fetched; another origin must allow it with
 * CORS). Decoded by the browser, EXIF orientation applied.
 */
export type EncodedImage = Blob | ArrayBuffer | ArrayBufferView | string | URL;

/**
 * An image in the browser. Elements must have a frame to show (a loaded image, a video with data); `VideoFrame`s
 * and `ImageBitmap`s stay the caller's to `close()`. `RgbImage` is raw RGB(A) pixels, as in Node.
 */
export type WebImageInput =
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | OffscreenCanvas
  | ImageBitmap
  | ImageData
  | VideoFrame
  | RgbImage
  | EncodedImage;

const EXPECTED =
  'an HTMLImageElement, HTMLCanvasElement, HTMLVideoElement, OffscreenCanvas, ImageBitmap, ImageData, VideoFrame, ' +
  '{ data, width, height, channels }, a Blob, encoded bytes or a URL';

interface Drawable {
  readonly source: CanvasImageSource;
  readonly width: number;
  readonly height: number;
  /** Frees what was made here for this call (a decoded bitmap). */
  readonly release?: () => void;
}

function invalid(expected: string, received: string): UltrafaceError {
  return new UltrafaceError('E_INVALID_INPUT', `Expected ${expected} for image but received ${received}`);
}

function tooLarge(maxPixels: number, width: number, height: number): UltrafaceError {
  return new UltrafaceError(
    'E_IMAGE_TOO_LARGE',
    `Expected an image of at most ${maxPixels} pixels but received ${width} x ${height} = ${width * height} pixels`,
  );
}

function isEncoded(input: unknown): input is EncodedImage {
  return (
    (typeof Blob === 'function' && input instanceof Blob) ||
    input instanceof ArrayBuffer ||
    ArrayBuffer.isView(input) ||
    typeof input === 'string' ||
    input instanceof URL
  );
}

/** The image's bytes as a Blob; a URL is fetched. */
async function encodedBlob(input: EncodedImage): Promise<{ blob: Blob; name: string }> {
  if (input instanceof Blob) {
    return { blob: input, name: input instanceof File ? JSON.stringify(input.name) : 'the given Blob' };
  }
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) {
    const bytes =
      input instanceof ArrayBuffer ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    return { blob: new Blob([bytes as BlobPart]), name: 'the given bytes' };
  }
  const url = new URL(String(input), globalThis.location.href).href;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (cause) {
    const crossOrigin = new URL(url).origin !== globalThis.location.origin;
    throw new UltrafaceError(
      'E_INVALID_INPUT',
      `Cannot fetch the image ${url}: ` +
        (crossOrigin
          ? 'its server is on another origin and does not let this page read it (CORS: it must send ' +
            'Access-Control-Allow-Origin), or the network failed'
          : 'the network failed'),
      { cause },
    );
  }
  if (!response.ok) {
    throw new UltrafaceError(
      response.status === 404 || response.status === 410 ? 'E_FILE_NOT_FOUND' : 'E_INVALID_INPUT',
      `Cannot fetch the image ${url}: HTTP ${response.status} ${response.statusText}`,
    );
  }
  return { blob: await response.blob(), name: url };
}

/** The size in the blob's header, reading more of it only for JPEGs whose metadata is long. */
async function headerSize(blob: Blob): Promise<HeaderSize | undefined> {
  for (let length = 64 * 1024; ; length *= 16) {
    const found = imageSizeFromHeader(new Uint8Array(await blob.slice(0, length).arrayBuffer()));
    if (found !== 'more') return found;
    if (length >= blob.size) return undefined;
  }
}

/**
 * Decodes an encoded image (a `Blob` or `File`, bytes, or a URL) to an `ImageBitmap`, EXIF orientation applied
 * (`imageOrientation: 'from-image'`). An image of more than `maxPixels` is refused before it is decoded when its
 * header says its size (JPEG, PNG, GIF, WebP, BMP, AVIF), else right after. The bitmap is the caller's to
 * `close()`. `detect()` does this for encoded images; call it to draw the image the faces were found in.
 * @throws UltrafaceError E_IMAGE_TOO_LARGE, E_IMAGE_DECODE, E_FILE_NOT_FOUND (HTTP 404), E_INVALID_INPUT (a URL that
 *   cannot be fetched, CORS), E_INVALID_OPTION
 */
export async function decodeImage(
  input: EncodedImage,
  options: { readonly maxPixels?: number } = {},
): Promise<ImageBitmap> {
  // The detector's check and default for maxPixels.
  const { maxPixels } = resolveDetectorOptions({ maxPixels: options.maxPixels });
  if (!isEncoded(input)) throw invalid('a Blob, encoded bytes or a URL', describe(input));
  const { blob, name } = await encodedBlob(input);
  const declared = await headerSize(blob);
  if (declared && declared.width * declared.height > maxPixels) {
    throw tooLarge(maxPixels, declared.width, declared.height);
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image' });
  } catch (cause) {
    throw new UltrafaceError(
      'E_IMAGE_DECODE',
      `Cannot decode ${name} (${blob.size} bytes${blob.type ? `, ${blob.type}` : ''}) as an image`,
      { cause },
    );
  }
  if (bitmap.width * bitmap.height > maxPixels) {
    bitmap.close();
    throw tooLarge(maxPixels, bitmap.width, bitmap.height);
  }
  return bitmap;
}

/** Reading the pixels of a cross-origin image the page may not read: the browser's SecurityError, explained. */
function tainted(input: unknown, cause: unknown): UltrafaceError {
  const src =
    (typeof HTMLImageElement === 'function' && input instanceof HTMLImageElement) ||
    (typeof HTMLVideoElement === 'function' && input instanceof HTMLVideoElement)
      ? ` (${input.currentSrc})`
      : '';
  return new UltrafaceError(
    'E_INVALID_INPUT',
    `Expected an image this page may read but received one from another origin without CORS${src}: the browser ` +
      'blocks reading its pixels (the canvas is "tainted"). Serve it with CORS (Access-Control-Allow-Origin) and ' +
      'load it with crossOrigin="anonymous" (<img crossorigin="anonymous">, video.crossOrigin = "anonymous"), or ' +
      "serve it from the page's origin",
    { cause },
  );
}

/**
 * A drawable source and its displayed size, or pixels already in memory. Each class is looked up before
 * `instanceof`: workers have no HTMLImageElement, older browsers no VideoFrame.
 */
async function resolveSource(input: unknown, maxPixels: number): Promise<Drawable | RgbImage> {
  if (typeof HTMLImageElement === 'function' && input instanceof HTMLImageElement) {
    if (!input.complete || input.naturalWidth === 0) {
      try {
        await input.decode();
      } catch (cause) {
        throw new UltrafaceError('E_IMAGE_DECODE', `Cannot decode image ${describe(input.currentSrc)}`, {
          cause,
        });
      }
    }
    return { source: input, width: input.naturalWidth, height: input.naturalHeight };
  }
  if (typeof HTMLVideoElement === 'function' && input instanceof HTMLVideoElement) {
    if (input.readyState < 2 || input.videoWidth === 0) {
      throw invalid(
        "a video with a current frame (readyState ≥ 2; wait for 'loadeddata')",
        `a video with readyState ${input.readyState}`,
      );
    }
    return { source: input, width: input.videoWidth, height: input.videoHeight };
  }
  if (typeof VideoFrame === 'function' && input instanceof VideoFrame) {
    if (input.displayWidth === 0) throw invalid('an open VideoFrame', 'a closed VideoFrame');
    return { source: input, width: input.displayWidth, height: input.displayHeight };
  }
  if (typeof ImageBitmap === 'function' && input instanceof ImageBitmap) {
    if (input.width === 0) throw invalid('an open ImageBitmap', 'a closed ImageBitmap');
    return { source: input, width: input.width, height: input.height };
  }
  if (
    (typeof HTMLCanvasElement === 'function' && input instanceof HTMLCanvasElement) ||
    (typeof OffscreenCanvas === 'function' && input instanceof OffscreenCanvas)
  ) {
    if (input.width === 0 || input.height === 0) throw invalid('a canvas with pixels', 'a 0-pixel canvas');
    return { source: input, width: input.width, height: input.height };
  }
  if (typeof ImageData === 'function' && input instanceof ImageData) {
    return { data: input.data, width: input.width, height: input.height, channels: 4 };
  }
  if (isEncoded(input)) {
    const bitmap = await decodeImage(input, { maxPixels });
    const release = (): void => {
      bitmap.close();
    };
    return { source: bitmap, width: bitmap.width, height: bitmap.height, release };
  }
  if (typeof input === 'object' && input !== null && 'data' in input) {
    assertRgbImage(input, 'image');
    return input;
  }
  throw invalid(EXPECTED, describe(input));
}

type Context2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

/** How drawable images are scaled to network size; see the top of this file. */
export type Resampling = 'exact' | 'canvas';
export const RESAMPLINGS: readonly Resampling[] = ['exact', 'canvas'];

/**
 * Turns images into network inputs at the sizes `fit` gives. Holds one canvas, reused for every image (video
 * frames allocate no canvas each), resized when the network size changes.
 */
export function createImageLoader(
  maxPixels: number,
  resampling: Resampling,
): (input: unknown, fit: Fit) => Promise<NetworkInput> {
  let context: Context2D | undefined;

  const canvasOf = (width: number, height: number): Context2D => {
    if (!context) {
      const canvas =
        typeof OffscreenCanvas === 'function'
          ? new OffscreenCanvas(width, height)
          : Object.assign(document.createElement('canvas'), { width, height });
      // willReadFrequently: a CPU-backed canvas; every frame is read back.
      const created = canvas.getContext('2d', { willReadFrequently: true, alpha: false }) as Context2D | null;
      if (!created)
        throw new UltrafaceError('E_INVALID_INPUT', 'Expected a 2D canvas context but the browser gave none');
      context = created;
    }
    if (context.canvas.width !== width || context.canvas.height !== height) {
      context.canvas.width = width;
      context.canvas.height = height;
    }
    // Plain bilinear, as OpenCV's INTER_LINEAR (higher qualities filter more, away from what the model saw).
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = 'low';
    return context;
  };

  return async (input, fit) => {
    const source = await resolveSource(input, maxPixels);
    if ('data' in source) {
      if (source.width * source.height > maxPixels) throw tooLarge(maxPixels, source.width, source.height);
      return toNetworkInput(source, fit.size(source.width, source.height), source);
    }
    let pixels: ImageData;
    let target: ReturnType<Fit['size']>;
    try {
      if (source.width * source.height > maxPixels) throw tooLarge(maxPixels, source.width, source.height);
      target = fit.size(source.width, source.height);
      // Draw and read back in one synchronous step, so concurrent calls cannot interleave on the shared canvas.
      const [width, height] =
        resampling === 'canvas' ? [target.width, target.height] : [source.width, source.height];
      const ctx = canvasOf(width, height);
      try {
        ctx.drawImage(source.source, 0, 0, width, height);
        pixels = ctx.getImageData(0, 0, width, height);
      } catch (cause) {
        if (cause instanceof DOMException && cause.name === 'SecurityError') {
          context = undefined; // a tainted canvas stays tainted: the next image gets a fresh one
          throw tainted(input, cause);
        }
        throw cause;
      }
    } finally {
      source.release?.();
    }
    const image: RgbImage = { data: pixels.data, width: pixels.width, height: pixels.height, channels: 4 };
    return toNetworkInput(image, target, source); // 'canvas': already at network size, only normalised
  };
}
