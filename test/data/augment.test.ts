import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { isUltrafaceError } from '../../src/core/errors.js';
import { toInputTensor, type RgbImage } from '../../src/core/image.js';
import { createRandom, type Random } from '../../src/core/random.js';
import { resizeBilinear } from '../../src/core/resize.js';
import {
  AUGMENT_PRESETS,
  createAugmenter,
  resolveAugmentOptions,
  type AugmentOptionsInput,
  type AugmentResult,
} from '../../src/data/augment/index.js';
import { referenceFloatResize } from '../helpers/reference-resize.js';

const OFF = { photometric: null, expand: null, crop: null, mirrorProbability: 0 } as const;

function noise(width: number, height: number, seed: number, channels: 3 | 4 = 3, max = 256): RgbImage {
  const random = createRandom(seed);
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = random.int(max);
  return { data, width, height, channels };
}

function hash(result: AugmentResult): string {
  return createHash('sha256')
    .update(new Uint8Array(result.image.buffer, result.image.byteOffset, result.image.byteLength))
    .update(new Uint8Array(result.boxes.buffer))
    .update(new Uint8Array(result.labels.buffer))
    .digest('hex');
}

function augment(
  options: AugmentOptionsInput,
  image: RgbImage,
  boxes: number[],
  random: Random,
  size = { width: 32, height: 24 },
): AugmentResult {
  return createAugmenter(options, size).augment(
    { image, boxes, labels: boxes.map(() => 1).slice(0, boxes.length / 4) },
    random,
  );
}

