import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { isUltrafaceError } from '../../src/core/errors.js';
import { assertRgbImage, toInputTensor, type RgbImage } from '../../src/core/image.js';
import { resizeBilinear, resizeToInputTensor } from '../../src/core/resize.js';

// Golden checks against OpenCV (vectors.json MD5s of the 24 upstream images) need a decoder: test/runtime/image.test.ts.

function image(width: number, height: number, channels: 3 | 4, fill: (i: number) => number): RgbImage {
  return {
    data: Uint8Array.from({ length: width * height * channels }, (_, i) => fill(i)),
    width,
    height,
    channels,
  };
}

/**
 * SPEC §6.7 step 3 transcribed pixel by pixel, without tables or row caching: the oracle for the fast version.
 * Float32 rounding via Math.fround, cvRound as round-half-even, SIMD vertical formula except the scalar row tail.
 */
function referenceResize(src: RgbImage, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  const px = (x: number, y: number, c: number): number => src.data[(y * src.width + x) * src.channels + c];
  const rint = (v: number): number => {
    const r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  const coef = (d: number, scale: number): [number, number] => {
    const f = Math.fround((d + 0.5) * scale - 0.5);
    const s = Math.floor(f);
    return [s, Math.fround(f - s)];
  };
  const rowLength = width * 3;
  for (let dy = 0; dy < height; dy++) {
    const [sy, fy] = coef(dy, 1 / (height / src.height));
    const b0 = rint(Math.fround(1 - fy) * 2048);
    const b1 = rint(fy * 2048);
    const rows = [sy, sy + 1].map((r) => Math.min(Math.max(r, 0), src.height - 1));
    for (let dx = 0; dx < width; dx++) {
      let [sx, fx] = coef(dx, 1 / (width / src.width));
      if (sx < 0) [sx, fx] = [0, 0];
      if (sx >= src.width - 1) [sx, fx] = [src.width - 1, 0];
      const a0 = rint(Math.fround(1 - fx) * 2048);
      const a1 = rint(fx * 2048);
      for (let c = 0; c < 3; c++) {
        const [t0, t1] = rows.map((r) => px(sx, r, c) * a0 + (a1 === 0 ? 0 : px(sx + 1, r, c) * a1));
        const x = dx * 3 + c;
        out[dy * rowLength + x] =
          x < rowLength - (rowLength % 8)
            ? ((((t0 >> 4) * b0) >> 16) + (((t1 >> 4) * b1) >> 16) + 2) >> 2
            : (t0 * b0 + t1 * b1 + (1 << 21)) >> 22;
      }
    }
  }
  return out;
}

const sizes = fc.integer({ min: 1, max: 40 });
const pixels = (w: number, h: number, cn: 3 | 4): fc.Arbitrary<RgbImage> =>
  fc
    .uint8Array({ minLength: w * h * cn, maxLength: w * h * cn })
    .map((data) => ({ data, width: w, height: h, channels: cn }));
const anyImage = fc.tuple(sizes, sizes, fc.constantFrom<3 | 4>(3, 4)).chain(([w, h, cn]) => pixels(w, h, cn));

describe('resizeBilinear (OpenCV 4.6 INTER_LINEAR, SPEC §6.7)', () => {
  it('same size is a copy (alpha dropped)', () => {
    fc.assert(
      fc.property(anyImage, (src) => {
        const out = resizeBilinear(src, src.width, src.height);
        assert.equal(out.channels, 3);
        const expected = src.data.filter((_, i) => src.channels === 3 || i % 4 !== 3);
        assert.deepEqual(out.data, Uint8Array.from(expected));
      }),
    );
  });

  it('exact 2x reduction averages 2x2 blocks: (a + b + c + d + 2) >> 2', () => {
    // 4x2 RGB → 2x1. Block 1 R: 0, 1, 4, 6 → (11 + 2) >> 2 = 3; block 2 R: 255, 254, 253, 0 → (762 + 2) >> 2 = 191.
    const src: RgbImage = {
      width: 4,
      height: 2,
      channels: 3,
      // prettier-ignore
      data: Uint8Array.from([
        0, 10, 20,   1, 10, 21,   255, 7, 0,   254, 7, 1,
        4, 11, 22,   6, 12, 22,   253, 8, 0,   0, 8, 1,
      ]),
    };
    const out = resizeBilinear(src, 2, 1);
    // G: (10+10+11+12+2)>>2 = 11, B: (20+21+22+22+2)>>2 = 21; G: (7+7+8+8+2)>>2 = 8, B: (0+1+0+1+2)>>2 = 1
    assert.deepEqual([...out.data], [3, 11, 21, 191, 8, 1]);
  });

  it('equals a pixel-by-pixel transcription of SPEC §6.7 on odd up- and down-scaling', () => {
    fc.assert(
      fc.property(anyImage, sizes, sizes, (src, w, h) => {
        assert.deepEqual(resizeBilinear(src, w, h).data, referenceResize(src, w, h));
      }),
      { numRuns: 300 },
    );
  });

  it('a constant image stays constant', () => {
    fc.assert(
      fc.property(sizes, sizes, sizes, sizes, fc.integer({ min: 0, max: 255 }), (sw, sh, w, h, v) => {
        const out = resizeBilinear(
          image(sw, sh, 3, () => v),
          w,
          h,
        );
        assert.ok(out.data.every((x) => x === v));
      }),
    );
  });

  it('outputs stay within [min, max] of each source channel', () => {
    fc.assert(
      fc.property(anyImage, sizes, sizes, (src, w, h) => {
        const out = resizeBilinear(src, w, h);
        for (let c = 0; c < 3; c++) {
          const channel = src.data.filter((_, i) => i % src.channels === c);
          const lo = Math.min(...channel);
          const hi = Math.max(...channel);
          for (let i = c; i < out.data.length; i += 3) assert.ok(out.data[i] >= lo && out.data[i] <= hi);
        }
      }),
    );
  });

  it('does not modify its input and returns a new buffer', () => {
    const src = image(7, 5, 3, (i) => (i * 37) % 256);
    const before = Uint8Array.from(src.data);
    for (const [w, h] of [
      [7, 5],
      [3, 2],
      [20, 11],
    ]) {
      const out = resizeBilinear(src, w, h);
      assert.notEqual(out.data.buffer, src.data.buffer);
    }
    assert.deepEqual(src.data, before);
  });

  it('rejects bad sizes and bad images with coded errors', () => {
    const src = image(4, 4, 3, () => 0);
    assert.throws(
      () => resizeBilinear(src, 0, 4),
      (e) => isUltrafaceError(e, 'E_INVALID_OPTION'),
    );
    assert.throws(
      () => resizeBilinear(src, 4, 2.5),
      (e) => isUltrafaceError(e, 'E_INVALID_OPTION'),
    );
    assert.throws(
      () => resizeBilinear({ ...src, data: new Uint8Array(47) }, 2, 2),
      (e) => isUltrafaceError(e, 'E_INVALID_INPUT') && /48 bytes .* but received 47 bytes/.test(e.message),
    );
  });
});

describe('resizeToInputTensor (resize + normalise in one pass)', () => {
  const twoPass = (src: RgbImage, w: number, h: number, out: Float32Array, offset: number): void => {
    toInputTensor(resizeBilinear(src, w, h), out, offset);
  };

  it('is bit-identical to toInputTensor(resizeBilinear(...)) at any size, copy and 2x included', () => {
    const withHalves = anyImage.chain((src) =>
      fc.tuple(
        fc.constant(src),
        fc.oneof(
          fc.tuple(sizes, sizes),
          fc.constant<[number, number]>([src.width, src.height]),
          fc.constant<[number, number]>([Math.max(1, src.width >> 1), Math.max(1, src.height >> 1)]),
        ),
        fc.integer({ min: 0, max: 5 }),
      ),
    );
    fc.assert(
      fc.property(withHalves, ([src, [w, h], offset]) => {
        const expected = new Float32Array(offset + 3 * w * h + 2).fill(9);
        const actual = new Float32Array(offset + 3 * w * h + 2).fill(9);
        twoPass(src, w, h, expected, offset);
        resizeToInputTensor(src, w, h, actual, offset);
        assert.deepEqual(actual, expected); // the 9s around the slot are untouched too
      }),
      { numRuns: 300 },
    );
  });

  it('matches on a real-sized reduction whose rows end in scalar tails (3·W mod 8 ≠ 0)', () => {
    const src = image(1023, 677, 3, (i) => (i * 2654435761) >>> 24);
    for (const [w, h] of [
      [320, 240],
      [321, 239],
      [333, 250],
    ]) {
      const expected = new Float32Array(3 * w * h);
      const actual = new Float32Array(3 * w * h);
      twoPass(src, w, h, expected, 0);
      resizeToInputTensor(src, w, h, actual);
      assert.deepEqual(actual, expected, `${w}x${h}`);
    }
  });

  it('refuses an output that cannot hold [3, H, W] at the offset, and bad images with coded errors', () => {
    const src = image(4, 4, 3, () => 0);
    assert.throws(() => {
      resizeToInputTensor(src, 2, 2, new Float32Array(11));
    }, RangeError);
    assert.throws(() => {
      resizeToInputTensor(src, 2, 2, new Float32Array(12), 1);
    }, RangeError);
    assert.throws(
      () => {
        resizeToInputTensor({ ...src, channels: 2 as 3 }, 2, 2, new Float32Array(12));
      },
      (e) => isUltrafaceError(e, 'E_INVALID_INPUT'),
    );
  });
});

describe('assertRgbImage', () => {
  it('accepts 3- and 4-channel images, Uint8Array or Uint8ClampedArray', () => {
    assertRgbImage(
      image(2, 3, 3, () => 1),
      'image',
    );
    assertRgbImage({ data: new Uint8ClampedArray(2 * 3 * 4), width: 2, height: 3, channels: 4 }, 'image');
  });

  it('rejects wrong types, sizes and lengths with E_INVALID_INPUT', () => {
    const bad: unknown[] = [
      null,
      'image.jpg',
      { data: [1, 2, 3], width: 1, height: 1, channels: 3 },
      { data: new Float32Array(3), width: 1, height: 1, channels: 3 },
      { data: new Uint8Array(3), width: 0, height: 1, channels: 3 },
      { data: new Uint8Array(3), width: 1.5, height: 2, channels: 3 },
      { data: new Uint8Array(2), width: 1, height: 1, channels: 2 },
      { data: new Uint8Array(4), width: 1, height: 1, channels: 3 },
    ];
    for (const value of bad) {
      assert.throws(
        () => {
          assertRgbImage(value, 'image');
        },
        (e) => isUltrafaceError(e, 'E_INVALID_INPUT') && e.message.includes('for image'),
      );
    }
  });
});

describe('toInputTensor', () => {
  it('writes (v - 127) / 128 as planar R, G, B at the offset', () => {
    const src: RgbImage = {
      data: Uint8Array.from([0, 127, 255, 9, 1, 2, 3, 4]),
      width: 2,
      height: 1,
      channels: 4,
    };
    const out = new Float32Array(2 + 6).fill(7);
    toInputTensor(src, out, 2);
    assert.deepEqual([...out], [7, 7, -127 / 128, -126 / 128, 0, -125 / 128, 1, -124 / 128]);
  });

  it('refuses an output that is too small', () => {
    assert.throws(() => {
      toInputTensor(
        image(2, 2, 3, () => 0),
        new Float32Array(11),
      );
    }, RangeError);
  });
});
