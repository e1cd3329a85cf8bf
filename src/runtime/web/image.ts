/**
 * Browser images → RGB(A) pixels at network size (SPEC §6.7 steps 1–3). Two ways to scale what the page draws:
 *
 * - 'exact' (default): the image is read at full size from a canvas and scaled by the core's OpenCV-exact
 *   bilinear resize, the one Node uses, so the network sees the pixels it sees in Node (the browser's JPEG decoder
 *   and sharp's give the same pixels on the upstream test images).
 * - 'canvas': the canvas scales it (bilinear, `imageSmoothingQuality: 'low'`) and only the network-size pixels are
 *   read back: less work for big images and video, pixels a few levels away from OpenCV's (measured on the
 *   upstream images: mean |Δ| 0.3–0.6, max 13; faces IoU ≥ 0.97, |Δscore| up to 0.03).
 *
 * Pixels already in memory (`ImageData`, `RgbImage`) always take the exact resize.
 */
import { UltrafaceError } from '../../core/errors.js';
import { assertRgbImage, type RgbImage } from '../../core/image.js';
import { resizeBilinear } from '../../core/resize.js';
import { describe } from '../../core/validate.js';
import type { Fit, Preprocessed } from '../detector-core.js';

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
  | RgbImage;

const EXPECTED =
  'an HTMLImageElement, HTMLCanvasElement, HTMLVideoElement, OffscreenCanvas, ImageBitmap, ImageData, VideoFrame ' +
  'or { data, width, height, channels }';

interface Drawable {
  readonly source: CanvasImageSource;
  readonly width: number;
  readonly height: number;
}

function invalid(expected: string, received: string): UltrafaceError {
  return new UltrafaceError('E_INVALID_INPUT', `Expected ${expected} for image but received ${received}`);
}

/**
 * A drawable source and its displayed size, or pixels already in memory. Each class is looked up before
 * `instanceof`: workers have no HTMLImageElement, older browsers no VideoFrame.
 */
async function resolveSource(input: unknown): Promise<Drawable | RgbImage> {
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
): (input: unknown, fit: Fit) => Promise<Preprocessed> {
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
    const source = await resolveSource(input);
    if (source.width * source.height > maxPixels) {
      throw new UltrafaceError(
        'E_IMAGE_TOO_LARGE',
        `Expected an image of at most ${maxPixels} pixels but received ${source.width} x ${source.height} = ` +
          `${source.width * source.height} pixels`,
      );
    }
    const target = fit.size(source.width, source.height);
    if ('data' in source) {
      return {
        image: resizeBilinear(source, target.width, target.height),
        width: source.width,
        height: source.height,
      };
    }
    // Draw and read back in one synchronous step, so concurrent calls cannot interleave on the shared canvas.
    const [width, height] =
      resampling === 'canvas' ? [target.width, target.height] : [source.width, source.height];
    const ctx = canvasOf(width, height);
    ctx.drawImage(source.source, 0, 0, width, height);
    const pixels = ctx.getImageData(0, 0, width, height);
    const image: RgbImage = { data: pixels.data, width, height, channels: 4 };
    return {
      image: resampling === 'canvas' ? image : resizeBilinear(image, target.width, target.height),
      width: source.width,
      height: source.height,
    };
  };
}