describe('augmentation options', () => {
  it('presets: upstream = photometric + mirror (no crop, B1), default adds crop + zoom-out, none is the validation transform', () => {
    assert.equal(AUGMENT_PRESETS.upstream.crop, null);
    assert.equal(AUGMENT_PRESETS.upstream.expand, null);
    assert.equal(AUGMENT_PRESETS.upstream.mirrorProbability, 0.5);
    const photometric = AUGMENT_PRESETS.upstream.photometric!;
    assert.equal(photometric.brightnessDelta, 32);
    assert.equal(photometric.hueDelta, 18);
    assert.ok(AUGMENT_PRESETS.default.crop !== null && AUGMENT_PRESETS.default.expand !== null);
    assert.equal(AUGMENT_PRESETS.none.resize, 'uint8');
    for (const preset of Object.values(AUGMENT_PRESETS)) {
      assert.ok(Object.isFrozen(preset));
      if (preset.crop) assert.ok(Object.isFrozen(preset.crop));
    }
    assert.equal(resolveAugmentOptions('upstream'), AUGMENT_PRESETS.upstream);
    assert.deepEqual(resolveAugmentOptions(), AUGMENT_PRESETS.default);
  });

  it('overrides merge field by field and come back frozen; a resolved object round-trips', () => {
    const o = resolveAugmentOptions({
      preset: 'upstream',
      expand: { maxRatio: 2 },
      crop: { probability: 1 },
    });
    const { expand, crop } = o;
    assert.ok(expand !== null && crop !== null);
    assert.equal(expand.maxRatio, 2);
    assert.equal(expand.probability, AUGMENT_PRESETS.default.expand!.probability);
    assert.equal(crop.minScale, 0.3);
    assert.equal(crop.probability, 1);
    assert.ok(Object.isFrozen(o) && Object.isFrozen(o.expand));
    assert.deepEqual(resolveAugmentOptions(o), o);
    assert.deepEqual(resolveAugmentOptions(JSON.parse(JSON.stringify(o)) as AugmentOptionsInput), o);
  });

  it('rejects bad options with E_INVALID_OPTION', () => {
    const bad: unknown[] = [
      'cropped',
      { mirrorProbability: 2 },
      { crop: { minScale: 0 } },
      { expand: { maxRatio: 0.5 } },
      { expand: { fill: 1.5 } },
      { photometric: { hueDelta: -1 } },
      { photometric: { contrastLower: 1.2, contrastUpper: 1.1 } },
      { crop: { minScale: 0.5, typo: 1 } },
      { mirorProbability: 0.5 },
      { preset: 'upstream', resize: 'uint8' }, // uint8 resize needs photometric off
    ];
    for (const options of bad) {
      assert.throws(
        () => resolveAugmentOptions(options as AugmentOptionsInput),
        (e) => isUltrafaceError(e, 'E_INVALID_OPTION'),
        JSON.stringify(options),
      );
    }
  });

  it('rejects a malformed sample with E_INVALID_INPUT', () => {
    const aug = createAugmenter('default', { width: 32, height: 24 });
    const image = noise(8, 8, 1);
    assert.throws(
      () => aug.augment({ image, boxes: [0, 0, 1], labels: [1] }, createRandom(1)),
      (e) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
    assert.throws(
      () => aug.augment({ image: { ...image, width: 9 }, boxes: [], labels: [] }, createRandom(1)),
      (e) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
    assert.throws(
      () =>
        aug.augment({ image, boxes: [], labels: [] }, createRandom(1), {
          tensor: new Float32Array(10),
          offset: 0,
        }),
      (e) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
  });
});

describe('no augmentation = exact resize', () => {
  it("'none' is bit-identical to inference pre-processing (uint8 OpenCV resize, SPEC §6.5/§6.7)", () => {
    for (const [w, h, ow, oh] of [
      [64, 48, 32, 24],
      [50, 37, 32, 24],
      [20, 10, 32, 24],
      [64, 48, 64, 48],
    ]) {
      const image = noise(w, h, w * h);
      const result = augment('none', image, [1, 1, 5, 5], createRandom(0), { width: ow, height: oh });
      const expected = new Float32Array(3 * ow * oh);
      toInputTensor(resizeBilinear(image, ow, oh), expected);
      assert.deepEqual(result.image, expected);
      assert.deepEqual(Array.from(result.boxes), [1 / w, 1 / h, 5 / w, 5 / h].map(Math.fround));
    }
  });

  it("resize 'float' equals OpenCV's float bilinear (SPEC §6.7 last paragraph) and the uint8 one within a level", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom<3 | 4>(3, 4),
        (w, h, ow, oh, channels) => {
          const image = noise(w, h, w * 100 + h, channels);
          const result = augment({ ...OFF, resize: 'float' }, image, [], createRandom(0), {
            width: ow,
            height: oh,
          });
          assert.deepEqual(result.image, referenceFloatResize(image, ow, oh));
          const fixed = new Float32Array(3 * ow * oh);
          toInputTensor(resizeBilinear(image, ow, oh), fixed);
          for (let i = 0; i < fixed.length; i++)
            assert.ok(Math.abs(fixed[i] - result.image[i]) <= 1 / 128 + 1e-6);
        },
      ),
      { seed: 11, numRuns: 60, endOnFailure: true },
    );
  });

  it('an exact 2x reduction is 2x2 averaging (what OpenCV switches to) and the same size is a copy', () => {
    const image = noise(64, 48, 5);
    const half = augment({ ...OFF, resize: 'float' }, image, [], createRandom(0), { width: 32, height: 24 });
    const same = augment({ ...OFF, resize: 'float' }, image, [], createRandom(0), { width: 64, height: 48 });
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 24; y++) {
        for (let x = 0; x < 32; x++) {
          const p = (xx: number, yy: number): number => image.data[(yy * 64 + xx) * 3 + c];
          const mean =
            (p(2 * x, 2 * y) + p(2 * x + 1, 2 * y) + p(2 * x, 2 * y + 1) + p(2 * x + 1, 2 * y + 1)) / 4;
          assert.equal(half.image[c * 768 + y * 32 + x], Math.fround((mean - 127) / 128));
        }
      }
    }
    for (let i = 0; i < 64 * 48; i++) {
      for (let c = 0; c < 3; c++)
        assert.equal(same.image[c * 64 * 48 + i], (image.data[3 * i + c] - 127) / 128);
    }
  });

  it('a mirror is the resize of the mirrored image; boxes become W − x2, W − x1', () => {
    const image = noise(45, 30, 9);
    const flipped = new Uint8Array(image.data.length);
    for (let y = 0; y < 30; y++) {
      for (let x = 0; x < 45; x++) {
        for (let c = 0; c < 3; c++) flipped[(y * 45 + 44 - x) * 3 + c] = image.data[(y * 45 + x) * 3 + c];
      }
    }
    const result = augment(
      { ...OFF, mirrorProbability: 1, resize: 'float' },
      image,
      [5, 6, 15, 20],
      createRandom(3),
    );
    assert.equal(result.applied.mirror, true);
    assert.deepEqual(result.image, referenceFloatResize({ ...image, data: flipped }, 32, 24));
    assert.deepEqual(Array.from(result.boxes), [30 / 45, 6 / 30, 40 / 45, 20 / 30].map(Math.fround));
    const fixed = augment({ ...OFF, mirrorProbability: 1, resize: 'uint8' }, image, [], createRandom(3));
    const expected = new Float32Array(3 * 32 * 24);
    toInputTensor(resizeBilinear({ ...image, data: flipped }, 32, 24), expected);
    assert.deepEqual(fixed.image, expected);
  });
});

