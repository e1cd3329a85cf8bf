/**
 * The float training path (photometric distortion, zoom-out, crop, mirror, float resize) against a plain
 * transcription: the photometric steps as passes over a float32 image (SPEC §6.3 step 2, OpenCV's float HSV
 * formulas), the expanded and cropped window materialized, then OpenCV's float INTER_LINEAR (SPEC §6.7) pixel by
 * pixel. The augmenter fuses all of this row by row; the output must match bit for bit
 * (tolerance 0), for any image, plan and geometry, including extreme photometric ranges.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import type { RgbImage } from '../../src/core/image.js';
import { createRandom } from '../../src/core/random.js';
import {
  createAugmenter,
  type AppliedAugmentation,
  type AugmentOptionsInput,
} from '../../src/data/augment/index.js';
import { referenceFloatResize } from '../helpers/reference-resize.js';

const FLT_EPSILON = 1.1920928955078125e-7;

/** [H, W, 3] float32 image. */
interface FloatImage {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** `PhotometricDistort` as the augmenter defines it (module comment of augment.ts), one float32 pass per step. */
function referencePhotometric(
  image: RgbImage,
  plan: NonNullable<AppliedAugmentation['photometric']>,
): FloatImage {
  const { width, height, channels } = image;
  const out = new Float32Array(width * height * 3);
  // Brightness and a leading contrast: one float32 store of (v + delta) · alpha, in double.
  const brightness = plan.brightness ?? 0;
  const contrast = plan.contrast;
  const alpha = plan.contrastFirst ? (contrast ?? 1) : 1;
  for (let i = 0; i < width * height; i++) {
    for (let c = 0; c < 3; c++) out[3 * i + c] = (image.data[channels * i + c] + brightness) * alpha;
  }
  if (plan.saturation !== null || plan.hue !== null) {
    const saturation = plan.saturation ?? 1;
    const hue = plan.hue ?? 0;
    for (let i = 0; i < out.length; i += 3) {
      // OpenCV RGB2HSV_f (H in degrees), then S × saturation, H + hue wrapped once, then HSV2RGB_f.
      const [r, g, b] = [out[i], out[i + 1], out[i + 2]];
      const v = Math.max(r, g, b);
      const diff = v - Math.min(r, g, b);
      const s = (diff / (Math.abs(v) + FLT_EPSILON)) * saturation;
      let h = 0;
      if (diff !== 0) {
        const k = 60 / (diff + FLT_EPSILON);
        h = v === r ? (g - b) * k : v === g ? (b - r) * k + 120 : (r - g) * k + 240;
        if (h < 0) h += 360;
      }
      h += hue;
      if (h > 360) h -= 360;
      else if (h < 0) h += 360;
      let rgb: number[];
      if (s === 0) {
        rgb = [v, v, v];
      } else {
        h = ((h * 6) / 360) % 6;
        if (h < 0) h += 6;
        let sector = Math.floor(h);
        h -= sector;
        if (sector < 0 || sector >= 6) [sector, h] = [0, 0];
        const tab = [v, v * (1 - s), v * (1 - s * h), v * (1 - s * (1 - h))];
        const bgr = [
          [1, 3, 0],
          [1, 0, 2],
          [3, 0, 1],
          [0, 2, 1],
          [0, 1, 3],
          [2, 1, 0],
        ][sector].map((k) => tab[k]);
        rgb = [bgr[2], bgr[1], bgr[0]];
      }
      [out[i], out[i + 1], out[i + 2]] = rgb;
    }
  }
  if (!plan.contrastFirst && contrast !== null) for (let i = 0; i < out.length; i++) out[i] *= contrast;
  if (plan.channels !== null) {
    const swapped = out.slice();
    for (let i = 0; i < out.length; i += 3) {
      for (let c = 0; c < 3; c++) out[i + c] = swapped[i + plan.channels[c]];
    }
  }
  return { data: out, width, height };
}

/** The crop window of the expanded canvas, mirrored if asked, as a float image (`fill` outside the photo). */
function referenceWindow(photo: FloatImage, applied: AppliedAugmentation, fill: number): FloatImage {
  const {
    left,
    top,
    width: canvasW,
    height: canvasH,
  } = applied.expand ?? {
    left: 0,
    top: 0,
    width: photo.width,
    height: photo.height,
  };
  const window = applied.crop ?? { x: 0, y: 0, width: canvasW, height: canvasH };
  const out = new Float32Array(window.width * window.height * 3).fill(fill);
  for (let y = 0; y < window.height; y++) {
    for (let x = 0; x < window.width; x++) {
      const px = window.x + (applied.mirror ? window.width - 1 - x : x) - left;
      const py = window.y + y - top;
      if (px < 0 || px >= photo.width || py < 0 || py >= photo.height) continue;
      for (let c = 0; c < 3; c++)
        out[(y * window.width + x) * 3 + c] = photo.data[(py * photo.width + px) * 3 + c];
    }
  }
  return { data: out, width: window.width, height: window.height };
}

function noise(width: number, height: number, seed: number, channels: 3 | 4, grey: boolean): RgbImage {
  const random = createRandom(seed);
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = random.int(256);
  if (grey) for (let i = 0; i < data.length; i += channels) data[i + 1] = data[i + 2] = data[i];
  return { data, width, height, channels };
}

const ALWAYS = {
  brightnessProbability: 0.8,
  contrastProbability: 0.8,
  saturationProbability: 0.7,
  hueProbability: 0.7,
  channelSwapProbability: 0.7,
};

const RECIPES: Record<string, AugmentOptionsInput> = {
  default: 'default',
  upstream: 'upstream',
  everyStep: {
    preset: 'default',
    photometric: ALWAYS,
    expand: { probability: 0.6 },
    crop: { probability: 0.6 },
  },
  extreme: {
    preset: 'default',
    photometric: {
      ...ALWAYS,
      brightnessDelta: 255,
      contrastLower: 0,
      contrastUpper: 10,
      saturationLower: 0,
      saturationUpper: 10,
      hueDelta: 180,
    },
    expand: { probability: 0.5, maxRatio: 6, fill: 3 },
    crop: { probability: 0.6, minScale: 0.05, maxAspectChange: 4 },
  },
};

describe('float training path against the multi-pass reference (bit for bit)', () => {
  for (const [name, options] of Object.entries(RECIPES)) {
    it(`${name}: photometric passes, zoom-out, crop, mirror, float resize`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 48 }),
          fc.integer({ min: 1, max: 36 }),
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 1, max: 30 }),
          fc.constantFrom<3 | 4>(3, 4),
          fc.boolean(),
          fc.integer({ min: 0, max: 1e9 }),
          (w, h, ow, oh, channels, grey, seed) => {
            const image = noise(w, h, seed, channels, grey);
            const augmenter = createAugmenter(options, { width: ow, height: oh });
            const result = augmenter.augment({ image, boxes: [], labels: [] }, createRandom(seed, 5));
            const { applied } = result;
            const plan = applied.photometric ?? {
              brightness: null,
              contrast: null,
              contrastFirst: false,
              saturation: null,
              hue: null,
              channels: null,
            };
            const fill = augmenter.options.expand?.fill ?? 127;
            const expected = referenceFloatResize(
              { ...referenceWindow(referencePhotometric(image, plan), applied, fill), channels: 3 },
              ow,
              oh,
            );
            assert.deepEqual(
              Buffer.from(result.image.buffer, result.image.byteOffset, result.image.byteLength),
              Buffer.from(expected.buffer),
            );
          },
        ),
        { seed: 7, numRuns: 150, endOnFailure: true },
      );
    });
  }
});