describe('geometric augmentation keeps boxes on their pixels', () => {
  // Faces on a grid of cells, each painted a unique colour (R 250, G 20·(k+1)) on a background with R < 100; the
  // zoom-out fill is 127. After expand + crop + mirror, every output pixel that reads only pixels of face k (its
  // centre at least one source pixel inside the transformed box) must be face k's colour, and every pixel at least
  // one source pixel away from all boxes must not be a face colour (R ≤ 127).
  const W = 120;
  const H = 90;
  const scene = (seed: number): { image: RgbImage; boxes: number[] } => {
    const random = createRandom(seed);
    const data = new Uint8Array(W * H * 3);
    for (let i = 0; i < data.length; i++) data[i] = i % 3 === 0 ? random.int(100) : random.int(256);
    const boxes: number[] = [];
    for (let cell = 0; cell < 12; cell++) {
      if (random.chance(0.4)) continue;
      const cx = (cell % 4) * 30;
      const cy = Math.floor(cell / 4) * 30;
      const x1 = cx + random.int(10);
      const y1 = cy + random.int(10);
      const x2 = x1 + 4 + random.int(30 - (x1 - cx) - 4);
      const y2 = y1 + 4 + random.int(30 - (y1 - cy) - 4);
      const k = boxes.length / 4;
      for (let y = y1; y < y2; y++) {
        for (let x = x1; x < x2; x++) {
          data[(y * W + x) * 3] = 250;
          data[(y * W + x) * 3 + 1] = 20 * (k + 1);
          data[(y * W + x) * 3 + 2] = 7;
        }
      }
      boxes.push(x1, y1, x2, y2);
    }
    return { image: { data, width: W, height: H, channels: 3 }, boxes };
  };

  for (const resize of ['float', 'uint8'] as const) {
    it(`expand + crop + mirror (${resize} resize): colours land in their boxes, boxes stay inside`, () => {
      const options: AugmentOptionsInput = {
        ...OFF,
        expand: { probability: 0.7, maxRatio: 2.5 },
        crop: { probability: 0.8, minScale: 0.3, maxAspectChange: 1.5 },
        mirrorProbability: 0.5,
        resize,
      };
      const out = { width: 64, height: 48 };
      const aug = createAugmenter(options, out);
      const plane = out.width * out.height;
      let crops = 0;
      let expands = 0;
      let inside = 0;
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 1e9 }), (seed) => {
          const { image, boxes } = scene(seed);
          const labels = boxes.filter((_, i) => i % 4 === 0).map((_, k) => k + 1);
          const result = aug.augment({ image, boxes, labels }, createRandom(seed, 1));
          if (result.applied.crop) crops++;
          if (result.applied.expand) expands++;
          const window = result.applied.crop ?? {
            width: result.applied.expand?.width ?? W,
            height: result.applied.expand?.height ?? H,
          };
          // One source pixel, in normalized output units (+ float slack).
          const mx = 1 / window.width + 1e-6;
          const my = 1 / window.height + 1e-6;
          const m = result.labels.length;
          if (result.applied.crop && boxes.length > 0) assert.ok(m >= 1, 'an accepted crop keeps a face');
          for (let j = 0; j < m; j++) {
            const [x1, y1, x2, y2] = result.boxes.subarray(4 * j, 4 * j + 4);
            assert.ok(0 <= x1 && x1 < x2 && x2 <= 1 && 0 <= y1 && y1 < y2 && y2 <= 1, `box ${j} inside`);
          }
          for (let dy = 0; dy < out.height; dy++) {
            const v = (dy + 0.5) / out.height;
            for (let dx = 0; dx < out.width; dx++) {
              const u = (dx + 0.5) / out.width;
              const r = result.image[dy * out.width + dx] * 128 + 127;
              const g = result.image[plane + dy * out.width + dx] * 128 + 127;
              let near = false;
              for (let j = 0; j < m; j++) {
                const [x1, y1, x2, y2] = result.boxes.subarray(4 * j, 4 * j + 4);
                if (u >= x1 + mx && u <= x2 - mx && v >= y1 + my && v <= y2 - my) {
                  inside++;
                  assert.ok(Math.abs(r - 250) < 1e-3, `R at ${dx},${dy} in box ${j}: ${r}`);
                  assert.ok(Math.abs(g - 20 * result.labels[j]) < 1e-3, `G at ${dx},${dy} in box ${j}: ${g}`);
                }
                if (u > x1 - mx && u < x2 + mx && v > y1 - my && v < y2 + my) near = true;
              }
              // Faces dropped by the crop (centre outside) may still show at the edges: only check full scenes.
              if (!near && !result.applied.crop)
                assert.ok(r <= 127 + 1e-3, `R at ${dx},${dy} outside boxes: ${r}`);
            }
          }
        }),
        { seed: 2024, numRuns: 40, endOnFailure: true },
      );
      assert.ok(crops > 10 && expands > 10, `crops ${crops}, expands ${expands}`);
      assert.ok(inside > 1000, `${inside} face pixels checked`);
    });
  }

  it('a crop drops faces whose centre leaves it and clips the rest (SSD)', () => {
    // One face in the left third, one straddling the right edge of any crop that excludes its centre.
    const image = noise(100, 100, 4);
    const aug = createAugmenter(
      { ...OFF, crop: { probability: 1, minScale: 0.3, minCoverage: 1 } },
      { width: 50, height: 50 },
    );
    let dropped = 0;
    for (let seed = 0; seed < 200; seed++) {
      const result = aug.augment(
        { image, boxes: [10, 10, 20, 20, 40, 40, 90, 90], labels: [1, 2] },
        createRandom(seed),
      );
      const crop = result.applied.crop;
      if (crop === null) continue;
      const inside = (cx: number, cy: number): boolean =>
        cx > crop.x && cx < crop.x + crop.width && cy > crop.y && cy < crop.y + crop.height;
      const expected = [inside(15, 15) ? 1 : 0, inside(65, 65) ? 2 : 0].filter((l) => l > 0);
      assert.deepEqual(Array.from(result.labels), expected);
      if (expected.length < 2) dropped++;
      // Some face is wholly inside (minCoverage 1).
      assert.ok(
        (crop.x <= 10 && crop.y <= 10 && crop.x + crop.width >= 20 && crop.y + crop.height >= 20) ||
          (crop.x <= 40 && crop.y <= 40 && crop.x + crop.width >= 90 && crop.y + crop.height >= 90),
      );
    }
    assert.ok(dropped > 0);
  });
});

describe('photometric distortion (SPEC §6.3 step 2)', () => {
  // Output size = input size: the float resize is then an exact copy, so pixels can be checked one by one.
  const image = noise(16, 12, 77);
  const size = { width: 16, height: 12 };
  const only = (photometric: Record<string, number>): AugmentOptionsInput => ({
    ...OFF,
    photometric: {
      brightnessProbability: 0,
      contrastProbability: 0,
      saturationProbability: 0,
      hueProbability: 0,
      channelSwapProbability: 0,
      ...photometric,
    },
  });
  const pixel = (result: AugmentResult, i: number): number[] =>
    [0, 1, 2].map((c) => result.image[c * 192 + i] * 128 + 127);

  it('brightness adds, contrast multiplies, the channel swap permutes', () => {
    for (let seed = 0; seed < 5; seed++) {
      const b = augment(only({ brightnessProbability: 1 }), image, [], createRandom(seed), size);
      const delta = b.applied.photometric?.brightness ?? NaN;
      assert.ok(Math.abs(delta) <= 32);
      const c = augment(only({ contrastProbability: 1 }), image, [], createRandom(seed), size);
      const alpha = c.applied.photometric?.contrast ?? NaN;
      assert.ok(alpha >= 0.5 && alpha <= 1.5);
      const s = augment(only({ channelSwapProbability: 1 }), image, [], createRandom(seed), size);
      const perm = s.applied.photometric?.channels ?? [0, 1, 2];
      for (let i = 0; i < 192; i++) {
        const src = [0, 1, 2].map((k) => image.data[3 * i + k]);
        pixel(b, i).forEach((v, k) => {
          assert.ok(Math.abs(v - (src[k] + delta)) < 1e-3);
        });
        pixel(c, i).forEach((v, k) => {
          assert.ok(Math.abs(v - src[k] * alpha) < 1e-3);
        });
        assert.deepEqual(pixel(s, i), [src[perm[0]], src[perm[1]], src[perm[2]]]);
      }
    }
  });

  it('saturation 0 turns pixels grey at V = max(R, G, B); a hue shift keeps V and rotates H', () => {
    const grey = augment(
      only({ saturationProbability: 1, saturationLower: 0, saturationUpper: 0 }),
      image,
      [],
      createRandom(1),
      size,
    );
    const hueOf = ([r, g, b]: number[]): number => {
      const v = Math.max(r, g, b);
      const d = v - Math.min(r, g, b);
      const h = v === r ? (60 * (g - b)) / d : v === g ? (60 * (b - r)) / d + 120 : (60 * (r - g)) / d + 240;
      return (h + 360) % 360;
    };
    for (let seed = 0; seed < 5; seed++) {
      const hue = augment(only({ hueProbability: 1 }), image, [], createRandom(seed), size);
      const shift = hue.applied.photometric?.hue ?? NaN;
      for (let i = 0; i < 192; i++) {
        const src = [0, 1, 2].map((k) => image.data[3 * i + k]);
        const v = Math.max(...src);
        if (seed === 0) assert.ok(pixel(grey, i).every((x) => Math.abs(x - v) < 1e-3));
        const out = pixel(hue, i);
        assert.ok(Math.abs(Math.max(...out) - v) < 1e-3);
        if (v - Math.min(...src) > 20) {
          const turn = (hueOf(out) - hueOf(src) - shift + 720) % 360;
          assert.ok(Math.min(turn, 360 - turn) < 0.5, `pixel ${i}: hue moved by ${turn} + ${shift}`);
        }
      }
    }
  });

  it('grayscale photos (R = G = B) stay grayscale and finite under the full recipe', () => {
    const gray = noise(40, 30, 3);
    for (let i = 0; i < gray.data.length; i += 3) gray.data[i + 1] = gray.data[i + 2] = gray.data[i];
    const aug = createAugmenter(
      {
        preset: 'default',
        photometric: {
          brightnessProbability: 1,
          contrastProbability: 1,
          saturationProbability: 1,
          hueProbability: 1,
          channelSwapProbability: 1,
        },
        expand: { probability: 0.5 },
        crop: { probability: 0.5 },
      },
      { width: 32, height: 24 },
    );
    for (let seed = 0; seed < 20; seed++) {
      const result = aug.augment({ image: gray, boxes: [5, 5, 15, 15], labels: [1] }, createRandom(seed));
      const plane = 32 * 24;
      for (let i = 0; i < plane; i++) {
        assert.ok(Number.isFinite(result.image[i]));
        assert.equal(result.image[i + plane], result.image[i]);
        assert.equal(result.image[i + 2 * plane], result.image[i]);
      }
    }
  });

  it('the zoom-out fill stays at the mean (normalizes to 1/128 · 0) even with photometric distortion', () => {
    const aug = createAugmenter(
      {
        preset: 'default',
        photometric: { brightnessProbability: 1, contrastProbability: 1 },
        expand: { probability: 1, maxRatio: 4 },
        crop: null,
        mirrorProbability: 0,
      },
      { width: 64, height: 48 },
    );
    const result = aug.augment({ image: noise(16, 12, 1), boxes: [], labels: [] }, createRandom(8));
    const expand = result.applied.expand;
    assert.ok(expand !== null && expand.width > 20);
    // Output pixel (0, 0) or (63, 47) is fill unless the image touches that corner.
    const corner = expand.left > 2 || expand.top > 2 ? 0 : 64 * 48 - 1;
    assert.equal(result.image[corner], 0);
  });
});

describe('determinism', () => {
  it('same seed → identical output; another seed → different output', () => {
    const image = noise(80, 60, 12);
    const aug = createAugmenter('default', { width: 32, height: 24 });
    const input = { image, boxes: [10, 10, 30, 30, 40, 20, 60, 50], labels: [1, 1] };
    const hashes = new Set<string>();
    for (let seed = 0; seed < 10; seed++) {
      const a = hash(aug.augment(input, createRandom(seed, 3, 4)));
      const b = hash(aug.augment(input, createRandom(seed, 3, 4)));
      assert.equal(a, b);
      hashes.add(a);
    }
    assert.equal(hashes.size, 10);
  });

  it('writes into a batch tensor at an offset and leaves the rest alone', () => {
    const aug = createAugmenter('upstream', { width: 8, height: 6 });
    const tensor = new Float32Array(3 * 3 * 48).fill(9);
    const input = { image: noise(20, 10, 2), boxes: [], labels: [] };
    const result = aug.augment(input, createRandom(5), { tensor, offset: 144 });
    assert.deepEqual(result.image, aug.augment(input, createRandom(5)).image);
    assert.equal(result.image.buffer, tensor.buffer);
    assert.ok(tensor.subarray(0, 144).every((v) => v === 9) && tensor.subarray(288).every((v) => v === 9));
  });

  it('RGBA input augments like its RGB part; an image without faces works', () => {
    const rgb = noise(30, 20, 6);
    const rgba = new Uint8Array(30 * 20 * 4);
    for (let i = 0; i < 600; i++) {
      rgba.set(rgb.data.subarray(3 * i, 3 * i + 3), 4 * i);
      rgba[4 * i + 3] = i % 256;
    }
    for (const preset of ['default', 'none'] as const) {
      const a = augment(preset, rgb, [], createRandom(1));
      const b = augment(preset, { data: rgba, width: 30, height: 20, channels: 4 }, [], createRandom(1));
      assert.deepEqual(a.image, b.image);
      assert.equal(a.boxes.length, 0);
    }
  });
});

describe('undistorted copy (for a distillation teacher)', () => {
  const input = { image: noise(80, 60, 21), boxes: [10, 10, 30, 30, 40, 20, 60, 50], labels: [1, 1] };
  const size = { width: 32, height: 24 };
  const plane = 3 * size.width * size.height;
  const FULL = {
    brightnessProbability: 1,
    contrastProbability: 1,
    saturationProbability: 1,
    hueProbability: 1,
    channelSwapProbability: 1,
  };

  /** The sample through `options` into item 1 of a 2-image batch, with its undistorted copy. */
  function twoViews(options: AugmentOptionsInput, seed: number) {
    const tensor = new Float32Array(2 * plane).fill(9);
    const undistorted = new Float32Array(2 * plane).fill(9);
    const result = createAugmenter(options, size).augment(input, createRandom(seed), {
      tensor,
      offset: plane,
      undistorted,
    });
    return { result, tensor, undistorted };
  }

  it('is the same crop without the colour distortion: a fixed geometry, every distortion drawn', () => {
    for (let seed = 0; seed < 4; seed++) {
      const options = { ...OFF, mirrorProbability: 1, photometric: FULL };
      const { result, tensor, undistorted } = twoViews(options, seed);
      const plain = augment({ ...OFF, mirrorProbability: 1 }, input.image, input.boxes, createRandom(seed));
      assert.deepEqual(undistorted.subarray(plane), plain.image);
      assert.notDeepEqual(tensor.subarray(plane), plain.image);
      assert.deepEqual(result.boxes, plain.boxes);
      assert.ok(
        undistorted.subarray(0, plane).every((v) => v === 9),
        'the other item is left alone',
      );
    }
  });

  it('follows the random crops and zoom-outs: a distortion that changes nothing gives the same bytes', () => {
    const identity = {
      brightnessProbability: 1,
      brightnessDelta: 0,
      contrastProbability: 1,
      contrastLower: 1,
      contrastUpper: 1,
      saturationProbability: 0,
      hueProbability: 0,
      channelSwapProbability: 0,
    };
    const crops = new Set<string>();
    for (let seed = 0; seed < 8; seed++) {
      const { result, tensor, undistorted } = twoViews({ preset: 'default', photometric: identity }, seed);
      assert.deepEqual(undistorted, tensor);
      crops.add(JSON.stringify([result.applied.crop, result.applied.expand]));
    }
    assert.ok(crops.size > 1, 'the seeds drew different geometries');
  });

  it('is a copy without photometric distortion (including the uint8 resize of the none preset)', () => {
    for (const options of ['none', OFF] as const) {
      const { tensor, undistorted } = twoViews(options, 3);
      assert.deepEqual(undistorted, tensor);
    }
  });

  it('refuses an undistorted target of another length with E_INVALID_INPUT', () => {
    assert.throws(
      () =>
        createAugmenter('upstream', size).augment(input, createRandom(1), {
          tensor: new Float32Array(plane),
          offset: 0,
          undistorted: new Float32Array(plane - 1),
        }),
      (e: unknown) =>
        isUltrafaceError(e) &&
        e.code === 'E_INVALID_INPUT' &&
        e.message ===
          `Expected an undistorted target as long as the target (${plane}) but it holds ${plane - 1}`,
    );
  });
});
